package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ampel-bot/ampel/flows"
)

// Config is what an Engine needs.
type Config struct {
	Store Store
	Flows *flows.Catalog
	Texts *Texts
	Clock Clock
	// Zone is the time zone of users who have not set one.
	Zone *time.Location
	Log  *slog.Logger
	// MaxInFlight bounds the events handled at once; further callers wait.
	MaxInFlight int
	// CacheSize is how many recently active conversations are kept decoded in
	// memory (default 10000); negative turns the cache off.
	CacheSize int
}

// Engine runs the dialogues. Events of one conversation are handled one at a
// time and in order; events of different conversations run in parallel, at
// most MaxInFlight at once.
type Engine struct {
	store    Store
	flows    *flows.Catalog
	texts    *Texts
	clock    Clock
	zone     *time.Location
	log      *slog.Logger
	vocab    *dateVocab
	slots    chan struct{}
	cpu      chan struct{}
	locks    keyLocks
	cache    convCache
	mu       sync.RWMutex
	adapters map[string]Adapter
}

// New checks that every flow has all its texts in every language and returns
// the engine.
func New(cfg Config) (*Engine, error) {
	if cfg.Store == nil || cfg.Flows == nil || cfg.Texts == nil {
		return nil, errors.New("engine needs a store, flows and texts")
	}
	if cfg.Clock == nil {
		cfg.Clock = ClockFunc(time.Now)
	}
	if cfg.Zone == nil {
		cfg.Zone = time.UTC
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 4096
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = 10000
	}
	var problems []error
	for _, f := range cfg.Flows.All() {
		if err := cfg.Texts.CheckFlow(f); err != nil {
			problems = append(problems, err)
		}
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	return &Engine{
		store: cfg.Store, flows: cfg.Flows, texts: cfg.Texts, clock: cfg.Clock, zone: cfg.Zone,
		log: cfg.Log, vocab: newDateVocab(cfg.Texts), slots: make(chan struct{}, cfg.MaxInFlight), cpu: make(chan struct{}, runtime.GOMAXPROCS(0)),
		locks: keyLocks{m: map[string]*keyLock{}}, adapters: map[string]Adapter{},
		cache: convCache{m: map[string]*Conversation{}, max: cfg.CacheSize},
	}, nil
}

// Register makes an adapter the way out to its platform.
func (e *Engine) Register(a Adapter) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.adapters[a.Platform()] = a
}

const (
	// maxInput caps what is read of one message; longer input is cut, not refused,
	// so that a pasted essay still gets a clear answer.
	maxInput = 16 << 10
)

// Handle processes one event: it computes the new state and the replies,
// commits both with the event's ID in one durable transaction, and then sends
// the replies. A duplicate event ID has no effect. It returns an error only
// when nothing was committed, so the adapter may let the platform redeliver.
func (e *Engine) Handle(ctx context.Context, ev Event) error {
	select {
	case e.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-e.slots }()
	key := ev.Addr.Key()
	unlock, lerr := e.locks.lock(ctx, key)
	if lerr != nil {
		return lerr
	}
	defer unlock()

	eventID := ev.Addr.Platform + ":" + ev.ID
	// A redelivered event is caught by Commit, which is authoritative; the
	// work spent on it is thrown away, and it is rare enough not to matter.
	var err error
	// The cached copy is taken out while in use and put back only after a
	// successful commit, so it always equals what the store holds.
	conv := e.cache.take(key)
	if conv == nil {
		if conv, err = e.store.Load(ctx, key); err != nil {
			return fmt.Errorf("load conversation: %w", err)
		}
	}
	var msgs []Message
	var stepErr error
	e.compute(func() { msgs, stepErr = e.safeStep(conv, ev) })
	if stepErr != nil {
		// A bug must not become a dead end: keep the state as it was, record the
		// event, and tell the user in their language.
		e.log.Error("step failed", "platform", ev.Addr.Platform, "err", stepErr)
		if conv, err = e.store.Load(ctx, key); err != nil {
			return fmt.Errorf("load conversation: %w", err)
		}
		msgs = []Message{{Text: e.texts.T(e.langOf(conv, ev), "error.internal")}}
	}
	outs := make([]Outgoing, len(msgs))
	for i, m := range msgs {
		if err := m.Validate(); err != nil {
			return fmt.Errorf("invalid reply: %w", err)
		}
		outs[i] = Outgoing{To: ev.Addr, Msg: m}
	}
	queued, err := e.store.Commit(ctx, eventID, key, conv, outs)
	if errors.Is(err, ErrDuplicate) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("commit event: %w", err)
	}
	e.cache.put(key, conv)
	e.deliver(ctx, queued)
	return nil
}

