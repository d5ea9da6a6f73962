package main

// End-to-end test of the web console in a real headless Chromium (Debian's
// chromium, installed by scripts/deps.d/chromium.sh), driven by chromedp,
// against the real binary: `alertgw run` with a suricata input, the store
// output and the console; events sent with `alertgw send` and crafted EVE
// records. Each step takes a screenshot; they are written to
// test-artifacts/console-browser/ (git-ignored) when the test fails, or
// always when CONSOLE_SCREENSHOT_DIR names a directory (docs/console.md
// uses one).

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// hostileSig is a signature name a sensor could send; the page must show
// it as text (window.__pwned stays undefined).
const hostileSig = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">ET EVIL`

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium not found: the console's browser tests need Debian's chromium (make deps runs scripts/deps.d/chromium.sh)")
	return ""
}

// browser is one headless Chromium with a fresh profile, and the
// screenshots of the steps so far.
type browser struct {
	t      *testing.T
	ctx    context.Context
	shots  []shot
	dialog atomic.Value // a JavaScript dialog's message, if one ever opened
}

type shot struct {
	name string
	png  []byte
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	profile := t.TempDir()
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1400, 900),
	)
	ctx, cancelCtx := chromedp.NewContext(actx)
	// Bounds the whole browser session: about 30 s on an idle 2-core
	// machine, far more when it is shared.
	ctx, cancelTimeout := context.WithTimeout(ctx, 180*time.Second)
	b := &browser{t: t, ctx: ctx}
	t.Cleanup(func() {
		b.keepShots()
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	if err := chromedp.Listen(ctx, func(ev any) {
		switch d := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			b.dialog.Store(d.Message)
		}
	}); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

// keepShots writes the screenshots where someone will look: the artifacts
// directory on failure, CONSOLE_SCREENSHOT_DIR always.
func (b *browser) keepShots() {
	dirs := []string{}
	if b.t.Failed() {
		dirs = append(dirs, filepath.Join("..", "..", "test-artifacts", "console-browser", b.t.Name()))
	}
	if d := os.Getenv("CONSOLE_SCREENSHOT_DIR"); d != "" {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.t.Logf("screenshots: %v", err)
			continue
		}
		for i, s := range b.shots {
			p := filepath.Join(d, fmt.Sprintf("%02d-%s.png", i+1, s.name))
			if err := os.WriteFile(p, s.png, 0o644); err != nil {
				b.t.Logf("screenshot: %v", err)
			}
		}
		abs, _ := filepath.Abs(d)
		b.t.Logf("screenshots of each step in %s", abs)
	}
}

