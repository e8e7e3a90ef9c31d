package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Tx is the transaction one step sees: the event's own conversation, and
// through the Tx any record (a team run) and any other chat's
// conversation, read and changed, and messages to any chats. Everything
// it changed is committed together with the event, in one durable
// transaction, or nothing is (see Store.CommitBatch); the messages leave
// only after that commit.
//
// A Tx is used by one step on one goroutine, and only while the step runs.
//
// Every record and conversation a Tx touches is locked for the rest of
// the transaction (see the package doc for the order that keeps it free of
// deadlocks). A step runs on one of the engine's few workers, where
// waiting for a lock could stall the engine; so when a key it needs is
// held by another transaction, the Tx method returns an error (ErrBusy),
// the step's work is thrown away, and the engine runs the step again once
// it holds that key too. A step therefore returns on any error of a Tx
// method and has no effects outside the Tx: it may run more than once.
type Tx struct {
	e    *Engine
	ctx  context.Context
	home string // the event's conversation ("" for Engine.Do), held throughout
	// inbox is the chat whose event it is, when that is linked to home
	// (see links.go): the event's ID is remembered there.
	inbox string
	conv  *Conversation // its state
	locks lockSet       // the other keys held
	// want are keys a step needed and could not take: it runs again
	// holding them. Once set, nothing more is taken.
	want  []string
	convs []txConv
	recs  []txRec
	outs  []Outgoing
	dead  bool // a step run only to learn who wrote (see Engine.damaged)
	// erased: the event's own conversation is erased with the commit.
	erased bool

	// What prepare hands to the commit.
	eventID string
	commit  []Outgoing
}

type txConv struct {
	key   string
	conv  *Conversation
	erase bool
}

type txRec struct {
	ref   RecordRef
	data  []byte // nil: none (deleted, or never stored)
	dirty bool
}

// ErrBusy is returned by a Tx method when a record or conversation it
// needs is held by another transaction: the step returns, and runs again
// once the engine holds it (the step never sees this run's outcome).
var ErrBusy = errors.New("transaction: key held by another; the step runs again")

var errTxDone = errors.New("transaction: not usable here")

// newTx starts a transaction whose caller holds home and, if any, the
// keys of held, which the transaction adds the keys it takes to.
func newTx(e *Engine, ctx context.Context, home string, held lockSet) *Tx {
	return &Tx{e: e, ctx: ctx, home: home, locks: held}
}

// Now is the engine's clock.
func (tx *Tx) Now() time.Time { return tx.e.clock.Now() }

// recordLockKey is the lock key of a record: conversation keys never hold
// a NUL, so the two never meet.
func recordLockKey(ref RecordRef) string { return "\x00" + ref.Kind + "\x00" + ref.ID }

// take makes sure the transaction holds key: taken already, or free now.
func (tx *Tx) take(key string) error {
	if tx.dead {
		return errTxDone
	}
	if _, ok := tx.locks.keys[key]; ok || key == tx.home {
		return nil
	}
	if tx.want == nil {
		if unlock, ok := tx.e.locks.tryLock(key); ok {
			if tx.locks.keys == nil {
				tx.locks.keys = map[string]func(){}
			}
			tx.locks.keys[key] = unlock
			return nil
		}
	}
	tx.want = append(tx.want, key)
	return ErrBusy
}

// Get reads the record kind/id into v (from JSON) and reports whether
// there is one; it sees what this transaction put.
func (tx *Tx) Get(kind, id string, v any) (bool, error) {
	r, err := tx.record(RecordRef{kind, id})
	if err != nil || r.data == nil {
		return false, err
	}
	if err := json.Unmarshal(r.data, v); err != nil {
		return false, fmt.Errorf("record %s: %w", r.ref, err)
	}
	return true, nil
}

// Put stores v (as JSON) as the record kind/id, with the commit.
func (tx *Tx) Put(kind, id string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("record %s/%s: %w", kind, id, err)
	}
	r, err := tx.record(RecordRef{kind, id})
	if err != nil {
		return err
	}
	r.data, r.dirty = data, true
	return nil
}

// Delete removes the record kind/id, with the commit.
func (tx *Tx) Delete(kind, id string) error {
	r, err := tx.record(RecordRef{kind, id})
	if err != nil {
		return err
	}
	r.data, r.dirty = nil, true
	return nil
}

// record returns the transaction's copy of a record, read on first use.
func (tx *Tx) record(ref RecordRef) (*txRec, error) {
	if err := ref.Validate(); err != nil {
		return nil, err
	}
	for i := range tx.recs {
		if tx.recs[i].ref == ref {
			return &tx.recs[i], nil
		}
	}
	if err := tx.take(recordLockKey(ref)); err != nil {
		return nil, err
	}
	data, err := tx.e.store.Record(tx.ctx, ref)
	if err != nil {
		return nil, err
	}
	tx.recs = append(tx.recs, txRec{ref: ref, data: data})
	return &tx.recs[len(tx.recs)-1], nil
}

