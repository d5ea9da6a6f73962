package audit

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

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

	w       jw
	keys    []string
	bodies  []string
	offsets []int
	tops    []span
	cur     span
}

// userKeys are written first and in this order under details.user;
// other *uid/*gid fields follow sorted.
var userKeys = []string{"auid", "uid", "euid", "suid", "fsuid", "gid", "egid", "sgid", "fsgid"}

// Map fills ev from msgs, the records of one event as the Assembler
// returned them. Records whose fields cannot be parsed are kept raw with
// the parser's error, so nothing is lost.
func (m *Mapper) Map(msgs []*auparse.AuditMessage, ev *normalize.Event) error {
	msgs = slices.DeleteFunc(msgs, func(r *auparse.AuditMessage) bool { return r.RecordType == auparse.AUDIT_EOE })
	if len(msgs) == 0 {
		return normalize.Errorf(normalize.ReasonMissingField, "audit event without records")
	}
	first := msgs[0]
	ev.Kind = normalize.KindAudit
	ev.Action = normalize.ActionUnknown
	ev.Timestamp = first.Timestamp.UTC()
	ev.Source.Type = SourceType

	// The records go out first, as parsed: aucoalesce below edits the
	// parsed field maps in place.
	w := &m.w
	w.b = w.b[:0]
	m.offsets = m.offsets[:0]
	var recKeys []string
	var execve []string
	var proctitle []string
	for i, r := range msgs {
		name := r.RecordType.String()
		if slices.Contains(recKeys, name) {
			continue
		}
		recKeys = append(recKeys, name)
		start := len(w.b)
		n := 0
		for _, r2 := range msgs[i:] {
			if r2.RecordType == r.RecordType {
				n++
			}
		}
		array := n > 1 || r.RecordType == auparse.AUDIT_PATH
		w.fresh = true
		if array {
			w.open('[')
		}
		for _, r2 := range msgs[i:] {
			if r2.RecordType != r.RecordType {
				continue
			}
			switch r2.RecordType {
			case auparse.AUDIT_EXECVE:
				execve = append(execve, body(r2))
			case auparse.AUDIT_PROCTITLE:
				proctitle = m.proctitle(r2)
			}
			m.record(r2)
		}
		if array {
			w.close(']')
		}
		m.offsets = append(m.offsets, start, len(w.b))
	}
	var argv []string
	var argc int
	var argvComplete bool
	if execve != nil {
		argv, argc, argvComplete = execveArgs(execve)
	}

	ce, err := aucoalesce.CoalesceMessages(msgs)
	if err != nil || ce == nil {
		// Only for a multi-record event without its SYSCALL record (lost):
		// map what the first record says.
		ce, _ = aucoalesce.CoalesceMessages(msgs[:1])
	}

	// Common details, then the records.
	m.tops = m.tops[:0]
	var meta *meta
	for _, r := range msgs {
		if mm := metaOf(r); mm != nil {
			meta = mm
			break
		}
	}
	names := enrichedNames(meta)

	m.top("serial")
	w.uint(uint64(first.Sequence))
	if meta != nil {
		m.topStr("node", meta.node)
	}
	m.topStr("record_type", first.RecordType.String())
	if ce != nil {
		m.topStr("category", ce.Category.String())
		m.topStr("result", ce.Result)
		if ce.Session != "" && ce.Session != "unset" {
			m.top("session")
			w.num(ce.Session)
		}
		m.topStr("syscall", ce.Data["syscall"])
		m.topStr("arch", ce.Data["arch"])
		if x := rawField(msgs, auparse.AUDIT_SYSCALL, "exit"); x != "" {
			// auparse names negative exits (EINPROGRESS): keep the number,
			// and the name beside it.
			m.top("exit")
			w.num(x)
			if name := ce.Data["exit"]; name != x {
				m.topStr("errno", name)
			}
		}
		if len(ce.Tags) > 0 {
			m.top("key")
			w.strs(ce.Tags)
		}
		m.summary(ce)
		m.user(ce, names)
	}

	// Process, enriched from the table.
	var act activity
	act.time = ev.Timestamp
	act.serial = first.Sequence
	if ce != nil {
		act.pid = parseU32(ce.Process.PID)
		act.ppid = parseU32(ce.Process.PPID)
		act.exe, act.comm = ce.Process.Exe, ce.Process.Name
		act.syscall = ce.Data["syscall"]
		act.success = ce.Result == "success"
		act.exit, _ = strconv.ParseInt(ce.Data["exit"], 10, 64)
		act.keys = ce.Tags
	}
	var self, parent *Proc
	if m.Table != nil {
		self, parent = m.Table.observe(&act)
	}
	if ce != nil && (!ce.Process.IsEmpty() || argv != nil) {
		p := &ce.Process
		m.top("process")
		w.open('{')
		if p.PID != "" {
			w.key("pid")
			w.num(p.PID)
		}
		if p.PPID != "" {
			w.key("ppid")
			w.num(p.PPID)
		}
		w.strField("exe", p.Exe)
		w.strField("comm", p.Name)
		w.strField("cwd", p.CWD)
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
			w.strField("title", strings.Join(proctitle, " "))
		}
		if tty := ce.Data["tty"]; tty != "" && tty != "(none)" {
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

	if ce != nil {
		m.files(ce)
		m.network(ce, ev)
	}
	m.endTop()

	// Details: the common fields first (one flat level, in the order
	// written), then one key per record type.
	ev.Details = slices.Grow(ev.Details[:0], 16+len(recKeys))
	buf := slices.Clone(w.b) // the events outlive the scratch buffer
	for _, f := range m.tops {
		ev.Details = append(ev.Details, normalize.Field{Key: f.key, Value: normalize.RawJSON(buf[f.start:f.end])})
	}
	for i, k := range recKeys {
		ev.Details = append(ev.Details, normalize.Field{Key: k, Value: normalize.RawJSON(buf[m.offsets[2*i]:m.offsets[2*i+1]])})
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

// record writes one record's fields, sorted by key so output is stable.
func (m *Mapper) record(r *auparse.AuditMessage) {
	w := &m.w
	w.open('{')
	data, err := r.Data()
	if err != nil {
		w.strField("raw", body(r))
		w.strField("error", err.Error())
		w.close('}')
		return
	}
	m.keys = m.keys[:0]
	for k := range data {
		m.keys = append(m.keys, k)
	}
	slices.Sort(m.keys)
	for _, k := range m.keys {
		w.key(k)
		w.str(data[k])
	}
	if tags, _ := r.Tags(); len(tags) > 0 {
		w.key("key")
		w.strs(tags)
	}
	if r.RecordType == auparse.AUDIT_PROCTITLE {
		if argv := m.proctitle(r); argv != nil {
			w.key("argv")
			w.strs(argv)
		}
	}
	w.close('}')
}

// proctitle decodes the NUL-separated command line of a PROCTITLE record
// (auparse joins it with spaces, losing the argument boundaries).
func (m *Mapper) proctitle(r *auparse.AuditMessage) []string {
	for k, v, rest, ok := nextField(body(r)); ok; k, v, rest, ok = nextField(rest) {
		if k == "proctitle" {
			return splitNUL(decodeString(v))
		}
	}
	return nil
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

// user writes details.user: {"auid":{"id":1000,"name":"alice"}, …}.
func (m *Mapper) user(ce *aucoalesce.Event, names map[string]string) {
	ids := ce.User.IDs
	if len(ids) == 0 {
		return
	}
	w := &m.w
	m.top("user")
	w.open('{')
	one := func(k, v string) {
		w.key(k)
		w.open('{')
		id, numeric := uint64(0), true
		if v == "unset" {
			id = 4294967295
		} else if n, err := strconv.ParseUint(v, 10, 32); err == nil {
			id = n
		} else {
			numeric = false
		}
		if numeric {
			w.key("id")
			w.uint(id)
		} else {
			w.strField("id", v)
		}
		name := names[k]
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
		w.strField("name", name)
		w.close('}')
	}
	for _, k := range userKeys {
		if v, ok := ids[k]; ok {
			one(k, v)
		}
	}
	m.keys = m.keys[:0]
	for k := range ids {
		if !slices.Contains(userKeys, k) {
			m.keys = append(m.keys, k)
		}
	}
	slices.Sort(m.keys)
	for _, k := range m.keys {
		one(k, ids[k])
	}
	w.close('}')
}

// files writes details.file: the path the event is about (aucoalesce's
// choice) and every PATH record's name, in record order.
func (m *Mapper) files(ce *aucoalesce.Event) {
	if ce.File == nil && len(ce.Paths) == 0 {
		return
	}
	w := &m.w
	m.top("file")
	w.open('{')
	if ce.File != nil {
		w.strField("path", ce.File.Path)
	}
	if len(ce.Paths) > 0 {
		w.key("paths")
		w.open('[')
		for _, p := range ce.Paths {
			w.str(p["name"])
		}
		w.close(']')
	}
	w.close('}')
}

// network writes details.network from the SOCKADDR record and fills the
// event's addresses: the peer is the destination for connect/sendto/sendmsg
// and the source for accept/recvfrom/recvmsg; bind and others only go to
// details.
func (m *Mapper) network(ce *aucoalesce.Event, ev *normalize.Event) {
	fam := ce.Data["socket_family"]
	if fam == "" {
		return
	}
	w := &m.w
	m.top("network")
	w.open('{')
	w.strField("family", fam)
	addr, port, path := ce.Data["socket_addr"], ce.Data["socket_port"], ce.Data["socket_path"]
	w.strField("address", addr)
	if port != "" {
		w.key("port")
		w.num(port)
	}
	w.strField("path", path)
	if ce.Net != nil {
		w.strField("direction", ce.Net.Direction.String())
	}
	w.close('}')

	ip, err := parseAddr(addr)
	if err != nil || ce.Net == nil {
		return
	}
	p, perr := strconv.ParseUint(port, 10, 16)
	hasPort := perr == nil
	switch ce.Net.Direction {
	case aucoalesce.OutgoingDir:
		ev.DestIP = ip
		if hasPort {
			ev.DestPort, ev.HasPorts = uint16(p), true
		}
	case aucoalesce.IncomingDir:
		ev.SrcIP = ip
		if hasPort {
			ev.SrcPort, ev.HasPorts = uint16(p), true
		}
	}
}

func parseU32(s string) uint32 {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0
	}
	return uint32(n)
}

// enrichedNames reads auditd's enriched-format names (AUID="alice"
// UID="root" …), keyed by the lower-case field name.
func enrichedNames(mm *meta) map[string]string {
	if mm == nil || mm.enriched == "" {
		return nil
	}
	out := map[string]string{}
	for k, v, rest, ok := nextField(mm.enriched); ok; k, v, rest, ok = nextField(rest) {
		lk := strings.ToLower(k)
		if strings.HasSuffix(lk, "uid") || strings.HasSuffix(lk, "gid") {
			out[lk] = decodeString(v)
		}
	}
	return out
}

func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, err
	}
	return a.Unmap(), nil
}

// rawField returns field k of the first record of type typ as written.
func rawField(msgs []*auparse.AuditMessage, typ auparse.AuditMessageType, k string) string {
	for _, r := range msgs {
		if r.RecordType != typ {
			continue
		}
		for k2, v, rest, ok := nextField(body(r)); ok; k2, v, rest, ok = nextField(rest) {
			if k2 == k {
				return v
			}
		}
		return ""
	}
	return ""
}
