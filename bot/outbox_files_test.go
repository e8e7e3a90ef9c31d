package bot

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// listStore is an outbox of messages in memory, as the dispatcher uses a
// store, counting how often it is read (Pending).
type listStore struct {
	Store
	mu        sync.Mutex
	msgs      []Queued
	delivered map[uint64]bool
	reads     int
	maxRead   int // the most bytes of files one read returned
}

func (s *listStore) add(q Queued) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, q)
}

func (s *listStore) Pending(_ context.Context, after uint64, limit int) ([]Queued, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	var out []Queued
	size := 0
	for _, q := range s.msgs {
		if q.ID > after && !s.delivered[q.ID] && len(out) < limit {
			out = append(out, q)
			for _, f := range q.Msg.Files {
				size += len(f.Data)
			}
		}
	}
	s.maxRead = max(s.maxRead, size)
	return out, nil
}

func (s *listStore) StillPending(_ context.Context, id uint64) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.delivered[id], nil
}

func (s *listStore) Delivered(_ context.Context, ids ...uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.delivered[id] = true
	}
	return nil
}

func (s *listStore) Attempt(context.Context, uint64) (int, error) { return 0, nil }

func (s *listStore) readCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

// slowPlatform asks to wait an hour until it is opened.
type slowPlatform struct {
	mu   sync.Mutex
	open bool
	got  []string
}

func (a *slowPlatform) Platform() string                         { return "chat" }
func (a *slowPlatform) Run(ctx context.Context, _ Handler) error { <-ctx.Done(); return nil }
func (a *slowPlatform) Send(_ context.Context, to Address, m Message) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.open {
		return &RateLimited{RetryAfter: time.Hour}
	}
	a.got = append(a.got, to.Chat)
	return nil
}

// TestFilesFillingTheShareDoNotRereadTheOutbox: a moment heavy with files
// (pictures of checks finished at once while the platform asks to wait)
// fills a platform's share by its bytes long before its count of
// messages. What does not fit waits in the store; the outbox is read
// again only once half the bytes are free, not at every message committed
// meanwhile (the old code read the whole outbox, files and all, for each
// one, to find no room). Every message is delivered once the platform
// takes them again.
func TestFilesFillingTheShareDoNotRereadTheOutbox(t *testing.T) {
	st := &listStore{delivered: map[uint64]bool{}}
	now := time.Date(2027, 3, 15, 9, 0, 0, 0, time.UTC)
	var clockMu sync.Mutex
	e := &Engine{
		store: st, clock: ClockFunc(func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now }),
		log: slog.New(slog.DiscardHandler), adapters: map[string]Adapter{}, out: newOutbox(),
	}
	defer e.out.close()
	e.out.limits.bytes = 1 << 20 // a share of 1 MB: three pictures of 300 KB
	ad := &slowPlatform{}
	e.Register(ad)
	ctx := context.Background()
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	before := st.readCount()
	const n = 40
	for i := 1; i <= n; i++ {
		q := Queued{ID: uint64(i), Outgoing: Outgoing{To: Address{Platform: "chat", Chat: "c" + strconv.Itoa(i)},
			Msg: Message{Text: "Ergebnis", Files: []File{{Name: "ampel.png", MIME: "image/png", Data: make([]byte, 300<<10)}}}}}
		st.add(q)
		e.out.commits.RLock()
		e.enqueue([]Queued{q})
		e.out.commits.RUnlock()
		if err := e.Settle(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if reads := st.readCount() - before; reads > 2 {
		t.Errorf("the outbox was read %d times while %d messages with files waited for a full share, want at most 2", reads, n)
	}
	if held := Held(e, "chat"); held > 4 {
		t.Errorf("%d messages of 300 KB held for a share of 1 MB, want at most 4", held)
	}

	ad.mu.Lock()
	ad.open = true
	ad.mu.Unlock()
	clockMu.Lock()
	now = now.Add(2 * time.Hour)
	clockMu.Unlock()
	got := flushAll(t, e, ad, n)
	slices.Sort(got)
	sent := len(got)
	if got = slices.Compact(got); len(got) != n || sent != n {
		t.Errorf("delivered %d messages (%d chats), want each of the %d once", sent, len(got), n)
	}
}

// TestScanReadsFilesInSlices: after a restart with many pictures waiting
// in the outbox (a platform was down while a workshop finished its
// checks), the outbox is read back a few megabytes at a time, not 1,024
// messages at once (80 MB of pictures), and every message is sent.
func TestScanReadsFilesInSlices(t *testing.T) {
	st := &listStore{delivered: map[uint64]bool{}}
	const n = 300
	for i := 1; i <= n; i++ {
		st.add(Queued{ID: uint64(i), Outgoing: Outgoing{To: Address{Platform: "chat", Chat: "c" + strconv.Itoa(i)},
			Msg: Message{Text: "Ergebnis", Files: []File{{Name: "ampel.png", MIME: "image/png", Data: make([]byte, 80<<10)}}}}})
	}
	e := &Engine{
		store: st, clock: ClockFunc(func() time.Time { return time.Date(2027, 3, 15, 9, 0, 0, 0, time.UTC) }),
		log: slog.New(slog.DiscardHandler), adapters: map[string]Adapter{}, out: newOutbox(),
	}
	defer e.out.close()
	ad := &slowPlatform{open: true}
	e.Register(ad)
	if got := flushAll(t, e, ad, n); len(got) != n {
		t.Errorf("sent %d of the %d messages left in the outbox", len(got), n)
	}
	if st.maxRead > 5<<20 {
		t.Errorf("one read of the outbox brought %d KB of files into memory, want at most 5 MB", st.maxRead>>10)
	}
}

// flushAll flushes the outbox until the platform has taken n messages
// (each round sends what the share holds and reads back more), and
// returns the chats it sent to.
func flushAll(t *testing.T, e *Engine, ad *slowPlatform, n int) []string {
	t.Helper()
	for range n {
		if err := e.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		ad.mu.Lock()
		done := len(ad.got) >= n
		ad.mu.Unlock()
		if done {
			break
		}
	}
	ad.mu.Lock()
	defer ad.mu.Unlock()
	return slices.Clone(ad.got)
}
