package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
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
	// MaxInFlight bounds the events being computed and committed at once
	// (default 384); further callers wait, holding their conversation's
	// lock but no memory of the turn (see Engine.enter). The default is
	// twice the store's largest batch (192 commits), so that one batch is
	// computed while the one before it commits; more only costs memory.
	MaxInFlight int
	// CacheSize is how many recently active conversations are kept decoded in
	// memory (default 10000); negative turns the cache off.
	CacheSize int
	// Reminders sets when reminders go out.
	Reminders ReminderConfig
	// FreshAfterDamage lets a conversation whose stored record cannot be
	// read start afresh when its chat writes again (the record stays set
	// aside). Without it the chat is told so on every event and nothing
	// is written over the record, until the operator allows it.
	FreshAfterDamage bool
	// Observer hears what the engine does, for metrics; nil: nobody.
	Observer Observer
	// Features are the parts of the dialogue (bot/features.All()); an
	// engine without them has only the idle menu, /help and /cancel.
	Features []Feature
}

// Engine runs the dialogues. Events of one conversation are handled one at a
// time and in order; events of different conversations run in parallel, at
// most MaxInFlight at once.
type Engine struct {
	store Store
	flows *flows.Catalog
	texts *Texts
	clock Clock
	zone  *time.Location
	log   *slog.Logger
	vocab *dateVocab
	words *words
	slots chan struct{}
	// drawing bounds the files made at once when sent (see madeFiles): a
	// picture's canvas is megabytes, and a thousand lanes may send at once.
	drawing   chan struct{}
	jobs      chan *job
	closeOnce sync.Once
	bg        sync.WaitGroup // work started by the engine itself
	bgMu      sync.Mutex     // orders background starts against Close
	closed    bool
	quit      chan struct{}
	locks     keyLocks
	links     links
	cache     convCache
	mu        sync.RWMutex
	adapters  map[string]Adapter

	zones    zoneCache
	rem      ReminderConfig
	kick     chan struct{}
	out      outbox
	nextWake atomic.Int64
	stats    stats
	fresh    bool // Config.FreshAfterDamage
	obs      Observer
	reg      *registry
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
		cfg.MaxInFlight = 384
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
	reg, err := newRegistry(cfg.Features)
	if err != nil {
		return nil, err
	}
	cfg.Reminders.defaults()
	e := &Engine{
		store: cfg.Store, flows: cfg.Flows, texts: cfg.Texts, clock: cfg.Clock, zone: cfg.Zone,
		log: cfg.Log, vocab: newDateVocab(cfg.Texts), slots: make(chan struct{}, cfg.MaxInFlight), drawing: make(chan struct{}, runtime.GOMAXPROCS(0)), jobs: make(chan *job), quit: make(chan struct{}),
		locks: keyLocks{m: map[string]*keyLock{}}, adapters: map[string]Adapter{},
		cache: convCache{m: map[string]*Conversation{}, max: cfg.CacheSize},
		rem:   cfg.Reminders, kick: make(chan struct{}, 1),
		out: newOutbox(), reg: reg,
	}
	e.fresh = cfg.FreshAfterDamage
	e.obs = cfg.Observer
	if e.obs == nil {
		e.obs = NopObserver{}
	}
	e.words = newWords(cfg.Texts, cfg.Flows)
	if err := e.links.load(context.Background(), cfg.Store); err != nil {
		return nil, err
	}
	e.nextWake.Store(math.MaxInt64)
	for range runtime.GOMAXPROCS(0) {
		go func() {
			for {
				select {
				case j := <-e.jobs:
					j.run()
				case <-e.quit:
					return
				}
			}
		}()
	}
	return e, nil
}

// Register makes an adapter the way out to its platform. Call it before
// events are handled: what the outbox holds for the platform is read by
// the dispatcher's next scan.
func (e *Engine) Register(a Adapter) {
	e.mu.Lock()
	e.adapters[a.Platform()] = a
	e.mu.Unlock()
	e.out.register(a.Platform())
}

// registered reports whether a platform has an adapter.
func (e *Engine) registered(platform string) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.adapters[platform] != nil
}

