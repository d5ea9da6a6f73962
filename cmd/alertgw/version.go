package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Set at build time with -ldflags "-X main.commit=… -X main.date=…"
// (the Makefile and the Dockerfile do); otherwise read from what the Go
// toolchain stamped into the binary from git.
var (
	commit = ""
	date   = ""
)

// buildInfo describes the running binary.
type buildInfo struct {
	Version  string
	Commit   string
	Date     string
	Modified bool // built from a work tree with uncommitted changes
	Go       string
	Platform string
}

func currentBuild() buildInfo {
	b := buildInfo{Version: version, Commit: commit, Date: date, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Commit == "" {
					b.Commit = s.Value
				}
			case "vcs.time":
				if b.Date == "" {
					b.Date = s.Value
				}
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	return b
}

func (b buildInfo) print(w io.Writer) {
	orUnknown := func(s string) string {
		if s == "" {
			return "unknown"
		}
		return s
	}
	c := orUnknown(b.Commit)
	if b.Modified {
		c += " (with uncommitted changes)"
	}
	fmt.Fprintf(w, "alertgw %s\ncommit  %s\nbuilt   %s\ngo      %s %s\n", b.Version, c, orUnknown(b.Date), b.Go, b.Platform)
}