// Conversation returns the conversation of chat (its user is ignored) to
// read and change: it is saved with the commit, its reminders included.
// The event's own conversation is the one the step has already. A chat
// linked to others of its person (see links.go) gives their one shared
// conversation, as the chat's own events do: a feature reaching a person
// through any of their chats (a share's owner, a meeting's member) sees
// the plan and settings they use now.
func (tx *Tx) Conversation(chat Address) (*Conversation, error) {
	key := chat.Key()
	if to := tx.e.links.primary(key); to != key {
		return tx.conversationAt(to, Address{})
	}
	return tx.conversationAt(key, chat)
}

// conversationAt is Conversation by key; chat, if known, is its address
// for a conversation never stored.
func (tx *Tx) conversationAt(key string, chat Address) (*Conversation, error) {
	if key == tx.home && tx.conv != nil {
		return tx.conv, nil
	}
	for _, c := range tx.convs {
		if c.key == key {
			return c.conv, nil
		}
	}
	if len(key) > MaxKeyLen {
		return nil, errors.New("transaction: conversation key too long")
	}
	if err := tx.take(key); err != nil {
		return nil, err
	}
	c := tx.e.cache.take(key)
	if c == nil {
		var err error
		if c, err = tx.e.safeLoad(tx.ctx, key); err != nil {
			return nil, err
		}
	}
	if c.Addr == (Address{}) {
		c.Addr = Address{Platform: chat.Platform, Workspace: chat.Workspace, Chat: chat.Chat}
	}
	tx.convs = append(tx.convs, txConv{key: key, conv: c})
	return c, nil
}

// Erase erases the conversation of chat (its user is ignored) with the
// commit: its state, archive and reminders, the IDs of its events, where
// its live messages are shown, and what the outbox holds for it. The
// event's own conversation may be erased too: a message to its chat is
// still sent after the commit, without writing the conversation again.
func (tx *Tx) Erase(chat Address) error {
	key := chat.Key()
	if key == tx.home {
		tx.erased = true
		return nil
	}
	if _, err := tx.conversationAt(key, chat); err != nil {
		return err
	}
	for i := range tx.convs {
		if tx.convs[i].key == key {
			tx.convs[i].erase = true
		}
	}
	return nil
}

// Send queues m for to, sent after the commit.
func (tx *Tx) Send(to Address, m Message) {
	if !tx.dead {
		tx.outs = append(tx.outs, Outgoing{To: to, Msg: m})
	}
}

// Push sends m to another chat as a message the bot sends on its own (an
// announcement, a timer's message): no event of that chat's would bring it
// again, so its send is recorded as attempted before it is made, and a
// resend after a crash is known for a possible duplicate (see Outgoing.Push).
func (tx *Tx) Push(to Address, m Message) {
	if !tx.dead {
		tx.outs = append(tx.outs, Outgoing{To: to, Msg: m, Push: true})
	}
}

// wide reports whether the commit needs a batch: the transaction changed
// more than its own conversation.
func (tx *Tx) wide() bool {
	if len(tx.convs) > 0 || tx.home == "" || tx.erased || tx.inbox != "" {
		return true
	}
	for _, r := range tx.recs {
		if r.dirty {
			return true
		}
	}
	return false
}

// discard forgets what the step changed besides its own conversation
// (the step failed or changed nothing); the keys stay held until the
// caller lets them go. Conversations taken from the cache are not put
// back: the store has their last committed state.
func (tx *Tx) discard() {
	tx.convs, tx.recs, tx.outs, tx.erased = nil, nil, nil, false
}

// keys are the keys the transaction holds and those it wanted.
// Not inlined: a map's iterator is large, and in the frame of a caller
// that goes on to wait for its commit it would sit on the stack of every
// waiting caller.
//
//go:noinline
func (tx *Tx) keys() []string {
	ks := make([]string, 0, 1+len(tx.locks.keys)+len(tx.want))
	if tx.home != "" {
		ks = append(ks, tx.home)
	}
	for k := range tx.locks.keys {
		ks = append(ks, k)
	}
	return append(ks, tx.want...)
}

// batch is what the transaction commits.
func (tx *Tx) batch() *Batch {
	b := &Batch{EventID: tx.eventID, Key: tx.home, Outs: tx.commit}
	if tx.inbox != "" {
		b.Key = tx.inbox
	}
	switch {
	case tx.erased:
		b.Convs = append(b.Convs, ConvWrite{Key: tx.home, Delete: true})
	case tx.conv != nil:
		b.Convs = append(b.Convs, ConvWrite{Key: tx.home, Conv: tx.conv})
	}
	for _, c := range tx.convs {
		if c.erase {
			b.Convs = append(b.Convs, ConvWrite{Key: c.key, Delete: true})
			continue
		}
		b.Convs = append(b.Convs, ConvWrite{Key: c.key, Conv: c.conv})
	}
	for _, r := range tx.recs {
		if r.dirty {
			b.Records = append(b.Records, RecordWrite{Ref: r.ref, Data: r.data, Delete: r.data == nil})
		}
	}
	return b
}

// lockSet is keys a transaction holds, each with what lets it go.
type lockSet struct {
	keys map[string]func()
}