// step runs actions, takes a screenshot named name, and fails the test
// (with the page's text) if the actions fail.
func (b *browser) step(name string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	start := time.Now()
	defer func() {
		if name != "poll" {
			b.t.Logf("step %s: %s", name, time.Since(start).Round(time.Millisecond))
		}
	}()
	err := chromedp.Do(b.ctx, actions...)
	if png, serr := chromedp.Run(b.ctx, chromedp.CaptureScreenshot()); serr == nil {
		b.shots = append(b.shots, shot{name, png})
	}
	if err != nil {
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		text, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 3000) : ""`))
		b.t.Fatalf("step %q: %v\nat %s\n%s", name, err, loc, text)
	}
	if d := b.dialog.Load(); d != nil {
		b.t.Fatalf("step %q: a JavaScript dialog opened (%v): sensor data ran as script", name, d)
	}
}

func (b *browser) eval(expr string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func (b *browser) location() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return loc
}

var consoleURLRe = regexp.MustCompile(`"url":"(http://127\.0\.0\.1:\d+)"`)

func waitConsoleURL(t *testing.T, logPath string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(logPath)
		if m := consoleURLRe.FindSubmatch(b); m != nil {
			return string(m[1])
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the gateway did not log the console's address")
	return ""
}

func crafted(now time.Time) [][]byte {
	ts := now.UTC().Format("2006-01-02T15:04:05.000000+0000")
	later := now.Add(time.Second).UTC().Format("2006-01-02T15:04:05.000000+0000")
	const tuple = `"src_ip":"10.9.8.7","src_port":55123,"dest_ip":"203.0.113.80","dest_port":8080,"proto":"TCP","community_id":"1:e2eBrowserTransaction0000000=",`
	return [][]byte{
		[]byte(`{"timestamp":"` + ts + `","flow_id":777000111222333,"event_type":"alert",` + tuple + `"alert":{"action":"allowed","gid":1,"signature_id":7770001,"rev":1,"signature":"E2E transaction alert","category":"Test","severity":2},"app_proto":"http"}`),
		[]byte(`{"timestamp":"` + later + `","flow_id":777000111222333,"event_type":"flow",` + tuple + `"app_proto":"http","flow":{"pkts_toserver":7,"pkts_toclient":5,"bytes_toserver":900,"bytes_toclient":4200,"start":"` + ts + `","end":"` + later + `","age":1,"state":"closed","reason":"timeout","alerted":true}}`),
		[]byte(`{"timestamp":"` + ts + `","flow_id":99,"event_type":"alert","src_ip":"10.66.6.6","src_port":4444,"dest_ip":"203.0.113.66","dest_port":80,"proto":"TCP","alert":{"action":"blocked","gid":1,"signature_id":9999999,"rev":1,"signature":` + strconv.Quote(hostileSig) + `,"category":"<b>bold</b>","severity":1},"http":{"hostname":"<script>window.__pwned=3</script>"}}`),
	}
}

func TestConsoleBrowser(t *testing.T) {
	start := time.Now()
	bin := gatewayBinary(t) // before the browser's clock starts: a cold build takes a while
	b := newBrowser(t)
	t.Logf("binary and chromium ready in %s", time.Since(start).Round(time.Millisecond))
	dir := shortDir(t)
	users := filepath.Join(dir, "users")
	add := exec.Command(bin, "user", "add", "alice", "--role", "analyst", "--password-stdin", "--users", users)
	add.Stdin = strings.NewReader("alice-password-1\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("alertgw user add: %v\n%s", err, out)
	}
	g := &gateway{dir: dir, sock: filepath.Join(dir, "s.sock"), log: filepath.Join(dir, "gateway.log")}
	cfg := fmt.Sprintf(`sensor: e2e-sensor
log: {level: info, format: json}
admin: {listen: ""}
dead_letter: {path: %[1]s/dead.json}
inputs:
  - {name: suricata, type: suricata, socket: %[2]s, socket_type: dgram}
  - {name: stats, type: stats, interval: 1s}
outputs:
  - {name: store, type: store, path: %[1]s/store, batch: {linger: 100ms}}
console:
  listen: 127.0.0.1:0
  users: %[3]s
  refresh: 2s
`, dir, g.sock, users)
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	g.cmd = exec.Command(bin, "run", "--config", cfgPath)
	g.start(t, g.sock)
	base := waitConsoleURL(t, g.log)

	// Alerts sent with `alertgw send`, plus the crafted transaction and the
	// hostile alert.
	sendRecords(t, "dgram", g.sock, crafted(time.Now()))
	send := exec.Command(bin, "send", "--socket", g.sock, "--count", "600", "--seed", "7")
	if out, err := send.CombinedOutput(); err != nil {
		t.Fatalf("alertgw send: %v\n%s", err, out)
	}

	// Log in: the inbox sends us to the login page first.
	b.step("login-page", chromedp.Navigate(base+"/inbox"), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	if loc := b.location(); !strings.Contains(loc, "/login?next=") {
		t.Fatalf("unauthenticated inbox went to %s, want the login page", loc)
	}
	b.step("logged-in",
		chromedp.SendKeys(chromedp.CSS("#user"), "alice"),
		chromedp.SendKeys(chromedp.CSS("#password"), "alice-password-1"),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#inbox-table")),
	)
	if who := b.eval(`document.getElementById("whoami").textContent`); who != "alice" {
		t.Fatalf("logged in as %q", who)
	}

	// The alerts appear in the inbox (live refresh brings them in as the
	// store writes them; wait until the count stops changing).
	var last string
	stable := 0
	deadline := time.Now().Add(40 * time.Second)
	for stable < 3 {
		n := b.eval(`(document.getElementById("alert-count")||{}).textContent||""`)
		if n != "" && n != "0" && n == last {
			stable++
		} else {
			stable = 0
		}
		last = n
		if time.Now().After(deadline) {
			b.step("inbox-never-settled")
			t.Fatalf("inbox alert count did not settle (last %q)", last)
		}
		time.Sleep(700 * time.Millisecond)
	}
	b.step("inbox", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#inbox-table")))
	alerts, _ := strconv.Atoi(strings.ReplaceAll(last, ",", ""))
	if alerts < 150 {
		t.Fatalf("inbox shows %d alerts of the ~240 `alertgw send --count 600` makes", alerts)
	}
	if groups, _ := strconv.Atoi(b.eval(`document.getElementById("group-count").textContent`)); groups >= alerts {
		t.Errorf("%d alerts in %d groups: the inbox does not group", alerts, groups)
	}
	if b.eval(`String(document.body.innerText.includes("ET SCAN Potential SSH Scan"))`) != "true" {
		t.Error("a signature of alertgw send is not in the inbox")
	}

	// A hostile signature name renders as text.
	b.step("hostile-inbox", chromedp.Navigate(base+"/inbox?q=signature.id:9999999"), chromedp.WaitVisible(chromedp.CSS("#inbox-table")))
	if got := b.eval(`(()=>{for (const a of document.querySelectorAll("a.signame")) if (a.textContent.includes("ET EVIL")) return a.textContent; return ""})()`); got != hostileSig {
		t.Errorf("hostile signature shows as %q, want the exact text %q", got, hostileSig)
	}
	if v := b.eval(`String(window.__pwned)`); v != "undefined" {
		t.Errorf("sensor data ran as script in the inbox: __pwned=%s", v)
	}

	// Archive a group and see it leave.
	b.step("inbox-again", chromedp.Navigate(base+"/inbox"), chromedp.WaitVisible(chromedp.CSS("#inbox-table")))
	key := b.eval(`document.querySelector("#inbox-table tbody tr[data-key]").dataset.key`)
	sel := `tr[data-key="` + key + `"] button.archive-one`
	b.step("archived",
		chromedp.Click(chromedp.CSS(sel)),
		chromedp.WaitVisible(chromedp.CSS(".notice")),
	)
	if gone := b.eval(`String(document.querySelector('tr[data-key="'+CSS.escape(` + strconv.Quote(key) + `)+'"]') === null)`); gone != "true" {
		t.Errorf("archived group %s is still in the inbox", key)
	}
	if n := b.eval(`document.querySelector(".notice").textContent`); !strings.Contains(n, "Archived 1 group") {
		t.Errorf("notice %q", n)
	}

	// Search with a CIDR and a negation.
	q := "kind:alert src_ip:10.0.0.0/8 -signature.id:2210045"
	b.step("search",
		chromedp.Navigate(base+"/search?range=1h"),
		chromedp.WaitVisible(chromedp.CSS("#q")),
		chromedp.SetValue(chromedp.CSS("#q"), q),
		chromedp.Click(chromedp.CSS("#search-submit")),
		chromedp.WaitVisible(chromedp.CSS("#match-count")),
	)
	matches, _ := strconv.Atoi(strings.ReplaceAll(b.eval(`document.getElementById("match-count").textContent`), ",", ""))
	if matches < 50 || matches >= alerts {
		t.Errorf("CIDR+negation search matched %d of %d alerts", matches, alerts)
	}
	if b.eval(`String([...document.querySelectorAll("#results td")].some(td => td.textContent.includes("invalid ack")))`) != "false" {
		t.Error("the negated signature is in the results")
	}
	if b.eval(`String([...document.querySelectorAll("#results tbody tr")].length > 0)`) != "true" {
		t.Error("no result rows")
	}

	// Open an alert's transaction and find its flow record.
	b.step("transaction-search",
		chromedp.Navigate(base+"/search?range=1h&q="+strings.ReplaceAll("kind:alert flow_id:777000111222333", " ", "+")),
		chromedp.WaitVisible(chromedp.CSS("#results a.open-event")),
		chromedp.Click(chromedp.CSS("#results a.open-event")),
		chromedp.WaitVisible(chromedp.CSS("#transaction-table")),
	)
	if got := b.eval(`document.getElementById("event-title").textContent`); got != "E2E transaction alert" {
		t.Errorf("event page of %q", got)
	}
	if b.eval(`String(document.querySelectorAll('#transaction-table tr[data-kind="flow"]').length)`) != "1" ||
		b.eval(`String(document.querySelector('#transaction-table tr[data-kind="flow"]').textContent.includes("pkts 7/5"))`) != "true" {
		t.Error("the alert's flow record is not in its transaction")
	}

	// The hostile alert's own page: every field as text.
	b.step("hostile-event",
		chromedp.Navigate(base+"/search?range=1h&q=signature.id:9999999"),
		chromedp.WaitVisible(chromedp.CSS("#results a.open-event")),
		chromedp.Click(chromedp.CSS("#results a.open-event")),
		chromedp.WaitVisible(chromedp.CSS("#event-title")),
	)
	if got := b.eval(`document.getElementById("event-title").textContent`); got != hostileSig {
		t.Errorf("event title %q, want the hostile text as text", got)
	}
	if b.eval(`String(document.querySelectorAll("main img, main script").length)`) != "0" || b.eval(`String(window.__pwned)`) != "undefined" {
		t.Error("the hostile event injected elements or ran script")
	}

	// Log out and be refused.
	b.step("logged-out",
		chromedp.Click(chromedp.CSS("#logout")),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
	)
	b.step("refused", chromedp.Navigate(base+"/inbox"), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	if loc := b.location(); !strings.Contains(loc, "/login") {
		t.Errorf("after logout /inbox went to %s", loc)
	}
	if b.eval(`String(document.getElementById("inbox-table") === null)`) != "true" {
		t.Error("inbox shown after logout")
	}
	logs, _ := os.ReadFile(g.log)
	if !bytes.Contains(logs, []byte(`"console: logout"`)) {
		t.Error("logout not logged")
	}
	g.stop(t)
}
