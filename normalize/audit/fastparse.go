package audit

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"unsafe"

	"github.com/elastic/go-libaudit/v2/auparse"
	"golang.org/x/sys/unix"
)

// field is one parsed, enriched record field.
type field struct{ key, val string }

// parsed is one record's fields, in source order, with the same values
// go-libaudit's auparse gives (AuditMessage.Data), and its rule keys.
type parsed struct {
	msg    *auparse.AuditMessage
	fields []field
	tags   []string
	argv   []string // PROCTITLE: the command line split at NULs
	args   []field  // EXECVE: aN and its exact value
	exit   string   // SYSCALL: exit as written (enrich names negative ones)
	simple bool     // every key is auparse's [a-z0-9_-]+ or one of ours: no JSON escaping
	err    error
}

func (p *parsed) get(k string) string {
	for i := range p.fields {
		if p.fields[i].key == k {
			return p.fields[i].val
		}
	}
	return ""
}

// fastTypes are parsed here rather than by auparse: they make up almost
// all of a syscall-rule stream, and auparse's regular expression costs
// ten times more than the rest of the pipeline together. Every other type
// goes through auparse (AuditMessage.Data) as before. TestCorpusGoldens
// holds both paths to go-libaudit's own parsed output.
func fastType(t auparse.AuditMessageType) bool {
	switch t {
	case auparse.AUDIT_SYSCALL, auparse.AUDIT_EXECVE, auparse.AUDIT_CWD, auparse.AUDIT_PATH,
		auparse.AUDIT_PROCTITLE, auparse.AUDIT_SOCKADDR, auparse.AUDIT_BPRM_FCAPS, auparse.AUDIT_EOE:
		return true
	}
	return false
}

// parseRecord fills p from msg, appending fields to p.fields. Decoded
// values go to a (valid until its reset).
func parseRecord(msg *auparse.AuditMessage, p *parsed, a *scratch) {
	p.msg, p.tags, p.argv, p.exit, p.err, p.simple = msg, nil, nil, "", nil, false
	p.args = p.args[:0]
	if !fastType(msg.RecordType) {
		data, err := msg.Data()
		if err != nil {
			p.err = err
			return
		}
		for k, v := range data {
			p.fields = append(p.fields, field{k, v})
		}
		sortFields(p.fields)
		p.tags, _ = msg.Tags()
		return
	}
	s := body(msg)
	var seen [4]uint64 // a 256-bit Bloom filter of the keys so far
	fs := p.fields     // a local slice: the header is stored back once
	for k, v, rest, ok := nextField(s); ok; k, v, rest, ok = nextField(rest) {
		h, ok := simpleKeyHash(k)
		if !ok {
			continue
		}
		word, bit := h>>6&3, uint64(1)<<(h&63)
		if seen[word]&bit != 0 {
			fs = addField(fs, k, v) // maybe a repeated key: the later value wins, as in auparse
		} else {
			fs = append(fs, field{k, v})
		}
		seen[word] |= bit
	}
	p.fields = fs
	p.simple = true
	p.enrich(a)
}

func sortFields(fs []field) {
	// Insertion sort: a record has a few dozen fields at most.
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && fs[j].key < fs[j-1].key; j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
}

// simpleKeyHash reports whether k has auparse's key syntax, [a-z0-9_-]+,
// and hashes it on the way for the repeated-key filter.
func simpleKeyHash(k string) (h uint, ok bool) {
	if k == "" {
		return 0, false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return 0, false
		}
		h = h*31 + uint(c)
	}
	return h ^ h>>8, true
}

// add stores one raw field: useless values are dropped and a repeated key
// replaces the earlier value, as in auparse. The value keeps its quotes
// until enrich, which needs to know whether it was hex.
func addField(fs []field, k, raw string) []field {
	for i := range fs {
		if fs[i].key == k {
			fs[i].val = raw
			return fs
		}
	}
	return append(fs, field{k, raw})
}

