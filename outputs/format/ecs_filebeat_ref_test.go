package format

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alertgw/alertgw/normalize"
)

// The filebeat profile as it was first written (issue 17): each document
// built as a map and marshalled with encoding/json, every Details value
// decoded. It was correct and slow (~115 µs and 537 allocations for an
// alert with rule metadata); ECSFilebeat now writes the same documents
// append-style, and TestFilebeatMatchesReference holds it to this
// reference, value for value.

// filebeatReference is the reference encoding of e.
func filebeatReference(e *normalize.Event) []byte {
	if e.Source.Type != "suricata" {
		return ECS{}.AppendEvent(nil, e)
	}
	doc, err := json.Marshal(refFilebeatDoc(e))
	if err != nil {
		panic(err)
	}
	return doc
}

// stamp writes a time as the plain profile does (AppendTime).
func refStamp(t time.Time) string {
	b := AppendTime(nil, t)
	return string(b[1 : len(b)-1])
}

// obj is one JSON object of the document being built.
type refObj map[string]any

func (o refObj) sub(k string) refObj {
	if m, ok := o[k].(refObj); ok {
		return m
	}
	m := refObj{}
	o[k] = m
	return m
}

func (o refObj) set(k string, v any) {
	switch x := v.(type) {
	case string:
		if x == "" {
			return
		}
	case nil:
		return
	}
	o[k] = v
}

// eveType is the record's event_type.
func refEveType(e *normalize.Event) string {
	switch e.Kind {
	case normalize.KindAlert:
		return "alert"
	case normalize.KindPacket:
		return "drop"
	case normalize.KindAnomaly:
		return "anomaly"
	case normalize.KindFlow:
		if t := refDetailJSON(e, "event_type"); t != nil {
			s, _ := t.(string)
			return s
		}
		return "flow"
	}
	s, _ := refDetailJSON(e, "event_type").(string)
	return s
}

// detailJSON decodes one Details value (numbers as json.Number).
func refDetailJSON(e *normalize.Event, key string) any {
	raw := e.Details.Get(key)
	if raw == nil {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return nil
	}
	return v
}

func refDetailObj(e *normalize.Event, key string) map[string]any {
	m, _ := refDetailJSON(e, key).(map[string]any)
	return m
}

