// Package bottest holds fakes for testing against package bot: an in-memory
// store that keeps the real store's contract, a settable clock and a recording
// adapter.
package bottest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
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
	ids      []uint64 // outbox IDs in order, with delivered ones not yet dropped
	attempts map[uint64]int
	due      map[string][]bot.DueRef // conversation key -> its pending reminders
	archive  map[string]map[int][]byte
	seq      uint64
	// aside holds records set aside because they did not decode;
	// held, the conversation keys waiting for a new start.
	aside map[string][]byte
	held  map[string]bool
	// records holds the records of CommitBatch, events the IDs of
	// batches no conversation remembers.
	records map[bot.RecordRef][]byte
	events  map[string]bool
	live    map[[2]string]bot.LiveRef
	// FailWrite, when set, runs before each conversation (by its key) or
	// record (by "record:" + RecordRef.String) of a CommitBatch is written: an
	// error fails the batch there, as a full disk would.
	FailWrite func(key string) error
}

var _ bot.Store = (*MemStore)(nil)

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{convs: map[string][]byte{}, inbox: map[string]bool{}, outbox: map[uint64][]byte{},
		attempts: map[uint64]int{}, due: map[string][]bot.DueRef{}, aside: map[string][]byte{}, held: map[string]bool{},
		archive: map[string]map[int][]byte{}, records: map[bot.RecordRef][]byte{}, events: map[string]bool{}, live: map[[2]string]bot.LiveRef{}}
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
	if _, has := s.convs[key]; s.inbox[key+"\x00"+eventID] || !has && s.events["erased\x00"+eventID] {
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
		s.ids = append(s.ids, s.seq)
		queued = append(queued, bot.Queued{ID: s.seq, Outgoing: o})
	}
	s.inbox[key+"\x00"+eventID] = true
	if conv == nil {
		return queued, nil // the stored state stays as it is
	}
	s.putConv(key, b, conv)
	return queued, nil
}

// CommitBatch implements bot.Store: everything is checked and encoded
// first, then written, so that a batch that fails writes nothing.
func (s *MemStore) CommitBatch(ctx context.Context, b *bot.Batch) ([]bot.Queued, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := s.events[b.EventID]
	if b.Key != "" {
		_, has := s.convs[b.Key]
		seen = s.inbox[b.Key+"\x00"+b.EventID] || !has && s.events["erased\x00"+b.EventID]
	}
	if seen {
		return nil, bot.ErrDuplicate
	}
	convs := make([][]byte, len(b.Convs))
	for i, c := range b.Convs {
		if s.FailWrite != nil {
			if err := s.FailWrite(c.Key); err != nil {
				return nil, err
			}
		}
		if c.Delete {
			continue
		}
		var err error
		if convs[i], err = json.Marshal(c.Conv); err != nil {
			return nil, err
		}
	}
	for _, r := range b.Records {
		if s.FailWrite != nil {
			if err := s.FailWrite("record:" + r.Ref.String()); err != nil {
				return nil, err
			}
		}
	}
	outs := make([][]byte, len(b.Outs))
	for i, o := range b.Outs {
		var err error
		if outs[i], err = json.Marshal(o); err != nil {
			return nil, err
		}
	}
	// Nothing can fail from here on.
	for i, c := range b.Convs {
		if c.Delete {
			s.erase(c.Key)
			continue
		}
		s.putConv(c.Key, convs[i], c.Conv)
	}
	for _, r := range b.Records {
		if r.Delete {
			delete(s.records, r.Ref)
		} else {
			s.records[r.Ref] = bytes.Clone(r.Data)
		}
	}
	queued := make([]bot.Queued, 0, len(outs))
	for i, ob := range outs {
		s.seq++
		s.outbox[s.seq] = ob
		s.ids = append(s.ids, s.seq)
		queued = append(queued, bot.Queued{ID: s.seq, Outgoing: b.Outs[i]})
	}
	switch {
	case b.Key == "":
		s.events[b.EventID] = true
	case b.Erases(b.Key):
		s.events["erased\x00"+b.EventID] = true
	default:
		s.inbox[b.Key+"\x00"+b.EventID] = true
	}
	return queued, nil
}