// Not inlined, as Tx.keys.
//
//go:noinline
func (s lockSet) release() {
	for k, unlock := range s.keys {
		unlock()
		delete(s.keys, k)
	}
}

// maxRounds bounds how often a transaction starts again for keys it did
// not hold: each round holds more, so only keys that keep changing with
// every run (a bug) reach it.
const maxRounds = 16

// wide runs a transaction over several keys: it takes keys, and any key
// a run of it wanted, in ascending order on the caller's goroutine, where
// waiting is harmless, and runs it; run reports the keys it wanted and
// could not take, or nil once it is done.
func (e *Engine) wide(ctx context.Context, keys []string, run func(held lockSet) ([]string, error)) error {
	for range maxRounds {
		slices.Sort(keys)
		keys = slices.Compact(keys)
		held := lockSet{keys: make(map[string]func(), len(keys))}
		for _, k := range keys {
			unlock, err := e.locks.lock(ctx, k)
			if err != nil {
				held.release()
				return err
			}
			held.keys[k] = unlock
		}
		want, err := run(held)
		if want == nil || err != nil {
			held.release()
			return err
		}
		for k := range held.keys {
			keys = append(keys, k)
		}
		keys = append(keys, want...)
		held.release()
	}
	return errors.New("transaction: its keys kept changing")
}

// Do runs fn as one transaction that no conversation's event caused: a
// facilitator's "remind the others" to twenty chats, an announcement, a
// timer. What fn changes through tx (records, conversations, messages) is
// committed in one durable transaction, with eventID remembered so that
// the same eventID again has no effect (Do then returns nil). If fn
// returns an error, or panics, nothing is committed and Do returns it. fn
// runs on one of the engine's workers, possibly more than once (see Tx).
// Do waits for locks: call it from a goroutine of its own (a timer, an
// adapter), never from inside a step, which has its Tx for that.
func (e *Engine) Do(ctx context.Context, eventID string, fn func(tx *Tx) error) error {
	if eventID == "" {
		return errors.New("do: an event ID is required")
	}
	return e.wide(ctx, nil, func(held lockSet) ([]string, error) {
		// Its place is taken once its locks are held, as a turn's (see
		// Engine.enter), and given back before wide takes more.
		if err := e.enter(ctx); err != nil {
			return nil, err
		}
		defer e.leave()
		tx := newTx(e, ctx, "", held)
		tx.eventID = eventID
		var err error
		if cerr := e.compute(func() {
			defer func() {
				if r := recover(); r != nil {
					err = panicErr(r)
				}
			}()
			err = fn(tx)
			if tx.want == nil && err == nil {
				err = e.finishTx(tx, nil)
			}
		}); cerr != nil {
			return nil, cerr
		}
		if tx.want != nil {
			return tx.keys(), nil
		}
		if err != nil {
			return nil, err
		}
		return nil, e.commitWide(ctx, tx)
	})
}

// finishTx readies a transaction's changes for the commit, on the worker:
// the conversations it took are tidied and their reminders derived, and
// its messages follow outs and are checked.
func (e *Engine) finishTx(tx *Tx, outs []Outgoing) error {
	for _, c := range tx.convs {
		if err := e.safeSync(c.conv); err != nil {
			return err
		}
	}
	outs = append(outs, tx.outs...)
	for i, o := range outs {
		if err := o.Msg.Validate(); err != nil {
			return err
		}
		c := tx.conv
		for _, tc := range tx.convs {
			if tc.key == o.To.Key() {
				c = tc.conv
			}
		}
		if c == nil {
			c = &Conversation{}
		}
		outs[i].Msg.Text = e.commandRefs(o.To.Platform, c, o.Msg.Text)
	}
	tx.commit = outs
	return nil
}

// commitWide commits a transaction that changed more than one
// conversation, and hands its messages to the dispatcher.
//
//go:noinline
func (e *Engine) commitWide(ctx context.Context, tx *Tx) error {
	b := tx.batch()
	if tx.home == "" && len(b.Convs) == 0 && len(b.Records) == 0 && len(b.Outs) == 0 {
		// A change no chat's event caused (Engine.Do) that found nothing
		// to do (a retention sweep with nothing expired) has nothing to
		// keep: run again, it does nothing again.
		return nil
	}
	if len(b.Outs) > 0 {
		e.out.commits.RLock() // see outbox.commits
		defer e.out.commits.RUnlock()
	}
	queued, err := e.store.CommitBatch(ctx, b)
	if errors.Is(err, ErrDuplicate) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("commit event: %w", err)
	}
	passKillPoint(KillAfterCommit) // before its messages can be sent
	e.links.note(b.Records)
	var erased []string
	for _, c := range b.Convs {
		if c.Delete {
			erased = append(erased, c.Key) // out of the cache since the Tx took it
			continue
		}
		e.cache.put(c.Key, c.Conv)
		e.noteReminders(c.Conv)
	}
	if len(erased) > 0 {
		e.out.recheck(erased)
	}
	if len(queued) > 0 {
		return e.compute(func() { e.enqueue(queued) })
	}
	return nil
}
