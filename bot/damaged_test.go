package bot_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/features"
)

const (
	apologyWait  = "Ihre gespeicherten Angaben lassen sich gerade nicht lesen"
	apologyFresh = "Ihre gespeicherten Angaben ließen sich nicht mehr lesen. Wir fangen deshalb neu an."
	firstRating  = "1/7"
)

var wrongShape = []byte(`{"lang":"de","plan":5}`)

// By default a conversation whose record cannot be read waits for the
// operator: each message gets the apology, nothing is written over the
// record, and the events are not handed back for redelivery.
func TestDamagedConversationWaits(t *testing.T) {
	h := newHarness(t, 0)
	h.Store.Damage(h.Addr.Key(), wrongShape)
	for _, in := range []string{"/check zo-kmu", "1"} {
		out := h.Say(in)
		if !strings.Contains(out, apologyWait) || strings.Contains(out, firstRating) {
			t.Errorf("%q: got %q, want only the apology", in, out)
		}
	}
	if _, err := h.Engine.Load(context.Background(), h.Addr); !errors.Is(err, bot.ErrDamaged) {
		t.Errorf("Load after two events: got %v, want the conversation still set aside", err)
	}
	if got := h.Store.SetAside()[h.Addr.Key()]; string(got) != string(wrongShape) {
		t.Errorf("set aside: %q, want the record as it was", got)
	}
	if got := h.Engine.Stats().Damaged; got != 2 {
		t.Errorf("Stats().Damaged = %d, want 2", got)
	}
}

// With the operator's leave, it starts afresh: the first reply apologises
// and goes on with what the user asked; then all is as usual.
func TestDamagedConversationStartsAfresh(t *testing.T) {
	h := newHarness(t, 0, func(c *bot.Config) { c.FreshAfterDamage = true })
	h.Store.Damage(h.Addr.Key(), wrongShape)
	out := h.Say("/check zo-kmu")
	if i := strings.Index(out, apologyFresh); i < 0 || i > strings.Index(out, firstRating) {
		t.Fatalf("/check on a damaged conversation: got %q, want the apology, then the check's first question", out)
	}
	if out := h.Say("1"); strings.Contains(out, "gespeicherten Angaben") || !strings.Contains(out, "2/7") {
		t.Errorf("next answer: got %q, want the check going on, without an apology", out)
	}
	if c := h.Conv(); c.Run == nil || len(c.Run.Ratings) != 1 {
		t.Errorf("conversation after the new start: %+v, want the new run with one rating", c.Run)
	}
	if got := h.Store.SetAside()[h.Addr.Key()]; string(got) != string(wrongShape) {
		t.Errorf("set aside: %q, want the old record kept for inspection", got)
	}
}

// panicky is a store whose Load panics for one key, as bbolt does on a
// damaged page.
type panicky struct {
	*bottest.MemStore
	key string
}

func (p *panicky) Load(ctx context.Context, key string) (*bot.Conversation, error) {
	if key == p.key {
		panic("page 12: unexpected flags")
	}
	return p.MemStore.Load(ctx, key)
}

// A store that panics in Load does not take the process down: that chat
// gets the apology, the others are served.
func TestPanickingLoadIsContained(t *testing.T) {
	h := newHarness(t, 0)
	other := newHarness(t, 0)
	st := &panicky{MemStore: bottest.NewMemStore(), key: h.Addr.Key()}
	catalog, texts := bottest.Content(t)
	e, err := bot.New(bot.Config{Store: st, Flows: catalog, Texts: texts, Clock: h.Clock, Features: features.All()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.Register(h.Rec)
	h.Engine, other.Engine, other.Rec = e, e, h.Rec
	other.Addr.Chat, other.Addr.User = "someone-else", "someone-else"
	if out := h.Say("/check zo-kmu"); !strings.Contains(out, apologyWait) {
		t.Errorf("the chat whose Load panics: got %q, want the apology", out)
	}
	if out := other.Say("/check zo-kmu"); !strings.Contains(out, firstRating) {
		t.Errorf("another chat: got %q, want the check", out)
	}
}