const (
	// maxInput caps what is read of one message: a longer typed message gets
	// a clear answer that it is too long; longer form fields are cut.
	maxInput = 16 << 10
)

// Handle processes one event: it computes the new state and the replies,
// commits both with the event's ID in one durable transaction, and hands
// the replies to the outbox dispatcher, which sends them after Handle has
// returned (see outbox.go). A duplicate event ID has no effect. It returns
// an error only when nothing was committed, so the adapter may let the
// platform redeliver; once it returns nil, the adapter acknowledges the
// event.
func (e *Engine) Handle(ctx context.Context, ev Event) error {
	t0 := time.Now()
	err := e.handle(ctx, &ev)
	outcome := TurnOK
	if err != nil {
		outcome = TurnError
	}
	e.observe().Turn(ev.Addr.Platform, outcome, time.Since(t0))
	return err
}

// Observer returns what hears the engine's doings (never nil), for the
// adapters to report theirs to.
func (e *Engine) Observer() Observer { return e.observe() }

// observe is the engine's Observer, a no-op one for an engine built
// without New (tests).
func (e *Engine) observe() Observer {
	if e.obs == nil {
		return NopObserver{}
	}
	return e.obs
}

// handle takes the event by pointer: the caller's goroutine waits in the
// commit below, and every copy of the event in its frames would add to the
// stack each of the many waiting callers keeps (see compute).
func (e *Engine) handle(ctx context.Context, ev *Event) error {
	if ev.MovedTo != "" {
		return e.move(ctx, ev)
	}
	key, id := keysOf(ev)
	fn, fallback := e.eventSteps(ev)
	for {
		err := e.applyChange(&change{ctx: ctx, inbox: key, key: e.links.primary(key), eventID: id, fn: fn, fallback: fallback})
		if !errors.Is(err, errRelinked) {
			return err
		}
	}
}

// eventSteps are the change an event makes to its conversation, and the
// one made instead if that fails. Not inlined: making the closures would
// otherwise sit in handle's frame, under every wait of the turn.
//
//go:noinline
func (e *Engine) eventSteps(ev *Event) (stepFunc, func(*Conversation) []Outgoing) {
	return func(tx *Tx, c *Conversation) ([]Outgoing, error) {
			if ev.Replayed && !ev.At.IsZero() && ev.At.Before(c.LastEventAt) {
				return nil, errHandled
			}
			noteEventAt(c, ev)
			msgs, err := e.safeStep(tx, c, *ev)
			if err != nil {
				return nil, err
			}
			return addressed(ev.Addr, msgs), nil
		}, func(c *Conversation) []Outgoing {
			noteEventAt(c, ev)
			return addressed(ev.Addr, []Message{{Text: e.texts.T(e.langOf(c, *ev), "error.internal")}})
		}
}

// keysOf is the conversation's key and the event's ID in the store. Not
// inlined: building the strings would otherwise sit in handle's frame.
//
//go:noinline
func keysOf(ev *Event) (key, id string) {
	return ev.Addr.Key(), ev.Addr.Platform + ":" + ev.ID
}

// noteEventAt keeps the newest platform time of the events committed.
func noteEventAt(c *Conversation, ev *Event) {
	if ev.At.After(c.LastEventAt) {
		c.LastEventAt = ev.At.UTC()
	}
}