func refStr(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func refFilebeatDoc(e *normalize.Event) refObj {
	typ := refEveType(e)
	doc := refObj{"@timestamp": refStamp(e.Timestamp), "tags": []string{"suricata"}}
	doc.sub("ecs")["version"] = ECSVersion
	ev := doc.sub("event")
	ev["dataset"], ev["module"] = "suricata.eve", "suricata"
	ev.set("id", e.ID)
	ev.set("provider", e.Source.Input)
	if !e.Received.IsZero() {
		ev["created"] = refStamp(e.Received)
	}
	eve := doc.sub("suricata").sub("eve")
	eve.set("event_type", typ)
	eve.set("in_iface", e.InIface)
	if e.FlowID != 0 {
		eve["flow_id"] = strconv.FormatUint(e.FlowID, 10) // a string: it exceeds 2^53
	}

	http := refDetailObj(e, "http")
	tls := refDetailObj(e, "tls")
	switch {
	case typ == "alert" || typ == "drop":
		ev["kind"] = "alert"
		ev["category"] = []string{"network", "intrusion_detection"}
		switch e.Action {
		case normalize.ActionBlocked:
			ev["type"] = []string{"denied"}
		case normalize.ActionAllowed:
			ev["type"] = []string{"allowed"}
		}
		ev.set("action", string(e.Action))
	case typ == "stats":
		ev["kind"] = "metric"
		ev["category"] = []string{"network"}
	default:
		ev["kind"] = "event"
		ev["category"] = []string{"network"}
		switch typ {
		case "http":
			ev["category"] = []string{"network", "web"}
			ev["type"] = []string{"access", "protocol"}
		case "flow":
			t := []string{"connection"}
			if f := e.Flow; f != nil {
				switch f.State {
				case "new":
					t = append(t, "start")
				case "closed":
					t = append(t, "end")
				}
			}
			ev["type"] = t
		case "fileinfo":
		default:
			ev["type"] = []string{"protocol"}
		}
	}
	if s := e.Signature; s != nil {
		if s.Priority != 0 {
			ev["severity"] = s.Priority
		}
		rule := doc.sub("rule")
		rule["id"] = strconv.FormatUint(uint64(s.ID), 10)
		rule.set("name", s.Name)
		rule.set("category", s.Category)
		rule["version"] = strconv.FormatUint(uint64(s.Rev), 10)
		doc.set("message", s.Category)
		alert := eve.sub("alert")
		alert["gid"], alert["signature_id"], alert["rev"] = s.GID, s.ID, s.Rev
		alert.set("signature", s.Name)
		alert.set("category", s.Category)
		refFilebeatMetadata(doc, alert, refDetailObj(e, "alert"))
	}
	if f := e.Flow; f != nil {
		if !f.Start.IsZero() {
			ev["start"] = refStamp(f.Start)
		}
		if !f.End.IsZero() {
			ev["end"] = refStamp(f.End)
			if !f.Start.IsZero() && !f.End.Before(f.Start) {
				ev["duration"] = f.End.Sub(f.Start).Nanoseconds()
			}
		}
		fl := eve.sub("flow")
		fl.set("state", f.State)
		fl.set("reason", f.Reason)
		if f.Age != 0 || !f.End.IsZero() {
			fl["age"] = f.Age
		}
		if f.Alerted != nil {
			fl["alerted"] = *f.Alerted
		}
		if len(fl) == 0 {
			delete(eve, "flow")
		}
	}

	// Endpoints and network.
	var related []string
	endpoint := func(key string, ip netip.Addr, port uint16, mac string, bytes, pkts uint64) {
		if !ip.IsValid() && mac == "" {
			return
		}
		o := doc.sub(key)
		if ip.IsValid() {
			o["address"], o["ip"] = ip.String(), ip.String()
			related = append(related, ip.String())
		}
		if e.HasPorts {
			o["port"] = port
		}
		o.set("mac", mac) // as Suricata wrote it, as Filebeat keeps it
		if e.Flow != nil {
			o["bytes"], o["packets"] = bytes, pkts
		}
	}
	var sb, sp, db, dp uint64
	if f := e.Flow; f != nil {
		sb, sp, db, dp = f.BytesToServer, f.PktsToServer, f.BytesToClient, f.PktsToClient
	}
	endpoint("source", e.SrcIP, e.SrcPort, e.SrcMAC, sb, sp)
	endpoint("destination", e.DestIP, e.DestPort, e.DestMAC, db, dp)
	nw := doc.sub("network")
	if e.HasProto {
		nw["transport"] = e.ProtoName
		nw["iana_number"] = strconv.Itoa(int(e.Proto))
	}
	if e.SrcIP.IsValid() {
		nw["type"] = map[bool]string{true: "ipv4", false: "ipv6"}[e.SrcIP.Unmap().Is4()]
	}
	switch {
	case e.AppProto != "" && e.AppProto != "failed":
		nw["protocol"] = e.AppProto
	case e.AppProto == "":
		switch typ {
		case "alert", "drop", "anomaly", "flow", "netflow", "stats", "fileinfo", "":
		default: // an app-layer record (dns, tls, http, ssh …) names its protocol
			nw["protocol"] = typ
		}
	}
	nw.set("community_id", e.CommunityID)
	nw.set("direction", e.NetDirection)
	if f := e.Flow; f != nil {
		nw["bytes"], nw["packets"] = f.BytesToServer+f.BytesToClient, f.PktsToServer+f.PktsToClient
	}
	if len(nw) == 0 {
		delete(doc, "network")
	}

	var hosts, hashes []string
	if http != nil {
		h := eve.sub("http")
		for k, v := range http {
			switch k {
			case "hostname", "url", "http_user_agent", "http_method", "status", "length", "http_port":
			default:
				h[k] = v
			}
		}
		if len(h) == 0 {
			delete(eve, "http")
		}
		host := refStr(http, "hostname")
		if host != "" {
			doc.sub("destination")["domain"] = host
			hosts = append(hosts, host)
		}
		hr := doc.sub("http")
		if m := refStr(http, "http_method"); m != "" {
			hr.sub("request")["method"] = m
		}
		if n, ok := http["status"].(json.Number); ok {
			code, _ := n.Int64()
			hr.sub("response")["status_code"] = code
			if typ == "http" {
				ev["outcome"] = map[bool]string{true: "success", false: "failure"}[code < 400]
			}
		}
		if n, ok := http["length"].(json.Number); ok {
			l, _ := n.Int64()
			hr.sub("response").sub("body")["bytes"] = l
		}
		if len(hr) == 0 {
			delete(doc, "http")
		}
		if ua := refStr(http, "http_user_agent"); ua != "" {
			doc.sub("user_agent")["original"] = ua
		}
		refFilebeatURL(doc, refStr(http, "url"), host, http["http_port"])
	}
	if tls != nil {
		t := eve.sub("tls")
		for k, v := range tls {
			if m, ok := v.(map[string]any); ok && len(m) == 0 {
				continue // an empty ja3 {} says nothing
			}
			t[k] = v
		}
		sni := strings.TrimSuffix(refStr(tls, "sni"), ".")
		t.set("sni", sni)
		if sni != "" {
			doc.sub("destination")["domain"] = sni
		}
		out := doc.sub("tls")
		if v, ok := strings.CutPrefix(refStr(tls, "version"), "TLS "); ok {
			out["version"], out["version_protocol"] = v, "tls"
		}
		if sni != "" {
			out.sub("client")["server_name"] = sni
		}
		srv := refObj{}
		srv.set("issuer", refStr(tls, "issuerdn"))
		srv.set("subject", refStr(tls, "subject"))
		for _, k := range [...][2]string{{"notbefore", "not_before"}, {"notafter", "not_after"}} {
			if ts, err := time.Parse("2006-01-02T15:04:05", refStr(tls, k[0])); err == nil {
				srv[k[1]] = ts.UTC().Format("2006-01-02T15:04:05.000Z")
			}
		}
		if fp := refStr(tls, "fingerprint"); fp != "" {
			h := strings.ToUpper(strings.ReplaceAll(fp, ":", ""))
			srv.sub("hash")["sha1"] = h
			hashes = append(hashes, h)
		}
		if ja3s, ok := tls["ja3s"].(map[string]any); ok {
			srv.set("ja3s", refStr(ja3s, "hash"))
		}
		if len(srv) > 0 {
			out["server"] = srv
		}
	}
	if dns := refDetailObj(e, "dns"); dns != nil {
		eve["dns"] = dns
		related = append(related, refFilebeatDNS(doc, dns)...)
	}
	if fi := refDetailObj(e, "fileinfo"); fi != nil {
		f := eve.sub("fileinfo")
		for k, v := range fi {
			if k != "filename" && k != "size" {
				f[k] = v
			}
		}
		file := doc.sub("file")
		file.set("path", refStr(fi, "filename"))
		if n, ok := fi["size"].(json.Number); ok {
			s, _ := n.Int64()
			file["size"] = s
		}
	}
	// Everything else the record said, as it said it (stats, ssh, smb …),
	// but what the common fields hold already.
	for _, f := range e.Details {
		switch f.Key {
		case "alert", "http", "tls", "dns", "fileinfo", "flow", "event_type", "ether":
			continue
		}
		var v any
		d := json.NewDecoder(bytes.NewReader(f.Value))
		d.UseNumber()
		if d.Decode(&v) == nil {
			eve[f.Key] = v
		}
	}

	slices.Sort(related)
	if related = slices.Compact(related); len(related) > 0 {
		doc.sub("related")["ip"] = related
	}
	if len(hosts) > 0 {
		doc.sub("related")["hosts"] = hosts
	}
	if len(hashes) > 0 {
		doc.sub("related")["hash"] = hashes
	}
	refFilebeatObserver(doc, e)
	return doc
}

// filebeatMetadata flattens the alert's metadata into suricata.eve.alert
// (lists of strings, sorted; created_at and updated_at as dates) and maps
// the keys Filebeat maps to ECS.
func refFilebeatMetadata(doc, alert refObj, details map[string]any) {
	md, _ := details["metadata"].(map[string]any)
	for k, v := range md {
		list, ok := v.([]any)
		if !ok {
			alert[k] = v
			continue
		}
		var ss []string
		for _, x := range list {
			if s, ok := x.(string); ok {
				ss = append(ss, s)
			}
		}
		slices.Sort(ss)
		switch k {
		case "created_at", "updated_at":
			if len(ss) > 0 {
				if ts, err := time.Parse("2006-01-02", strings.ReplaceAll(ss[0], "_", "-")); err == nil {
					alert[k] = ts.UTC().Format("2006-01-02T15:04:05.000Z")
					continue
				}
			}
		case "mitre_attack": // moved, as Filebeat does
			doc.sub("threat").sub("tactic")["id"] = ss
			continue
		case "filename":
			// Filebeat writes the list; ECS's file.name is one keyword
			// (Elasticsearch indexes ["x"] and "x" alike).
			if len(ss) == 1 {
				doc.sub("file")["name"] = ss[0]
			} else if len(ss) > 1 {
				doc.sub("file")["name"] = ss
			}
			continue
		}
		alert[k] = ss
	}
	for k, v := range details {
		if k != "metadata" {
			alert[k] = v
		}
	}
}

// filebeatURL fills url.* from the request's URL (a path, or an absolute
// URL as a proxy sees it).
func refFilebeatURL(doc refObj, raw, host string, port any) {
	if raw == "" {
		return
	}
	u := doc.sub("url")
	u["original"] = raw
	p, err := url.Parse(raw)
	if err != nil {
		return
	}
	u.set("scheme", p.Scheme)
	if p.Host != "" {
		host = p.Hostname()
		if ps := p.Port(); ps != "" {
			n, _ := strconv.Atoi(ps)
			u["port"] = n
		}
	}
	u.set("domain", host)
	if n, ok := port.(json.Number); ok {
		pn, _ := n.Int64()
		u["port"] = pn
	}
	u.set("path", p.Path)
	u.set("query", p.RawQuery)
	if ext := path.Ext(p.Path); len(ext) > 1 {
		u["extension"] = strings.ToLower(ext[1:])
	}
}

// filebeatDNS fills dns.* from a Suricata DNS record (the one-record-per-
// answer form and the grouped one) and returns the resolved addresses.
func refFilebeatDNS(doc refObj, dns map[string]any) []string {
	d := doc.sub("dns")
	d.set("type", refStr(dns, "type"))
	if id, ok := dns["id"].(json.Number); ok {
		d["id"] = id.String()
	}
	d.set("response_code", refStr(dns, "rcode"))
	var resolved []string
	answer := func(a map[string]any) {
		ans := refObj{}
		ans.set("name", refStr(a, "rrname"))
		ans.set("type", refStr(a, "rrtype"))
		if ttl, ok := a["ttl"].(json.Number); ok {
			n, _ := ttl.Int64()
			ans["ttl"] = n
		}
		ans.set("data", refStr(a, "rdata"))
		list, _ := d["answers"].([]refObj)
		d["answers"] = append(list, ans)
		if t := refStr(a, "rrtype"); t == "A" || t == "AAAA" {
			resolved = append(resolved, refStr(a, "rdata"))
		}
	}
	switch refStr(dns, "type") {
	case "answer":
		if dns["rdata"] != nil {
			answer(dns)
		}
		if list, ok := dns["answers"].([]any); ok {
			for _, a := range list {
				if m, ok := a.(map[string]any); ok {
					answer(m)
				}
			}
		}
	case "query":
		q := d.sub("question")
		q.set("name", refStr(dns, "rrname"))
		q.set("type", refStr(dns, "rrtype"))
	}
	if len(resolved) > 0 {
		d["resolved_ip"] = resolved
	}
	return resolved
}

// filebeatObserver writes what the plain profile says of the sensor.
func refFilebeatObserver(doc refObj, e *normalize.Event) {
	sn := sensorOf(e)
	o := doc.sub("observer")
	o.set("name", e.Source.Sensor)
	o.set("type", sn.observerType)
	o.set("vendor", sn.vendor)
	o.set("product", sn.product)
	if e.InIface != "" {
		o.sub("ingress").sub("interface")["name"] = e.InIface
	}
}
