package main

import (
	"fmt"
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

// startAllocProfile creates path now, so that a bad path fails the start
// rather than the end of a benchmark, and returns the function that writes
// what the run allocated, by call site, into it (run --memprofile). Go
// samples about one allocation per 512 KiB, enough to rank the sites of a
// long run.
func startAllocProfile(path string) (write func() error, err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("memory profile: %w", err)
	}
	return func() error {
		err := pprof.Lookup("allocs").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("memory profile %s: %w", path, err)
		}
		return nil
	}, nil
}
