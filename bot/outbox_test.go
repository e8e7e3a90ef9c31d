package bot

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"
)

// outboxStore answers what deliver asks of a store; anything else panics.
type outboxStore struct {
	Store
	pending   map[uint64]bool
	failCheck bool
	delivered []uint64
}

func (s *outboxStore) StillPending(_ context.Context, id uint64) (bool, error) {
	if s.failCheck {
		return false, errors.New("disk gone")
	}
	return s.pending[id], nil
}

func (s *outboxStore) Delivered(_ context.Context, ids ...uint64) error {
	s.delivered = append(s.delivered, ids...)
	return nil
}

type sentTexts struct{ texts []string }

func (a *sentTexts) Platform() string                         { return "chat" }
func (a *sentTexts) Run(ctx context.Context, _ Handler) error { <-ctx.Done(); return nil }
func (a *sentTexts) Send(_ context.Context, _ Address, m Message) error {
	a.texts = append(a.texts, m.Text)
	return nil
}

// A message the dispatcher finds already delivered (or cannot check) must
// not leave its address marked as being sent to: every later reply to that
// chat would be held back until a restart.
func TestStaleMessageDoesNotBlockItsChat(t *testing.T) {
	for _, tc := range []struct {
		name      string
		failCheck bool
	}{{"delivered meanwhile", false}, {"check failed", true}} {
		t.Run(tc.name, func(t *testing.T) {
			st := &outboxStore{pending: map[uint64]bool{}, failCheck: tc.failCheck}
			ad := &sentTexts{}
			now := time.Date(2027, 3, 15, 9, 0, 0, 0, time.UTC)
			e := &Engine{
				store: st, clock: ClockFunc(func() time.Time { return now }), log: slog.New(slog.DiscardHandler),
				adapters: map[string]Adapter{"chat": ad},
				out:      outbox{kick: make(chan struct{}, 1), retryAt: map[Address]time.Time{}},
			}
			to := Address{Platform: "chat", Chat: "c1"}
			ctx := context.Background()
			e.deliver(ctx, []Queued{{ID: 1, Outgoing: Outgoing{To: to, Msg: Message{Text: "old"}}}}, true)
			if len(ad.texts) != 0 {
				t.Fatalf("stale message: sent %q, want nothing", ad.texts)
			}
			st.failCheck = false
			e.deliver(ctx, []Queued{{ID: 2, Outgoing: Outgoing{To: to, Msg: Message{Text: "next reply"}}}}, false)
			if len(ad.texts) != 1 || ad.texts[0] != "next reply" {
				t.Errorf("the chat's next reply: sent %q, want [next reply]", ad.texts)
			}
			if len(st.delivered) != 1 || st.delivered[0] != 2 {
				t.Errorf("recorded deliveries: %v, want [2]", st.delivered)
			}
		})
	}
}
