package mattermost

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// TestSendToUserAddress: a message addressed to a user without a chat (a
// team member the bot knows from a channel) goes to the direct channel
// of the bot and the user, opened once (POST channels/direct) and kept
// for the next messages; its buttons may be pressed by that user. A user
// the server says is gone, or may not be written to, makes the message
// undeliverable for good; a proxy's 404 in front of the server does not.
func TestSendToUserAddress(t *testing.T) {
	e := newEnv(t, nil)
	member := "memb" + strings.Repeat("m", 22)
	e.fake.addUser(member, "de", "Europe/Berlin")
	ctx := context.Background()
	to := bot.Address{Platform: Platform, User: member}
	if err := e.a.Send(ctx, to, bot.Message{Text: "Bitte bewerte: 1/7"}); err != nil {
		t.Fatalf("send to a user: %v", err)
	}
	if err := e.a.Send(ctx, to, bot.Message{Text: "Frage 2/7", Buttons: [][]bot.Button{{{Label: "Rot", Action: "1:r"}}}}); err != nil {
		t.Fatalf("second send to the user: %v", err)
	}
	if n := len(e.fake.callsOfPrefix("POST /api/v4/channels/direct")); n != 1 {
		t.Errorf("%d direct channel requests for two messages, want 1", n)
	}
	var dm *model.Channel
	e.fake.mu.Lock()
	for _, c := range e.fake.channels {
		if c.Name == model.GetDMNameFromIds(botID, member) {
			dm = c
		}
	}
	e.fake.mu.Unlock()
	if dm == nil {
		t.Fatal("no direct channel of the bot and the user")
	}
	posts := e.fake.botPosts(dm.Id)
	if len(posts) != 2 || shown(posts[0].Message) != "Bitte bewerte: 1/7" || !strings.Contains(shown(posts[1].Message), "Frage 2/7") {
		t.Fatalf("the direct channel holds %d posts, want both messages", len(posts))
	}
	acts := actionsOf(posts[1])
	if len(acts) != 1 {
		t.Fatalf("buttons of the question: %d, want 1", len(acts))
	}
	if code := e.fake.deliverPress(e.mux, pressRequest(posts[1], acts[0], "someone"+strings.Repeat("s", 19))); code == 200 {
		t.Error("someone else's press in the member's direct channel was taken")
	}
	if code := e.fake.deliverPress(e.mux, pressRequest(posts[1], acts[0], member)); code != 200 {
		t.Errorf("the member's press in their direct channel: status %d, want 200", code)
	}

	gone := "gone" + strings.Repeat("g", 22)
	if err := e.a.Send(ctx, bot.Address{Platform: Platform, User: gone}, bot.Message{Text: "x"}); !errors.Is(err, bot.ErrRecipientGone) {
		t.Errorf("send to a user the server does not know: %v, want bot.ErrRecipientGone", err)
	}
	shy := "shyy" + strings.Repeat("s", 22)
	e.fake.addUser(shy, "de", "Europe/Berlin")
	e.fake.mu.Lock()
	e.fake.noDM = map[string]bool{shy: true}
	e.fake.mu.Unlock()
	if err := e.a.Send(ctx, bot.Address{Platform: Platform, User: shy}, bot.Message{Text: "x"}); !errors.Is(err, bot.ErrRecipientGone) {
		t.Errorf("send to a user the bot may not write to (403): %v, want bot.ErrRecipientGone", err)
	}
	later := "late" + strings.Repeat("l", 22)
	e.fake.addUser(later, "de", "Europe/Berlin")
	e.fake.failNext("POST /api/v4/channels/direct", failure{status: 404, html: true})
	if err := e.a.Send(ctx, bot.Address{Platform: Platform, User: later}, bot.Message{Text: "x"}); err == nil || errors.Is(err, bot.ErrRecipientGone) {
		t.Errorf("a proxy's 404 for the direct channel: %v, want an error to retry", err)
	}
	if err := e.a.Send(ctx, bot.Address{Platform: Platform, User: later}, bot.Message{Text: "x"}); err != nil {
		t.Errorf("the retry: %v", err)
	}
}

