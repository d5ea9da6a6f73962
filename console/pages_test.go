package console

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alertgw/alertgw/console/auth"
	"github.com/alertgw/alertgw/normalize"
	"github.com/alertgw/alertgw/outputs/format"
	"github.com/alertgw/alertgw/store/sqlite"
)

// hostileName is a signature name a sensor could send: it must show as text.
const hostileName = `<script>alert("sig")</script><img src=x onerror=alert(1)>`

// fixture is a small, known set of events in a real SQLite store.
type fixture struct {
	now      time.Time
	sshAlert *normalize.Event // has a flow record and an NFLOG packet of the same connection
	flow     *normalize.Event
	packet   *normalize.Event
	hostile  *normalize.Event
	evs      []*normalize.Event
}

func newAlert(id int, at time.Time, sid uint32, name string, prio uint32, action normalize.Action, src, dst string, sensor string) *normalize.Event {
	e := &normalize.Event{
		ID: fmt.Sprintf("%032x", id), Timestamp: at, Received: at.Add(time.Millisecond),
		Kind: normalize.KindAlert, Action: action,
		Source:    normalize.Source{Type: "suricata", Input: "suricata", Sensor: sensor},
		Signature: &normalize.Signature{GID: 1, ID: sid, Rev: 1, Name: name, Category: "Test", Priority: prio},
		FlowID:    uint64(1<<60 | id),
	}
	e.SetAddrs(netip.MustParseAddr(src), netip.MustParseAddr(dst), uint16(40000+id%1000), 22, true)
	e.SetProto(6)
	e.CommunityID = normalize.CommunityID(e)
	return e
}

func buildFixture(now time.Time) *fixture {
	fx := &fixture{now: now}
	id := 1
	next := func() int { id++; return id }
	// 30 SSH scans from 10.0.0.5 to 192.0.2.10 on two sensors, allowed.
	for i := range 30 {
		sensor := "sensor-a"
		if i%3 == 0 {
			sensor = "sensor-b"
		}
		fx.evs = append(fx.evs, newAlert(next(), now.Add(-time.Duration(90-i)*time.Minute), 2001219, "ET SCAN Potential SSH Scan", 2, normalize.ActionAllowed, "10.0.0.5", "192.0.2.10", sensor))
	}
	fx.sshAlert = fx.evs[len(fx.evs)-1]
	// 10 blocked from 10.1.2.3 to 192.0.2.20.
	for i := range 10 {
		fx.evs = append(fx.evs, newAlert(next(), now.Add(-time.Duration(50-i)*time.Minute), 2100498, "GPL ATTACK_RESPONSE id check returned root", 1, normalize.ActionBlocked, "10.1.2.3", "192.0.2.20", "sensor-a"))
	}
	// 5 from outside 10/8.
	for i := range 5 {
		fx.evs = append(fx.evs, newAlert(next(), now.Add(-time.Duration(40-i)*time.Minute), 2001219, "ET SCAN Potential SSH Scan", 2, normalize.ActionAllowed, "198.51.100.7", "192.0.2.10", "sensor-a"))
	}
	// A hostile one, with a payload.
	fx.hostile = newAlert(next(), now.Add(-20*time.Minute), 9000001, hostileName, 3, normalize.ActionUnknown, "172.16.0.9", "192.0.2.99", "sensor-<b>x</b>")
	fx.hostile.Details.Set("http", normalize.RawJSON(`{"hostname":"<script>alert('host')</script>.example"}`))
	fx.hostile.Details.Set("payload", normalize.RawJSON(`"`+base64.StdEncoding.EncodeToString([]byte("GET /<script> HTTP/1.1\r\n\x00\x01\xff"))+`"`))
	fx.evs = append(fx.evs, fx.hostile)

	// The SSH alert's flow record (same flow_id) and a firewall packet of the
	// same connection (same Community ID, another source).
	fx.flow = &normalize.Event{ID: fmt.Sprintf("%032x", next()), Timestamp: fx.sshAlert.Timestamp.Add(2 * time.Minute),
		Kind: normalize.KindFlow, Action: normalize.ActionAllowed, Source: normalize.Source{Type: "suricata", Input: "suricata", Sensor: "sensor-a"},
		FlowID: fx.sshAlert.FlowID, Flow: &normalize.Flow{PktsToServer: 12, PktsToClient: 9, BytesToServer: 3400, BytesToClient: 5600, State: "closed", Reason: "timeout"}}
	fx.flow.SetAddrs(fx.sshAlert.SrcIP, fx.sshAlert.DestIP, fx.sshAlert.SrcPort, 22, true)
	fx.flow.SetProto(6)
	fx.flow.CommunityID = fx.sshAlert.CommunityID
	fx.flow.Received = fx.flow.Timestamp
	fx.packet = &normalize.Event{ID: fmt.Sprintf("%032x", next()), Timestamp: fx.sshAlert.Timestamp.Add(-time.Second),
		Kind: normalize.KindPacket, Action: normalize.ActionBlocked, Source: normalize.Source{Type: "nflog", Input: "fw", Sensor: "sensor-a"},
		Firewall: &normalize.Firewall{Group: 5, Prefix: "drop-ssh"}}
	fx.packet.SetAddrs(fx.sshAlert.SrcIP, fx.sshAlert.DestIP, fx.sshAlert.SrcPort, 22, true)
	fx.packet.SetProto(6)
	fx.packet.CommunityID = fx.sshAlert.CommunityID
	fx.packet.Received = fx.packet.Timestamp
	fx.evs = append(fx.evs, fx.flow, fx.packet)

	// The gateway's own counters: 7 events dropped between two samples.
	for i, dropped := range []int{3, 10} {
		st := &normalize.Event{ID: fmt.Sprintf("%032x", next()), Timestamp: now.Add(-time.Duration(30-i*10) * time.Minute),
			Kind: normalize.KindStats, Action: normalize.ActionUnknown, Source: normalize.Source{Type: "stats", Input: "stats", Sensor: "sensor-a"}}
		st.Received = st.Timestamp
		st.Details.Set("inputs", normalize.RawJSON(fmt.Sprintf(`[{"name":"suricata","type":"suricata","received":100,"failed":{},"dropped":{"truncated":%d}}]`, dropped)))
		st.Details.Set("outputs", normalize.RawJSON(`[{"name":"store","type":"store","failed":{},"dropped":{}}]`))
		fx.evs = append(fx.evs, st)
	}
	return fx
}

