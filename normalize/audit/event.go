package audit

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/elastic/go-libaudit/v2/aucoalesce"
	"github.com/elastic/go-libaudit/v2/auparse"

	"github.com/alertgw/alertgw/normalize"
)

// SourceType is written as source.type.
const SourceType = "auditd"

// Resolver names user and group ids. The input gives the host's (cached
// NSS lookups); tests give a fixed table. ok is false for unknown ids.
type Resolver interface {
	UserName(uid uint32) (name string, ok bool)
	GroupName(gid uint32) (name string, ok bool)
}

// Mapper turns the records of one audit event into a normalize.Event. It
// keeps scratch space between calls: use one per goroutine.
type Mapper struct {
	Resolver Resolver // nil: ids only (and names from the enriched format)
	Table    *Table   // nil: no parent info, no labels
	// Summary adds go-libaudit's aucoalesce summary (actor, action,
	// object, how) as details.summary. It parses every record a second
	// time with auparse's regular expressions: about 10x the cost.
	Summary bool

	w      jw
	recs   []parsed
	keys   []string
	tops   []span
	cur    span
	groups []group
	names  []field
	arena  scratch                 // decoded strings of the event being mapped
	types  []typeNames             // record types seen, with their names (map lookups otherwise)
	msgs   []*auparse.AuditMessage // the records without EOE

	userMemo userMemo
	known    knownMemo
}

type typeNames struct {
	t              auparse.AuditMessageType
	name, category string
}

// typeInfo returns the names of record type t, from a small cache: a
// stream has a handful of record types.
func (m *Mapper) typeInfo(t auparse.AuditMessageType) *typeNames {
	for i := range m.types {
		if m.types[i].t == t {
			return &m.types[i]
		}
	}
	tn := typeNames{t, t.String(), aucoalesce.GetAuditEventType(t).String()}
	if len(m.types) >= 64 {
		return &tn
	}
	m.types = append(m.types, tn)
	return &m.types[len(m.types)-1]
}

func (m *Mapper) typeName(t auparse.AuditMessageType) string { return m.typeInfo(t).name }
func (m *Mapper) category(t auparse.AuditMessageType) string { return m.typeInfo(t).category }

type group struct {
	name       string
	start, end int
}

// userKeys are written first and in this order under details.user;
// other *uid/*gid fields follow sorted.
var userKeys = [...]string{"auid", "uid", "euid", "suid", "fsuid", "gid", "egid", "sgid", "fsgid"}