// compute runs f on a short-lived goroutine, at most one per CPU at a time.
// Bounding the computing keeps the store's single writer from queueing behind
// hundreds of runnable events after every fsync; running it off the caller's
// goroutine keeps the many waiting callers' stacks small, as only the few
// computing goroutines grow deep ones, and those are freed when they end.
func (e *Engine) compute(f func()) {
	e.cpu <- struct{}{}
	done := make(chan struct{})
	go func() {
		defer func() { <-e.cpu; close(done) }()
		f()
	}()
	<-done
}

func (e *Engine) safeStep(c *Conversation, ev Event) (msgs []Message, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return e.step(c, ev), nil
}

// deliver sends committed messages in order and clears them from the outbox.
// A message that cannot be sent now stays in the outbox for Flush.
func (e *Engine) deliver(ctx context.Context, queued []Queued) {
	var done []uint64
	for _, q := range queued {
		e.mu.RLock()
		a := e.adapters[q.To.Platform]
		e.mu.RUnlock()
		if a == nil {
			continue
		}
		if err := a.Send(ctx, q.To, q.Msg); err != nil {
			e.log.Warn("send failed; kept in outbox", "platform", q.To.Platform, "outbox_id", q.ID, "err", err)
			break // keep the conversation's order: later messages wait too
		}
		done = append(done, q.ID)
	}
	if len(done) > 0 {
		if err := e.store.Delivered(ctx, done...); err != nil {
			e.log.Warn("mark delivered", "err", err)
		}
	}
}

// Flush sends what the outbox still holds, e.g. replies committed just before
// a crash. Call it after registering the adapters and before they run.
func (e *Engine) Flush(ctx context.Context) error {
	for {
		pending, err := e.store.Pending(ctx, 256)
		if err != nil {
			return fmt.Errorf("read outbox: %w", err)
		}
		var sendable []Queued
		e.mu.RLock()
		for _, q := range pending {
			if e.adapters[q.To.Platform] != nil {
				sendable = append(sendable, q)
			}
		}
		e.mu.RUnlock()
		if len(sendable) == 0 {
			return nil
		}
		e.deliver(ctx, sendable)
		if len(pending) < 256 {
			return nil
		}
	}
}

// Load returns a conversation's stored state.
func (e *Engine) Load(ctx context.Context, addr Address) (*Conversation, error) {
	return e.store.Load(ctx, addr.Key())
}

func (e *Engine) langOf(c *Conversation, ev Event) string {
	if c.Lang != "" {
		return c.Lang
	}
	hint := ev.LangHint
	if hint == "" {
		hint = c.Hint
	}
	l, _ := e.texts.Supported(hint)
	return l
}

func (e *Engine) zoneOf(c *Conversation) *time.Location {
	if c.TZ != "" {
		if loc, err := time.LoadLocation(c.TZ); err == nil {
			return loc
		}
	}
	return e.zone
}

// cleanInput makes any input safe to work with: valid UTF-8, no control
// characters, bounded length, trimmed.
func cleanInput(s string) string {
	if len(s) > maxInput {
		s = s[:maxInput]
	}
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// keyLocks serialises work per conversation without a lock per stored key:
// entries exist only while someone holds or waits for them.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	ch   chan struct{}
	refs int
}

func (k *keyLocks) lock(ctx context.Context, key string) (func(), error) {
	k.mu.Lock()
	l := k.m[key]
	if l == nil {
		l = &keyLock{ch: make(chan struct{}, 1)}
		k.m[key] = l
	}
	l.refs++
	k.mu.Unlock()
	release := func() {
		k.mu.Lock()
		l.refs--
		if l.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
	select {
	case l.ch <- struct{}{}:
		return func() { <-l.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}

// convCache keeps recently active conversations decoded. Only the holder of a
// conversation's key lock touches its entry.
type convCache struct {
	mu  sync.Mutex
	m   map[string]*Conversation
	max int
}

func (c *convCache) take(key string) *Conversation {
	if c.max < 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	conv := c.m[key]
	delete(c.m, key)
	return conv
}

func (c *convCache) put(key string, conv *Conversation) {
	if c.max < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m { // evict an arbitrary entry; map order is random
		if len(c.m) < c.max {
			break
		}
		delete(c.m, k)
	}
	c.m[key] = conv
}
