package bot

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// outboxStore answers what the dispatcher asks of a store; anything else
// panics.
type outboxStore struct {
	Store
	mu        sync.Mutex
	list      []Queued // what Pending returns, once
	pending   map[uint64]bool
	failCheck bool
	delivered []uint64
}

func (s *outboxStore) Pending(_ context.Context, after uint64, limit int) ([]Queued, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.list
	s.list = nil
	return l, nil
}

func (s *outboxStore) StillPending(_ context.Context, id uint64) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failCheck {
		return false, errors.New("disk gone")
	}
	return s.pending[id], nil
}

func (s *outboxStore) Delivered(_ context.Context, ids ...uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delivered = append(s.delivered, ids...)
	return nil
}

// dispatcherOnly is an engine with nothing but its outbox dispatcher, on
// st, sending through ad; it has read what st holds, and closes with t.
func dispatcherOnly(t *testing.T, st Store, ad Adapter, now func() time.Time) *Engine {
	e := &Engine{
		store: st, clock: ClockFunc(now),
		log: slog.New(slog.DiscardHandler), adapters: map[string]Adapter{}, out: newOutbox(),
	}
	t.Cleanup(e.out.close)
	e.Register(ad)
	if err := e.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e
}

type sentTexts struct {
	mu    sync.Mutex
	texts []string
}

func (a *sentTexts) Platform() string                         { return "chat" }
func (a *sentTexts) Run(ctx context.Context, _ Handler) error { <-ctx.Done(); return nil }
func (a *sentTexts) Send(_ context.Context, _ Address, m Message) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.texts = append(a.texts, m.Text)
	return nil
}

// A message a scan of the outbox finds, but which was delivered meanwhile,
// is not sent again and does not hold up its chat; one whose check fails
// is kept, and the chat's next reply waits behind it, so that the two
// arrive in order once the check works again.
func TestStaleMessageDoesNotBlockItsChat(t *testing.T) {
	for _, tc := range []struct {
		name      string
		failCheck bool
		want      []string
	}{
		{"delivered meanwhile", false, []string{"next reply"}},
		{"check failed", true, []string{"old", "next reply"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			to := Address{Platform: "chat", Chat: "c1"}
			st := &outboxStore{pending: map[uint64]bool{1: tc.failCheck}, failCheck: tc.failCheck,
				list: []Queued{{ID: 1, Outgoing: Outgoing{To: to, Msg: Message{Text: "old"}}}}}
			ad := &sentTexts{}
			now := time.Date(2027, 3, 15, 9, 0, 0, 0, time.UTC)
			var clockMu sync.Mutex
			e := dispatcherOnly(t, st, ad, func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now })
			ctx := context.Background()
			e.enqueue([]Queued{{ID: 2, Outgoing: Outgoing{To: to, Msg: Message{Text: "next reply"}}}})
			if err := e.Settle(ctx); err != nil {
				t.Fatal(err)
			}
			st.mu.Lock()
			st.failCheck = false
			st.mu.Unlock()
			clockMu.Lock()
			now = now.Add(2 * time.Second)
			clockMu.Unlock()
			if err := e.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			ad.mu.Lock()
			defer ad.mu.Unlock()
			if len(ad.texts) != len(tc.want) || ad.texts[len(ad.texts)-1] != "next reply" || ad.texts[0] != tc.want[0] {
				t.Errorf("sent %q, want %q", ad.texts, tc.want)
			}
			st.mu.Lock()
			defer st.mu.Unlock()
			if len(st.delivered) != len(tc.want) || st.delivered[len(st.delivered)-1] != 2 {
				t.Errorf("recorded deliveries: %v, want %d ending with 2", st.delivered, len(tc.want))
			}
		})
	}
}

// heldSends is an adapter whose sends to one recipient wait until
// released; every send is reported on sent.
type heldSends struct {
	hold    string // the user whose sends wait
	release chan struct{}
	sent    chan Address
}

