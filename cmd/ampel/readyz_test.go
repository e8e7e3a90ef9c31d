package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/ampel-bot/ampel/adapters/mattermost"
	"github.com/ampel-bot/ampel/adapters/slack"
	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/store"
)

// wsFake is the least of a platform a connection needs: a REST answer per
// path ("{{echo}}": a 502 echoing the request) and a WebSocket that greets,
// pings and reads. While away, it cuts the WebSocket and refuses new ones
// and the paths in refuse.
type wsFake struct {
	srv    *httptest.Server
	mu     sync.Mutex
	away   bool
	conns  map[*websocket.Conn]bool
	refuse map[string]bool
	echoes int
}

func newWSFake(t *testing.T, wsPath string, hello any, rest map[string]string, refuse ...string) *wsFake {
	f := &wsFake{conns: map[*websocket.Conn]bool{}, refuse: map[string]bool{wsPath: true}}
	for _, p := range refuse {
		f.refuse[p] = true
	}
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		away := f.away
		f.mu.Unlock()
		if away && f.refuse[r.URL.Path] {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		if r.URL.Path != wsPath {
			body, ok := rest[r.URL.Path]
			if !ok {
				http.NotFound(w, r)
				return
			}
			if body == "{{echo}}" { // a proxy's 502 echoing the request (see leak_test.go)
				f.mu.Lock()
				f.echoes++
				asJSON := f.echoes%2 == 0
				f.mu.Unlock()
				writeEcho(w, r, asJSON)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, strings.ReplaceAll(body, "{{ws}}", "ws"+strings.TrimPrefix(f.srv.URL, "http")))
			return
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		f.mu.Lock()
		f.conns[c] = true
		f.mu.Unlock()
		c.WriteJSON(hello) // the only data frame; pings may go beside it
		done := make(chan struct{})
		go func() {
			for t := time.NewTicker(100 * time.Millisecond); ; {
				select {
				case <-done:
					t.Stop()
					return
				case <-t.C:
					c.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(time.Second))
				}
			}
		}()
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				break
			}
		}
		close(done)
		f.mu.Lock()
		delete(f.conns, c)
		f.mu.Unlock()
		c.Close()
	}))
	t.Cleanup(func() {
		f.setAway(true)
		f.srv.Close()
	})
	return f
}

func (f *wsFake) setAway(away bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.away = away
	if away {
		for c := range f.conns {
			c.Close()
		}
	}
}

type nopHandler struct{}

func (nopHandler) Handle(context.Context, bot.Event) error { return nil }

// TestReadyzFollowsSlackAndMattermost: /readyz with a Slack adapter in
// Socket Mode and a Mattermost adapter, each against a fake of its
// platform. Both connected: ready. One platform away (its WebSocket cut,
// new ones refused): still ready within the grace, then not ready, naming
// that platform and only it; back: ready. Readiness reads its clock ahead
// instead of waiting for the grace.
func TestReadyzFollowsSlackAndMattermost(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sf := newWSFake(t, "/ws", map[string]any{"type": "hello", "num_connections": 1}, map[string]string{
		"/api/auth.test":             `{"ok":true,"user_id":"UBOT","team_id":"T1","user":"ampel","team":"Team","bot_id":"B1"}`,
		"/api/apps.connections.open": `{"ok":true,"url":"{{ws}}/ws"}`,
	}, "/api/apps.connections.open")
	const botID = "botuserid0000000000000000a"
	mf := newWSFake(t, "/api/v4/websocket", map[string]any{"event": "hello", "data": map[string]any{"server_version": "11.6.0"},
		"broadcast": map[string]any{"user_id": botID}}, map[string]string{
		"/api/v4/users/me":                     `{"id":"` + botID + `","username":"ampel","is_bot":true}`,
		"/api/v4/users/" + botID + "/channels": `[]`,
		"/api/v4/system/ping":                  `{"status":"OK"}`,
	}, "/api/v4/system/ping")
	sa, err := slack.New(ctx, slack.Config{BotToken: "xoxb-1-2-fake", AppToken: "xapp-1-fake", APIURL: sf.srv.URL + "/api/"})
	if err != nil {
		t.Fatal(err)
	}
	ma, err := mattermost.New(ctx, mattermost.Config{URL: mf.srv.URL, Token: "mm-fake-token"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for _, a := range []bot.Adapter{sa, ma} {
		wg.Go(func() { a.Run(ctx, nopHandler{}) })
	}
	db, err := store.Open(filepath.Join(t.TempDir(), "r.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ahead atomic.Int64
	rd := &readiness{db: db, adapters: []bot.Adapter{sa, ma}, outboxAge: time.Hour,
		now: func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }}
	readyz := func() (int, []string) {
		rec := httptest.NewRecorder()
		rd.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		var body struct {
			Ready    bool     `json:"ready"`
			NotReady []string `json:"not_ready"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Ready != (rec.Code == 200) {
			t.Fatalf("/readyz = %d %q (%v)", rec.Code, rec.Body.String(), err)
		}
		return rec.Code, body.NotReady
	}
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(hangGuard); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	ready := func() bool { code, _ := readyz(); return code == 200 }
	waitUntil("ready with both connected", func() bool { return ready() && sa.Link().Up && ma.Link().Up })
	for _, p := range []struct {
		name string
		fake *wsFake
		a    bot.Linked
	}{{"slack", sf, sa}, {"mattermost", mf, ma}} {
		p.fake.setAway(true)
		waitUntil(p.name+" down", func() bool { return !p.a.Link().Up })
		if code, why := readyz(); code != 200 {
			t.Errorf("%s just down: /readyz %d %v, want ready within the grace", p.name, code, why)
		}
		ahead.Store(int64(11 * time.Second))
		code, why := readyz()
		if code != http.StatusServiceUnavailable || len(why) != 1 || !strings.HasPrefix(why[0], p.name+": disconnected 1") {
			t.Errorf("%s away past the grace: /readyz %d %v, want 503 naming %s alone", p.name, code, why, p.name)
		}
		ahead.Store(0)
		p.fake.setAway(false)
		waitUntil(p.name+" back", func() bool { return p.a.Link().Up })
		ahead.Store(int64(time.Hour))
		if code, why := readyz(); code != 200 {
			t.Errorf("%s back: /readyz %d %v, want ready", p.name, code, why)
		}
		ahead.Store(0)
	}
}