// move carries a conversation over to the chat it continues as.
func (e *Engine) move(ctx context.Context, ev *Event) error {
	to := ev.Addr
	to.Chat, to.User = ev.MovedTo, ""
	from, toKey := ev.Addr.Key(), to.Key()
	if from == toKey {
		return nil
	}
	// Both locks, always in the same order, so two moves cannot deadlock.
	first, second := from, toKey
	if second < first {
		first, second = second, first
	}
	u1, err := e.locks.lock(ctx, first)
	if err != nil {
		return err
	}
	defer u1()
	u2, err := e.locks.lock(ctx, second)
	if err != nil {
		return err
	}
	defer u2()
	conv := e.cache.take(from)
	if conv == nil {
		if conv, err = e.store.Load(ctx, from); err != nil {
			return fmt.Errorf("load conversation: %w", err)
		}
	}
	if conv.Run == nil && len(conv.Plan.Measures) == 0 {
		e.cache.put(from, conv)
		return nil // nothing to carry over
	}
	target := e.cache.take(toKey)
	if target == nil {
		if target, err = e.store.Load(ctx, toKey); err != nil {
			e.cache.put(from, conv)
			return fmt.Errorf("load conversation: %w", err)
		}
	}
	if target.Run != nil || len(target.Plan.Measures) > 0 {
		// The new chat has a check or plan of its own already (its first
		// messages came before the move): keep both, move nothing.
		e.log.Warn("conversation not moved: the new chat has its own", "platform", ev.Addr.Platform, "ref", KeyHash(toKey))
		e.cache.put(from, conv)
		e.cache.put(toKey, target)
		return nil
	}
	conv.Addr = to
	err = e.store.Move(ctx, ev.Addr.Platform+":"+ev.ID, from, toKey, conv)
	if errors.Is(err, ErrDuplicate) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("move conversation: %w", err)
	}
	e.cache.put(toKey, conv)
	return nil
}

func addressed(to Address, msgs []Message) []Outgoing {
	outs := make([]Outgoing, len(msgs))
	for i, m := range msgs {
		outs[i] = Outgoing{To: to, Msg: m}
	}
	return outs
}

// errRecommit tells apply to store the conversation again under a fresh
// event ID, without messages.
var errRecommit = errors.New("recommit")

// errHandled tells apply that the event was handled before: nothing changes.
var errHandled = errors.New("handled before")

// stepFunc computes a change of the conversation c, and through tx of
// anything else, and returns the messages to send.
type stepFunc func(tx *Tx, c *Conversation) ([]Outgoing, error)

// apply is applyTx for a change of one conversation only.
func (e *Engine) apply(ctx context.Context, key, eventID string, fn func(*Conversation) ([]Outgoing, error), fallback func(*Conversation) []Outgoing) error {
	return e.applyTx(ctx, key, eventID, func(_ *Tx, c *Conversation) ([]Outgoing, error) { return fn(c) }, fallback)
}

// applyTx runs one change of a conversation: under the conversation's lock
// it computes the new state and messages with fn, commits them with
// eventID, and hands the messages to the dispatcher, in commit order. If fn
// fails (a bug), the state stays as it was and the messages of fallback, if
// any, are committed instead, so that the event is not retried forever and
// the user hears something. A change that reaches other records or
// conversations through its Tx commits them all at once (commitWide); one
// that needed a key held by another transaction runs again holding every
// key it needs (see wide).
func (e *Engine) applyTx(ctx context.Context, key, eventID string, fn stepFunc, fallback func(*Conversation) []Outgoing) error {
	return e.applyAt(ctx, key, key, eventID, fn, fallback)
}

// applyAt is applyTx for an event of the chat inbox, whose events run
// on the conversation key (its primary one, see links.go): the event's ID
// is remembered in inbox's. If inbox is no longer linked to key once its
// lock is held, it returns errRelinked.
func (e *Engine) applyAt(ctx context.Context, inbox, key, eventID string, fn stepFunc, fallback func(*Conversation) []Outgoing) error {
	return e.applyChange(&change{ctx: ctx, inbox: inbox, key: key, eventID: eventID, fn: fn, fallback: fallback})
}

// change is what applyAt was asked to do. It is on the heap, so that the
// frames under the caller's waits (for its turn, a worker, the commit)
// carry one pointer instead of a dozen words each: a thousand callers
// waiting at once keep a thousand stacks, which stay at their first size
// only if the frames on them are small (see prepare).
type change struct {
	ctx                 context.Context
	inbox, key, eventID string
	fn                  stepFunc
	fallback            func(*Conversation) []Outgoing
}

