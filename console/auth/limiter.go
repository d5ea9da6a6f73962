package auth

import (
	"sync"
	"time"
)

// Limiter counts failed logins per key (a client address, a user name) in a
// fixed window: after max failures the key is refused until the window that
// began with its first failure ends. A success clears the key.
type Limiter struct {
	max    int
	window time.Duration

	mu sync.Mutex
	m  map[string]*failures
}

type failures struct {
	n     int
	start time.Time
}

// limiterKeys bounds the table: beyond it, expired entries are swept and,
// if that is not enough, new keys are refused (fail closed) until the window
// passes — a flood of addresses cannot grow memory without end.
const limiterKeys = 100_000

// NewLimiter allows max failures per key per window.
func NewLimiter(max int, window time.Duration) *Limiter {
	return &Limiter{max: max, window: window, m: map[string]*failures{}}
}

// Allow reports whether key may try now, and if not, how long until it may.
func (l *Limiter) Allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.m[key]
	if !ok {
		if len(l.m) >= limiterKeys {
			l.sweepLocked(now)
			if len(l.m) >= limiterKeys {
				return false, l.window
			}
		}
		return true, 0
	}
	if now.Sub(f.start) >= l.window {
		delete(l.m, key)
		return true, 0
	}
	if f.n >= l.max {
		return false, f.start.Add(l.window).Sub(now)
	}
	return true, 0
}

// Fail counts a failure of key and returns the failures in its window.
func (l *Limiter) Fail(key string, now time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.m[key]
	if !ok || now.Sub(f.start) >= l.window {
		if !ok && len(l.m) >= limiterKeys {
			l.sweepLocked(now)
		}
		f = &failures{start: now}
		l.m[key] = f
	}
	f.n++
	return f.n
}

// Succeed clears key.
func (l *Limiter) Succeed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, key)
}

func (l *Limiter) sweepLocked(now time.Time) {
	for k, f := range l.m {
		if now.Sub(f.start) >= l.window {
			delete(l.m, k)
		}
	}
}
