package bot

import (
	"context"
	"sync/atomic"
)

// A refusal is the engine's answer to a press it turned away because the
// presser may not do that (another member's private button, a
// facilitator's button pressed by someone else): nothing changed but a
// short note. The adapter that marks a pressed message with the choice
// (and takes its buttons away) must then leave it as it is: in a group,
// the message is everyone's, and the one who may press it still needs its
// buttons.
type refusal struct{ refused atomic.Bool }

type refusalKey struct{}

// WithRefusal returns ctx for Handle and a function that reports, once
// Handle has returned, whether the engine refused the event (see
// Turn.Refuse). A duplicate event, which the engine does not handle
// again, reports false.
func WithRefusal(ctx context.Context) (context.Context, func() bool) {
	r := &refusal{}
	return context.WithValue(ctx, refusalKey{}, r), r.refused.Load
}

// Refuse answers the turn's event with note, and tells the adapter that
// the event was refused: the event's user may not do this, and nothing
// changed (see WithRefusal).
func (t *Turn) Refuse(note string) {
	t.Note(note)
	t.refused = true
}

// noteRefusal hands the turn's refusal to the adapter waiting in Handle.
// A step that runs again (see Tx) stores its own answer over the thrown
// away one's.
func (t *Turn) noteRefusal() {
	if t.tx == nil || t.tx.ctx == nil {
		return
	}
	if r, ok := t.tx.ctx.Value(refusalKey{}).(*refusal); ok {
		r.refused.Store(t.refused)
	}
}
