package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot/bottest"
)

// httpEnv is the adapter in HTTP mode: a signing secret, no app token.
func httpEnv(t *testing.T) (*env, http.Handler) {
	t.Helper()
	e := newEnv(t, func(c *Config) { c.AppToken, c.SigningSecret = "", testSecret })
	mux := http.NewServeMux()
	for pattern, h := range e.a.HTTPHandlers(e.engine) {
		mux.Handle(pattern, h)
	}
	// Answered, a request has been handled: the test then sees what it
	// caused, once it has been sent.
	return e, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		e.settle()
	})
}

// sign returns Slack's signature headers for body at ts under secret.
func sign(secret string, ts int64, body string) http.Header {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%d:%s", ts, body)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(m.Sum(nil)))
	return h
}

func do(h http.Handler, path, body string, hdr http.Header, contentType string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestHTTPModeVerifiesSignatures: a correctly signed event is handled and
// answered 200; a body changed by one byte, the wrong secret, missing
// headers and a timestamp 301 s off are refused with 401 and leave no
// trace. A replay of the genuine request within the five-minute window
// passes verification — a signature says who sent a request, not that it
// is new — and is answered 200, but the engine's deduplication by
// event_id gives it no second effect.
func TestHTTPModeVerifiesSignatures(t *testing.T) {
	e, h := httpEnv(t)
	const dm, user = "D0HTTP001", "U0HTTP001"
	e.fake.users[user] = slackUser{locale: "de-DE", tz: "Europe/Berlin"}
	raw, _ := json.Marshal(slashlessStart(dm, user))
	body := string(raw)
	now := time.Now().Unix()
	good := sign(testSecret, now, body)
	tampered := strings.Replace(body, `"Ev`, `"Fv`, 1)

	untouched := func(name string) {
		t.Helper()
		if c := e.conv(dm); c.Dialog.Mode != "" || c.Run != nil || c.Lang != "" || c.Hint != "" {
			t.Errorf("%s: conversation changed: %+v", name, c.Dialog)
		}
		if n := len(e.fake.messages(dm)); n != 0 {
			t.Errorf("%s: %d messages sent", name, n)
		}
	}
	for _, tc := range []struct {
		name string
		body string
		hdr  http.Header
	}{
		{"body changed by one byte", tampered, good},
		{"wrong secret", body, sign("0000000000000000wrongsecret00000", now, body)},
		{"missing headers", body, http.Header{}},
		{"no signature", body, http.Header{"X-Slack-Request-Timestamp": {strconv.FormatInt(now, 10)}}},
		{"timestamp 301 s old", body, sign(testSecret, now-301, body)},
		{"timestamp 301 s ahead", body, sign(testSecret, now+301, body)},
		{"signature of another timestamp", body, func() http.Header {
			h := sign(testSecret, now-10, body)
			h.Set("X-Slack-Request-Timestamp", strconv.FormatInt(now, 10))
			return h
		}()},
	} {
		if rec := do(h, "/slack/events", tc.body, tc.hdr, "application/json"); rec.Code != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", tc.name, rec.Code)
		}
		untouched(tc.name)
	}

	if rec := do(h, "/slack/events", body, good, "application/json"); rec.Code != http.StatusOK {
		t.Fatalf("valid request: status %d, want 200 (%s)", rec.Code, rec.Body)
	}
	if n := len(e.fake.messages(dm)); n != 1 {
		t.Fatalf("valid request: %d messages, want 1", n)
	}
	state := e.conv(dm).Dialog
	// The replay: same body, same headers, within the signature's window:
	// refused.
	if rec := do(h, "/slack/events", body, good, "application/json"); rec.Code != http.StatusUnauthorized {
		t.Errorf("replay: status %d, want 401", rec.Code)
	}
	if n := len(e.fake.messages(dm)); n != 1 {
		t.Errorf("replay: %d messages, want still 1", n)
	}
	if e.conv(dm).Dialog.Seq != state.Seq {
		t.Errorf("replay changed the conversation")
	}

	// url_verification, signed, is answered with the challenge.
	ch := `{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`
	rec := do(h, "/slack/events", ch, sign(testSecret, now, ch), "application/json")
	if rec.Code != 200 || rec.Body.String() != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("url_verification: %d %q", rec.Code, rec.Body)
	}
	if rec := do(h, "/slack/events", ch, nil, "application/json"); rec.Code != 401 {
		t.Errorf("unsigned url_verification: %d, want 401", rec.Code)
	}
}

// slashlessStart is a DM saying "hallo": the engine answers anything.
func slashlessStart(dm, user string) map[string]any {
	return dmEvent(dm, user, "hallo")
}

// TestHTTPModeCommandsAndButtons: the slash command and a button press
// arrive as signed forms, are handled, and the pressed message is updated.
func TestHTTPModeCommandsAndButtons(t *testing.T) {
	e, h := httpEnv(t)
	const dm, user = "D0HTTP002", "U0HTTP002"
	e.fake.users[user] = slackUser{locale: "en-US", tz: "America/New_York"}
	form := url.Values{}
	for k, v := range slashPayload(dm, user, "start") {
		form.Set(k, fmt.Sprint(v))
	}
	body := form.Encode()
	rec := do(h, "/slack/commands", body, sign(testSecret, time.Now().Unix(), body), "application/x-www-form-urlencoded")
	if rec.Code != 200 {
		t.Fatalf("slash command: %d %s", rec.Code, rec.Body)
	}
	msgs := e.fake.messages(dm)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Shown(), "Welcome to Ampel!") {
		t.Fatalf("after /ampel start: %+v", msgs)
	}
	var b element
	for _, el := range msgs[0].buttons() {
		if strings.HasPrefix(el.Text.Text, "Start the check") {
			b = el
		}
	}
	payload, _ := json.Marshal(pressPayload(msgs[0], user, b))
	body = url.Values{"payload": {string(payload)}}.Encode()
	rec = do(h, "/slack/interactivity", body, sign(testSecret, time.Now().Unix(), body), "application/x-www-form-urlencoded")
	if rec.Code != 200 {
		t.Fatalf("press: %d %s", rec.Code, rec.Body)
	}
	if m := e.fake.message(dm, msgs[0].TS); m.Edited != 1 || len(m.buttons()) != 0 || !strings.HasSuffix(m.Shown(), "✓ Start the check") {
		t.Errorf("pressed message after the press: %q, %d buttons", m.Shown(), len(m.buttons()))
	}
	if got := e.fake.messages(dm); len(got) != 2 || !hasButton(got[1], bottest.English.Check) {
		t.Errorf("no list of checks after the press")
	}
	// A tampered press changes nothing.
	body2 := strings.Replace(body, "Start", "Stort", 1)
	if rec := do(h, "/slack/interactivity", body2, sign(testSecret, time.Now().Unix(), body), "application/x-www-form-urlencoded"); rec.Code != 401 {
		t.Errorf("tampered press: %d, want 401", rec.Code)
	}
	if e.a.HTTPHandlers(e.engine) == nil || (&Adapter{}).HTTPHandlers(e.engine) != nil {
		t.Errorf("HTTPHandlers must exist exactly when a signing secret is set")
	}
}