// Map fills ev from msgs, the records of one event as the Assembler
// returned them. Records whose fields cannot be parsed are kept raw with
// the parser's error, so nothing is lost.
func (m *Mapper) Map(msgs []*auparse.AuditMessage, ev *normalize.Event) error {
	m.arena.reset()
	if slices.ContainsFunc(msgs, isEOE) {
		// go-libaudit's reassembler keeps EOE out; the caller's slice is
		// not modified.
		m.msgs = slices.DeleteFunc(append(m.msgs[:0], msgs...), isEOE)
		msgs = m.msgs
		defer clear(m.msgs) // do not keep the records alive
	}
	if len(msgs) == 0 {
		return normalize.Errorf(normalize.ReasonMissingField, "audit event without records")
	}
	first := msgs[0]
	ev.Kind = normalize.KindAudit
	ev.Action = normalize.ActionUnknown
	ev.Timestamp = first.Timestamp.UTC()
	ev.Source.Type = SourceType

	// Parse every record (scratch reused between events).
	for len(m.recs) < len(msgs) {
		m.recs = append(m.recs, parsed{})
	}
	recs := m.recs[:len(msgs)]
	var primary, syscallRec, cwdRec, sockRec, execveRec *parsed
	var execve []string
	var proctitle []string
	var paths []*parsed
	for i, r := range msgs {
		p := &recs[i]
		p.fields = p.fields[:0]
		parseRecord(r, p, &m.arena)
		switch r.RecordType {
		case auparse.AUDIT_SYSCALL:
			if syscallRec == nil {
				syscallRec = p
			}
		case auparse.AUDIT_EXECVE:
			execve = append(execve, body(r))
			execveRec = p
		case auparse.AUDIT_PROCTITLE:
			proctitle = p.argv
		case auparse.AUDIT_CWD:
			cwdRec = p
		case auparse.AUDIT_PATH:
			paths = append(paths, p)
		case auparse.AUDIT_SOCKADDR:
			if sockRec == nil {
				sockRec = p
			}
		}
	}
	primary = syscallRec
	if primary == nil {
		primary = &recs[0]
	}

	// The records, one details key per type.
	w := &m.w
	w.b = w.b[:0]
	m.groups = m.groups[:0]
	for i := range recs {
		name := m.typeName(recs[i].msg.RecordType)
		if slices.ContainsFunc(m.groups, func(g group) bool { return g.name == name }) {
			continue
		}
		n := 0
		for j := i; j < len(recs); j++ {
			if recs[j].msg.RecordType == recs[i].msg.RecordType {
				n++
			}
		}
		start := len(w.b)
		array := n > 1 || recs[i].msg.RecordType == auparse.AUDIT_PATH
		w.fresh = true
		if array {
			w.open('[')
		}
		for j := i; j < len(recs); j++ {
			if recs[j].msg.RecordType == recs[i].msg.RecordType {
				m.record(&recs[j])
			}
		}
		if array {
			w.close(']')
		}
		m.groups = append(m.groups, group{name, start, len(w.b)})
	}
	var argv []string
	var argc int
	var argvComplete bool
	if execve != nil {
		if len(execve) == 1 && execveRec.err == nil {
			// The record's decoded a0…aN are the arguments.
			argv, argc, argvComplete = execveFields(&m.arena, execveRec)
		} else {
			argv, argc, argvComplete = execveArgs(execve)
		}
	}

	var mt *meta
	for _, r := range msgs {
		if mm := metaOf(r); mm != nil {
			mt = mm
			break
		}
	}

	// Common details.
	m.tops = m.tops[:0]
	m.top("serial")
	w.uint(uint64(first.Sequence))
	if mt != nil {
		m.topStr("node", mt.node)
	}
	m.topStr("record_type", m.typeName(first.RecordType))
	m.topStr("category", m.category(first.RecordType))
	res := primary.get("result")
	if res == "" {
		res = "unknown"
	}
	m.topStr("result", res)
	if ses := primary.get("ses"); ses != "" && ses != "unset" {
		m.top("session")
		w.num(ses)
	}
	syscallName := ""
	if syscallRec != nil {
		syscallName = syscallRec.get("syscall")
		m.topStr("syscall", syscallName)
		m.topStr("arch", syscallRec.get("arch"))
		if x := syscallRec.rawExit(); x != "" {
			// auparse names negative exits (EINPROGRESS): keep the number,
			// and the name beside it.
			m.top("exit")
			w.num(x)
			if name := syscallRec.get("exit"); name != x {
				m.topStr("errno", name)
			}
		}
	}
	if len(primary.tags) > 0 {
		m.top("key")
		w.strs(primary.tags)
	}
	if m.Summary {
		if ce, err := aucoalesce.CoalesceMessages(msgs); err == nil && ce != nil {
			m.summary(ce)
		}
	}
	m.user(primary, mt)

	// Process, enriched from the table.
	pid, ppid := primary.get("pid"), primary.get("ppid")
	exe, comm := primary.get("exe"), primary.get("comm")
	cwd := primary.get("cwd")
	if cwdRec != nil {
		cwd = cwdRec.get("cwd")
	}
	act := activity{
		time: ev.Timestamp, serial: first.Sequence,
		pid: parseU32(pid), ppid: parseU32(ppid), exe: exe, comm: comm,
		syscall: syscallName, success: res == "success", keys: primary.tags,
	}
	if syscallRec != nil {
		act.exit, _ = strconv.ParseInt(syscallRec.rawExit(), 10, 64)
	}
	var self, parent *Proc
	if m.Table != nil {
		self, parent = m.Table.observe(&act)
	}
	if pid != "" || ppid != "" || exe != "" || comm != "" || cwd != "" || argv != nil || proctitle != nil {
		m.top("process")
		w.open('{')
		if pid != "" {
			w.key("pid")
			w.num(pid)
		}
		if ppid != "" {
			w.key("ppid")
			w.num(ppid)
		}
		w.strField("exe", exe)
		w.strField("comm", comm)
		w.strField("cwd", cwd)
		if argv != nil {
			w.key("argc")
			w.uint(uint64(argc))
			w.key("argv")
			w.strs(argv)
			if !argvComplete {
				w.key("argv_incomplete")
				w.b = append(w.b, "true"...)
			}
		}
		if proctitle != nil {
			w.strField("title", m.join(proctitle))
		}
		if tty := primary.get("tty"); tty != "" && tty != "(none)" {
			w.strField("tty", tty)
		}
		if self != nil && len(self.Labels) > 0 {
			w.key("labels")
			w.strs(self.Labels)
		}
		if parent != nil {
			w.key("parent")
			w.open('{')
			w.key("pid")
			w.uint(uint64(parent.PID))
			if parent.PPID != 0 {
				w.key("ppid")
				w.uint(uint64(parent.PPID))
			}
			w.strField("exe", parent.Exe)
			w.strField("comm", parent.Comm)
			if parent.ExecSerial != 0 {
				w.key("exec_serial")
				w.uint(uint64(parent.ExecSerial))
			}
			w.close('}')
		}
		w.close('}')
	}
	m.files(paths)
	if sockRec != nil {
		m.network(sockRec, syscallName, ev)
	}
	if !ev.SrcIP.IsValid() && isUserRecord(first.RecordType) {
		ev.SrcIP = remoteAddr(primary.get("addr"))
	}
	m.endTop()

	// Details: the common fields, then one key per record type.
	// Built on the stack and copied in one go: element by element into
	// the heap, every string and slice pointer would pass the GC's write
	// barrier while it marks.
	var stack [32]normalize.Field
	det := stack[:0]
	buf := slices.Clone(w.b) // the events outlive the scratch buffer
	for _, f := range m.tops {
		det = append(det, normalize.Field{Key: f.key, Value: normalize.RawJSON(buf[f.start:f.end:f.end])})
	}
	for _, g := range m.groups {
		det = append(det, normalize.Field{Key: g.name, Value: normalize.RawJSON(buf[g.start:g.end:g.end])})
	}
	if cap(ev.Details) >= len(det) {
		ev.Details = append(ev.Details[:0], det...)
	} else {
		ev.Details = slices.Clone(det)
	}
	return nil
}