//go:noinline
func (e *Engine) applyChange(c *change) error {
	unlock, err := e.locks.lock(c.ctx, c.key)
	if err != nil {
		return err
	}
	if e.links.primary(c.inbox) != c.key {
		unlock()
		return errRelinked
	}
	if err := e.enter(c.ctx); err != nil {
		unlock()
		return err
	}
	tx, err := e.prepare(c, lockSet{})
	switch {
	case err != nil || tx == nil:
	case tx.want != nil:
		keys := tx.keys()
		tx.locks.release()
		e.leave()
		unlock()
		return e.applyWide(c, keys)
	case tx.wide():
		err = e.commitWide(c.ctx, tx)
	default:
		err = e.commitTurn(c, tx)
	}
	if tx != nil {
		tx.locks.release()
	}
	e.leave()
	unlock()
	return err
}

// enter takes one of the MaxInFlight places of the turns being computed
// and committed, and leave gives it back. A turn takes its place once it
// holds its conversation's lock, never before: events waiting for a busy
// chat's lock hold no place, so they cannot keep other chats waiting. And
// a turn holding a place never waits for a lock (a Tx only tries keys;
// applyWide gives the place back before taking more), so waiting for a
// place while holding locks cannot deadlock. The bound is what keeps a
// crowd's memory small: each turn in flight holds its new state, its
// encoded record and its share of the store's transaction, while a turn
// waiting here holds none of it, on a shallow stack.
func (e *Engine) enter(ctx context.Context) error {
	select {
	case e.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (e *Engine) leave() { <-e.slots }

// applyWide runs a change that needs the keys keys (its own conversation's
// among them), taken in order (see wide).
//
//go:noinline
func (e *Engine) applyWide(c *change, keys []string) error {
	return e.wide(c.ctx, keys, func(held lockSet) ([]string, error) {
		if e.links.primary(c.inbox) != c.key {
			return nil, errRelinked
		}
		if err := e.enter(c.ctx); err != nil {
			return nil, err
		}
		defer e.leave()
		tx, err := e.prepare(c, held)
		switch {
		case err != nil || tx == nil:
			return nil, err
		case tx.want != nil:
			return tx.keys(), nil
		case tx.wide():
			return nil, e.commitWide(c.ctx, tx)
		}
		return nil, e.commitTurn(c, tx)
	})
}

// prepare computes a turn of apply: the new state and the messages to
// commit, and the event ID to commit them under, in the returned Tx. A
// nil Tx means there is nothing to commit; one with keys wanted (Tx.want)
// was thrown away for keys held elsewhere. The caller holds key and the
// keys of held, and lets go of the keys the Tx took. It is apart from
// apply, as commitTurn is, so that its frame is gone while the caller
// waits for the commit: a thousand callers waiting at once keep a
// thousand stacks, which stay at their first, smallest size only if the
// frames on them are small.
//
//go:noinline
func (e *Engine) prepare(c *change, held lockSet) (*Tx, error) {
	// A redelivered event is caught by Commit, which is authoritative; the
	// work spent on it is thrown away, and it is rare enough not to matter.
	// The cached copy is taken out while in use and put back only after a
	// successful commit, so it always equals what the store holds.
	// Reading and decoding a conversation the cache does not hold runs on
	// a worker too: it is the deepest call a turn makes.
	conv := e.cache.take(c.key)
	var tx *Tx
	var stepErr, loadErr error
	if err := e.compute(func() {
		tx = newTx(e, c.ctx, c.key, held)
		if c.inbox != c.key {
			tx.inbox = c.inbox
		}
		if conv == nil {
			if conv, loadErr = e.safeLoad(c.ctx, c.key); loadErr != nil {
				if conv = e.freshAfter(loadErr); conv == nil {
					return
				}
			}
		}
		tx.conv = conv
		defer func() {
			if r := recover(); r != nil { // a bug must not take the process down
				stepErr = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
			}
		}()
		var outs []Outgoing
		if outs, stepErr = c.fn(tx, conv); stepErr == nil {
			stepErr = e.safeSync(conv)
		}
		if tx.want != nil {
			return // run again, holding more
		}
		if err := e.finishTx(tx, outs); stepErr == nil {
			stepErr = err
		}
	}); err != nil {
		if tx != nil {
			tx.locks.release()
		}
		return nil, err
	}
	if tx.want != nil {
		return tx, nil
	}
	if loadErr != nil {
		if conv == nil {
			return nil, e.damaged(c.ctx, c.key, c.eventID, c.fn, loadErr)
		}
		var err error
		if tx.commit, err = e.startedAfresh(conv, tx.commit, stepErr, loadErr); err != nil {
			tx.locks.release()
			return nil, err
		}
	}
	tx.eventID = c.eventID
	if errors.Is(stepErr, errHandled) { // fn changed nothing
		e.cache.put(c.key, conv)
		tx.locks.release()
		return nil, nil
	}
	if errors.Is(stepErr, errRecommit) {
		// Nothing happened, but the state must be written again (to drop a
		// stale reminder from the index): under an ID of its own, so that
		// the event's real ID stays free for when it does happen.
		tx.eventID += ":noop:" + strconv.FormatInt(e.clock.Now().UnixNano(), 36)
		tx.commit, stepErr = nil, nil
		tx.discard()
	}
	if stepErr != nil {
		e.log.Error("step failed", "ref", KeyHash(c.key), "err", stepErr)
		tx.discard()
		var err error
		if tx.conv, err = e.store.Load(c.ctx, c.key); err != nil {
			tx.locks.release()
			return nil, fmt.Errorf("load conversation: %w", err)
		}
		tx.commit = nil
		if c.fallback != nil {
			tx.commit = c.fallback(tx.conv)
		}
	}
	return tx, nil
}

// commitTurn commits what prepare computed and hands the messages to the
// dispatcher, in commit order: the conversation's lock is held.
//
//go:noinline
func (e *Engine) commitTurn(c *change, tx *Tx) error {
	if len(tx.commit) > 0 {
		e.out.commits.RLock() // see outbox.commits
		defer e.out.commits.RUnlock()
	}
	queued, err := e.store.Commit(c.ctx, tx.eventID, c.key, tx.conv, tx.commit)
	if err != nil {
		return commitErr(err)
	}
	return e.committed(c.key, tx.conv, queued)
}

// commitErr is what a failed commit means for the turn: nothing, if the
// event was committed before. Apart from commitTurn for its frame's sake.
//
//go:noinline
func commitErr(err error) error {
	if errors.Is(err, ErrDuplicate) {
		return nil
	}
	return fmt.Errorf("commit event: %w", err)
}

// committed notes a committed turn and hands its messages to the
// dispatcher. Apart from commitTurn for its frame's sake.
//
//go:noinline
func (e *Engine) committed(key string, conv *Conversation, queued []Queued) error {
	passKillPoint(KillAfterCommit) // before its messages can be sent
	e.cache.put(key, conv)
	e.noteReminders(conv)
	if len(queued) > 0 {
		// On a worker: handing messages to their lanes allocates, and the
		// runtime's allocation path is deep enough to double a waiting
		// caller's stack.
		return e.compute(func() { e.enqueue(queued) })
	}
	return nil
}

// compute runs f on one of the engine's workers, one per CPU. Bounding the
// computing keeps the store's single writer from queueing behind hundreds
// of runnable events after every fsync; running it off the caller's
// goroutine keeps the many waiting callers' stacks small, while the few
// workers keep the deep stacks they grew.
func (e *Engine) compute(f func()) error {
	j := jobPool.Get().(*job)
	j.f = f
	select {
	case e.jobs <- j:
	case <-e.quit:
		j.f = nil
		jobPool.Put(j)
		return ErrClosed
	}
	<-j.done
	j.f = nil
	jobPool.Put(j)
	return nil
}

// job is a function for the workers and the channel its caller waits on,
// kept for reuse: a turn hands two or three to the workers.
type job struct {
	f    func()
	done chan struct{}
}

var jobPool = sync.Pool{New: func() any { return &job{done: make(chan struct{}, 1)} }}

// run runs the job and tells its caller, even if f panics (the caller
// recovers nothing; a panic here would be a bug in the engine itself).
func (j *job) run() {
	defer func() { j.done <- struct{}{} }()
	j.f()
}

// ErrClosed is returned for events handed to a closed engine.
var ErrClosed = errors.New("engine closed")

// Close stops the engine: the dispatcher starts no new send and gives the
// sends in progress a few seconds to finish (what is not sent stays in the
// store's outbox for the next start); then, after what the engine started
// itself has ended, its workers stop. Events handed to it afterwards get
// ErrClosed.
func (e *Engine) Close() {
	e.closeOnce.Do(func() {
		e.bgMu.Lock()
		e.closed = true
		e.bgMu.Unlock()
		e.out.close()
		e.bg.Wait()
		close(e.quit)
	})
}

// background runs f on a goroutine Close waits for, unless closed.
func (e *Engine) background(f func()) {
	e.bgMu.Lock()
	defer e.bgMu.Unlock()
	if e.closed {
		return
	}
	e.bg.Add(1)
	go func() {
		defer e.bg.Done()
		f()
	}()
}

// panicErr describes a recovered panic for the log: a runtime error by its
// message, anything else only by its type, since its text might hold what
// a user wrote; and the stack, which holds no values.
func panicErr(r any) error {
	msg := fmt.Sprintf("%T", r)
	if re, ok := r.(runtime.Error); ok {
		msg = re.Error()
	}
	return fmt.Errorf("panic: %s\n%s", msg, debug.Stack())
}

func (e *Engine) safeStep(tx *Tx, c *Conversation, ev Event) (msgs []Message, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicErr(r)
		}
	}()
	if c.Addr == (Address{}) || c.Addr.Chat != ev.Addr.Chat || c.Addr.Platform != ev.Addr.Platform || c.Addr.Workspace != ev.Addr.Workspace {
		c.Addr = Address{Platform: ev.Addr.Platform, Workspace: ev.Addr.Workspace, Chat: ev.Addr.Chat, User: ev.Addr.User}
	}
	return e.step(c, ev, tx), nil
}

