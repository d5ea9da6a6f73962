package main

import (
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
)

// startCPUProfile profiles the process until the returned stop is called
// (run --cpuprofile, used by bench/e2e.sh PPROF=1).
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// writeAllocProfile writes what the run allocated, by call site (run
// --memprofile, for benchmarks). Go samples one allocation per 512 KiB by
// default, which is enough to rank the sites of a long run.
func writeAllocProfile(path string) {
	f, err := os.Create(path)
	if err != nil {
		slog.Error("memory profile", "err", err)
		return
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		slog.Error("memory profile", "path", path, "err", err)
	}
}
