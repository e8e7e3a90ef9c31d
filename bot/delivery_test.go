package bot_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/adapters/console"
	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// restartWith starts another engine on the harness's store and clock, as a
// restarted process would, with the given adapters registered.
func restartWith(t *testing.T, h *harness, adapters ...bot.Adapter) *bot.Engine {
	t.Helper()
	e := bottest.NewEngine(t, h.Store, h.Clock)
	for _, a := range adapters {
		e.Register(a)
	}
	return e
}

// TestUnknownOutcomeReplyCountsAsDuplicate: a reply whose send timed out
// after the request went out may have reached the user; its resend is
// counted as a possible duplicate, by this process and by the next one
// after a crash, as for reminders.
func TestUnknownOutcomeReplyCountsAsDuplicate(t *testing.T) {
	for _, crash := range []bool{false, true} {
		t.Run(fmt.Sprintf("crash=%v", crash), func(t *testing.T) {
			h := newHarness(t, 0)
			var mu sync.Mutex
			fail := true
			h.Rec.SendFn = func(bot.Address, bot.Message) error {
				mu.Lock()
				defer mu.Unlock()
				if fail {
					fail = false
					return fmt.Errorf("read: timeout: %w", bot.ErrUnknownOutcome)
				}
				return nil
			}
			if got := h.Send(bot.Event{Text: "/start"}); len(got) != 0 {
				t.Fatalf("got %d messages through a timed-out send", len(got))
			}
			e := h.Engine
			if crash {
				e = restartWith(t, h, h.Rec)
			}
			h.Clock.Add(2 * time.Second)
			if err := e.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := h.Rec.Take(); len(got) != 1 {
				t.Fatalf("resend: got %d messages, want the welcome once", len(got))
			}
			if n := e.Stats().AmbiguousSends; n != 1 {
				t.Errorf("AmbiguousSends = %d, want 1: the resent reply may be a duplicate", n)
			}
		})
	}
}