func (e *Engine) safeSync(c *Conversation) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicErr(r)
		}
	}()
	c.Tidy()
	e.syncReminders(c, e.clock.Now())
	return nil
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
	for _, name := range []string{c.TZ, c.ZoneHint} {
		if name == "" {
			continue
		}
		if loc, err := e.zones.load(name); err == nil {
			return loc
		}
	}
	return e.zone
}

// zoneCache keeps loaded time zones: time.LoadLocation reads and parses the
// zone data every time. Names come from users and platforms, so it stops
// growing at maxZones (the IANA database has about 600).
type zoneCache struct {
	m sync.Map
	n atomic.Int64
}

const maxZones = 1024

func (z *zoneCache) load(name string) (*time.Location, error) {
	if loc, ok := z.m.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, ok := loadZone(name) // "UTC+5:30" too, which LoadLocation does not know
	if !ok {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	if z.n.Load() < maxZones {
		if _, loaded := z.m.LoadOrStore(name, loc); !loaded {
			z.n.Add(1)
		}
	}
	return loc, nil
}

// cleanInput makes any input safe to work with: valid UTF-8, bounded length,
// trimmed, one line, and nothing invisible that could change how the text
// around it is shown. Control characters go; line and paragraph breaks of
// every kind (U+2028, U+0085, form feed …) become spaces; format characters
// (bidi overrides and isolates, zero-width spaces, soft hyphens, invisible
// tags) go, except a zero-width joiner or non-joiner between two visible
// non-ASCII characters (emoji sequences such as 👩‍👩‍👧, Indic and Persian
// words) and the tags of a subdivision flag such as 🏴󠁧󠁢󠁳󠁣󠁴󠁿.
func cleanInput(s string) string {
	if len(s) > maxInput {
		s = s[:maxInput]
	}
	s = strings.ToValidUTF8(s, "")
	if isPlain(s) {
		return strings.TrimSpace(s)
	}
	rs := []rune(s)
	out := make([]rune, 0, len(rs))
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == 0x85 || r == 0x2028 || r == 0x2029:
			out = append(out, ' ')
		case unicode.IsControl(r):
		case r == 0x200C || r == 0x200D: // zero-width (non-)joiner
			if len(out) > 0 && i+1 < len(rs) && joins(out[len(out)-1]) && joins(rs[i+1]) {
				out = append(out, r)
			}
		case r == blackFlag && i+1 < len(rs) && isTag(rs[i+1]):
			j := i + 1
			for j < len(rs) && isTag(rs[j]) && rs[j] != cancelTag {
				j++
			}
			if j < len(rs) && rs[j] == cancelTag && j-i > 1 { // a whole flag: keep it
				out = append(out, rs[i:j+1]...)
				i = j
				continue
			}
			out = append(out, r) // the flag without its stray tags
		case unicode.Is(unicode.Cf, r) || invisibleFiller(r):
		default:
			out = append(out, r)
		}
	}
	return strings.TrimSpace(string(out))
}

