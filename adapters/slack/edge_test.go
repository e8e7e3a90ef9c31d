package slack

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/adapters/internal/httpkit"
)

// TestReplayWithChangedSignatureCaseRefused: the signature's hex in upper
// case is the same signature. A captured app_home_opened event (which the
// engine does not deduplicate) replayed that way within the five minutes
// is refused like the plain replay, and the home tab is published once.
func TestReplayWithChangedSignatureCaseRefused(t *testing.T) {
	e, h := httpEnv(t)
	e.fake.users["U0HOME002"] = slackUser{locale: "de-DE", tz: "Europe/Berlin"}
	raw, _ := json.Marshal(eventPayload("EvHome2", map[string]any{
		"type": "app_home_opened", "user": "U0HOME002", "channel": "D0HOME002", "tab": "home", "event_ts": "1.2"}))
	body := string(raw)
	good := sign(testSecret, time.Now().Unix(), body)
	if rec := do(h, "/slack/events", body, good, "application/json"); rec.Code != http.StatusOK {
		t.Fatalf("signed event: %d %s", rec.Code, rec.Body)
	}
	waitFor(t, "views.publish", func() bool { return len(e.fake.callsOf("views.publish")) == 1 })
	upper := good.Clone()
	upper.Set("X-Slack-Signature", "v0="+strings.ToUpper(strings.TrimPrefix(good.Get("X-Slack-Signature"), "v0=")))
	if rec := do(h, "/slack/events", body, upper, "application/json"); rec.Code != http.StatusUnauthorized {
		t.Errorf("replay with the hex in upper case: %d, want 401", rec.Code)
	}
	e.a.homes.stop() // waits for publishes in flight
	if n := len(e.fake.callsOf("views.publish")); n != 1 {
		t.Errorf("home tab published %d times; want once", n)
	}
}

// TestRequestValuesStayOutOfLogs: a refused request's headers are whatever
// the sender wrote; a 60 KB timestamp is refused without being copied
// into the log.
func TestRequestValuesStayOutOfLogs(t *testing.T) {
	e, h := httpEnv(t)
	hdr := sign(testSecret, time.Now().Unix(), "{}")
	for _, ts := range []string{strings.Repeat("T", 60<<10), strings.Repeat("7", 60<<10)} {
		hdr.Set("X-Slack-Request-Timestamp", ts)
		if rec := do(h, "/slack/events", "{}", hdr, "application/json"); rec.Code != http.StatusUnauthorized {
			t.Errorf("a 60 KB timestamp: %d, want 401", rec.Code)
		}
	}
	for _, c := range []string{"T", "7"} {
		if strings.Contains(e.logs.String(), strings.Repeat(c, 64)) {
			t.Errorf("the request's timestamp %s… is in the log", c)
		}
	}
}

// TestBusyEndpointAnswers503: while every slot for reading unverified
// requests is held (by slow clients), a request is answered 503 with
// Retry-After at once, and nothing of it is handled; once a slot is free
// the same request is taken.
func TestBusyEndpointAnswers503(t *testing.T) {
	e, h := httpEnv(t)
	e.a.gate = httpkit.NewGate(1)
	if !e.a.gate.Enter() { // a slow client reading its body
		t.Fatal("gate full")
	}
	const dm, user = "D0BUSY001", "U0BUSY001"
	e.fake.users[user] = slackUser{locale: "de-DE", tz: "Europe/Berlin"}
	raw, _ := json.Marshal(slashlessStart(dm, user))
	body := string(raw)
	rec := do(h, "/slack/events", body, sign(testSecret, time.Now().Unix(), body), "application/json")
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("while busy: %d (Retry-After %q), want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	if n := len(e.fake.messages(dm)); n != 0 {
		t.Errorf("while busy: %d replies, want the request not handled", n)
	}
	e.a.gate.Leave()
	if rec := do(h, "/slack/events", body, sign(testSecret, time.Now().Unix(), body), "application/json"); rec.Code != http.StatusOK {
		t.Errorf("once a slot is free: %d, want 200", rec.Code)
	}
}
