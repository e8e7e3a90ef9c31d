// Package linktest holds what the adapters' connection tests share: what
// readiness makes of an adapter's connection state (bot.Link), and a
// dialogue to drive through dropped connections whose answers show a
// message lost or handled twice.
package linktest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// NotReady is /readyz's rule for a platform (cmd/ampel's readiness): down
// for longer than its grace.
func NotReady(l bot.Link, now time.Time) bool { return !l.Up && now.Sub(l.Since) > l.Grace }

// Down checks a link that just went down at clock's time: down since then
// with the given grace, still ready at the end of the grace, not ready
// after it. It leaves clock past the grace.
func Down(t testing.TB, link func() bot.Link, clock *bottest.Clock, grace time.Duration) {
	t.Helper()
	l := link()
	if l.Up || l.Grace != grace || !l.Since.Equal(clock.Now()) {
		t.Errorf("down: %+v, want down since %v with grace %v", l, clock.Now(), grace)
	}
	if NotReady(l, clock.Now().Add(grace)) {
		t.Errorf("not ready within the grace: %+v", l)
	}
	clock.Add(grace + time.Second)
	if l := link(); !NotReady(l, clock.Now()) {
		t.Errorf("ready although down for longer than the grace: %+v", l)
	}
}

// Up checks a link that is up: ready, however late it is.
func Up(t testing.TB, link func() bot.Link, clock *bottest.Clock) {
	t.Helper()
	if l := link(); !l.Up || NotReady(l, clock.Now().Add(24*time.Hour)) {
		t.Errorf("not ready while connected: %+v", l)
	}
}

// Next is the message a user types after k messages: "/check zo-kmu",
// then in turn a rating (1, 2, 3) and "6" (back). Each message is answered
// with one message, showing the first checkpoint after the start and after
// "back", the second after a rating.
func Next(k int) string {
	switch {
	case k == 0:
		return "/check zo-kmu"
	case k%2 == 1:
		return fmt.Sprint(1 + (k/2)%3)
	}
	return "6"
}

// Answers checks the answers a user got to the messages typed (made by
// Next): one each, in order. A message lost, handled twice or out of turn
// moves the dialogue to another checkpoint.
func Answers(t testing.TB, user string, typed, answers []string) {
	t.Helper()
	if len(answers) != len(typed) {
		t.Errorf("%s typed %d messages and got %d answers", user, len(typed), len(answers))
	}
	for i := range min(len(answers), len(typed)) {
		want := "1/7 · "
		if i%2 == 1 {
			want = "2/7 · "
		}
		if !strings.Contains(answers[i], want) {
			t.Errorf("%s: answer %d to %q does not show %q: %.80q", user, i+1, typed[i], want, answers[i])
			return
		}
	}
}

// Faults is an http.RoundTripper for a platform adapter's client that
// makes its calls fail in turn, as the network and the things in front of
// a platform do: the connection refused (a real refusal, from a closed
// port), a timeout (a server that takes the request and never answers,
// with a short wait for the answer's headers), and a 5xx whose body echoes
// the request: its URL, its headers (tokens included) and its body (the
// user's text), as plain text and as JSON shaped like every platform's
// error. Every other call goes to the platform (the fake). Until Start,
// every call passes.
type Faults struct {
	base          http.RoundTripper
	refused, slow *http.Transport

	mu     sync.Mutex
	on     bool
	n      int
	counts map[string]int
}

// FaultKinds are the faults Faults injects, in turn.
var FaultKinds = []string{"refused", "timeout", "5xx text echo", "5xx JSON echo"}

// EchoMarker starts every echoing body, so that a test can tell whether
// one reached a user.
const EchoMarker = "proxy-echo-7Z"

// NewFaults returns Faults in front of base (the fake's transport).
func NewFaults(t testing.TB, base http.RoundTripper) *Faults {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // then the server notices the client leaving
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(hang.Close)
	dialTo := func(addr string) func(ctx context.Context, network, _ string) (net.Conn, error) {
		return func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}
	}
	return &Faults{
		base:    base,
		refused: &http.Transport{DialContext: dialTo(closed), DisableKeepAlives: true},
		slow: &http.Transport{DialContext: dialTo(hang.Listener.Addr().String()), DisableKeepAlives: true,
			ResponseHeaderTimeout: 50 * time.Millisecond},
		counts: map[string]int{},
	}
}

// Start and Stop switch the faults on and off.
func (f *Faults) Start() { f.set(true) }
func (f *Faults) Stop()  { f.set(false) }

func (f *Faults) set(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.on = on
}

// Injected returns how many faults of the least injected kind there were.
func (f *Faults) Injected() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	least := -1
	for _, k := range FaultKinds {
		if n := f.counts[k]; least < 0 || n < least {
			least = n
		}
	}
	return least
}

// Counts returns how many faults of each kind were injected, and calls
// passed.
func (f *Faults) Counts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.counts)
}

