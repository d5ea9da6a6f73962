package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"
)

// Session is one logged-in browser (or script with a cookie).
type Session struct {
	User    string
	Role    Role
	CSRF    string    // the token every state-changing request must carry
	Created time.Time // absolute lifetime counts from here
	// HashPrint identifies the password hash the session was opened with:
	// a changed password (alertgw user passwd) ends the user's sessions.
	HashPrint [8]byte
	// ByLink marks a session opened with the start-up login link; such
	// sessions last only while the users file has no users.
	ByLink bool

	lastSeen time.Time
}

// Sessions keeps sessions in memory, keyed by a hash of their token (the
// token itself is only in the browser's cookie). A restart logs everyone out,
// which is the safe direction.
type Sessions struct {
	idle, absolute time.Duration
	max            int

	mu sync.Mutex
	m  map[[32]byte]*Session
}

// NewSessions makes a session store. idle ends a session not used for that
// long, absolute ends any session that old; max bounds how many are kept
// (the oldest go first) so that a login flood cannot grow memory without end.
func NewSessions(idle, absolute time.Duration, max int) *Sessions {
	return &Sessions{idle: idle, absolute: absolute, max: max, m: map[[32]byte]*Session{}}
}

// RandomToken returns 32 random bytes, URL-safe base64.
func RandomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func key(token string) [32]byte { return sha256.Sum256([]byte(token)) }

// HashPrint fingerprints a password hash (see Session.HashPrint).
func HashPrint(hash string) [8]byte {
	s := sha256.Sum256([]byte(hash))
	return [8]byte(s[:8])
}

// Create opens a session and returns its token (for the cookie).
func (s *Sessions) Create(sess Session, now time.Time) (string, *Session) {
	token := RandomToken()
	sess.CSRF = RandomToken()
	sess.Created, sess.lastSeen = now, now
	p := &sess
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	for len(s.m) >= s.max {
		s.evictOldestLocked()
	}
	s.m[key(token)] = p
	return token, p
}

// Get returns the live session for token and marks it used.
func (s *Sessions) Get(token string, now time.Time) (*Session, bool) {
	if token == "" {
		return nil, false
	}
	k := key(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.m[k]
	if !ok {
		return nil, false
	}
	if s.expired(p, now) {
		delete(s.m, k)
		return nil, false
	}
	p.lastSeen = now
	cp := *p
	return &cp, true
}

// Delete ends the session of token (log out).
func (s *Sessions) Delete(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key(token))
}

// Len is the number of sessions kept.
func (s *Sessions) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

func (s *Sessions) expired(p *Session, now time.Time) bool {
	return now.Sub(p.lastSeen) > s.idle || now.Sub(p.Created) > s.absolute
}

func (s *Sessions) sweepLocked(now time.Time) {
	for k, p := range s.m {
		if s.expired(p, now) {
			delete(s.m, k)
		}
	}
}

func (s *Sessions) evictOldestLocked() {
	var oldest [32]byte
	var t time.Time
	for k, p := range s.m {
		if t.IsZero() || p.lastSeen.Before(t) {
			oldest, t = k, p.lastSeen
		}
	}
	delete(s.m, oldest)
}

// TokensEqual compares two secrets in constant time.
func TokensEqual(a, b string) bool {
	return len(a) == len(b) && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
