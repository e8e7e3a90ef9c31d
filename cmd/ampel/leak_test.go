package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot/bottest"
)

// echoBody is what a proxy in front of a platform answers with a 502 in
// the leak test: the request echoed, URL, headers and body, as text or as
// JSON shaped like every platform's error.
const echoMarker = "proxy-echo-3K"

func writeEcho(w http.ResponseWriter, r *http.Request, asJSON bool) {
	body, _ := io.ReadAll(r.Body)
	echo := fmt.Sprintf("%s: %s %s headers %v body %s", echoMarker, r.Method, r.URL, r.Header, body)
	if asJSON {
		b, _ := json.Marshal(map[string]any{"ok": false, "error_code": 502, "description": "Bad Gateway: " + echo,
			"error": echo, "id": "proxy.echo", "message": echo, "detailed_error": echo, "status_code": 502})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadGateway)
		w.Write(b)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusBadGateway)
	io.WriteString(w, echo)
}

// tgLeakFake is a Telegram that fails every third call in turn with a
// 502 echoing the request (as Telegram's JSON, as text) or a cut
// connection, and that can go away altogether (its port refuses
// connections) and come back on the same port.
type tgLeakFake struct {
	token string
	addr  string

	mu      sync.Mutex
	srv     *http.Server
	pending []string // update JSON, in order
	ids     []int
	next    int
	calls   int
	faults  map[string]int
	shown   []string // texts of messages sent successfully
}

func newTGLeakFake(t *testing.T, token string) *tgLeakFake {
	f := &tgLeakFake{token: token, addr: freeAddr(t), next: 500, faults: map[string]int{}}
	f.up(t)
	t.Cleanup(f.down)
	return f
}

func (f *tgLeakFake) up(t *testing.T) {
	var ln net.Listener
	var err error
	for range 100 { // the port was just closed; it may take a moment
		if ln, err = net.Listen("tcp", f.addr); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(f.serve)}
	f.mu.Lock()
	f.srv = srv
	f.mu.Unlock()
	go srv.Serve(ln)
}

// down closes the port and every connection: calls are refused.
func (f *tgLeakFake) down() {
	f.mu.Lock()
	srv := f.srv
	f.faults["refused window"]++
	f.mu.Unlock()
	srv.Close()
}

func (f *tgLeakFake) push(chat int64, first, last, text string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := map[string]any{"update_id": f.next, "message": map[string]any{
		"message_id": f.next, "date": 1, "text": text,
		"from": map[string]any{"id": chat, "is_bot": false, "first_name": first, "last_name": last, "language_code": "de"},
		"chat": map[string]any{"id": chat, "type": "private", "first_name": first, "last_name": last},
	}}
	b, _ := json.Marshal(u)
	f.pending = append(f.pending, string(b))
	f.ids = append(f.ids, f.next)
	f.next++
}