// RoundTrip implements http.RoundTripper.
func (f *Faults) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	kind := "passed"
	if f.on {
		if f.n%2 == 1 {
			kind = FaultKinds[(f.n/2)%len(FaultKinds)]
		}
		f.n++
	}
	f.counts[kind]++
	f.mu.Unlock()
	switch kind {
	case "refused":
		return f.refused.RoundTrip(req)
	case "timeout":
		return f.slow.RoundTrip(req)
	case "5xx text echo", "5xx JSON echo":
		var body []byte
		if req.Body != nil {
			body, _ = io.ReadAll(req.Body)
			req.Body.Close()
		}
		echo := fmt.Sprintf("%s: %s %s headers %v body %s", EchoMarker, req.Method, req.URL, req.Header, body)
		resp := &http.Response{StatusCode: http.StatusBadGateway, Status: "502 Bad Gateway", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{"Content-Type": {"text/plain"}}, Request: req}
		if kind == "5xx JSON echo" {
			// Telegram reads ok, error_code and description; Slack ok and
			// error; Mattermost id, message, detailed_error and
			// status_code.
			b, _ := json.Marshal(map[string]any{"ok": false, "error_code": 502, "description": "Bad Gateway: " + echo,
				"error": echo, "id": "proxy.echo", "message": echo, "detailed_error": echo, "status_code": 502})
			echo = string(b)
			resp.Header.Set("Content-Type", "application/json")
		}
		resp.Body = io.NopCloser(strings.NewReader(echo))
		resp.ContentLength = int64(len(echo))
		return resp, nil
	}
	return f.base.RoundTrip(req)
}

// LeakTest drives a platform adapter's fault test: its client goes
// through Faults, it and the engine log JSON at debug level into Logs,
// and the test's rounds run until every kind of fault was injected 20
// times (for 10 minutes with AMPEL_LONG=1).
type LeakTest struct {
	t      testing.TB
	Faults *Faults
	Logs   bottest.Buffer
	Log    *slog.Logger
	errs   []string
	took   time.Duration
}

// NewLeakTest returns a LeakTest; hand Client's result and Log to the
// adapter's configuration.
func NewLeakTest(t testing.TB) *LeakTest {
	l := &LeakTest{t: t}
	l.Log = bottest.CanaryLog(&l.Logs)
	return l
}

// Client returns c's requests going through the faults (off until Run).
func (l *LeakTest) Client(c *http.Client) *http.Client {
	l.Faults = NewFaults(l.t, c.Transport)
	return &http.Client{Transport: l.Faults}
}

// Start switches the faults on.
func (l *LeakTest) Start() { l.Faults.Start() }

// Run calls round (a user's canary message in, a reply quoting a canary
// out) until enough faults were injected, keeping the errors round
// returns; then the faults stop.
func (l *LeakTest) Run(round func() error) {
	l.Start()
	began := time.Now()
	d := time.Duration(0)
	if os.Getenv("AMPEL_LONG") != "" {
		d = 10 * time.Minute
	}
	for l.Faults.Injected() < 20 || time.Since(began) < d {
		if err := round(); err != nil {
			l.errs = append(l.errs, err.Error())
		}
		if d > 0 {
			time.Sleep(10 * time.Millisecond) // a pace the machine keeps up with for long
		}
	}
	l.Faults.Stop()
	l.took = time.Since(began)
}

// Check fails the test for a canary or secret in the logs or the errors,
// for a secret or an echoed body in what users were shown, and if nothing
// failed or nothing got through.
func (l *LeakTest) Check(shown []string, secrets ...string) {
	l.t.Helper()
	secrets = append(secrets, EchoMarker)
	NoLeaks(l.t, "the logs", l.Logs.String(), secrets...)
	NoLeaks(l.t, "the errors", strings.Join(l.errs, "\n"), secrets...)
	text := strings.Join(shown, "\n")
	for _, s := range secrets {
		if strings.Contains(text, s) {
			l.t.Errorf("the user was shown %.6s…:\n%s", s, text)
		}
	}
	if len(l.errs) == 0 || len(shown) == 0 {
		l.t.Errorf("nothing failed or nothing got through: %d errors, %d messages shown", len(l.errs), len(shown))
	}
	if !l.t.Failed() {
		l.t.Logf("%v in %v: %d failed sends, %d messages shown; no token, secret, canary or echo in the logs, the errors or the messages",
			l.Faults.Counts(), l.took.Round(time.Millisecond), len(l.errs), len(shown))
	}
}

// NoLeaks fails t for each canary (bottest.Canaries), or secret, found in
// text: what is called what (the logs, the errors).
func NoLeaks(t testing.TB, what, text string, secrets ...string) {
	t.Helper()
	bottest.NoCanaries(t, text)
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s carry the secret %.6s…:\n%s", what, s, text)
		}
	}
}