// trimQS is strings.Trim(v, `'" `) without building a cutset per call.
func trimQS(v string) string {
	i, j := 0, len(v)
	for i < j && (v[i] == '\'' || v[i] == '"' || v[i] == ' ') {
		i++
	}
	for j > i && (v[j-1] == '\'' || v[j-1] == '"' || v[j-1] == ' ') {
		j--
	}
	return v[i:j]
}

func useless(v string) bool {
	switch v {
	case "", "?", "?,", "(null)":
		return true
	}
	return false
}

// enrich turns raw values into auparse's, in one pass: quotes trimmed,
// useless values dropped, hex decoded where the kernel may encode, ids,
// result, exit, arch and syscall named, key split into tags, SELinux
// contexts split, sockaddr decoded.
func (p *parsed) enrich(a *scratch) {
	typ := p.msg.RecordType
	in := p.fields
	// Fields are rewritten in place; a few expand (subj, obj, saddr) and
	// go to extra, appended at the end.
	out := in[:0]
	var extra [8]field
	ext := extra[:0]
	archName, syscallIdx, hasResult, fromSuccess := "", -1, -1, false
	for i, f := range in {
		raw := f.val
		v := trimQS(raw)
		if useless(v) {
			continue
		}
		switch f.key {
		case "auid", "old-auid", "ses":
			if v == "4294967295" || v == "-1" {
				v = "unset"
			}
		case "subj":
			ext = selinux(ext, &subjKeys, v)
			continue
		case "success", "res":
			if hasResult >= 0 {
				// Both present: success wins, as in auparse.
				if f.key == "success" && !fromSuccess {
					out[hasResult].val = result(v)
					fromSuccess = true
				}
				continue
			}
			hasResult, fromSuccess = len(out), f.key == "success"
			out = append(out, field{"result", result(v)})
			continue
		case "exit":
			p.exit = v
			if n, err := strconv.Atoi(v); err == nil && n < 0 {
				if name, ok := auparse.AuditErrnoToName[-n]; ok {
					v = name
				}
			}
		case "key":
			p.tags = ruleKeys(a, raw)
			continue
		case "cwd":
			v = hexJoin(a, v, raw)
		}
		switch typ {
		case auparse.AUDIT_SYSCALL:
			switch f.key {
			case "arch":
				n, err := strconv.ParseInt(v, 16, 64)
				if err != nil {
					p.err = errors.New("failed to parse arch: " + err.Error())
					return
				}
				archName = auparse.AuditArch(n).String()
				v = archName
			case "syscall":
				syscallIdx = len(out)
			case "exe":
				v = hexJoin(a, v, raw)
			}
		case auparse.AUDIT_SOCKADDR:
			if f.key == "saddr" {
				var err error
				if ext, err = sockaddr(a, ext, v); err != nil {
					p.err = errors.New("failed to parse saddr: " + err.Error())
					return
				}
				continue
			}
		case auparse.AUDIT_PROCTITLE:
			if f.key == "proctitle" {
				// Decoded once: argv split at the NULs, and auparse's value
				// (hex only, NULs as spaces).
				dec := decodeStringIn(a, raw)
				p.argv = splitNULIn(a, dec)
				if isUpperHex(raw) {
					v = a.replaceNUL(dec, ' ')
				}
			}
		case auparse.AUDIT_PATH:
			switch f.key {
			case "obj":
				ext = selinux(ext, &objKeys, v)
				continue
			case "name":
				v = hexJoin(a, v, raw)
			}
		case auparse.AUDIT_EXECVE:
			if len(f.key) > 1 && f.key[0] == 'a' && f.key != "argc" {
				// Execve args: hex (truncated at NUL) unless quoted. The
				// record keeps auparse's value; argv gets the exact one
				// (auparse also trims single quotes and spaces).
				if b, ok := a.upperHex(raw); ok {
					v = cutNUL(b)
					p.args = append(p.args, field{f.key, v})
				} else {
					p.args = append(p.args, field{f.key, decodeStringIn(a, raw)})
				}
			}
		}
		if len(out) == i && sameString(v, raw) {
			// Unchanged and in place: only the length moves (storing the
			// strings again would cost GC write barriers while it marks).
			out = out[:i+1]
		} else {
			out = append(out, field{f.key, v})
		}
	}
	for _, f := range ext {
		out = setField(out, f.key, f.val)
	}
	p.fields = out

	switch typ {
	case auparse.AUDIT_SYSCALL:
		if archName == "" {
			p.err = errors.New("arch key not found")
			return
		}
		if syscallIdx < 0 {
			p.err = errors.New("syscall key not found")
			return
		}
		num, err := strconv.Atoi(out[syscallIdx].val)
		if err != nil {
			p.err = errors.New("failed to parse syscall: " + err.Error())
			return
		}
		if name, ok := auparse.AuditSyscalls[archName][num]; ok {
			out[syscallIdx].val = name
		}
	case auparse.AUDIT_SOCKADDR:
		if p.get("family") == "" {
			p.err = errors.New("saddr key not found")
		}
	case auparse.AUDIT_EXECVE:
		argc := p.get("argc")
		if argc == "" {
			p.err = errors.New("argc key not found")
			return
		}
		n, err := strconv.ParseUint(argc, 10, 32)
		if err != nil {
			p.err = errors.New("failed to convert argc to number")
			return
		}
		if i, missing := p.missingArg(n); missing {
			// auparse fails the record; the mapper still rebuilds argv
			// from the raw text (long arguments come as aN[k]).
			p.err = errors.New("failed to find arg a" + strconv.FormatUint(i, 10))
			return
		}
	}
}