// TestRemindersWaitForTheirPlatform: while a conversation's platform is not
// configured, its reminders are neither sent nor marked sent: they stay
// due. When the platform is back, they follow the catch-up rule of any
// reminder after downtime: sent late within 7 days, shown as missed after.
// Hundreds of such reminders due earlier hold up no reminder of a
// platform that is there.
func TestRemindersWaitForTheirPlatform(t *testing.T) {
	h := newHarness(t, 0)
	planWith(t, h, "15.3.2027", "30.3.2027")
	ctx := context.Background()

	// Others, on a platform that is gone, due a day earlier.
	gone := &bottest.Recorder{Name: "gone"}
	for i := range 300 {
		to := bot.Address{Platform: "gone", Chat: fmt.Sprintf("g%03d", i)}
		c := &bot.Conversation{Lang: "de", Addr: to, Plan: bot.Plan{NextID: 2, Measures: []bot.Measure{{
			ID: 1, Flow: "zo-kmu", Checkpoint: "nutzen", Text: "Anderswo", Priority: "high", Me: true,
			Start: "2027-03-14", Review: "2027-03-20", Status: bot.StatusOpen,
		}}}}
		if _, err := h.Store.Commit(ctx, "seed", to.Key(), c, nil); err != nil {
			t.Fatal(err)
		}
		if err := h.Engine.Handle(ctx, bot.Event{ID: "plan", Addr: to, Text: "/plan"}); err != nil {
			t.Fatal(err)
		}
	}

	// The console's adapter is not configured: its start reminder stays
	// due, and nothing waits in the outbox for it.
	other := &bottest.Recorder{Name: "other"}
	without := restartWith(t, h, other)
	h.Clock.Set(time.Date(2027, 3, 15, 9, 0, 0, 0, mustZone("Europe/Berlin")))
	if n, err := without.RunDue(ctx, h.Clock.Now()); err != nil || n != 0 {
		t.Fatalf("RunDue without the platforms: %d fired, err %v; want none", n, err)
	}
	if r := reminderOf(t, h, bot.KindStart); r.Status != bot.ReminderPending {
		t.Fatalf("start reminder without its platform: status %q, want it still pending", r.Status)
	}
	if q, _ := h.Store.Pending(ctx, 0, 1000); len(q) != 300 { // the replies to /plan in the gone chats
		t.Fatalf("%d messages queued, want 300: a reminder was queued for a platform that is not there", len(q))
	}

	// The console is back three days later, the other platform still gone:
	// the console's reminder goes out, saying it is late; the others wait.
	h.Clock.Set(time.Date(2027, 3, 18, 12, 0, 0, 0, time.UTC))
	back := restartWith(t, h, h.Rec)
	if _, err := back.RunDue(ctx, h.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := back.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	got := h.Rec.Take()
	if len(got) != 1 || !strings.Contains(got[0].Msg.Text, "fällig seit") || !strings.Contains(got[0].Msg.Text, "Es geht los: Workshop mit Betrieben") {
		t.Fatalf("back after three days: got %v, want the start reminder, marked late", got)
	}
	if r := reminderOf(t, h, bot.KindStart); r.Status != bot.ReminderSent {
		t.Errorf("start reminder: status %q, want sent", r.Status)
	}
	if c, err := back.Load(ctx, bot.Address{Platform: "gone", Chat: "g007"}); err != nil || len(c.Pending()) != 2 {
		t.Errorf("a conversation whose platform is still gone: pending %v, err %v; want both reminders", c.Pending(), err)
	}

	// Gone again when the review falls due, back after nine days: too late
	// to help, it is shown as missed, not sent.
	h.Clock.Set(time.Date(2027, 3, 30, 9, 0, 0, 0, mustZone("Europe/Berlin")))
	if n, _ := restartWith(t, h, other).RunDue(ctx, h.Clock.Now()); n != 0 {
		t.Fatalf("review without its platform: %d fired, want none", n)
	}
	h.Clock.Set(time.Date(2027, 4, 8, 12, 0, 0, 0, time.UTC))
	last := restartWith(t, h, h.Rec)
	if _, err := last.RunDue(ctx, h.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := last.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	if got := h.Rec.Take(); len(got) != 0 {
		t.Errorf("nine days late: got %q, want nothing sent", got[0].Msg.Text)
	}
	if r := reminderOf(t, h, bot.KindReview); r.Status != bot.ReminderMissed {
		t.Errorf("review nine days late: status %q, want missed", r.Status)
	}

	// And when the gone platform comes back, its reminders follow the same
	// rule: the starts (due 25 days ago) are missed.
	final := restartWith(t, h, gone)
	if _, err := final.RunDue(ctx, h.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := final.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	if got := gone.Take(); len(got) != 0 {
		t.Errorf("reminders weeks late: %d sent, want none", len(got))
	}
	if n := final.Stats().RemindersMissed; n != 600 {
		t.Errorf("missed: %d, want 600", n)
	}
}

// crowdedStore is a MemStore whose outbox starts with n messages (IDs 1 to
// n) for a platform that is gone, as an earlier process left them; the
// MemStore's own messages come after them.
type crowdedStore struct {
	*bottest.MemStore
	n uint64
}

var goneChat = bot.Address{Platform: "gone", Chat: "g1"}

func (s *crowdedStore) Pending(ctx context.Context, after uint64, limit int) ([]bot.Queued, error) {
	var out []bot.Queued
	for id := after + 1; id <= s.n && len(out) < limit; id++ {
		out = append(out, bot.Queued{ID: id, Outgoing: bot.Outgoing{To: goneChat, Msg: bot.Message{Text: "alt"}}})
	}
	if len(out) == limit {
		return out, nil
	}
	rest, err := s.MemStore.Pending(ctx, max(after, s.n)-s.n, limit-len(out))
	for _, q := range rest {
		q.ID += s.n
		out = append(out, q)
	}
	return out, err
}

func (s *crowdedStore) Commit(ctx context.Context, eventID, key string, c *bot.Conversation, outs []bot.Outgoing) ([]bot.Queued, error) {
	qs, err := s.MemStore.Commit(ctx, eventID, key, c, outs)
	for i := range qs {
		qs[i].ID += s.n
	}
	return qs, err
}

func (s *crowdedStore) StillPending(ctx context.Context, id uint64) (bool, error) {
	if id <= s.n {
		return true, nil
	}
	return s.MemStore.StillPending(ctx, id-s.n)
}

func (s *crowdedStore) Delivered(ctx context.Context, ids ...uint64) error {
	for _, id := range ids {
		if id <= s.n {
			return fmt.Errorf("message %d for the gone platform delivered", id)
		}
		if err := s.MemStore.Delivered(ctx, id-s.n); err != nil {
			return err
		}
	}
	return nil
}

func (s *crowdedStore) Attempt(ctx context.Context, id uint64) (int, error) {
	return s.MemStore.Attempt(ctx, id-s.n)
}

// TestMissingPlatformDoesNotStarveOthers: 70,000 messages for a platform
// without an adapter at the head of the outbox (an earlier process had
// it) hold up no message of a platform that is there: neither one left
// by the earlier process nor a new reply.
func TestMissingPlatformDoesNotStarveOthers(t *testing.T) {
	ctx := context.Background()
	st := &crowdedStore{MemStore: bottest.NewMemStore(), n: 70000}
	to := console.Address()
	if _, err := st.Commit(ctx, "left", to.Key(), &bot.Conversation{Addr: to},
		[]bot.Outgoing{{To: to, Msg: bot.Message{Text: "hinterlassen"}}}); err != nil {
		t.Fatal(err)
	}
	e := bottest.NewEngine(t, st, bottest.NewClock(start))
	rec := &bottest.Recorder{Name: console.Platform}
	e.Register(rec)
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rec.Take(); len(got) != 1 || got[0].Msg.Text != "hinterlassen" {
		t.Fatalf("after the start: got %v, want the message left for the console", got)
	}
	if err := e.Handle(ctx, bot.Event{ID: "1", Addr: to, Text: "/start", LangHint: "de"}); err != nil {
		t.Fatal(err)
	}
	if err := e.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rec.Take(); len(got) != 1 || !strings.Contains(got[0].Msg.Text, "Ampel") {
		t.Fatalf("a new reply: got %v, want the welcome", got)
	}
}

// gate is a platform whose sends to some chats wait until it opens.
type gate struct {
	*bottest.Recorder
	mu     sync.Mutex
	open   chan struct{}
	closed func(chat string) bool
}

func newGate(closed func(chat string) bool) *gate {
	g := &gate{Recorder: &bottest.Recorder{Name: console.Platform}, open: make(chan struct{}), closed: closed}
	g.SendFn = func(to bot.Address, _ bot.Message) error {
		g.mu.Lock()
		closed, open := g.closed(to.Chat), g.open
		g.mu.Unlock()
		if closed {
			<-open
		}
		return nil
	}
	return g
}

// sentTo returns, per chat, the texts sent to it, in order.
func sentTo(sent []bottest.Sent) map[string][]string {
	out := map[string][]string{}
	for _, s := range sent {
		out[s.To.Chat] = append(out[s.To.Chat], s.Msg.Text)
	}
	return out
}

// unknownCommands has chat type /x0 … /x<n-1>; each reply names its
// command, so that their order shows.
func unknownCommands(t *testing.T, e *bot.Engine, chat string, n int) {
	t.Helper()
	for i := range n {
		ev := bot.Event{ID: fmt.Sprintf("%s-%d", chat, i), Addr: bot.Address{Platform: console.Platform, Chat: chat},
			Text: fmt.Sprintf("/x%d", i), LangHint: "de"}
		if err := e.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
}

func checkInOrder(t *testing.T, what string, texts []string, n int) {
	t.Helper()
	if len(texts) != n {
		t.Fatalf("%s: %d messages, want %d", what, len(texts), n)
	}
	for i, text := range texts {
		if !strings.Contains(text, fmt.Sprintf("/x%d ", i)) {
			t.Fatalf("%s: message %d is %q, want the answer to /x%d", what, i, text, i)
		}
	}
}

// TestHeldMessagesAreBounded: the dispatcher holds a few messages per chat
// and per platform in memory; the rest wait in the store and are read back
// in order. A chat whose sends hang (a group far over its limit) thus
// keeps neither memory nor its platform's other chats; and when the whole
// platform hangs, nothing is lost or doubled once it is back.
func TestHeldMessagesAreBounded(t *testing.T) {
	ctx := context.Background()
	st := bottest.NewMemStore()
	e := bottest.NewEngine(t, st, bottest.NewClock(start))
	g := newGate(func(chat string) bool { return chat == "busy" })
	e.Register(g)
	bot.SetHoldLimits(e, 4, 12)

	unknownCommands(t, e, "busy", 20)
	if n := bot.Held(e, console.Platform); n > 4 {
		t.Errorf("%d messages held for one hanging chat, want at most 4", n)
	}
	for c := range 10 {
		unknownCommands(t, e, fmt.Sprintf("c%d", c), 3)
	}
	var others []bot.Address
	for c := range 10 {
		others = append(others, bot.Address{Platform: console.Platform, Chat: fmt.Sprintf("c%d", c)})
	}
	if err := e.Settle(ctx, others...); err != nil {
		t.Fatal(err)
	}
	got := sentTo(g.Take())
	for c := range 10 {
		checkInOrder(t, fmt.Sprintf("chat c%d beside the hanging one", c), got[fmt.Sprintf("c%d", c)], 3)
	}
	g.mu.Lock()
	close(g.open)
	g.mu.Unlock()
	if err := e.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	checkInOrder(t, "the chat that hung", sentTo(g.Take())["busy"], 20)

	// The whole platform hangs: 10 chats, 5 messages each.
	g.mu.Lock()
	g.open = make(chan struct{})
	g.closed = func(string) bool { return true }
	g.mu.Unlock()
	for c := range 10 {
		unknownCommands(t, e, fmt.Sprintf("d%d", c), 5)
	}
	if n := bot.Held(e, console.Platform); n > 12 {
		t.Errorf("%d messages held for a hanging platform, want at most 12", n)
	}
	g.mu.Lock()
	close(g.open)
	g.mu.Unlock()
	if err := e.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	got = sentTo(g.Take())
	for c := range 10 {
		checkInOrder(t, fmt.Sprintf("chat d%d", c), got[fmt.Sprintf("d%d", c)], 5)
	}
	if q, _ := st.Pending(ctx, 0, 100); len(q) != 0 {
		t.Errorf("%d messages left in the outbox", len(q))
	}
}
