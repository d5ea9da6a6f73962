package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/alertgw/alertgw/config"
)

// checkReplayTargets refuses to write where another process writes. Without
// --config, replay uses the embedded default, whose file output and
// dead-letter file are a running `make run`'s own ./data/events.json and
// ./data/deadletter.json: appending to them from a second process
// interleaves lines, and the gateway's rotation would split the replay.
// (Its store, ./data/store, is not checked: docs/replay.md says to give
// replay a configuration of its own beside a running gateway.) It also
// refuses a dead-letter file that is one of the files replayed (failures
// would be appended to it as it is read).
func checkReplayTargets(stderr io.Writer, r replayRun, f *config.File, outs []decodedOutput) error {
	var uses []config.PathUse
	uses = append(uses, config.PathUses(f, "")...) // dead_letter.path
	for _, d := range outs {
		uses = append(uses, config.PathUses(d.opts, d.block.Path)...)
	}
	if r.config == "" {
		var named []string
		for _, d := range outs {
			where := d.block.Type
			if p, ok := d.block.Options["path"].(string); ok && p != "" {
				where = p // a file, or the store's directory
			}
			named = append(named, fmt.Sprintf("%s (%s)", d.block.Name, where))
		}
		fmt.Fprintf(stderr, "replay: no --config: the events go to the embedded default's outputs %s, dead letters to %s\n", strings.Join(named, ", "), f.DeadLetter.Path)
	}
	var problems []string
	for _, u := range uses {
		if u.Use != config.PathWrite {
			continue
		}
		for _, name := range r.files {
			if sameFile(name, u.Path) {
				problems = append(problems, fmt.Sprintf("%s (%s) is one of the files replayed", u.Key, u.Path))
			}
		}
		if r.force {
			continue
		}
		for _, p := range openForWriting(u.Path) {
			problems = append(problems, fmt.Sprintf("%s %s is open for writing by process %d (%s): replaying into it would interleave with that process's lines; give --config with other outputs, or --force", u.Key, u.Path, p.pid, p.command))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("replay refused:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

type process struct {
	pid     int
	command string
}

// openForWriting lists the other processes that have path open for
// writing, from /proc (those this user may inspect: a gateway running as
// another user is not seen unless replay runs as root).
func openForWriting(path string) []process {
	target, err := os.Stat(path)
	if err != nil {
		return nil // not there yet: nobody writes it
	}
	fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	self := os.Getpid()
	seen := map[int]bool{}
	var out []process
	for _, fd := range fds {
		pid, _ := strconv.Atoi(strings.Split(fd, "/")[2])
		if pid == self || seen[pid] {
			continue
		}
		fi, err := os.Stat(fd) // follows the link to the open file
		if err != nil || !os.SameFile(fi, target) || !writable(fd) {
			continue
		}
		seen[pid] = true
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		out = append(out, process{pid, strings.TrimSpace(string(comm))})
	}
	return out
}

// writable reads the open mode of /proc/PID/fd/N from its fdinfo.
func writable(fd string) bool {
	info, err := os.ReadFile(strings.Replace(fd, "/fd/", "/fdinfo/", 1))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(info), "\n") {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			flags, err := strconv.ParseUint(strings.TrimSpace(v), 8, 64)
			return err == nil && flags&3 != 0 // O_WRONLY or O_RDWR
		}
	}
	return false
}