type span struct {
	key        string
	start, end int
}

// top starts the top-level details field k; its value is what is written
// next, up to the next top or endTop.
func (m *Mapper) top(k string) {
	m.endTop()
	m.cur = span{key: k, start: len(m.w.b)}
	m.w.fresh = true
}

func (m *Mapper) endTop() {
	if m.cur.key != "" {
		m.cur.end = len(m.w.b)
		m.tops = append(m.tops, m.cur)
		m.cur = span{}
	}
}

func (m *Mapper) topStr(k, v string) {
	if v != "" {
		m.top(k)
		m.w.str(v)
	}
}

// record writes one record's fields (source order for the record types
// parsed here, sorted for those auparse parsed).
func (m *Mapper) record(p *parsed) {
	w := &m.w
	w.open('{')
	if p.err != nil {
		w.strField("raw", body(p.msg))
		w.strField("error", p.err.Error())
		w.close('}')
		return
	}
	for i, f := range p.fields {
		if (p.simple || plainKey(f.key)) && plainKey(f.val) {
			// The usual case in one piece: [,]"key":"value".
			comma := 0
			if i > 0 {
				comma = 1 // after '{' no comma, as sep decides
			}
			d := w.reserve(comma + len(f.key) + len(f.val) + 5)
			d[0] = ','
			d = d[comma:]
			d[0] = '"'
			n := 1 + copy(d[1:], f.key)
			d[n], d[n+1], d[n+2] = '"', ':', '"'
			n += 3 + copy(d[n+3:], f.val)
			d[n] = '"'
			continue
		}
		w.key(f.key)
		w.str(f.val)
	}
	if len(p.tags) > 0 {
		w.key("key")
		w.strs(p.tags)
	}
	if p.argv != nil {
		w.key("argv")
		w.strs(p.argv)
	}
	w.close('}')
}

