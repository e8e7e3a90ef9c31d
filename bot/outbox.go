package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// outbox is the engine's side of delivery: which outbox messages are being
// sent right now, which conversations wait for a retry, and which messages
// this process attempted.
type outbox struct {
	inflight sync.Map // outbox ID -> struct{}: being sent right now
	mine     sync.Map // outbox ID -> struct{}: attempted by this process, not yet delivered
	kick     chan struct{}

	mu sync.Mutex
	// retryAt holds the conversations with a message that could not be
	// sent: nothing more goes to them until the dispatcher has retried it,
	// so their messages keep their order and the platform its pause.
	retryAt map[Address]time.Time
	backoff map[Address]time.Duration
	sending map[Address]bool
}

func (o *outbox) claim(key Address) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.sending[key] {
		return false
	}
	if o.sending == nil {
		o.sending = map[Address]bool{}
	}
	o.sending[key] = true
	return true
}

func (o *outbox) release(key Address) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.sending, key)
}

// deliver sends committed messages, each conversation's in order, and clears
// them from the outbox. A message that cannot be sent now stays in the
// outbox for the dispatcher. stale says the messages come from an earlier
// read of the outbox, so each is checked to be still undelivered first.
func (e *Engine) deliver(ctx context.Context, queued []Queued, stale bool) {
	var done []uint64
	var blocked map[Address]bool
	block := func(a Address) {
		if blocked == nil {
			blocked = map[Address]bool{}
		}
		blocked[a] = true
	}
	now := e.clock.Now()
	wake := false
	for _, q := range queued {
		key := q.To
		if blocked[key] {
			continue // keep the conversation's order: later messages wait too
		}
		if !e.out.ready(key, now) {
			block(key)
			wake = true
			continue
		}
		e.mu.RLock()
		a := e.adapters[q.To.Platform]
		e.mu.RUnlock()
		if a == nil {
			block(key)
			continue
		}
		if _, busy := e.out.inflight.LoadOrStore(q.ID, struct{}{}); busy {
			block(key)
			continue
		}
		// One send at a time per address: a retry of an older message in
		// flight (the dispatcher's) must not be overtaken by a newer one.
		if !e.out.claim(key) {
			e.out.inflight.Delete(q.ID)
			block(key)
			wake = true
			continue
		}
		if stale {
			if ok, err := e.store.StillPending(ctx, q.ID); err != nil || !ok {
				e.out.inflight.Delete(q.ID)
				if err != nil {
					block(key)
				}
				continue
			}
		}
		err := e.send(ctx, a, q)
		e.out.release(key)
		switch {
		case err == nil:
			e.out.succeeded(key)
			done = append(done, q.ID)
			continue
		case errors.Is(err, ErrRecipientGone):
			// Never deliverable: drop it instead of retrying forever, and
			// stop the conversation's reminders. That is a state change, made
			// once the caller (which may hold the conversation) is done.
			e.stats.undeliverable.Add(1)
			e.log.Warn("recipient gone; message dropped", "platform", q.To.Platform, "outbox_id", q.ID)
			e.out.succeeded(key)
			done = append(done, q.ID)
			to, id := q.To, q.ID
			e.background(func() { e.recipientGone(context.WithoutCancel(ctx), to, id) })
			continue
		}
		e.out.inflight.Delete(q.ID)
		e.log.Warn("send failed; kept in outbox", "platform", q.To.Platform, "outbox_id", q.ID, "err", err)
		e.out.failed(key, err, e.clock.Now())
		block(key)
		wake = true
	}
	if len(done) > 0 {
		// A delivery is recorded even when the caller is shutting down:
		// losing the record would send the message again after a restart.
		// Once handed over, Pending and StillPending leave it out.
		if err := e.store.Delivered(context.WithoutCancel(ctx), done...); err != nil {
			e.log.Warn("mark delivered", "err", err)
		}
		for _, id := range done {
			e.out.inflight.Delete(id)
			e.out.mine.Delete(id)
		}
	}
	if wake {
		select {
		case e.out.kick <- struct{}{}:
		default:
		}
	}
}

