// Package bottest holds fakes for testing against package bot: an in-memory
// store that keeps the real store's contract, a settable clock and a recording
// adapter.
package bottest

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
)

// MemStore is an in-memory bot.Store. Values are kept encoded, so that a
// caller can never share memory with the store, as with the real one.
type MemStore struct {
	mu       sync.Mutex
	convs    map[string][]byte
	inbox    map[string]bool
	outbox   map[uint64][]byte
	attempts map[uint64]int
	due      map[string][]bot.DueRef // conversation key -> its pending reminders
	archive  map[string]map[int][]byte
	seq      uint64
	// aside holds records set aside because they did not decode;
	// held, the conversation keys waiting for a new start.
	aside map[string][]byte
	held  map[string]bool
}

var _ bot.Store = (*MemStore)(nil)

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{convs: map[string][]byte{}, inbox: map[string]bool{}, outbox: map[uint64][]byte{},
		attempts: map[uint64]int{}, due: map[string][]bot.DueRef{}, aside: map[string][]byte{}, held: map[string]bool{},
		archive: map[string]map[int][]byte{}}
}

// Damage stores raw as the record of a conversation, as a damaged disk or
// an older program might have left it.
func (s *MemStore) Damage(key string, raw []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.convs[key] = raw
}

// DamageOutbox stores raw as an outbox message's record and returns its ID.
func (s *MemStore) DamageOutbox(raw []byte) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	s.outbox[s.seq] = raw
	return s.seq
}

// SetAside returns the records set aside, by conversation key or
// "outbox/<id>".
func (s *MemStore) SetAside() map[string][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]byte{}
	for k, v := range s.aside {
		out[k] = v
	}
	return out
}

// Load implements bot.Store.
func (s *MemStore) Load(ctx context.Context, key string) (*bot.Conversation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &bot.Conversation{}
	if b, ok := s.convs[key]; ok {
		if err := json.Unmarshal(b, c); err != nil {
			s.aside[key], s.held[key] = b, true
			delete(s.convs, key)
			return nil, fmt.Errorf("load %s: %w: %v", key, bot.ErrDamaged, err)
		}
	}
	if s.held[key] {
		return nil, fmt.Errorf("load %s: %w (set aside)", key, bot.ErrDamaged)
	}
	return c, nil
}

// Seen implements bot.Store.
func (s *MemStore) Seen(ctx context.Context, key, eventID string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inbox[key+"\x00"+eventID], nil
}

// Commit implements bot.Store.
func (s *MemStore) Commit(ctx context.Context, eventID, key string, conv *bot.Conversation, outs []bot.Outgoing) ([]bot.Queued, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inbox[key+"\x00"+eventID] {
		return nil, bot.ErrDuplicate
	}
	var b []byte
	if conv != nil {
		var err error
		if b, err = json.Marshal(conv); err != nil {
			return nil, err
		}
	}
	var queued []bot.Queued
	for _, o := range outs {
		ob, err := json.Marshal(o)
		if err != nil {
			return nil, err
		}
		s.seq++
		s.outbox[s.seq] = ob
		queued = append(queued, bot.Queued{ID: s.seq, Outgoing: o})
	}
	s.inbox[key+"\x00"+eventID] = true
	if conv == nil {
		return queued, nil // the stored state stays as it is
	}
	for _, a := range conv.Archive {
		ab, err := json.Marshal(a)
		if err != nil {
			return nil, err
		}
		if s.archive[key] == nil {
			s.archive[key] = map[int][]byte{}
		}
		s.archive[key][a.Seq] = ab
	}
	s.convs[key] = b
	delete(s.held, key)
	var due []bot.DueRef
	conv.EachPending(func(r *bot.Reminder) { due = append(due, bot.DueRef{Key: key, ID: r.ID, Due: r.Due}) })
	s.due[key] = due
	return queued, nil
}

// Move implements bot.Store.
func (s *MemStore) Move(ctx context.Context, eventID, from, to string, conv *bot.Conversation) error {
	if _, err := s.Commit(ctx, eventID, to, conv, nil); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.convs, from)
	delete(s.due, from)
	for seq, b := range s.archive[from] {
		if s.archive[to] == nil {
			s.archive[to] = map[int][]byte{}
		}
		if _, ok := s.archive[to][seq]; !ok {
			s.archive[to][seq] = b
		}
	}
	delete(s.archive, from)
	return nil
}

// Archive implements bot.Store.
func (s *MemStore) Archive(ctx context.Context, key string) ([]bot.Archived, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var items []bot.Archived
	for _, b := range s.archive[key] {
		var a bot.Archived
		if err := json.Unmarshal(b, &a); err != nil {
			return nil, err
		}
		items = append(items, a)
	}
	sort.Slice(items, func(i, j int) bool { return items[i].Seq < items[j].Seq })
	return items, nil
}