// execveFields returns argv from a parsed EXECVE record whose arguments
// are all present (enrich checked argc against a0…aN).
func execveFields(a *scratch, p *parsed) (argv []string, argc int, complete bool) {
	n, err := strconv.Atoi(p.get("argc"))
	if err != nil || n < 0 {
		return nil, 0, false
	}
	argv = a.strSlice(n)
	for _, f := range p.args {
		if i, err := strconv.Atoi(f.key[1:]); err == nil && i >= 0 && i < n {
			argv[i] = f.val
		}
	}
	return argv, n, true
}

// join is strings.Join(ss, " ") in the scratch space.
func (m *Mapper) join(ss []string) string {
	a := &m.arena
	start := len(a.b)
	for i, s := range ss {
		if i > 0 {
			a.b = append(a.b, ' ')
		}
		a.b = append(a.b, s...)
	}
	return a.since(start)
}

func (m *Mapper) summary(ce *aucoalesce.Event) {
	s := &ce.Summary
	if s.Actor == (aucoalesce.Actor{}) && s.Action == "" && s.Object == (aucoalesce.Object{}) && s.How == "" {
		return
	}
	w := &m.w
	m.top("summary")
	w.open('{')
	if s.Actor != (aucoalesce.Actor{}) {
		w.key("actor")
		w.open('{')
		w.strField("primary", s.Actor.Primary)
		w.strField("secondary", s.Actor.Secondary)
		w.close('}')
	}
	w.strField("action", s.Action)
	if s.Object != (aucoalesce.Object{}) {
		w.key("object")
		w.open('{')
		w.strField("type", s.Object.Type)
		w.strField("primary", s.Object.Primary)
		w.strField("secondary", s.Object.Secondary)
		w.close('}')
	}
	w.strField("how", s.How)
	w.close('}')
}

// user writes details.user: {"auid":{"id":1000,"name":"alice"}, …}
// from the primary record's *uid and *gid fields.
func (m *Mapper) user(p *parsed, mt *meta) {
	// One pass over the fields: the usual ids by position, others aside.
	var vals [len(userKeys)]string
	m.keys = m.keys[:0]
	for _, f := range p.fields {
		if !strings.HasSuffix(f.key, "uid") && !strings.HasSuffix(f.key, "gid") {
			continue
		}
		if i := userKeyIndex(f.key); i >= 0 {
			vals[i] = f.val
		} else {
			m.keys = append(m.keys, f.key)
		}
	}
	enriched := ""
	if mt != nil {
		enriched = mt.enriched
	}
	var names []field
	if len(m.keys) > 0 {
		m.names = enrichedNames(mt, m.names)
		names = m.names
	}
	known := m.knownNames(enriched, mt)
	m.userJSON(p, vals, known, names)
}