func (a *heldSends) Platform() string                         { return "chat" }
func (a *heldSends) Run(ctx context.Context, _ Handler) error { <-ctx.Done(); return nil }
func (a *heldSends) Send(ctx context.Context, to Address, _ Message) error {
	if to.User == a.hold {
		select {
		case <-a.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	a.sent <- to
	return nil
}

// Messages to two members' private chats, addressed by user only (Chat
// empty), go in lanes of their own: a member whose send hangs (the
// platform is slow to open the DM) holds up nobody else's, as two chats
// never do.
func TestPrivateChatsByUserHaveTheirOwnLanes(t *testing.T) {
	st := &outboxStore{pending: map[uint64]bool{}}
	ad := &heldSends{hold: "u1", release: make(chan struct{}), sent: make(chan Address, 4)}
	e := dispatcherOnly(t, st, ad, func() time.Time { return time.Date(2027, 3, 15, 9, 0, 0, 0, time.UTC) })
	u1, u2 := Address{Platform: "chat", User: "u1"}, Address{Platform: "chat", User: "u2"}
	e.enqueue([]Queued{
		{ID: 1, Outgoing: Outgoing{To: u1, Msg: Message{Text: "to u1"}}},
		{ID: 2, Outgoing: Outgoing{To: u2, Msg: Message{Text: "to u2"}}},
	})
	select {
	case to := <-ad.sent:
		if to != u2 {
			t.Fatalf("sent to %+v first, want u2 (u1's send hangs)", to)
		}
	case <-time.After(time.Minute): // a hang guard
		t.Fatal("u2's message waits behind u1's hanging send: the two private chats share a lane")
	}
	close(ad.release)
	if to := <-ad.sent; to != u1 {
		t.Errorf("then sent to %+v, want u1", to)
	}
}

// gatedSends is an adapter whose every send is reported on started, then
// waits for a token on gate (or its closing).
type gatedSends struct {
	started chan Address
	gate    chan struct{}
}

func (a *gatedSends) Platform() string                         { return "chat" }
func (a *gatedSends) Run(ctx context.Context, _ Handler) error { <-ctx.Done(); return nil }
func (a *gatedSends) Send(ctx context.Context, to Address, _ Message) error {
	a.started <- to
	select {
	case <-a.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// A message of low priority (a meeting's counts shown anew in a thousand
// copies) waits while any other of its platform is ready: a reply
// committed after twenty of them goes out as soon as a runner is free.
func TestLowPriorityGoesLast(t *testing.T) {
	st := &outboxStore{pending: map[uint64]bool{}}
	ad := &gatedSends{started: make(chan Address, 64), gate: make(chan struct{})}
	e := dispatcherOnly(t, st, ad, func() time.Time { return time.Date(2027, 3, 15, 9, 0, 0, 0, time.UTC) })
	var low []Queued
	for i := range 20 {
		to := Address{Platform: "chat", User: "low" + string(rune('a'+i))}
		low = append(low, Queued{ID: uint64(i + 1), Outgoing: Outgoing{To: to, Msg: Message{Text: "12 ja"}, Low: true}})
	}
	e.enqueue(low)
	wait := func() Address {
		select {
		case to := <-ad.started:
			return to
		case <-time.After(time.Minute): // a hang guard
			t.Fatal("no send started")
		}
		return Address{}
	}
	for range maxRunners {
		wait() // every runner busy with a message of low priority
	}
	reply := Address{Platform: "chat", User: "new"}
	e.enqueue([]Queued{{ID: 21, Outgoing: Outgoing{To: reply, Msg: Message{Text: "Antwort"}}}})
	ad.gate <- struct{}{} // one runner is free
	if to := wait(); to != reply {
		t.Errorf("the free runner sent to %s, want the reply first", to.User)
	}
	close(ad.gate)
	for range 20 + 1 - maxRunners - 1 {
		wait()
	}
}
