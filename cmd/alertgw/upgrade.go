package main

// Graceful re-exec on SIGUSR2: a restart or an upgrade without closing the
// sockets. The running gateway (the old process) starts the binary again
// with the same arguments and hands it every bound socket; the new process
// starts reading them at once, queueing in memory, and says it is ready;
// only then does the old one stop reading and drain its pipeline as on
// SIGTERM (but leaving the socket paths and queues alone). When it has
// exited, the new process opens the disk buffers and journals the old one
// held (replaying what they kept) and its outputs start writing.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/alertgw/alertgw/inputs/unixsock"
	"github.com/alertgw/alertgw/internal/listenfds"
	"github.com/alertgw/alertgw/outputs"
)

// Environment of the new process: the descriptors of its two pipes to the
// old one.
const (
	envReadyFD  = "AGW_UPGRADE_READY_FD"  // write "ready\n" here once reading
	envParentFD = "AGW_UPGRADE_PARENT_FD" // EOF here once the old process has exited
)

// readyTimeout bounds how long the old process waits for the new one.
const readyTimeout = 60 * time.Second

// parentAlive keeps the write end of the pipe whose read end the new
// process watches: it closes when this process exits, never before.
var parentAlive []*os.File

// upgrade starts the new process with the sockets and waits until it
// reads them. On success the caller stops this process's pipeline; on
// error this process goes on as before.
func upgrade(log zerolog.Logger) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the executable: %w", err)
	}
	exe = strings.TrimSuffix(exe, " (deleted)") // replaced on disk: start the new one
	paths, files, err := unixsock.HandOver()
	if err != nil {
		return fmt.Errorf("hand over the sockets: %w", err)
	}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		unixsock.CancelHandOver()
		return err
	}
	defer readyR.Close()
	aliveR, aliveW, err := os.Pipe()
	if err != nil {
		readyW.Close()
		unixsock.CancelHandOver()
		return err
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Stdout, cmd.Stderr, cmd.Stdin = os.Stdout, os.Stderr, nil
	cmd.ExtraFiles = append(append([]*os.File{}, files...), readyW, aliveR)
	cmd.Env = append(os.Environ(), listenfds.Env(paths)...)
	cmd.Env = append(cmd.Env,
		envReadyFD+"="+strconv.Itoa(3+len(files)),
		envParentFD+"="+strconv.Itoa(4+len(files)))
	err = cmd.Start()
	readyW.Close()
	aliveR.Close()
	if err != nil {
		aliveW.Close()
		unixsock.CancelHandOver()
		return fmt.Errorf("start %s: %w", exe, err)
	}
	log.Info().Int("pid", cmd.Process.Pid).Strs("sockets", paths).Msg("SIGUSR2: new process started with the sockets; waiting until it reads them")
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	ready := make(chan error, 1)
	go func() {
		buf := make([]byte, 6)
		n, err := readyR.Read(buf)
		if n > 0 && string(buf[:n]) == "ready\n" {
			ready <- nil
			return
		}
		ready <- fmt.Errorf("the new process did not say it was ready: %v", err)
	}()
	select {
	case err = <-ready:
	case werr := <-exited:
		err = fmt.Errorf("the new process exited at start-up: %v", werr)
	case <-time.After(readyTimeout):
		err = fmt.Errorf("the new process was not ready within %s", readyTimeout)
	}
	if err != nil {
		if kerr := cmd.Process.Kill(); kerr != nil && !errors.Is(kerr, os.ErrProcessDone) {
			err = errors.Join(err, fmt.Errorf("stop the new process: %w", kerr))
		}
		aliveW.Close()
		unixsock.CancelHandOver()
		return err
	}
	parentAlive = append(parentAlive, aliveW)
	return nil
}

// takeover is the new process's side of an upgrade, nil when the process
// was not started by one.
type takeover struct {
	ready *os.File
	gone  chan struct{} // closed once the old process has exited
}

// takeoverFromEnv reads the upgrade's descriptors from the environment
// (and unsets it, so that a later upgrade starts clean).
func takeoverFromEnv() *takeover {
	rfd, err1 := strconv.Atoi(os.Getenv(envReadyFD))
	pfd, err2 := strconv.Atoi(os.Getenv(envParentFD))
	os.Unsetenv(envReadyFD)
	os.Unsetenv(envParentFD)
	if err1 != nil || err2 != nil {
		return nil
	}
	t := &takeover{ready: os.NewFile(uintptr(rfd), "upgrade-ready"), gone: make(chan struct{})}
	alive := os.NewFile(uintptr(pfd), "upgrade-parent")
	go func() {
		defer close(t.gone)
		defer alive.Close()
		buf := make([]byte, 1)
		for {
			if _, err := alive.Read(buf); err != nil {
				return // EOF: the old process has exited
			}
		}
	}()
	return t
}

// signalReady tells the old process that this one reads the sockets.
func (t *takeover) signalReady() error {
	if t == nil {
		return nil
	}
	_, err := t.ready.Write([]byte("ready\n"))
	return errors.Join(err, t.ready.Close())
}

// lateOutput is an output whose plugin's New runs at its first use: in a
// takeover, once the old process has exited (the pipeline's output runners
// do not touch it before), so that the two never write one file at once.
type lateOutput struct {
	build func() (outputs.Output, error)
	mu    sync.Mutex
	out   outputs.Output
}

func (l *lateOutput) get() (outputs.Output, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.out != nil {
		return l.out, nil
	}
	o, err := l.build()
	if err != nil {
		return nil, err
	}
	l.out = o
	return o, nil
}

func (l *lateOutput) Write(ctx context.Context, b *outputs.Batch) error {
	o, err := l.get()
	if err != nil {
		return err
	}
	return o.Write(ctx, b)
}

func (l *lateOutput) Flush() error {
	l.mu.Lock()
	o := l.out
	l.mu.Unlock()
	if f, ok := o.(outputs.Flusher); ok {
		return f.Flush()
	}
	return nil
}

func (l *lateOutput) Reopen() error {
	l.mu.Lock()
	o := l.out
	l.mu.Unlock()
	if r, ok := o.(outputs.Reopener); ok {
		return r.Reopen()
	}
	return nil
}

func (l *lateOutput) Close() error {
	l.mu.Lock()
	o := l.out
	l.mu.Unlock()
	if o == nil {
		return nil
	}
	return o.Close()
}