// knownNames returns the enriched names of the usual ids, by position:
// the first name whose key matches (case-insensitively), as nameFor
// finds it. The names' positions in the enriched text are remembered:
// consecutive events of a session carry the same text.
func (m *Mapper) knownNames(enriched string, mt *meta) (known [len(userKeys)]string) {
	k := &m.known
	if k.ok && k.enriched == enriched {
		for i, sp := range k.at {
			known[i] = enriched[sp.start:sp.end]
		}
		return known
	}
	m.names = enrichedNames(mt, m.names)
	var have [len(userKeys)]bool
	for _, f := range m.names {
		i := -1
		if isASCII(f.key) {
			var low [8]byte
			if len(f.key) <= len(low) {
				for j := 0; j < len(f.key); j++ {
					c := f.key[j]
					if 'A' <= c && c <= 'Z' {
						c += 'a' - 'A'
					}
					low[j] = c
				}
				i = userKeyIndex(string(low[:len(f.key)]))
			}
		} else {
			i = slices.IndexFunc(userKeys[:], func(k string) bool { return strings.EqualFold(f.key, k) })
		}
		if i >= 0 && !have[i] {
			known[i], have[i] = f.val, true
		}
	}
	// Every name is a piece of the enriched text (nextField and trimQS
	// cut, never copy).
	base := uintptr(unsafe.Pointer(unsafe.StringData(enriched)))
	k.ok = false
	for i, n := range known {
		k.at[i] = span{}
		if n != "" {
			off := int(uintptr(unsafe.Pointer(unsafe.StringData(n))) - base)
			if off < 0 || off+len(n) > len(enriched) {
				return known // not a piece after all: no memo
			}
			k.at[i] = span{start: off, end: off + len(n)}
		}
	}
	k.buf = append(k.buf[:0], enriched...)
	k.enriched = unsafe.String(unsafe.SliceData(k.buf), len(k.buf))
	k.ok = true
	return known
}

// knownMemo is where the names of the usual ids were in the last
// enriched text (a copy).
type knownMemo struct {
	ok       bool
	enriched string // in buf
	buf      []byte
	at       [len(userKeys)]span
}

// userJSON writes details.user from the ids in vals, their enriched
// names in known, and the other id fields in m.keys (names for those).
func (m *Mapper) userJSON(p *parsed, vals, known [len(userKeys)]string, names []field) {
	slices.Sort(m.keys)

	// When the JSON depends on vals and known alone (no other id fields,
	// no Resolver call), the last one written may be reused: the events
	// of one session repeat their ids.
	pure := len(m.keys) == 0
	for i := range vals {
		if vals[i] != "" && known[i] == "" && vals[i] != "unset" && m.Resolver != nil {
			pure = false
		}
	}
	memo := &m.userMemo
	if pure && memo.ok && memo.vals == vals && memo.known == known {
		if len(memo.json) > 0 {
			m.top("user")
			copy(m.w.reserve(len(memo.json)), memo.json)
			m.w.fresh = false
		}
		return
	}

	started := false
	for i, k := range userKeys {
		if vals[i] != "" {
			m.userID(&started, i, k, vals[i], known[i])
		}
	}
	for _, k := range m.keys {
		m.userID(&started, -1, k, p.get(k), nameFor(names, k))
	}
	if started {
		m.w.close('}')
	}
	memo.ok = pure
	if pure {
		memo.set(vals, known)
		if started {
			memo.json = append(memo.json[:0], m.w.b[m.cur.start:]...)
		}
	}
}

// userMemo is the last details.user written from ids and enriched names
// alone, with those inputs (copied: they point into the record text).
type userMemo struct {
	ok          bool
	vals, known [len(userKeys)]string
	buf, json   []byte
}

// set remembers vals and known; json is emptied.
func (u *userMemo) set(vals, known [len(userKeys)]string) {
	u.buf = u.buf[:0]
	u.json = u.json[:0]
	keep := func(s string) string {
		if s == "" {
			return ""
		}
		start := len(u.buf)
		u.buf = append(u.buf, s...)
		return unsafe.String(&u.buf[start], len(s))
	}
	for i := range vals {
		u.vals[i], u.known[i] = keep(vals[i]), keep(known[i])
	}
}