// sameString reports whether a and b are the same bytes in memory.
func sameString(a, b string) bool {
	return len(a) == len(b) && unsafe.StringData(a) == unsafe.StringData(b)
}

func setField(fs []field, k, v string) []field {
	for i := range fs {
		if fs[i].key == k {
			fs[i].val = v
			return fs
		}
	}
	return append(fs, field{k, v})
}

func result(v string) string {
	v = strings.ToLower(v)
	if v == "yes" || v == "1" || strings.HasPrefix(v, "suc") {
		return "success"
	}
	return "fail"
}

// missingArg returns the first i < n for which the EXECVE record has no
// field "a<i>" (with a value: empty ones were dropped), if any.
func (p *parsed) missingArg(n uint64) (uint64, bool) {
	if n > 64 {
		for i := uint64(0); i < n; i++ {
			if p.get("a"+strconv.FormatUint(i, 10)) == "" {
				return i, true
			}
		}
		return 0, false
	}
	var have uint64 // bit i: a<i> present
	for _, f := range p.fields {
		if i, ok := argIndex(f.key); ok && f.val != "" {
			have |= 1 << i
		}
	}
	for i := uint64(0); i < n; i++ {
		if have&(1<<i) == 0 {
			return i, true
		}
	}
	return 0, false
}

// argIndex parses an EXECVE key "a<i>" with i < 64 written the way
// strconv writes it (no leading zero).
func argIndex(k string) (uint64, bool) {
	switch {
	case len(k) == 2 && k[0] == 'a' && '0' <= k[1] && k[1] <= '9':
		return uint64(k[1] - '0'), true
	case len(k) == 3 && k[0] == 'a' && '1' <= k[1] && k[1] <= '9' && '0' <= k[2] && k[2] <= '9':
		if i := uint64(k[1]-'0')*10 + uint64(k[2]-'0'); i < 64 {
			return i, true
		}
	}
	return 0, false
}

