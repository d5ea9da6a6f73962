package auditd

import (
	"os/user"
	"strconv"
	"sync"
	"time"
)

// hostResolver names ids from the host's user database (os/user: NSS with
// cgo, /etc/passwd and /etc/group without), caching answers, including
// "unknown", for ttl. The cache is cleared when it reaches maxCached, which
// bounds it against a stream of random ids.
type hostResolver struct {
	ttl    time.Duration
	mu     sync.Mutex
	users  map[uint32]cached
	groups map[uint32]cached
}

type cached struct {
	name    string
	ok      bool
	expires time.Time
}

const maxCached = 4096

func newHostResolver(ttl time.Duration) *hostResolver {
	return &hostResolver{ttl: ttl, users: map[uint32]cached{}, groups: map[uint32]cached{}}
}

func (r *hostResolver) UserName(uid uint32) (string, bool) {
	return r.lookup(r.users, uid, func(id string) (string, error) {
		u, err := user.LookupId(id)
		if err != nil {
			return "", err
		}
		return u.Username, nil
	})
}

func (r *hostResolver) GroupName(gid uint32) (string, bool) {
	return r.lookup(r.groups, gid, func(id string) (string, error) {
		g, err := user.LookupGroupId(id)
		if err != nil {
			return "", err
		}
		return g.Name, nil
	})
}

func (r *hostResolver) lookup(m map[uint32]cached, id uint32, look func(string) (string, error)) (string, bool) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := m[id]; ok && now.Before(c.expires) {
		return c.name, c.ok
	}
	name, err := look(strconv.FormatUint(uint64(id), 10))
	if len(m) >= maxCached {
		clear(m)
	}
	m[id] = cached{name: name, ok: err == nil, expires: now.Add(r.ttl)}
	return name, err == nil
}