func (f *tgLeakFake) serve(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/bot"+f.token+"/")
	_ = r.ParseForm()
	f.mu.Lock()
	fault := ""
	if method != "getMe" {
		f.calls++
		if f.calls%3 == 0 {
			fault = []string{"5xx JSON echo", "5xx text echo", "cut"}[(f.calls/3)%3]
			f.faults[fault]++
		}
	}
	f.mu.Unlock()
	switch fault {
	case "5xx JSON echo", "5xx text echo":
		r.Body = io.NopCloser(strings.NewReader(r.PostForm.Encode()))
		writeEcho(w, r, fault == "5xx JSON echo")
		return
	case "cut":
		if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
			c.Close()
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch method {
	case "getMe":
		io.WriteString(w, `{"ok":true,"result":{"id":42,"is_bot":true,"first_name":"Ampel","username":"ampel_test_bot"}}`)
	case "getUpdates":
		offset, _ := strconv.Atoi(r.PostForm.Get("offset"))
		f.mu.Lock()
		for len(f.ids) > 0 && offset > 0 && f.ids[0] < offset {
			f.ids, f.pending = f.ids[1:], f.pending[1:]
		}
		out := "[" + strings.Join(f.pending, ",") + "]"
		f.mu.Unlock()
		if out == "[]" {
			time.Sleep(20 * time.Millisecond)
		}
		io.WriteString(w, `{"ok":true,"result":`+out+`}`)
	case "sendMessage":
		f.mu.Lock()
		f.shown = append(f.shown, r.PostForm.Get("text"))
		n := len(f.shown)
		f.mu.Unlock()
		fmt.Fprintf(w, `{"ok":true,"result":{"message_id":%d,"date":1,"chat":{"id":1,"type":"private"},"text":"x"}}`, n)
	default:
		io.WriteString(w, `{"ok":true,"result":true}`)
	}
}

func (f *tgLeakFake) state() (confirmed bool, shown []string, faults map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	faults = map[string]int{}
	for k, v := range f.faults {
		faults[k] = v
	}
	return len(f.pending) == 0, append([]string(nil), f.shown...), faults
}

// TestFaultsLeakNothingEndToEnd (issue 18, item 10): the ampel command, as
// a child process logging JSON at debug level, with Telegram, Slack
// (Socket Mode) and Mattermost configured. A user whose name is a canary
// goes through a check and saves a canary measure on Telegram, with a
// canary answer on the way, while every third Telegram call fails in turn
// with a 502 that echoes the request (the user's text; the URL with the
// token), as Telegram's JSON and as text, or a cut connection, and
// Telegram's port refuses connections now and then. Slack answers every
// apps.connections.open and Mattermost every catch-up with such an echo.
// The process's output (its logs, and a panic's trace if there were one),
// /metrics, scraped along the way, and what the user is shown carry no
// token, no canary and no echoed body.
func TestFaultsLeakNothingEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a subprocess")
	}
	const (
		tgToken    = "123456789:AAE-leak-token-0123456789abcdefghijklmno"
		slackBot   = "xoxb-1-2-leaktoken0123456789"
		slackApp   = "xapp-1-A0LEAK-1-leakapptoken0123456789"
		mmToken    = "mm-leak-token-0123456789abcdef"
		mmBot      = "botuserid0000000000000000a"
		canaryChat = 4711
	)
	tg := newTGLeakFake(t, tgToken)
	sl := newWSFake(t, "/ws", map[string]any{"type": "hello"}, map[string]string{
		"/api/auth.test":             `{"ok":true,"user_id":"UBOT","team_id":"T1","user":"ampel","team":"Team","bot_id":"B1"}`,
		"/api/apps.connections.open": "{{echo}}",
	})
	mm := newWSFake(t, "/api/v4/websocket", map[string]any{"event": "hello", "data": map[string]any{}, "broadcast": map[string]any{"user_id": mmBot}}, map[string]string{
		"/api/v4/users/me":                     `{"id":"` + mmBot + `","username":"ampel","is_bot":true}`,
		"/api/v4/users/" + mmBot + "/channels": "{{echo}}",
		"/api/v4/system/ping":                  "{{echo}}",
	})
	dir := t.TempDir()
	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$", "--db", filepath.Join(dir, "ampel.db"), "--http-addr", addr,
		"--log-format", "json", "--log-level", "debug")
	cmd.Env = append(cleanEnv(), "AMPEL_TEST_MAIN=1",
		"AMPEL_TELEGRAM_TOKEN="+tgToken, "AMPEL_TELEGRAM_API_URL=http://"+tg.addr,
		"AMPEL_SLACK_BOT_TOKEN="+slackBot, "AMPEL_SLACK_APP_TOKEN="+slackApp, "AMPEL_SLACK_API_URL="+sl.srv.URL+"/api/",
		"AMPEL_MATTERMOST_URL="+mm.srv.URL, "AMPEL_MATTERMOST_TOKEN="+mmToken)
	cmd.Dir = dir
	var out bottest.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()

	c := bottest.Canaries
	first, last, _ := strings.Cut(c.Name, " ")
	for _, text := range []string{"/check zo-kmu", c.Answer, "1", "3", "3", "3", "3", "3", "3",
		"1", // Maßnahmenplan erstellen
		c.Measure, "1", c.Name, "in 2 Wochen", "in 3 Monaten", "/plan"} {
		tg.push(canaryChat, first, last, text)
	}
	var metrics strings.Builder
	scrape := func() {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		metrics.Write(b)
	}
	// Saved and shown in the plan: two messages quote the measure.
	saved := func(shown []string) bool {
		n := 0
		for _, s := range shown {
			if strings.Contains(s, c.Measure) {
				n++
			}
		}
		return n >= 2
	}
	deadline := time.Now().Add(hangGuard)
	for round := 0; ; round++ {
		confirmed, shown, _ := tg.state()
		if confirmed && saved(shown) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dialogue did not go through: %d messages shown; output:\n%s", len(shown), out.String())
		}
		// Refused windows start once the bot is up: a refused getMe at
		// start ends the process (on a loaded machine it may start later
		// than the first window).
		if round%40 == 20 && len(shown) > 0 {
			tg.down()
			time.Sleep(100 * time.Millisecond)
			tg.up(t)
		}
		if round%10 == 0 {
			scrape()
		}
		time.Sleep(50 * time.Millisecond)
	}
	scrape()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(hangGuard):
		t.Fatal("no exit after SIGTERM")
	}
	exited <- nil // for the deferred kill

	_, shown, faults := tg.state()
	logs := out.String()
	secrets := []string{tgToken, strings.SplitN(tgToken, ":", 2)[1], slackBot, slackApp, mmToken, echoMarker}
	for _, what := range []struct{ name, text string }{{"the output", logs}, {"/metrics", metrics.String()}} {
		bottest.NoCanaries(t, what.text)
		for _, s := range secrets {
			if strings.Contains(what.text, s) {
				t.Errorf("%s carries the secret %.8s…", what.name, s)
			}
		}
	}
	for _, s := range secrets {
		if text := strings.Join(shown, "\n"); strings.Contains(text, s) {
			t.Errorf("the user was shown %.8s…:\n%s", s, text)
		}
	}
	if !bytes.Contains([]byte(metrics.String()), []byte("ampel_turns_total")) {
		t.Error("/metrics was never scraped")
	}
	for _, want := range []string{`"component":"telegram"`, `"component":"slack"`, `"component":"mattermost"`, "send failed"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the logs lack %s: the faults were not met", want)
		}
	}
	if t.Failed() {
		return
	}
	t.Logf("Telegram faults %v, %d messages shown, %d KB of logs, %d KB of /metrics: no token, canary or echoed body in any", faults, len(shown), len(logs)>>10, metrics.Len()>>10)
}