// userKeyIndex is slices.Index(userKeys, k).
func userKeyIndex(k string) int {
	switch k {
	case "auid":
		return 0
	case "uid":
		return 1
	case "euid":
		return 2
	case "suid":
		return 3
	case "fsuid":
		return 4
	case "gid":
		return 5
	case "egid":
		return 6
	case "sgid":
		return 7
	case "fsgid":
		return 8
	}
	return -1
}

// userIDOpen is what starts each usual id in details.user.
var userIDOpen = func() (o [len(userKeys)]string) {
	for i, k := range userKeys {
		o[i] = `"` + k + `":{`
	}
	return o
}()

// userID writes one id of details.user (ki: its index in userKeys, or
// -1); name is the enriched format's, if any.
func (m *Mapper) userID(started *bool, ki int, k, v, name string) {
	w := &m.w
	if !*started {
		m.top("user")
		w.open('{')
		*started = true
	}
	if ki >= 0 {
		w.sep()
		w.raw(userIDOpen[ki])
	} else {
		w.key(k)
		w.open('{')
	}
	if canonicalUint(v, 9) && name != "" {
		// The usual case: a small id, named by the enriched format.
		w.raw(`"id":`)
		w.raw(v)
		w.raw(`,"name":`)
		w.str(name)
		w.close('}')
		return
	}
	id, numeric := uint64(0), true
	if v == "unset" {
		id = 4294967295
	} else if n, err := strconv.ParseUint(v, 10, 32); err == nil {
		id = n
	} else {
		numeric = false
	}
	switch {
	case numeric:
		w.raw(`"id":`) // first in the object: no comma
		w.uint(id)
	case v != "":
		w.raw(`"id":`)
		w.str(v)
	}
	switch {
	case name != "":
	case v == "unset":
		name = "unset"
	case numeric && m.Resolver != nil:
		if strings.HasSuffix(k, "gid") {
			name, _ = m.Resolver.GroupName(uint32(id))
		} else {
			name, _ = m.Resolver.UserName(uint32(id))
		}
	}
	if name != "" {
		if len(w.b) > 0 && w.b[len(w.b)-1] != '{' {
			w.byte(',')
		}
		w.raw(`"name":`)
		w.str(name)
	}
	w.close('}')
}

// files writes details.file: every PATH record's name in record order,
// and as "path" the first that is not a PARENT (directory) entry.
func (m *Mapper) files(paths []*parsed) {
	if len(paths) == 0 {
		return
	}
	w := &m.w
	m.top("file")
	w.open('{')
	for _, p := range paths {
		if p.get("nametype") != "PARENT" && p.get("name") != "" {
			w.strField("path", p.get("name"))
			break
		}
	}
	w.key("paths")
	w.open('[')
	for _, p := range paths {
		w.str(p.get("name"))
	}
	w.close(']')
	w.close('}')
}

// network writes details.network from the SOCKADDR record and fills the
// event's addresses: the peer is the destination for connect, sendto and
// sendmsg and the source for accept, recvfrom and recvmsg; for bind and
// the rest it only goes to details.
func (m *Mapper) network(p *parsed, syscall string, ev *normalize.Event) {
	fam := p.get("family")
	if fam == "" {
		return
	}
	dir := ""
	switch syscall {
	case "connect", "sendto", "sendmsg", "sendmmsg":
		dir = "egress"
	case "accept", "accept4", "recvfrom", "recvmsg", "recvmmsg":
		dir = "ingress"
	}
	w := &m.w
	m.top("network")
	w.open('{')
	w.strField("family", fam)
	addr, port, path := p.get("addr"), p.get("port"), p.get("path")
	w.strField("address", addr)
	if port != "" {
		w.key("port")
		w.num(port)
	}
	w.strField("path", path)
	w.strField("direction", dir)
	w.close('}')

	ip, err := parseAddr(addr)
	if err != nil || dir == "" {
		return
	}
	n, perr := strconv.ParseUint(port, 10, 16)
	hasPort := perr == nil
	if dir == "egress" {
		ev.DestIP = ip
		if hasPort {
			ev.DestPort, ev.HasPorts = uint16(n), true
		}
	} else {
		ev.SrcIP = ip
		if hasPort {
			ev.SrcPort, ev.HasPorts = uint16(n), true
		}
	}
}