// Attempt implements bot.Store.
func (s *MemStore) Attempt(ctx context.Context, id uint64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.outbox[id]; !ok {
		return 0, nil
	}
	n := s.attempts[id]
	s.attempts[id] = n + 1
	return n, nil
}

// Due implements bot.Store.
func (s *MemStore) Due(ctx context.Context, now time.Time, limit int) ([]bot.DueRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []bot.DueRef
	for key, refs := range s.due {
		if s.held[key] {
			continue
		}
		for _, r := range refs {
			if !r.Due.After(now) {
				all = append(all, r)
			}
		}
	}
	sortRefs(all)
	if len(all) > limit {
		all = all[:limit]
	}
	return all, nil
}

// NextDue implements bot.Store.
func (s *MemStore) NextDue(ctx context.Context) (time.Time, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next time.Time
	for key, refs := range s.due {
		if s.held[key] {
			continue
		}
		for _, r := range refs {
			if next.IsZero() || r.Due.Before(next) {
				next = r.Due
			}
		}
	}
	return next, !next.IsZero(), nil
}

func sortRefs(refs []bot.DueRef) {
	sort.Slice(refs, func(i, j int) bool {
		if !refs[i].Due.Equal(refs[j].Due) {
			return refs[i].Due.Before(refs[j].Due)
		}
		if refs[i].Key != refs[j].Key {
			return refs[i].Key < refs[j].Key
		}
		return refs[i].ID < refs[j].ID
	})
}

// Pending implements bot.Store.
func (s *MemStore) Pending(ctx context.Context, after uint64, limit int) ([]bot.Queued, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]uint64, 0, len(s.outbox))
	for id := range s.outbox {
		if id > after {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var out []bot.Queued
	for _, id := range ids {
		if len(out) == limit {
			break
		}
		q := bot.Queued{ID: id, Attempts: s.attempts[id]}
		if err := json.Unmarshal(s.outbox[id], &q.Outgoing); err != nil {
			s.aside["outbox/"+strconv.FormatUint(id, 10)] = s.outbox[id]
			delete(s.outbox, id)
			delete(s.attempts, id)
			continue
		}
		out = append(out, q)
	}
	return out, nil
}

// StillPending implements bot.Store.
func (s *MemStore) StillPending(ctx context.Context, id uint64) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.outbox[id]
	return ok, nil
}

// Delivered implements bot.Store.
func (s *MemStore) Delivered(ctx context.Context, ids ...uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		delete(s.outbox, id)
		delete(s.attempts, id)
	}
	return nil
}

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now implements bot.Clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Sleep moves the clock forward by d at once, so that code that waits (a
// platform's rate limits) takes no real time. It fails if ctx has ended.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Add(d)
	return nil
}

// Sent is one message a Recorder was asked to send.
type Sent struct {
	To  bot.Address
	Msg bot.Message
}

// Recorder is a bot.Adapter that records what it is asked to send. SendFn,
// when set, decides the result of each send, to inject failures.
type Recorder struct {
	Name   string
	SendFn func(to bot.Address, m bot.Message) error
	// ShowsForms makes the recorder a bot.FormAdapter that shows forms.
	ShowsForms bool
	// Prefix makes the recorder a bot.Subcommander with that prefix.
	Prefix string
	// Typed makes the recorder a bot.Typer: its buttons are typed.
	Typed bool
	// Bare makes the recorder a bot.BareCommander: no slash command
	// reaches the bot.
	Bare bool

	mu   sync.Mutex
	sent []Sent
}

// Platform implements bot.Adapter.
func (r *Recorder) Platform() string { return r.Name }

// CommandPrefix implements bot.Subcommander.
func (r *Recorder) CommandPrefix() string { return r.Prefix }

// Forms implements bot.FormAdapter.
func (r *Recorder) Forms() bool { return r.ShowsForms }

// TypesButtons implements bot.Typer.
func (r *Recorder) TypesButtons() bool { return r.Typed }

// BareCommands implements bot.BareCommander.
func (r *Recorder) BareCommands() bool { return r.Bare }

// Run implements bot.Adapter; a recorder receives nothing by itself.
func (r *Recorder) Run(ctx context.Context, h bot.Handler) error {
	<-ctx.Done()
	return nil
}

// Send implements bot.Adapter.
func (r *Recorder) Send(ctx context.Context, to bot.Address, m bot.Message) error {
	if r.SendFn != nil {
		if err := r.SendFn(to, m); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, Sent{to, m})
	return nil
}

// Take returns what was sent since the last Take.
func (r *Recorder) Take() []Sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.sent
	r.sent = nil
	return s
}

// Run runs a with h in the background until the test ends. The test fails
// if Run returns an error, or has not returned 10 s after its context ended
// (an adapter that cannot be shut down).
func Run(t testing.TB, a bot.Adapter, h bot.Handler) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, h) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return after its context ended")
		}
	})
}