// send delivers one message. A message the bot sends on its own, and any
// message tried before, is first recorded as attempted, durably: after a
// crash, a message with an attempt recorded by an earlier process may have
// reached the platform, and its resend is counted as a possible duplicate.
func (e *Engine) send(ctx context.Context, a Adapter, q Queued) error {
	if q.Push || q.Attempts > 0 {
		before, err := e.store.Attempt(ctx, q.ID)
		if err != nil {
			return fmt.Errorf("record attempt: %w", err)
		}
		if _, mine := e.out.mine.LoadOrStore(q.ID, struct{}{}); before > 0 && !mine {
			e.stats.ambiguous.Add(1)
			e.log.Warn("resending a message whose earlier send had an unknown outcome", "outbox_id", q.ID)
		}
	}
	err := a.Send(ctx, q.To, q.Msg)
	if errors.Is(err, ErrUnknownOutcome) {
		e.out.mine.Delete(q.ID) // the retry is as ambiguous as a resend after a crash
	}
	return err
}

func (o *outbox) failed(key Address, err error, now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.backoff == nil {
		o.backoff = map[Address]time.Duration{}
	}
	var rl *RateLimited
	wait := o.backoff[key]
	switch {
	case errors.As(err, &rl):
		wait = rl.RetryAfter // the platform said how long; no more, no less
	case wait == 0:
		wait = time.Second
	default:
		wait = min(2*wait, 5*time.Minute)
	}
	if !errors.As(err, &rl) {
		o.backoff[key] = wait
	}
	o.retryAt[key] = now.Add(wait)
}

func (o *outbox) succeeded(key Address) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.retryAt) > 0 || len(o.backoff) > 0 {
		delete(o.retryAt, key)
		delete(o.backoff, key)
	}
}

func (o *outbox) ready(key Address, now time.Time) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	t, ok := o.retryAt[key]
	return !ok || !now.Before(t)
}

// forget drops the retry state of conversations with nothing left to retry.
func (o *outbox) forget(keep map[Address]bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for k := range o.retryAt {
		if !keep[k] {
			delete(o.retryAt, k)
			delete(o.backoff, k)
		}
	}
}

func (o *outbox) nextRetry() (time.Time, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var next time.Time
	for _, t := range o.retryAt {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	return next, !next.IsZero()
}

const (
	// flushBatch and flushMax bound what one pass of the dispatcher reads.
	flushBatch = 1024
	flushMax   = 64 * flushBatch
)

// Flush sends what the outbox holds and is due for a try: replies committed
// just before a crash, and messages whose send failed. Messages for a
// platform that is not running, or a conversation still in backoff, are
// passed over, so they hold nothing else up. Call it after registering the
// adapters and before they run; the dispatcher calls it after every failure
// and from time to time.
func (e *Engine) Flush(ctx context.Context) error {
	var after uint64
	waiting := map[Address]bool{}
	for read := 0; read < flushMax; read += flushBatch {
		pending, err := e.store.Pending(ctx, after, flushBatch)
		if err != nil {
			return fmt.Errorf("read outbox: %w", err)
		}
		e.mu.RLock()
		for _, q := range pending {
			if e.adapters[q.To.Platform] != nil {
				waiting[q.To] = true
			}
		}
		e.mu.RUnlock()
		e.deliver(ctx, pending, true)
		if len(pending) < flushBatch {
			// The whole outbox was seen: retry state of conversations with
			// nothing left in it can go.
			e.out.forget(waiting)
			return nil
		}
		after = pending[len(pending)-1].ID
	}
	return nil
}

// RunOutbox is the dispatcher: it retries what could not be sent, with
// backoff per conversation and the platform's retry-after honoured, until
// ctx is done.
func (e *Engine) RunOutbox(ctx context.Context) error {
	for {
		if err := e.Flush(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("outbox", "err", err)
		}
		wait := 30 * time.Second
		if next, ok := e.out.nextRetry(); ok {
			wait = min(wait, max(e.realDuration(next.Sub(e.clock.Now())), 50*time.Millisecond))
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-e.out.kick:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// recipientGone switches off the reminders of a conversation whose
// recipient can no longer be reached (blocked the bot, left the group).
func (e *Engine) recipientGone(ctx context.Context, to Address, outboxID uint64) {
	err := e.apply(ctx, to.Key(), "gone:"+strconv.FormatUint(outboxID, 10), func(c *Conversation) ([]Outgoing, error) {
		c.RemindersOff = true
		return nil, nil
	}, nil)
	if err != nil {
		e.log.Warn("switch off reminders of a gone recipient", "err", err)
	}
}
