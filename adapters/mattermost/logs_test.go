package mattermost

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/ampel-bot/ampel/adapters/internal/httpkit"
)

// TestRequestValuesStayOutOfLogs: the IDs in a press or dialog request are
// whatever the sender wrote. A 60 KB post_id, channel_id or user_id, on a
// forged press, on a genuine button's context after a restart and on a
// dialog submission, is refused and never copied into the log; the log
// says how long it was and a short hash.
func TestRequestValuesStayOutOfLogs(t *testing.T) {
	e, eva, post := withButtons(t)
	act := actionsOf(post)[0]
	huge := func(c string) string { return strings.Repeat(c, 60<<10) }

	forged := pressRequest(post, act, eva.user)
	forged.Context = nil
	forged.PostId = huge("P")
	e.fake.deliverPress(e.mux, forged)
	forged = pressRequest(post, act, huge("U"))
	e.fake.deliverPress(e.mux, forged)

	e.a.presses.forget() // a restart: the first press binds the post
	genuine := pressRequest(post, act, eva.user)
	genuine.PostId = huge("Q")
	if code := e.fake.deliverPress(e.mux, genuine); code == 200 {
		t.Errorf("a press naming a 60 KB post ID was taken")
	}
	e.submitDialog(model.SubmitDialogRequest{ChannelId: huge("C"), UserId: eva.user, CallbackId: "x", State: "{}"})

	log := e.logs.String()
	for _, c := range []string{"P", "U", "Q", "C"} {
		if strings.Contains(log, strings.Repeat(c, 64)) {
			t.Errorf("a request's %s… value is in the log", c)
		}
	}
	if !strings.Contains(log, "len=61440") {
		t.Errorf("the refusals do not say how long the values were:\n%s", log)
	}
}

// TestBusyEndpointsAnswer503: while every slot for reading unverified
// requests is held (by slow clients), presses and dialog submissions are
// answered 503 with Retry-After at once, and nothing is handled.
func TestBusyEndpointsAnswer503(t *testing.T) {
	e, eva, post := withButtons(t)
	e.a.gate = httpkit.NewGate(1)
	if !e.a.gate.Enter() { // a slow client reading its body
		t.Fatal("gate full")
	}
	for _, path := range []string{ActionsPath, DialogPath} {
		body, _ := json.Marshal(pressRequest(post, actionsOf(post)[0], eva.user))
		rec := httptest.NewRecorder()
		e.mux.ServeHTTP(rec, httptest.NewRequest("POST", path, bytes.NewReader(body)))
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
			t.Errorf("%s while busy: %d, want 503 with Retry-After", path, rec.Code)
		}
	}
	if n := len(e.rec.events()); n != 1 {
		t.Errorf("%d events handled; want only the /start", n)
	}
}

// withButtons runs the adapter and returns Eva's direct channel with the
// bot's welcome post, which has buttons.
func withButtons(t *testing.T) (*env, *chatter, *model.Post) {
	e := newEnv(t, nil)
	e.run(nil)
	eva := newChatter(t, e, "eva"+strings.Repeat("e", 23), "dmeva"+strings.Repeat("d", 21), "en")
	eva.say("/start")
	return e, eva, e.fake.botPosts(eva.channel)[0]
}