// isPlain reports whether s is printable ASCII, which needs no cleaning
// beyond trimming: most input is.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

const (
	blackFlag = 0x1F3F4 // 🏴, followed by tags naming a region
	cancelTag = 0xE007F
)

func isTag(r rune) bool { return r >= 0xE0020 && r <= 0xE007F }

// joins reports whether a zero-width joiner next to r can be meant: r is a
// visible character outside ASCII (an emoji, a variation selector, a letter
// of a joining script).
func joins(r rune) bool {
	return r > 0x7f && unicode.IsGraphic(r) && !unicode.IsSpace(r)
}

// invisibleFiller reports letters that show as nothing, used to make a name
// look empty: the Hangul fillers outside of composed Korean text.
func invisibleFiller(r rune) bool { return r == 0x3164 || r == 0xFFA0 }

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
	l, release := k.ref(key)
	select {
	case l.ch <- struct{}{}:
		return func() { <-l.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}

// tryLock takes key if it is free, without waiting.
func (k *keyLocks) tryLock(key string) (func(), bool) {
	l, release := k.ref(key)
	select {
	case l.ch <- struct{}{}:
		return func() { <-l.ch; release() }, true
	default:
		release()
		return nil, false
	}
}

// ref returns key's lock, counted as in use until release is called.
func (k *keyLocks) ref(key string) (*keyLock, func()) {
	k.mu.Lock()
	l := k.m[key]
	if l == nil {
		l = &keyLock{ch: make(chan struct{}, 1)}
		k.m[key] = l
	}
	l.refs++
	k.mu.Unlock()
	return l, func() {
		k.mu.Lock()
		l.refs--
		if l.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
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

// Command is one of the bot's commands with its description, for platforms
// that show a command menu.
type Command struct {
	Name        string // without the slash
	Description string
}

// Commands lists the commands every platform offers, in menu order, with
// their descriptions in lang.
func (e *Engine) Commands(lang string) []Command {
	lang, _ = e.texts.Supported(lang) // a platform's "pt" or "fr-CA"
	cmds := make([]Command, len(e.reg.names))
	for i, n := range e.reg.names {
		cmds[i] = Command{Name: n, Description: e.texts.T(lang, "command.desc."+n)}
	}
	return cmds
}

// commandPrefix is the command a platform's adapter puts before ours
// ("/ampel"), or "".
func (e *Engine) commandPrefix(platform string) string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if sc, ok := e.adapters[platform].(Subcommander); ok {
		return sc.CommandPrefix()
	}
	return ""
}

// forms reports whether a platform's adapter shows forms.
func (e *Engine) forms(platform string) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	fa, ok := e.adapters[platform].(FormAdapter)
	return ok && fa.Forms()
}

// typed reports whether a platform's adapter has its buttons typed.
func (e *Engine) typed(platform string) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	ty, ok := e.adapters[platform].(Typer)
	return ok && ty.TypesButtons()
}

// Langs returns the languages the bot speaks, default first.
func (e *Engine) Langs() []string { return e.texts.Langs() }

// PlanView renders a conversation's action plan as a message in lang, for
// places outside the dialogue that show it (Slack's App Home). It changes
// nothing.
func (e *Engine) PlanView(ctx context.Context, addr Address, lang string) (Message, error) {
	c, err := e.store.Load(ctx, e.links.primary(addr.Key()))
	if err != nil {
		return Message{}, fmt.Errorf("load conversation: %w", err)
	}
	var m Message
	if plan := e.reg.modes["plan"]; plan != nil { // the question of the mode called plan
		m, _ = plan.Ask(e.offTurn(c, lang))
	}
	m.Buttons = nil // the plan's buttons belong to the dialogue
	return m, nil
}