// newStoreConsole writes the fixture into a SQLite store and serves a
// console over it.
func newStoreConsole(t *testing.T, mod func(*Options)) (*testConsole, *fixture) {
	t.Helper()
	dir := t.TempDir()
	fx := buildFixture(time.Now().UTC().Truncate(time.Microsecond))
	w, err := sqlite.OpenWriter(sqlite.WriterOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range fx.evs {
		if e.Received.IsZero() {
			e.Received = e.Timestamp
		}
	}
	if _, err := w.Write(context.Background(), fx.evs, func(i int) []byte { return format.Native{}.AppendEvent(nil, fx.evs[i]) }); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rd, err := sqlite.OpenReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rd.Close() })
	tc := newTestConsoleWith(t, []auth.User{
		{Name: "alice", Role: auth.RoleAnalyst, Hash: mustHash(t, "alice-password")},
		{Name: "victor", Role: auth.RoleViewer, Hash: mustHash(t, "victor-password")},
	}, mod, rd, filepath.Join(dir, "console"))
	return tc, fx
}

func (c *client) csrf() string {
	c.t.Helper()
	_, body := c.get("/mutes")
	return formToken(c.t, body, "csrf")
}

func mustGet(t *testing.T, c *client, path string, want int) string {
	t.Helper()
	resp, body := c.get(path)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d\n%s", path, resp.StatusCode, want, body)
	}
	return body
}