// TestMemberLeftChannel: a member leaving a channel, or removed from it,
// is a Left event for the channel and that member, read from the
// server's system post, whose ID is the event's: when a restart's
// catch-up reads the post again, the event has the same ID (and is
// marked replayed), so the engine applies it once. The "user_removed"
// event the channel's members get as well adds no second one. The bot's
// own removal, which it learns only from the "user_removed" addressed to
// it, is a Left event without a user.
func TestMemberLeftChannel(t *testing.T) {
	e := newEnv(t, nil)
	town := "town" + strings.Repeat("t", 22)
	e.fake.addChannel(town)
	rec := &bottest.Events{}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.a.Run(ctx, rec) }()
	waitFor(t, "the WebSocket connection", e.fake.connected)
	member, other, lead := "memb"+strings.Repeat("m", 22), "othr"+strings.Repeat("o", 22), "lead"+strings.Repeat("l", 22)
	left := e.fake.memberLeaves(town, member, "")
	removed := e.fake.memberLeaves(town, other, lead)
	waitFor(t, "both leaves handed on", func() bool { return len(rec.All()) >= 2 })
	want := []bot.Event{
		{ID: left, Left: true, Group: true, Addr: bot.Address{Platform: Platform, Chat: town, User: member}},
		{ID: removed, Left: true, Group: true, Addr: bot.Address{Platform: Platform, Chat: town, User: other}},
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := rec.All(); len(got) != 2 || !sameLeft(got[0], want[0]) || !sameLeft(got[1], want[1]) || got[0].At.IsZero() {
		t.Errorf("events: %+v, want %+v (and no second one from user_removed)", got, want)
	}

	// A restart: the catch-up reads the posts back, with the same IDs.
	a2, err := New(context.Background(), Config{URL: e.fake.srv.URL, Token: testToken, HTTPClient: e.fake.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	rec2 := &bottest.Events{}
	bottest.Run(t, a2, rec2)
	waitFor(t, "the catch-up", func() bool { return len(rec2.All()) >= 2 })
	for i, ev := range rec2.All() {
		if i >= len(want) || !sameLeft(ev, want[i]) || !ev.Replayed {
			t.Errorf("read back %d: %+v, want %+v, replayed", i, ev, want[i])
		}
	}

	// The bot removed from the channel.
	e.fake.removeBot(town, lead)
	waitFor(t, "the bot's removal handed on", func() bool { return len(rec2.All()) >= 3 })
	got := rec2.All()
	if b := got[2]; len(got) != 3 || !b.Left || !b.Group || b.Addr != (bot.Address{Platform: Platform, Chat: town}) || b.ID == "" {
		t.Errorf("the bot removed: %+v, want one Left event for the channel without a user", got[2:])
	}
}

// sameLeft compares what a Left event says.
func sameLeft(a, b bot.Event) bool {
	return a.ID == b.ID && a.Left == b.Left && a.Group == b.Group && a.Addr == b.Addr && a.Text == "" && a.Action == ""
}

// TestTeamSlashCommandInChannel: "/ampel team zo-kmu" in a channel
// reaches the engine as "/team zo-kmu" from the channel (Group); in the
// direct channel as "/team zo-kmu" from there.
func TestTeamSlashCommandInChannel(t *testing.T) {
	e := newEnv(t, nil)
	rec := &bottest.Events{}
	handlers := e.a.HTTPHandlers(rec)
	town, dm := "town"+strings.Repeat("t", 22), "dmev"+strings.Repeat("d", 22)
	member := "memb" + strings.Repeat("m", 22)
	e.fake.addChannel(town)
	e.fake.addUser(member, "de", "Europe/Berlin")
	e.fake.addDM(dm, member)
	for i, ch := range []string{town, dm} {
		form := url.Values{"channel_id": {ch}, "user_id": {member}, "command": {"/ampel"}, "text": {"team zo-kmu"},
			"trigger_id": {"trig" + string(rune('a'+i))}}
		req := httptest.NewRequest("POST", CommandPath, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Token cmd-token-1234567890")
		w := httptest.NewRecorder()
		handlers["POST "+CommandPath].ServeHTTP(w, req)
		if w.Code != 200 {
			t.Fatalf("/ampel team in %s: status %d", ch, w.Code)
		}
	}
	got := rec.All()
	if len(got) != 2 {
		t.Fatalf("events: %+v, want two", got)
	}
	if ev := got[0]; ev.Text != "/team zo-kmu" || !ev.Group || ev.Addr.Chat != town || ev.Addr.User != member {
		t.Errorf("/ampel team in a channel: %+v, want \"/team zo-kmu\" from the channel, as a group", ev)
	}
	if ev := got[1]; ev.Text != "/team zo-kmu" || ev.Group || ev.Addr.Chat != dm {
		t.Errorf("/ampel team in the direct channel: %+v, want \"/team zo-kmu\" from there", ev)
	}
}

// TestMemberLeavesTeamRun: through the engine, a member who joins a
// channel's team check gets the invitation in the direct channel with the
// bot (a message to the user's address); when the member leaves the
// channel, the channel is told once, also when the system post of the
// leave is read again, as after a restart's catch-up.
func TestMemberLeavesTeamRun(t *testing.T) {
	e := newEnv(t, nil)
	town := "town" + strings.Repeat("t", 22)
	lead, member := "lead"+strings.Repeat("l", 22), "memb"+strings.Repeat("m", 22)
	e.fake.addChannel(town)
	e.fake.addUser(lead, "de", "Europe/Berlin")
	e.fake.addUser(member, "de", "Europe/Berlin")
	e.run(nil)
	// The channel's progress is a live message, edited at most once a
	// second: the channel's next message waits behind its edit.
	tick := func() {
		e.clock.Add(2 * time.Second)
		if err := e.engine.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		bottest.Settle(t, e.engine)
	}
	form := url.Values{"channel_id": {town}, "user_id": {lead}, "command": {"/ampel"}, "text": {"team zo-kmu"}, "trigger_id": {"trigteam"}}
	req := httptest.NewRequest("POST", CommandPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Token cmd-token-1234567890")
	e.mux.ServeHTTP(httptest.NewRecorder(), req)
	bottest.Settle(t, e.engine)
	var progress *model.Post
	var join *model.PostAction
	for _, p := range e.fake.botPosts(town) {
		for _, act := range actionsOf(p) {
			if act.Name == "Mitmachen" {
				progress, join = p, act
			}
		}
	}
	if join == nil {
		t.Fatalf("no join button in the channel: %d posts", len(e.fake.botPosts(town)))
	}
	if code := e.fake.deliverPress(e.mux, pressRequest(progress, join, member)); code != 200 {
		t.Fatalf("join: status %d", code)
	}
	tick()
	var dm string
	e.fake.mu.Lock()
	for _, c := range e.fake.channels {
		if c.Name == model.GetDMNameFromIds(botID, member) {
			dm = c.Id
		}
	}
	e.fake.mu.Unlock()
	if posts := e.fake.botPosts(dm); dm == "" || len(posts) == 0 || !strings.Contains(shown(posts[0].Message), "Sie machen beim Team-Check") {
		t.Fatalf("the member's direct channel %q: %d posts, want the invitation", dm, len(posts))
	}

	id := e.fake.memberLeaves(town, member, "")
	waitFor(t, "the leave handled", func() bool { return e.rec.count(id) == 1 })
	tick()
	// As after a restart: the adapter forgets what it received, and the
	// catch-up of the next connection reads the channel back.
	e.a.recv.reset(e.a.now().Add(-e.a.lookback).UnixMilli())
	e.fake.drop()
	waitFor(t, "the leave read back", func() bool { return e.rec.count(id) == 2 })
	tick()
	n := 0
	var all []string
	for _, p := range e.fake.botPosts(town) {
		all = append(all, shown(p.Message))
		if strings.Contains(shown(p.Message), "ist nicht mehr im Kanal") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the channel was told %d times that the member left, want once:\n%s", n, strings.Join(all, "\n---\n"))
	}
}