// hexJoin decodes an upper-case hex value (as written: quotes make it
// fail) and joins NUL-separated parts with spaces, as auparse does; v is
// returned when raw is not hex.
func hexJoin(a *scratch, v, raw string) string {
	b, ok := a.upperHex(raw)
	if !ok || len(b) == 0 {
		return v
	}
	return a.replaceNUL(b, ' ')
}

// The keys a SELinux context is split into.
var (
	subjKeys = [...]string{"subj_user", "subj_role", "subj_domain", "subj_level", "subj_category"}
	objKeys  = [...]string{"obj_user", "obj_role", "obj_domain", "obj_level", "obj_category"}
)

// selinux splits a user:role:domain:level:category context.
func selinux(dst []field, keys *[5]string, v string) []field {
	for i := range keys {
		part, rest, found := strings.Cut(v, ":")
		if i == len(keys)-1 {
			part, found = v, false
		}
		dst = append(dst, field{keys[i], part})
		if !found {
			break
		}
		v = rest
	}
	return dst
}

// ruleKeys splits an audit rule key field: hex for several keys (joined
// by 0x01), else "name" or "key=name".
func ruleKeys(a *scratch, raw string) []string {
	if b, ok := a.upperHex(raw); ok {
		return a.split(b, 0x01)
	}
	v := trimQS(raw)
	if _, after, ok := strings.Cut(v, "="); ok {
		v = after
	}
	a.strs = append(a.strs, v)
	return a.strs[len(a.strs)-1 : len(a.strs) : len(a.strs)]
}

func hexNibble(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func cutNUL(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// sockaddr decodes a SOCKADDR record's saddr (a struct sockaddr in hex;
// the family in host order, ports and addresses in network order).
func sockaddr(a *scratch, dst []field, s string) ([]field, error) {
	if len(s) < 4 {
		return dst, errors.New("invalid family: too short")
	}
	fam, err := strconv.ParseUint(s[2:4]+s[0:2], 16, 16)
	if err != nil {
		return dst, err
	}
	switch fam {
	case unix.AF_UNIX:
		b, ok := a.upperHex(s[4:])
		if !ok {
			return dst, errors.New("invalid unix socket path")
		}
		dst = append(dst, field{"family", "unix"}, field{"path", cutNUL(b)})
	case unix.AF_INET:
		if len(s) < 16 {
			return dst, errors.New("invalid socket address size family=ipv4")
		}
		port, err1 := strconv.ParseUint(s[4:8], 16, 16)
		ip, ok := a.upperHex(s[8:16])
		if err1 != nil || !ok {
			return dst, errors.New("invalid ipv4 socket address")
		}
		var ip4 [4]byte
		copy(ip4[:], ip)
		dst = append(dst, field{"family", "ipv4"}, field{"addr", a.addr(netip.AddrFrom4(ip4))},
			field{"port", a.uint(port)})
	case unix.AF_INET6:
		if len(s) < 48 {
			return dst, errors.New("invalid socket address size family=ipv6")
		}
		port, err1 := strconv.ParseUint(s[4:8], 16, 16)
		flow, err2 := strconv.ParseInt(s[8:16], 16, 32)
		ip, ok := a.upperHex(s[16:48])
		if err1 != nil || err2 != nil || !ok {
			return dst, errors.New("invalid ipv6 socket address")
		}
		var ip16 [16]byte
		copy(ip16[:], ip)
		dst = append(dst, field{"family", "ipv6"}, field{"addr", a.addr(netip.AddrFrom16(ip16).Unmap())},
			field{"port", a.uint(port)})
		if flow > 0 {
			dst = append(dst, field{"flow", a.int(flow)})
		}
	case unix.AF_NETLINK:
		dst = append(dst, field{"family", "netlink"}, field{"saddr", s})
	default:
		dst = append(dst, field{"family", a.uint(fam)}, field{"saddr", s})
	}
	return dst, nil
}

func isUpperHex(s string) bool {
	if len(s) == 0 || len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if _, ok := hexNibble(s[i]); !ok {
			return false
		}
	}
	return true
}
