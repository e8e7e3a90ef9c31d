package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// liveProgress commits the team's progress as the channel's live message.
func liveProgress(t *testing.T, e *env, channel string, n, done int, buttons ...string) {
	t.Helper()
	bottest.Progress(t, e.engine, fmt.Sprintf("p%d", n), bot.Address{Platform: Platform, Workspace: teamID, Chat: channel}, done, buttons...)
	e.settle()
	e.clock.Add(2 * time.Second) // the next state may go at once
}

// TestLiveMessageEditedInPlace: a team's progress in a channel is one
// post, edited in place with chat.update (blocks and fallback text) as it
// changes, without waiting for the channel's posting limit; a member's
// press leaves its buttons there (the engine edits it); and once it was
// deleted, the next state is posted anew.
func TestLiveMessageEditedInPlace(t *testing.T) {
	e := newEnv(t, nil)
	clock := bottest.NewManualClock(start) // the posting limit's clock stands still
	e.a.lim.now, e.a.lim.sleep = clock.Now, clock.Sleep
	t.Cleanup(func() { clock.Add(time.Hour) })
	e.run(nil)
	const channel = "C0TEAM001"
	liveProgress(t, e, channel, 1, 0, "Join")
	msgs := e.fake.messages(channel)
	if len(msgs) != 1 || msgs[0].Shown() != "0 of 5 finished" || len(msgs[0].buttons()) != 1 {
		t.Fatalf("the channel shows %+v, want the progress with its button", msgs)
	}
	live := msgs[0]
	// Two more posts use up the channel's burst of three: a post would
	// wait now.
	for i := range 2 {
		if err := e.a.lim.wait(context.Background(), channel); err != nil {
			t.Fatalf("post %d of the burst: %v", i, err)
		}
	}

	liveProgress(t, e, channel, 2, 1, "Join", "Remind")
	msgs = e.fake.messages(channel)
	if len(msgs) != 1 || msgs[0].TS != live.TS || msgs[0].Shown() != "1 of 5 finished" || msgs[0].Edited != 1 || len(msgs[0].buttons()) != 2 {
		t.Fatalf("after the second state the channel shows %+v, want the one post edited to 1 of 5 with two buttons", msgs)
	}
	updates := e.fake.callsOf("chat.update")
	u := updates[len(updates)-1]
	var blocks []block
	if err := json.Unmarshal([]byte(u.Form["blocks"]), &blocks); err != nil || u.Form["channel"] != channel || u.Form["ts"] != live.TS ||
		u.Form["text"] != "1 of 5 finished" || len(blocks) != 2 {
		t.Errorf("chat.update sent %v, want channel, ts, the fallback text and the blocks", u.Form)
	}

	clock.Add(time.Hour) // the posting limit has room again
	c := newChatter(t, e, channel, "U0ANNA001", "de-DE", "Europe/Berlin")
	m := e.fake.messages(channel)[0]
	c.send("interactive", pressPayload(m, c.user, m.buttons()[0]), "press Join")
	if got := e.fake.message(channel, live.TS); got.Edited != 1 || len(got.buttons()) != 2 || strings.Contains(got.Shown(), "✓") {
		t.Errorf("after a press the live message is %q with %d buttons, edited %d times; want it left as the engine showed it", got.Shown(), len(got.buttons()), got.Edited)
	}

	e.fake.deleteMessage(channel, live.TS)
	liveProgress(t, e, channel, 3, 2, "Join")
	msgs = e.fake.messages(channel)
	last := msgs[len(msgs)-1]
	if last.TS == live.TS || last.Shown() != "2 of 5 finished" {
		t.Fatalf("after the post was deleted the channel shows %+v, want the state posted anew", msgs)
	}
	liveProgress(t, e, channel, 4, 3, "Join")
	if got := e.fake.message(channel, last.TS); got.Shown() != "3 of 5 finished" {
		t.Errorf("the state after: %q, want the new post edited", got.Shown())
	}
}

// TestSlowUpdateDoesNotHoldUpAcks: Slack is slow to answer chat.update in a
// channel. Marking the message a member pressed waits for it, but off the
// receive path: the next press in the channel is acknowledged at once, and
// both marks are made once Slack answers.
func TestSlowUpdateDoesNotHoldUpAcks(t *testing.T) {
	e := newEnv(t, nil)
	e.run(nil)
	const channel = "C0SLOW001"
	c := newChatter(t, e, channel, "U0ANNA001", "de-DE", "Europe/Berlin")
	welcome := c.mention("start")[0]
	e.fake.settle = nil // the calls after events hang: nothing waits for them here
	release := e.fake.holds.Hold("chat.update " + channel)
	defer release()
	var start element
	for _, b := range welcome.buttons() {
		if strings.HasPrefix(b.Text.Text, "Check starten") {
			start = b
		}
	}
	first := e.fake.push("interactive", pressPayload(welcome, c.user, start))
	waitFor(t, "the first press acknowledged", func() bool { return e.fake.acked(first) == 1 })
	waitFor(t, "the first mark under way", func() bool { return len(e.fake.callsOf("chat.update")) == 1 })
	bottest.Settle(t, e.engine)
	// The answer is the list of checks: press one while the mark hangs.
	msgs := e.fake.messages(channel)
	list := msgs[len(msgs)-1]
	var pick element
	for _, b := range list.buttons() {
		if strings.HasPrefix(b.Text.Text, bottest.German.Check) {
			pick = b
		}
	}
	if pick.Value == "" {
		t.Fatalf("no button %s under %q", bottest.German.Check, list.Shown())
	}
	id := e.fake.push("interactive", pressPayload(list, c.user, pick))
	waitFor(t, "the second press acknowledged while chat.update hangs", func() bool { return e.fake.acked(id) == 1 })
	if n := len(e.fake.callsOf("chat.update")); n != 1 {
		t.Errorf("%d chat.update calls while the first hangs, want 1 (the second mark waits behind it)", n)
	}
	release()
	if err := e.a.after.Idle(t.Context()); err != nil {
		t.Fatal(err)
	}
	if m := e.fake.message(channel, welcome.TS); !strings.HasSuffix(m.Shown(), "✓ Check starten") {
		t.Errorf("the first pressed message: %q, want it marked once Slack answered", m.Shown())
	}
}

// TestUpdateTierLimit: chat.update has a limiter of its own, per
// workspace (Tier 3: about 50 a minute, with bursts): twenty updates go at
// once, the next waits its turn, and none of it touches a channel's
// posting limit.
func TestUpdateTierLimit(t *testing.T) {
	clock := bottest.NewManualClock(start)
	upd, posts := newUpdateLimiter(), newLimiter()
	upd.now, upd.sleep = clock.Now, clock.Sleep
	posts.now, posts.sleep = clock.Now, clock.Sleep
	for i := range updateBurst {
		if err := upd.wait(t.Context(), ""); err != nil {
			t.Fatalf("update %d of the burst: %v", i+1, err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- upd.wait(t.Context(), "") }()
	select {
	case err := <-done:
		t.Fatalf("update %d went at once (%v), want it to wait for its turn", updateBurst+1, err)
	case <-time.After(50 * time.Millisecond):
	}
	clock.Add(updateRate)
	if err := <-done; err != nil {
		t.Fatalf("update after its turn: %v", err)
	}
	for i := range chatBurst {
		if err := posts.wait(t.Context(), "C1"); err != nil {
			t.Fatalf("post %d in a channel after the updates: %v, want its own burst untouched", i+1, err)
		}
	}
}
