package mattermost

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"
)

// TestForgedPressesRefused shows that a button press is acted on only
// with the context the adapter signed, in its channel, by the allowed
// user, on its post, and once: each forgery is refused (or, for a replay,
// has no second effect) and leaves the conversation and the channel as
// they were. A wrong slash-command token gets 401 and changes nothing.
func TestForgedPressesRefused(t *testing.T) {
	e := newEnv(t, nil)
	e.run(nil)
	eva := newChatter(t, e, "eva"+strings.Repeat("e", 23), "dmeva"+strings.Repeat("d", 21), "en")
	tom := newChatter(t, e, "tom"+strings.Repeat("t", 23), "dmtom"+strings.Repeat("d", 21), "en")
	eva.say("/start")
	eva.say("/start") // a second menu: two posts with buttons in Eva's channel
	tom.say("/start")
	evaPosts, tomPosts := e.fake.botPosts(eva.channel), e.fake.botPosts(tom.channel)
	older, newer, tomsPost := evaPosts[0], evaPosts[1], tomPosts[0]
	act := actionsOf(newer)[0]

	snapshot := func() string {
		b, _ := json.Marshal(e.conv(eva.channel))
		return string(b) + "|" + string(rune('0'+len(e.fake.botPosts(eva.channel))))
	}
	before := snapshot()
	refuse := func(name string, req model.PostActionIntegrationRequest) {
		t.Helper()
		if code := e.fake.deliverPress(e.mux, req); code != http.StatusForbidden {
			t.Errorf("%s: HTTP %d, want 403", name, code)
		}
		if now := snapshot(); now != before {
			t.Errorf("%s changed the state", name)
		}
	}
	withCtx := func(req model.PostActionIntegrationRequest, k string, v any) model.PostActionIntegrationRequest {
		req.Context = maps.Clone(req.Context)
		if v == nil {
			delete(req.Context, k)
		} else {
			req.Context[k] = v
		}
		return req
	}
	valid := pressRequest(newer, act, eva.user)

	refuse("no HMAC", withCtx(valid, "s", nil))
	refuse("empty context", model.PostActionIntegrationRequest{UserId: eva.user, ChannelId: eva.channel, PostId: newer.Id})
	refuse("bad HMAC", withCtx(valid, "s", strings.Repeat("A", 43)))
	refuse("changed action", withCtx(valid, "a", "/plan"))
	refuse("changed label", withCtx(valid, "l", "Yes"))
	refuse("changed allowed user", withCtx(valid, "u", ""))
	refuse("changed nonce", withCtx(valid, "n", "x"))
	refuse("changed channel in context", withCtx(valid, "c", tom.channel))

	other := valid
	other.UserId = tom.user
	refuse("another user in a DM", other)

	bot := valid
	bot.UserId = botID
	refuse("the bot itself", bot)

	// Tom's context, replayed in Eva's channel and post.
	fromTom := pressRequest(tomsPost, actionsOf(tomsPost)[0], tom.user)
	fromTom.ChannelId, fromTom.PostId = eva.channel, newer.Id
	refuse("HMAC of another channel", fromTom)

	// The newer post's context with the older post's ID, same channel.
	wrongPost := valid
	wrongPost.PostId = older.Id
	refuse("HMAC of another post", wrongPost)

	// The genuine press works, once.
	if code := e.fake.deliverPress(e.mux, valid); code != 200 {
		t.Fatalf("genuine press: HTTP %d", code)
	}
	after := snapshot()
	if after == before {
		t.Fatal("the genuine press changed nothing")
	}
	if code := e.fake.deliverPress(e.mux, valid); code != 200 {
		t.Errorf("replayed press: HTTP %d, want 200 without effect", code)
	}
	if snapshot() != after {
		t.Error("the replayed press had an effect")
	}
	// Even after a restart's loss of memory, the engine drops the replay:
	// the event ID is derived from post, HMAC and user.
	e.a.presses.forget()
	e.fake.deliverPress(e.mux, valid)
	if snapshot() != after {
		t.Error("the replayed press after a restart had an effect")
	}

	// Slash command: a wrong or missing token is refused before parsing.
	for _, auth := range []string{"", "Token wrong", "Bearer " + testToken, "Token cmd-token-1234567890x"} {
		rec := httptest.NewRecorder()
		form := url.Values{"channel_id": {eva.channel}, "user_id": {eva.user}, "command": {"/ampel"}, "text": {"check zo-kmu"}, "token": {"cmd-token-1234567890"}}
		req := httptest.NewRequest("POST", CommandPath, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		e.mux.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("command with Authorization %q: HTTP %d, want 401", auth, rec.Code)
		}
	}
	if snapshot() != after {
		t.Error("a refused command changed the state")
	}
	if strings.Contains(e.logs.String(), testToken) {
		t.Error("the token is in the logs")
	}
}

// TestSlashCommand shows that "/ampel check" with the right token is the
// typed command "/check", answered after the commit with an empty
// ephemeral response while the reply comes as a post.
func TestSlashCommand(t *testing.T) {
	e := newEnv(t, nil)
	e.run(nil)
	eva := newChatter(t, e, "eva"+strings.Repeat("e", 23), "dmeva"+strings.Repeat("d", 21), "de")
	rec := httptest.NewRecorder()
	form := url.Values{"channel_id": {eva.channel}, "user_id": {eva.user}, "command": {"/ampel"}, "text": {"check zo-kmu"}, "trigger_id": {"trig1"}}
	req := httptest.NewRequest("POST", CommandPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Token cmd-token-1234567890")
	e.mux.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("command: HTTP %d %s", rec.Code, rec.Body)
	}
	var resp model.CommandResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || resp.ResponseType != model.CommandResponseTypeEphemeral || resp.Text != "" {
		t.Errorf("command answer %s, want an empty ephemeral response", rec.Body)
	}
	if c := e.conv(eva.channel); c.Run == nil {
		t.Error("/ampel check did not start the check")
	}
	posts := e.fake.botPosts(eva.channel)
	if len(posts) == 0 || !strings.Contains(shown(posts[len(posts)-1].Message), "1/7") {
		t.Errorf("no first question posted: %d posts", len(posts))
	}
}
