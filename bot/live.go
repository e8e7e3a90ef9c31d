package bot

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Live messages (Message.Live) change in place: a team's progress, later
// an RSVP count.
//
// The first message with a live key to a chat is posted and the store
// remembers the platform's reference to it, with the outbox ID of the
// state it shows (LiveRef). Every later message with that key to that
// chat replaces its text and buttons (Editor.Edit). The dispatcher sends
// a chat's messages in outbox order, which is commit order, and:
//   - drops a live message when a newer one with the same key waits behind
//     it in the chat's lane: only the newest state is shown;
//   - drops one whose ID is not above the ID of the state shown (an older
//     state that reached its lane late, or one sent before a restart);
//   - lets a live message's send wait until a second has passed since
//     its last one (the chat's lane waits with it, in the timer queue),
//     so that it is edited at most once a second; meanwhile newer states
//     replace it, and the newest is sent.
//
// A platform whose adapter is no Editor gets each state as a new message,
// as does one whose edit is refused because the message is gone
// (ErrMessageGone), which then has a new reference; a live message of low
// priority (Outgoing.Low) is dropped there instead.

// Editor is an Adapter that can change a message it sent.
type Editor interface {
	Adapter
	// SendLive delivers a live message as Send does and returns the
	// platform's reference to it (what Edit is given).
	SendLive(ctx context.Context, to Address, m Message) (ref string, err error)
	// Edit replaces the text and buttons of the message ref in to's chat
	// with m's. An edit that changes nothing succeeds. It returns an
	// error wrapping ErrMessageGone when the message can no longer be
	// edited (deleted); the engine then sends m as a new message.
	Edit(ctx context.Context, to Address, ref string, m Message) error
}

// ErrMessageGone is wrapped by Editor.Edit errors for a message that can
// no longer be edited.
var ErrMessageGone = errors.New("message gone")

// LiveRef is where a live message is shown.
type LiveRef struct {
	Ref string    // the platform's reference ("" where it cannot edit)
	ID  uint64    // the outbox ID of the state it shows
	At  time.Time // when it was last posted or edited
}

// liveEvery is the least time between two sends of one live message.
const liveEvery = time.Second

// maxLive bounds the live messages whose state the dispatcher keeps in
// memory; beyond it, it reads them from the store again.
const maxLive = 4096

// liveKey names a live message: its chat and key.
type liveKey struct {
	chat chatRef
	live string
}

// tooSoon asks a lane to wait until a live message may be sent again.
type tooSoon struct{ until time.Time }

func (e *tooSoon) Error() string { return "live message sent less than a second ago" }

// errSuperseded says a live message need not be sent: a newer state of
// it is shown, or will be.
var errSuperseded = errors.New("live message superseded")

// supersededInLane reports whether a newer state of the live message at
// the head of the lane waits behind it. o.mu is held.
func (l *lane) supersededInLane() bool {
	live := l.q[0].Msg.Live
	if live == "" {
		return false
	}
	for i := 1; i < len(l.q); i++ {
		if l.q[i].Msg.Live == live {
			return true
		}
	}
	return false
}

// liveState returns what is known of a live message, read from the store
// the first time.
func (e *Engine) liveState(ctx context.Context, k liveKey, to Address) (LiveRef, error) {
	o := &e.out
	o.mu.Lock()
	st, ok := o.live[k]
	o.mu.Unlock()
	if ok {
		return st, nil
	}
	st, _, err := e.store.Live(ctx, to.Key(), k.live)
	if err != nil {
		return LiveRef{}, fmt.Errorf("read live message: %w", err)
	}
	e.keepLive(k, st)
	return st, nil
}

func (e *Engine) keepLive(k liveKey, st LiveRef) {
	o := &e.out
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.live == nil || len(o.live) >= maxLive {
		o.live = map[liveKey]LiveRef{}
	}
	o.live[k] = st
}

// liveGate decides whether the live message h may be sent now: not if a
// newer state is shown (errSuperseded), not before a second has passed
// since the last send (*tooSoon).
func (e *Engine) liveGate(ctx context.Context, h *held) error {
	st, err := e.liveState(ctx, liveKey{refOf(h.To), h.Msg.Live}, h.To)
	if err != nil {
		return err
	}
	if st.ID >= h.ID {
		return errSuperseded
	}
	if next := st.At.Add(liveEvery); !st.At.IsZero() && e.clock.Now().Before(next) {
		return &tooSoon{until: next}
	}
	return nil
}

// sendLive posts or edits a live message and records where it is shown.
func (e *Engine) sendLive(ctx context.Context, a Adapter, h *held) error {
	k := liveKey{refOf(h.To), h.Msg.Live}
	st, err := e.liveState(ctx, k, h.To)
	if err != nil {
		return err
	}
	ref := st.Ref
	ed, edits := a.(Editor)
	if h.Low && (!edits || ref == "") {
		// Of low priority, a live message only changes one shown: where
		// it cannot (the platform cannot edit, or it was never posted) it
		// would come as a new message, which it is not worth.
		return nil
	}
	switch {
	case edits && ref != "":
		err = ed.Edit(ctx, h.To, ref, h.Msg)
		if errors.Is(err, ErrMessageGone) && h.Low {
			return nil
		}
		if errors.Is(err, ErrMessageGone) {
			ref, err = ed.SendLive(ctx, h.To, h.Msg)
		}
	case edits:
		ref, err = ed.SendLive(ctx, h.To, h.Msg)
	default:
		err = a.Send(ctx, h.To, h.Msg)
	}
	if err != nil {
		return err
	}
	st = LiveRef{Ref: ref, ID: h.ID, At: e.clock.Now()}
	e.keepLive(k, st)
	if err := e.store.SetLive(context.WithoutCancel(ctx), h.To.Key(), k.live, st); err != nil {
		// Sent: only where it is shown may be forgotten in a crash (the
		// next state is then posted anew, or edits the older message).
		e.log.Warn("record live message", "platform", h.To.Platform, "ref", KeyHash(h.To.Key()), "err", err)
	}
	return nil
}
