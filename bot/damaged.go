package bot

import (
	"context"
	"errors"
	"fmt"
)

// A conversation whose stored record cannot be read (ErrDamaged) hurts
// only its own chat: the store has set the record aside, the chat is told
// with a short apology when it writes again, and every other conversation
// goes on. Whether the chat starts afresh is the operator's choice
// (Config.FreshAfterDamage); until then its record stays as it is, and
// each event of the chat is recorded and answered with the apology, so
// that no platform redelivers it forever.

// safeLoad is Store.Load with a panic (a store meeting a damaged page)
// reported as ErrDamaged instead of ending the process.
func (e *Engine) safeLoad(ctx context.Context, key string) (c *Conversation, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("%w: load panicked: %v", ErrDamaged, r)
		}
	}()
	return e.store.Load(ctx, key)
}

// freshAfter returns the new conversation to go on with after loadErr, or
// nil when there is none: the error is not damage, or the operator has
// not allowed a new start.
func (e *Engine) freshAfter(loadErr error) *Conversation {
	if e.fresh && errors.Is(loadErr, ErrDamaged) {
		return &Conversation{}
	}
	return nil
}

// startedAfresh finishes a turn that ran on a new conversation in place of
// a damaged one: its replies start with the apology. Only a user's event
// starts afresh; anything else (a reminder, a switch-off) leaves the
// record alone and fails with the load's error.
func (e *Engine) startedAfresh(c *Conversation, outs []Outgoing, stepErr, loadErr error) ([]Outgoing, error) {
	if c.Addr.Chat == "" || stepErr != nil {
		return nil, fmt.Errorf("load conversation: %w", loadErr)
	}
	e.noteDamaged(c.Addr, true)
	return append([]Outgoing{e.apology(c, "error.damaged.fresh")}, outs...), nil
}

// damaged answers an event of a conversation that could not be loaded and
// may not start afresh. A damaged one keeps its record; the event is
// recorded and its chat gets the apology. Anything but a user's event, and
// any other load error, is returned.
func (e *Engine) damaged(ctx context.Context, key, eventID string, fn stepFunc, loadErr error) error {
	if !errors.Is(loadErr, ErrDamaged) {
		return fmt.Errorf("load conversation: %w", loadErr)
	}
	// The step runs on an empty conversation only to learn who wrote, in
	// which language; what it decided is thrown away.
	c := &Conversation{}
	func() {
		defer func() { _ = recover() }()
		_, _ = fn(&Tx{e: e, ctx: ctx, dead: true}, c)
	}()
	if c.Addr.Chat == "" {
		return fmt.Errorf("load conversation: %w", loadErr)
	}
	e.noteDamaged(c.Addr, false)
	e.out.commits.RLock() // see outbox.commits
	defer e.out.commits.RUnlock()
	queued, err := e.store.Commit(ctx, eventID, key, nil, []Outgoing{e.apology(c, "error.damaged.wait")})
	if errors.Is(err, ErrDuplicate) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("commit event: %w", err)
	}
	e.enqueue(queued)
	return nil
}

func (e *Engine) apology(c *Conversation, id string) Outgoing {
	return Outgoing{To: c.Addr, Msg: Message{Text: e.texts.T(e.langOf(c, Event{}), id)}}
}

// noteDamaged counts and logs an event that met a damaged conversation;
// the store's log names the record by a reference, never its chat.
func (e *Engine) noteDamaged(to Address, fresh bool) {
	e.stats.damaged.Add(1)
	e.log.Warn("event of a conversation whose record is damaged", "platform", to.Platform, "ref", KeyHash(to.Key()), "started_afresh", fresh)
}
