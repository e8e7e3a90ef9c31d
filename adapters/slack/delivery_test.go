package slack

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/ampel-bot/ampel/bot"
)

// flakyHandler is the engine with a crash injected: the first Handle of
// an event ID in failOnce fails before anything is committed. It also
// notes whether an envelope was acknowledged before Handle returned.
type flakyHandler struct {
	e        *env
	mu       sync.Mutex
	failOnce map[string]bool
	calls    map[string]int
	early    []string // event IDs acknowledged before their commit
	envOf    map[string]string
}

func (f *flakyHandler) Handle(ctx context.Context, ev bot.Event) error {
	f.mu.Lock()
	f.calls[ev.ID]++
	fail := f.failOnce[ev.ID]
	delete(f.failOnce, ev.ID)
	envID := f.envOf[ev.ID]
	f.mu.Unlock()
	if fail {
		return errors.New("crash before the commit")
	}
	acks := f.e.fake.acked(envID)
	err := f.e.engine.Handle(ctx, ev)
	if envID != "" && f.e.fake.acked(envID) > acks {
		f.mu.Lock()
		f.early = append(f.early, ev.ID)
		f.mu.Unlock()
	}
	return err
}

// TestRedeliveryHasOneEffect: the same event delivered three times
// (Slack's retries after a missed ack, one of them over a new connection
// after a disconnect) is handled once and acknowledged every time; an
// event whose first handling "crashed" before the commit is not
// acknowledged, and is processed when Slack delivers it again. No
// envelope is acknowledged before its commit.
func TestRedeliveryHasOneEffect(t *testing.T) {
	e := newEnv(t, nil)
	h := &flakyHandler{e: e, failOnce: map[string]bool{}, calls: map[string]int{}, envOf: map[string]string{}}
	e.run(h)
	c := newChatter(t, e, "D0EVA0002", "U0EVA0002", "de-DE", "Europe/Berlin")

	// One event, three deliveries.
	p := slashPayload(c.channel, c.user, "start")
	id := "cmd:" + p["trigger_id"].(string)
	h.mu.Lock()
	h.envOf[id] = "env-0001"
	h.mu.Unlock()
	env := e.fake.push("slash_commands", p)
	e.fake.waitAck(env, 1)
	e.fake.redeliver(env)
	e.fake.waitAck(env, 2)
	e.fake.disconnect()
	waitFor(t, "a reconnection", func() bool {
		e.fake.mu.Lock()
		defer e.fake.mu.Unlock()
		return e.fake.conns == 2 && e.fake.conn != nil
	})
	e.fake.redeliver(env)
	e.fake.waitAck(env, 3)
	if n := len(e.fake.messages(c.channel)); n != 1 {
		t.Errorf("%d messages after three deliveries of /ampel start; want 1", n)
	}
	if h.calls[id] != 3 {
		t.Errorf("Handle called %d times; want 3 (the engine deduplicates)", h.calls[id])
	}

	// A crash before the commit: no ack, nothing stored; the redelivery
	// is processed.
	ev := dmEvent(c.channel, c.user, "2")
	evID := ev["event_id"].(string)
	before := len(e.fake.messages(c.channel))
	h.mu.Lock()
	h.failOnce[evID] = true
	h.mu.Unlock()
	env2 := e.fake.push("events_api", ev)
	h.mu.Lock()
	h.envOf[evID] = env2
	h.mu.Unlock()
	waitFor(t, "the failed handling", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.calls[evID] == 1
	})
	waitFor(t, "the failure logged", func() bool { return strings.Contains(e.logs.String(), "not acknowledged") })
	if e.fake.acked(env2) != 0 || len(e.fake.messages(c.channel)) != before {
		t.Fatalf("a failed event was acknowledged (%d) or answered", e.fake.acked(env2))
	}
	e.fake.redeliver(env2)
	e.fake.waitAck(env2, 1)
	if n := len(e.fake.messages(c.channel)); n != before+1 {
		t.Errorf("%d new messages after the redelivery; want 1", n-before)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.early) > 0 {
		t.Errorf("acknowledged before the commit: %v", h.early)
	}
}

// TestIgnoredEvents: bot messages, edits, other subtypes and channel
// messages are acknowledged and never reach the engine; the bot's
// mention is cut out of an app_mention, other mentions stay.
func TestIgnoredEvents(t *testing.T) {
	e := newEnv(t, nil)
	var mu sync.Mutex
	var got []bot.Event
	e.run(handlerFunc(func(ctx context.Context, ev bot.Event) error {
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
		return nil
	}))
	ignored := []map[string]any{
		{"type": "message", "channel_type": "im", "channel": "D1", "user": botUser, "text": "mine", "ts": "1.1"},
		{"type": "message", "channel_type": "im", "channel": "D1", "bot_id": "B2", "user": "U2", "text": "a bot", "ts": "1.2"},
		{"type": "message", "subtype": "message_changed", "channel_type": "im", "channel": "D1", "message": map[string]any{"user": "U1", "text": "edited"}, "ts": "1.3"},
		{"type": "message", "channel_type": "channel", "channel": "C1", "user": "U1", "text": "chatter", "ts": "1.4"},
		{"type": "reaction_added", "user": "U1", "reaction": "x", "event_ts": "1.5"},
	}
	for i, inner := range ignored {
		id := e.fake.push("events_api", eventPayload("EvIgn"+string(rune('a'+i)), inner))
		e.fake.waitAck(id, 1)
	}
	id := e.fake.push("events_api", eventPayload("EvMention", map[string]any{
		"type": "app_mention", "channel": "C1", "user": "U1", "text": "<@" + botUser + "> 2 for <@U123>", "ts": "1.6"}))
	e.fake.waitAck(id, 1)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("events reaching the engine: %+v; want only the mention", got)
	}
	want := bot.Event{ID: "EvMention", Text: "2 for <@U123>", Group: true,
		Addr: bot.Address{Platform: Platform, Workspace: teamID, Chat: "C1", User: "U1"}}
	if !reflect.DeepEqual(got[0], want) {
		t.Errorf("mention event = %+v; want %+v", got[0], want)
	}
}

type handlerFunc func(ctx context.Context, ev bot.Event) error

func (f handlerFunc) Handle(ctx context.Context, ev bot.Event) error { return f(ctx, ev) }