// putConv stores a conversation encoded as b, with its archive and
// reminders. s.mu is held; archived items marshal (plain data).
func (s *MemStore) putConv(key string, b []byte, conv *bot.Conversation) {
	for _, a := range conv.Archive {
		ab, _ := json.Marshal(a)
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
}

// erase removes everything of the conversation key, as the bbolt store
// does (see bot.ConvWrite): s.mu is held.
func (s *MemStore) erase(key string) {
	delete(s.convs, key)
	delete(s.due, key)
	delete(s.archive, key)
	delete(s.aside, key)
	delete(s.held, key)
	for k := range s.inbox {
		if strings.HasPrefix(k, key+"\x00") {
			delete(s.inbox, k)
		}
	}
	for k := range s.live {
		if k[0] == key {
			delete(s.live, k)
		}
	}
	for id, ob := range s.outbox {
		var o bot.Outgoing
		if json.Unmarshal(ob, &o) == nil && o.To.Key() == key {
			delete(s.outbox, id)
			delete(s.attempts, id)
		}
	}
}

// RecordsWith implements bot.RecordFinder.
func (s *MemStore) RecordsWith(ctx context.Context, kind, needle string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for ref, b := range s.records {
		if ref.Kind == kind && bytes.Contains(b, []byte(needle)) {
			ids = append(ids, ref.ID)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// ConversationsWith implements bot.RecordFinder.
func (s *MemStore) ConversationsWith(ctx context.Context, prefix string, needles ...string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for k, b := range s.convs {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		for _, n := range needles {
			if bytes.Contains(b, []byte(n)) {
				keys = append(keys, k)
				break
			}
		}
	}
	sort.Strings(keys)
	return keys, nil
}

// Record implements bot.Store.
func (s *MemStore) Record(ctx context.Context, ref bot.RecordRef) ([]byte, error) {
	if err := ref.Validate(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.records[ref]), nil
}

// Live implements bot.Store.
func (s *MemStore) Live(ctx context.Context, chat, live string) (bot.LiveRef, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.live[[2]string{chat, live}]
	return r, ok, nil
}

// SetLive implements bot.Store.
func (s *MemStore) SetLive(ctx context.Context, chat, live string, ref bot.LiveRef) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.live[[2]string{chat, live}] = ref
	return nil
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
func (s *MemStore) Due(ctx context.Context, now time.Time, after bot.DueRef, limit int) ([]bot.DueRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []bot.DueRef
	for key, refs := range s.due {
		if s.held[key] {
			continue
		}
		for _, r := range refs {
			if !r.Due.After(now) && (after.Key == "" || refLess(after, r)) {
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
	sort.Slice(refs, func(i, j int) bool { return refLess(refs[i], refs[j]) })
}

// refLess is the order of the reminder index: by instant, key, ID.
func refLess(a, b bot.DueRef) bool {
	if !a.Due.Equal(b.Due) {
		return a.Due.Before(b.Due)
	}
	if a.Key != b.Key {
		return a.Key < b.Key
	}
	return a.ID < b.ID
}

// Pending implements bot.Store.
func (s *MemStore) Pending(ctx context.Context, after uint64, limit int) ([]bot.Queued, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ids) > 2*len(s.outbox)+1024 { // drop the delivered
		live := s.ids[:0]
		for _, id := range s.ids {
			if _, ok := s.outbox[id]; ok {
				live = append(live, id)
			}
		}
		s.ids = live
	}
	var out []bot.Queued
	for _, id := range s.ids[sort.Search(len(s.ids), func(i int) bool { return s.ids[i] > after }):] {
		if len(out) == limit {
			break
		}
		if _, ok := s.outbox[id]; !ok {
			continue
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

// ManualClock is a clock that moves only when the test moves it. Unlike
// Clock, its Sleep does not move it: a sleeper waits until Add or Set has
// brought the clock to the end of its sleep, or its context ends. Code
// held by a platform's limits (a limiter sleeping on it) stays held for
// exactly as long as the test wants, however fast or slow the machine.
type ManualClock struct {
	mu   sync.Mutex
	now  time.Time
	wake chan struct{} // closed when the clock moves
}

// NewManualClock returns a clock standing at t.
func NewManualClock(t time.Time) *ManualClock {
	return &ManualClock{now: t, wake: make(chan struct{})}
}

// Now implements bot.Clock.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Add moves the clock by d and wakes the sleepers whose time has come.
func (c *ManualClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	close(c.wake)
	c.wake = make(chan struct{})
}

// Sleep waits until the clock has moved by d, or ctx ends.
func (c *ManualClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	until := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		now, wake := c.now, c.wake
		c.mu.Unlock()
		if !now.Before(until) {
			return nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
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
	// ShowsFiles makes the recorder a bot.FileAdapter that shows files.
	ShowsFiles bool

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

// Files implements bot.FileAdapter.
func (r *Recorder) Files() bool { return r.ShowsFiles }

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

// Events is a bot.Handler that records the events it is handed and
// commits nothing: what an adapter makes of its platform's input.
type Events struct {
	mu  sync.Mutex
	evs []bot.Event
}

// Handle implements bot.Handler.
func (r *Events) Handle(_ context.Context, ev bot.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, ev)
	return nil
}

// All returns the events handed so far, in order.
func (r *Events) All() []bot.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bot.Event(nil), r.evs...)
}

// Settle waits until e has sent what it can (see Engine.Settle), then for
// each of more (an adapter's calls after events, say); the test fails if
// that takes more than 10 s.
func Settle(t testing.TB, e *bot.Engine, more ...func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.Settle(ctx); err != nil {
		t.Fatalf("the engine did not settle: %v", err)
	}
	for _, wait := range more {
		if err := wait(ctx); err != nil {
			t.Fatalf("the adapter did not settle: %v", err)
		}
	}
}

// Loop runs one of the engine's loops (RunOutbox, RunReminders) in the
// background until the test ends.
func Loop(t testing.TB, loop func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- loop(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("loop: %v", err)
		}
	})
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

// Editing is a Recorder whose platform can edit what it sent (a
// bot.Editor): it keeps every live message as it is shown now, by
// reference, and counts the edits.
type Editing struct {
	Recorder
	// EditFn, when set, decides the result of each edit (to refuse one
	// with bot.ErrMessageGone, say).
	EditFn func(ref string, m bot.Message) error

	mu    sync.Mutex
	n     int
	shown map[string]bot.Message
	edits []Edit
}

// Edit is one edit an Editing was asked for.
type Edit struct {
	To  bot.Address
	Ref string
	Msg bot.Message
}

var _ bot.Editor = (*Editing)(nil)

// SendLive implements bot.Editor: the message is recorded as sent, and
// shown under a new reference.
func (r *Editing) SendLive(ctx context.Context, to bot.Address, m bot.Message) (string, error) {
	if err := r.Send(ctx, to, m); err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	ref := "m" + strconv.Itoa(r.n)
	if r.shown == nil {
		r.shown = map[string]bot.Message{}
	}
	r.shown[ref] = m
	return ref, nil
}

// Edit implements bot.Editor.
func (r *Editing) Edit(ctx context.Context, to bot.Address, ref string, m bot.Message) error {
	if r.EditFn != nil {
		if err := r.EditFn(ref, m); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.shown[ref]; !ok {
		return fmt.Errorf("edit of %s: %w", ref, bot.ErrMessageGone)
	}
	r.shown[ref] = m
	r.edits = append(r.edits, Edit{to, ref, m})
	return nil
}

// Shown returns the live message ref as it is shown now.
func (r *Editing) Shown(ref string) bot.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.shown[ref]
}

// TakeEdits returns the edits made since the last TakeEdits.
func (r *Editing) TakeEdits() []Edit {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.edits
	r.edits = nil
	return e
}