func TestInboxGroupsAndTriage(t *testing.T) {
	tc, fx := newStoreConsole(t, nil)
	c := tc.client()
	c.login("alice", "alice-password")
	body := mustGet(t, c, "/inbox", 200)
	// 4 groups: SSH from 10.0.0.5, GPL, SSH from outside, the hostile one.
	if !strings.Contains(body, `id="group-count">4<`) || !strings.Contains(body, `id="alert-count">46<`) {
		t.Fatalf("inbox summary wrong:\n%s", between(body, `id="summary"`, "</p>"))
	}
	ssh := `signature.id=2001219&amp;src_ip=10.0.0.5&amp;dest_ip=192.0.2.10`
	if !strings.Contains(body, ssh) {
		t.Fatal("SSH group row missing")
	}
	row := between(body, `data-key="`+ssh, "</tr>")
	for _, want := range []string{">30<", "sensor-a", "sensor-b", `badge allowed`, `badge sev2`} {
		if !strings.Contains(row, want) {
			t.Errorf("SSH row lacks %q:\n%s", want, row)
		}
	}
	// Sorted by last seen: the hostile one (20 min ago) first, the SSH scans (61 min) last.
	if strings.Index(body, "9000001") > strings.Index(body, ssh) {
		t.Error("inbox not sorted by last seen")
	}
	// The hostile signature shows as text.
	if strings.Contains(body, hostileName) || strings.Contains(body, "<img src=x") {
		t.Fatal("hostile signature name rendered as HTML")
	}
	if !strings.Contains(body, "&lt;script&gt;alert(&#34;sig&#34;)&lt;/script&gt;") {
		t.Error("escaped hostile name missing")
	}

	// Archive the SSH group: it leaves the inbox.
	csrf := formToken(t, body, "csrf")
	key := "signature.id=2001219&src_ip=10.0.0.5&dest_ip=192.0.2.10"
	resp, _ := c.post("/triage?action=archive", url.Values{"csrf": {csrf}, "one": {key + "|" + fx.sshAlert.Timestamp.Format(time.RFC3339Nano)}, "back": {"/inbox"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("archive: %d", resp.StatusCode)
	}
	body = mustGet(t, c, resp.Header.Get("Location"), 200)
	if strings.Contains(body, `data-key="`+ssh) || !strings.Contains(body, `id="group-count">3<`) || !strings.Contains(body, "Archived 1 group") {
		t.Fatal("archived group still in the inbox")
	}
	if !strings.Contains(mustGet(t, c, "/inbox?view=archived", 200), "signature.id=2001219&amp;src_ip=10.0.0.5") {
		t.Error("archived view lacks the group")
	}
	// Archiving up to an older time leaves the group (newer events exist).
	key2 := "signature.id=2100498&src_ip=10.1.2.3&dest_ip=192.0.2.20"
	c.post("/triage?action=archive", url.Values{"csrf": {csrf}, "one": {key2 + "|" + fx.now.Add(-2*time.Hour).Format(time.RFC3339Nano)}})
	body = mustGet(t, c, "/inbox", 200)
	if !strings.Contains(body, "signature.id=2100498") || !strings.Contains(body, "new since archived") {
		t.Error("a group archived before its last event must stay, marked")
	}

	// Escalate the GPL group with the selection form.
	resp, _ = c.post("/triage", url.Values{"csrf": {csrf}, "action": {"escalate"}, "g": {key2 + "|" + fx.now.Format(time.RFC3339Nano)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("escalate %d", resp.StatusCode)
	}
	esc := mustGet(t, c, "/inbox?view=escalated", 200)
	if !strings.Contains(esc, "GPL ATTACK_RESPONSE") || !strings.Contains(esc, `id="group-count">1<`) || !strings.Contains(esc, ">10<") {
		t.Errorf("escalated view:\n%s", between(esc, `id="rows"`, "</table>"))
	}
	// Restore the SSH group.
	c.post("/triage", url.Values{"csrf": {csrf}, "action": {"unarchive"}, "g": {key}})
	if !strings.Contains(mustGet(t, c, "/inbox", 200), `data-key="`+ssh) {
		t.Error("restored group not back")
	}
	// The audit trail says who did what.
	audit := mustGet(t, c, "/audit", 200)
	for _, a := range []string{"archive", "escalate", "unarchive"} {
		if !strings.Contains(audit, "<td>alice</td><td>"+a+"</td>") {
			t.Errorf("audit lacks alice %s", a)
		}
	}
	// Regrouping by signature merges the two SSH groups.
	body = mustGet(t, c, "/inbox?group=signature.id", 200)
	if !strings.Contains(between(body, `data-key="signature.id=2001219"`, "</tr>"), ">35<") {
		t.Error("grouping by signature does not merge the SSH groups")
	}
	// A viewer sees the inbox but no triage controls, and is refused.
	v := tc.client()
	v.login("victor", "victor-password")
	vb := mustGet(t, v, "/inbox", 200)
	if strings.Contains(vb, "archive-selected") || strings.Contains(vb, `class="sel"`) {
		t.Error("viewer offered triage controls")
	}
	if resp, _ := v.post("/triage", url.Values{"csrf": {formToken(t, vb, "csrf")}, "action": {"archive"}, "g": {key + "|" + fx.now.Format(time.RFC3339Nano)}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer archive: %d", resp.StatusCode)
	}
}

func TestMutesHideAndCount(t *testing.T) {
	tc, _ := newStoreConsole(t, nil)
	c := tc.client()
	c.login("alice", "alice-password")
	csrf := c.csrf()
	if resp, body := c.post("/mutes", url.Values{"csrf": {csrf}, "query": {"signature.id:2001219 src_ip:10.0.0.5"}, "comment": {"lab scanner"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("mute: %d %s", resp.StatusCode, body)
	}
	body := mustGet(t, c, "/inbox", 200)
	if strings.Contains(body, "src_ip=10.0.0.5") {
		t.Error("muted group still shown")
	}
	if !strings.Contains(body, `id="muted-count">muted: 30 alerts`) || !strings.Contains(body, `id="alert-count">16<`) {
		t.Errorf("mute counts wrong:\n%s", between(body, `id="summary"`, "</details>"))
	}
	mutes := mustGet(t, c, "/mutes", 200)
	if !strings.Contains(between(mutes, "lab scanner", "</tr>"), ">30<") {
		t.Errorf("mutes page count:\n%s", mutes)
	}
}

func TestSearchPage(t *testing.T) {
	tc, fx := newStoreConsole(t, nil)
	c := tc.client()
	c.login("victor", "victor-password")
	// CIDR and negation: alerts from 10/8 that are not the GPL signature.
	body := mustGet(t, c, "/search?q="+url.QueryEscape("kind:alert src_ip:10.0.0.0/8 -signature.id:2100498")+"&range=24h", 200)
	if !strings.Contains(body, `id="match-count">30<`) {
		t.Fatalf("CIDR + negation: %s", between(body, `id="match-count"`, "</strong>"))
	}
	if strings.Count(body, `class="event-row"`) != 30 || strings.Contains(body, "198.51.100.7") || strings.Contains(body, "GPL ATTACK") {
		t.Error("wrong rows")
	}
	if !strings.Contains(body, "<svg class=\"chart\"") || !strings.Contains(body, "/search?from=") {
		t.Error("histogram with zoom links missing")
	}
	// Paging: 10 a page, the older link continues.
	body = mustGet(t, c, "/search?q=kind:alert&range=24h&limit=10", 200)
	if strings.Count(body, `class="event-row"`) != 10 || !strings.Contains(body, `id="older"`) {
		t.Fatal("page of 10 with an older link expected")
	}
	m := regexp.MustCompile(`<a href="([^"]+)" id="older"`).FindStringSubmatch(body)
	older := strings.ReplaceAll(m[1], "&amp;", "&")
	body = mustGet(t, c, older, 200)
	if strings.Count(body, `class="event-row"`) != 10 {
		t.Error("second page")
	}
	// Chosen columns, a details path among them.
	body = mustGet(t, c, "/search?q=signature.id:9000001&range=24h&col=timestamp&extra=details.http.hostname", 200)
	if !strings.Contains(body, "<th>details.http.hostname</th>") || !strings.Contains(body, "&lt;script&gt;alert(&#39;host&#39;)&lt;/script&gt;.example") {
		t.Errorf("details column:\n%s", between(body, `id="results"`, "</table>"))
	}
	// Validation: a bad query, a bad range, an unknown column, with a message and a 400.
	for q, want := range map[string]string{
		"/search?q=" + url.QueryEscape("src_ip:10.0.0.0/99"): "Query error at position 8",
		"/search?q=" + url.QueryEscape("(kind:alert"):        "unbalanced",
		"/search?from=yesterday-ish":                         "From: invalid time",
		"/search?from=2h&to=3h":                              "The time range is empty",
		"/search?range=1y":                                   "Unknown time range",
		"/search?cols=nosuch":                                "Unknown column",
		"/search?limit=100000":                               "Rows per page",
		"/search?after=garbage":                              "Invalid page position",
	} {
		resp, body := c.get(q)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, want) {
			t.Errorf("%s: %d, want 400 with %q", q, resp.StatusCode, want)
		}
	}
	_ = fx
}

func TestEventPageAndTransaction(t *testing.T) {
	tc, fx := newStoreConsole(t, nil)
	c := tc.client()
	c.login("alice", "alice-password")
	body := mustGet(t, c, "/event/"+fx.sshAlert.ID, 200)
	tx := between(body, `id="transaction-table"`, "</table>")
	// Alert, flow and NFLOG packet, oldest first: packet, alert, flow.
	p, a, f := strings.Index(tx, `data-kind="packet"`), strings.Index(tx, `data-kind="alert"`), strings.Index(tx, `data-kind="flow"`)
	if p < 0 || a < 0 || f < 0 || !(p < a && a < f) {
		t.Fatalf("transaction not packet < alert < flow:\n%s", tx)
	}
	if !strings.Contains(tx, "nflog") || !strings.Contains(tx, "pkts 12/9") || !strings.Contains(tx, "drop-ssh") {
		t.Errorf("transaction rows lack their summaries:\n%s", tx)
	}
	// Pivots from values.
	for _, want := range []string{`href="/search?q=src_ip%3A10.0.0.5"`, `href="/search?q=signature.id%3A2001219"`, `href="/search?q=source.sensor%3Asensor-a"`, `href="/search?q=dest_port%3A22"`} {
		if !strings.Contains(body, want) {
			t.Errorf("pivot %s missing", want)
		}
	}
	// The hostile event: escaped fields, decoded payload.
	body = mustGet(t, c, "/event/"+fx.hostile.ID, 200)
	if strings.Contains(body, hostileName) || strings.Contains(body, "<script>alert('host')") || strings.Contains(body, "sensor-<b>") {
		t.Fatal("hostile values rendered as HTML on the event page")
	}
	if !strings.Contains(body, "details.payload") || !strings.Contains(body, "47 45 54 20 2f 3c") || !strings.Contains(body, "|GET /&lt;script&gt; HT|") || !strings.Contains(body, "|TP/1.1.....|") {
		t.Errorf("payload hex dump:\n%s", between(body, `class="card binary"`, "</section>"))
	}
	// Notes on the event.
	csrf := formToken(t, body, "csrf")
	resp, _ := c.post("/notes", url.Values{"csrf": {csrf}, "target": {"event:" + fx.hostile.ID}, "text": {"<b>looked at</b>"}, "back": {"/event/" + fx.hostile.ID}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("note: %d", resp.StatusCode)
	}
	body = mustGet(t, c, "/event/"+fx.hostile.ID, 200)
	if !strings.Contains(body, "&lt;b&gt;looked at&lt;/b&gt;") {
		t.Error("note missing or not escaped")
	}
	mustGet(t, c, "/event/"+strings.Repeat("0", 32), http.StatusNotFound)
	mustGet(t, c, "/event/..%2f..%2fetc", http.StatusBadRequest)
}

func TestExport(t *testing.T) {
	tc, fx := newStoreConsole(t, nil)
	c := tc.client()
	c.login("victor", "victor-password")
	resp, body := c.get("/export?format=csv&range=24h&q=" + url.QueryEscape("kind:alert") + "&cols=timestamp,signature.name,src_ip")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("csv: %d %v", resp.StatusCode, resp.Header)
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(recs) != 47 || strings.Join(recs[0], ",") != "timestamp,signature.name,src_ip" {
		t.Fatalf("csv: %d records %v", len(recs), err)
	}
	resp, body = c.get("/export?format=jsonl&range=24h&q=kind:alert&max=5")
	if resp.StatusCode != 200 || strings.Count(body, "\n") != 5 || !strings.Contains(body, `"kind":"alert"`) {
		t.Fatalf("jsonl: %d\n%s", resp.StatusCode, body)
	}
	// A formula a spreadsheet would run is defused.
	if defuseFormula("=cmd|' /C calc'!A0") != "'=cmd|' /C calc'!A0" || defuseFormula("-5") != "-5" {
		t.Error("formula defusing")
	}
	mustGet(t, c, "/export?format=xml", http.StatusBadRequest)
	mustGet(t, c, "/export?format=csv&max=1000000", http.StatusBadRequest)
	_ = fx
}

// TestExportEncoded exports a stored event as ECS and OCSF: the store's
// native line decoded back must come out exactly as the ecs and ocsf
// outputs write the original event.
func TestExportEncoded(t *testing.T) {
	tc, fx := newStoreConsole(t, nil)
	c := tc.client()
	c.login("victor", "victor-password")
	for _, tt := range []struct {
		format string
		enc    format.Encoder
		fields map[string]any // dotted path → value in the exported document
	}{
		{"ecs", format.ECS{}, map[string]any{
			"event.kind": "alert", "rule.name": fx.hostile.Signature.Name, "source.ip": "172.16.0.9",
			"destination.ip": "192.0.2.99", "observer.name": "sensor-<b>x</b>", "network.community_id": fx.hostile.CommunityID,
		}},
		{"ocsf", format.OCSF{}, map[string]any{
			"class_uid": 2004.0, "finding_info.title": fx.hostile.Signature.Name, "evidences.0.src_endpoint.ip": "172.16.0.9",
			"evidences.0.dst_endpoint.ip": "192.0.2.99", "metadata.uid": fx.hostile.ID,
		}},
	} {
		t.Run(tt.format, func(t *testing.T) {
			resp, body := c.get("/export?format=" + tt.format + "&range=24h&q=" + url.QueryEscape("id:"+fx.hostile.ID))
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" ||
				!strings.Contains(resp.Header.Get("Content-Disposition"), "."+tt.format+".jsonl") {
				t.Fatalf("%d %v\n%s", resp.StatusCode, resp.Header, body)
			}
			want := string(tt.enc.AppendEvent(nil, fx.hostile)) + "\n"
			if body != want {
				t.Fatalf("export differs from the output's encoding:\n got %s\nwant %s", body, want)
			}
			var doc map[string]any
			if err := json.Unmarshal([]byte(body), &doc); err != nil {
				t.Fatal(err)
			}
			for path, v := range tt.fields {
				var cur any = doc
				for _, k := range strings.Split(path, ".") {
					if list, ok := cur.([]any); ok && k == "0" && len(list) > 0 {
						cur = list[0]
						continue
					}
					m, _ := cur.(map[string]any)
					cur = m[k]
				}
				if cur != v {
					t.Errorf("%s = %#v, want %#v", path, cur, v)
				}
			}
		})
	}
	// Every alert of the fixture exports, one line each.
	resp, body := c.get("/export?format=ocsf&range=24h&q=kind:alert")
	if resp.StatusCode != 200 || strings.Count(body, "\n") != 46 {
		t.Fatalf("ocsf export of the alerts: %d, %d lines", resp.StatusCode, strings.Count(body, "\n"))
	}
}

func TestOverview(t *testing.T) {
	tc, _ := newStoreConsole(t, nil)
	c := tc.client()
	c.login("victor", "victor-password")
	body := mustGet(t, c, "/overview", 200)
	for _, want := range []string{
		"Alerts over time <span class=\"muted\">(46 ·",
		"(7 events dropped or failed",
		`class="bar blocked"`, `class="bar allowed"`, `class="bar loss"`,
		"ET SCAN Potential SSH Scan (2001219)", "10.0.0.5", "192.0.2.10", "sensor-a",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>alert") {
		t.Error("overview renders hostile values as HTML")
	}
	top := between(body, `id="top-signatures"`, "</section>")
	if strings.Index(top, "SSH Scan") > strings.Index(top, "GPL") {
		t.Error("top signatures not largest first")
	}
}

// between returns the text after the first start, up to end.
func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i:]
	if j := strings.Index(s, end); j >= 0 {
		return s[:j+len(end)]
	}
	return s
}

func TestSearchAPIBehindLogin(t *testing.T) {
	tc, fx := newStoreConsole(t, nil)
	path := "/api/search/events?q=" + url.QueryEscape("kind:alert src_ip:10.0.0.0/8") + "&limit=5"
	anon := tc.client()
	resp, body := anon.get(path)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `"error"`) || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("anonymous API call: %d %s", resp.StatusCode, body)
	}
	// With a console session.
	c := tc.client()
	c.login("victor", "victor-password")
	resp, body = c.get(path)
	if resp.StatusCode != 200 || !strings.Contains(body, `"events":[`) || strings.Count(body, `"kind":"alert"`) != 5 {
		t.Fatalf("API with a session: %d %s", resp.StatusCode, body)
	}
	resp, body = c.get("/api/search/events/" + fx.flow.ID)
	if resp.StatusCode != 200 || !strings.Contains(body, `"kind":"flow"`) {
		t.Fatalf("API event: %d %s", resp.StatusCode, body)
	}
	// With HTTP basic auth (scripts), right and wrong.
	b := tc.client()
	req := func(user, pw string) int {
		r, _ := http.NewRequest("GET", tc.base+path, nil)
		r.SetBasicAuth(user, pw)
		resp, err := b.c.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := req("alice", "alice-password"); code != 200 {
		t.Errorf("basic auth: %d", code)
	}
	if code := req("alice", "alice-password"); code != 200 {
		t.Errorf("basic auth (cached): %d", code)
	}
	if code := req("alice", "nope"); code != http.StatusUnauthorized {
		t.Errorf("wrong basic auth: %d", code)
	}
	// The API changes nothing: other methods are refused, cross-site ones first.
	resp, _ = c.post("/api/search/events", url.Values{})
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST to the API: %d", resp.StatusCode)
	}
}
