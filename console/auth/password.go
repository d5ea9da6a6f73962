package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes, one
// lane). A verification costs about 20–40 ms of one core, which is what makes
// an offline guess expensive; hashSlots bounds how many run at once so that a
// burst of logins cannot take the memory of many hashes.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	saltLen        = 16
)

var hashSlots = make(chan struct{}, 2)

// MinPasswordLen is the shortest password `alertgw user` accepts.
const MinPasswordLen = 10

// HashPassword returns the PHC string of an argon2id hash of password with a
// fresh random salt: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func HashPassword(password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	hashSlots <- struct{}{}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	<-hashSlots
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemoryKiB, argonTime, argonThreads, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// ErrBadHash means a stored hash is not one this package can verify.
var ErrBadHash = errors.New("unsupported or malformed password hash")

// CheckPassword reports whether password matches hash, an argon2id PHC string
// (as HashPassword writes) or a bcrypt hash ($2a$/$2b$/$2y$, as htpasswd -B
// writes, so existing hashes can be carried over).
func CheckPassword(hash, password string) (bool, error) {
	if strings.HasPrefix(hash, "$2") {
		hashSlots <- struct{}{}
		err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
		<-hashSlots
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return false, nil
		default:
			return false, fmt.Errorf("%w: %v", ErrBadHash, err)
		}
	}
	p, err := parseArgon2id(hash)
	if err != nil {
		return false, err
	}
	hashSlots <- struct{}{}
	key := argon2.IDKey([]byte(password), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	<-hashSlots
	return subtle.ConstantTimeCompare(key, p.key) == 1, nil
}

type argonParams struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

func parseArgon2id(hash string) (argonParams, error) {
	var p argonParams
	parts := strings.Split(hash, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, ErrBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, fmt.Errorf("%w: argon2 version %q", ErrBadHash, parts[2])
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil {
		return p, fmt.Errorf("%w: parameters %q", ErrBadHash, parts[3])
	}
	// Refuse parameters that would let a crafted users file exhaust memory
	// or CPU (4 GiB, 64 passes) or make the hash trivial.
	if p.memory < 8*1024 || p.memory > 4<<20 || p.time < 1 || p.time > 64 || p.threads < 1 {
		return p, fmt.Errorf("%w: parameters out of range %q", ErrBadHash, parts[3])
	}
	var err error
	if p.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(p.salt) < 8 {
		return p, fmt.Errorf("%w: salt", ErrBadHash)
	}
	if p.key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(p.key) < 16 || len(p.key) > 128 {
		return p, fmt.Errorf("%w: key", ErrBadHash)
	}
	return p, nil
}

// DummyHash returns a valid hash no password matches. A login naming an
// unknown user checks against it, so that the answer takes as long as for a
// known one (no user enumeration by timing).
func DummyHash() string { return dummyHash() }

// dummyHash is checked against when a login names an unknown user, so that
// the answer takes as long as for a known one (no user enumeration by timing).
// It is made on first use, not at start, so that commands that never check a
// password do not pay for a hash.
var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword("no user has this password")
	if err != nil {
		panic(err) // crypto/rand failing is not something to carry on from
	}
	return h
})