// isUserRecord reports whether t is a record a user-space program sent
// (linux/audit.h: AUDIT_FIRST_USER_MSG…AUDIT_LAST_USER_MSG, 1100-1199, and
// AUDIT_FIRST_USER_MSG2…AUDIT_LAST_USER_MSG2, 2100-2999): PAM's USER_AUTH,
// USER_ACCT, USER_LOGIN, USER_START, USER_END, USER_ERR, CRED_ACQ,
// CRED_REFR, CRED_DISP, sshd's CRYPTO_KEY_USER and CRYPTO_SESSION, libvirt's
// VIRT_*, ANOM_LOGIN_FAILURES … In those records addr= is the address of the
// peer the login or session came from, as the program saw it.
func isUserRecord(t auparse.AuditMessageType) bool {
	return (t >= 1100 && t <= 1199) || (t >= 2100 && t <= 2999)
}

// remoteAddr returns the addr= of a user-space record as an address when it
// is one. PAM writes the remote host's address (PAM_RHOST resolved) or "?"
// when there is none; other programs have written "-", "UNKNOWN" or a host
// name there. None of those is an address and none is returned: only what
// parses as an IPv4 or IPv6 address (IPv4-mapped written as IPv4, an IPv6
// zone dropped) goes to the event's source, so that a search on src_ip
// finds every login from an address and nothing else lands in IP fields.
// The value as written stays in the record's details.
func remoteAddr(v string) netip.Addr {
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

func parseU32(s string) uint32 {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0
	}
	return uint32(n)
}

// enrichedNames reads auditd's enriched-format names (AUID="alice"
// UID="root" …) into dst: the *uid/*gid ones, keys as written (upper case).
func enrichedNames(mm *meta, dst []field) []field {
	dst = dst[:0]
	if mm == nil || mm.enriched == "" {
		return dst
	}
	for k, v, rest, ok := nextField(mm.enriched); ok; k, v, rest, ok = nextField(rest) {
		if n := len(k); n >= 3 && (equalFoldLower(k[n-3:], "uid") || equalFoldLower(k[n-3:], "gid")) {
			dst = append(dst, field{k, trimQS(v)})
		}
	}
	return dst
}

// nameFor returns the enriched name of id field k (lower case), if any.
func nameFor(names []field, k string) string {
	for _, f := range names {
		if equalFoldLower(f.key, k) {
			return f.val
		}
	}
	return ""
}

// equalFoldLower is strings.EqualFold(s, t) without Unicode tables when
// both are ASCII (the enriched names' keys and the id fields' are).
func equalFoldLower(s, t string) bool {
	if len(s) != len(t) {
		// Unicode folding can match strings of different lengths.
		return (!isASCII(s) || !isASCII(t)) && strings.EqualFold(s, t)
	}
	for i := 0; i < len(s); i++ {
		c, d := s[i], t[i]
		if c >= 0x80 || d >= 0x80 {
			return strings.EqualFold(s, t)
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'A' <= d && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, err
	}
	return a.Unmap(), nil
}

// rawExit is the SYSCALL record's exit as written (a number), whichever
// parser read it.
func (p *parsed) rawExit() string {
	if p.exit != "" {
		return p.exit
	}
	for k, v, rest, ok := nextField(body(p.msg)); ok; k, v, rest, ok = nextField(rest) {
		if k == "exit" {
			return v
		}
	}
	return ""
}

func isEOE(r *auparse.AuditMessage) bool { return r.RecordType == auparse.AUDIT_EOE }
