package bot

import "context"

// SetHoldLimits lowers what the dispatcher holds in memory per chat and per
// platform, so that tests reach what does not fit with a few messages.
func SetHoldLimits(e *Engine, lane, platform int) {
	e.out.mu.Lock()
	defer e.out.mu.Unlock()
	e.out.limits.lane, e.out.limits.msgs = lane, platform
}

// Held is how many messages the dispatcher holds for a platform.
func Held(e *Engine, platform string) int {
	e.out.mu.Lock()
	defer e.out.mu.Unlock()
	if s := e.out.platforms[platform]; s != nil {
		return s.msgs
	}
	return 0
}

// ApplyTx runs fn as the step of an event of the conversation key, as
// Handle runs the dialogue's.
func ApplyTx(ctx context.Context, e *Engine, key, eventID string, fn func(tx *Tx, c *Conversation) error) error {
	return e.applyTx(ctx, key, eventID, func(tx *Tx, c *Conversation) ([]Outgoing, error) { return nil, fn(tx, c) }, nil)
}

// LockRecord takes a record's lock as a transaction would, and returns
// what lets it go.
func LockRecord(e *Engine, kind, id string) func() {
	unlock, _ := e.locks.lock(context.Background(), recordLockKey(RecordRef{kind, id}))
	return unlock
}

// LockWaiters is how many wait for a record's lock (besides its holder).
func LockWaiters(e *Engine, kind, id string) int {
	e.locks.mu.Lock()
	defer e.locks.mu.Unlock()
	if l := e.locks.m[recordLockKey(RecordRef{kind, id})]; l != nil {
		return l.refs - 1
	}
	return 0
}
