package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
)

// outbox is the engine's side of delivery: which outbox messages are being
// sent right now, which conversations wait for a retry, and which messages
// this process attempted.
type outbox struct {
	kick chan struct{}

	mu       sync.Mutex
	inflight map[uint64]bool // being sent right now
	mine     map[uint64]bool // attempted by this process, not yet delivered
	// retryAt holds the conversations with a message that could not be
	// sent: nothing more goes to them until the dispatcher has retried it,
	// so their messages keep their order and the platform its pause.
	retryAt map[Address]time.Time
	backoff map[Address]time.Duration
	sending map[Address]bool
}

// begin claims message id for sending to key. It fails when the message is
// being sent already, or when another message to key is (busy): one send at
// a time per address, so a retry of an older message in flight (the
// dispatcher's) is not overtaken by a newer one.
func (o *outbox) begin(key Address, id uint64) (ok, busy bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.inflight[id] {
		return false, false
	}
	if o.sending[key] {
		return false, true
	}
	if o.sending == nil {
		o.sending = map[Address]bool{}
	}
	if o.inflight == nil {
		o.inflight = map[uint64]bool{}
	}
	o.sending[key], o.inflight[id] = true, true
	return true, false
}

// end releases key after a send; keep says the message stays in flight
// until its delivery is recorded.
func (o *outbox) end(key Address, id uint64, keep bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.sending, key)
	if !keep {
		delete(o.inflight, id)
	}
}

// delivered forgets messages whose delivery is recorded.
func (o *outbox) delivered(ids []uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, id := range ids {
		delete(o.inflight, id)
		delete(o.mine, id)
	}
}

// attempted notes that this process tried id, and reports whether it had.
func (o *outbox) attempted(id uint64) (before bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.mine == nil {
		o.mine = map[uint64]bool{}
	}
	before, o.mine[id] = o.mine[id], true
	return before
}

// unattempted makes the next try of id count as a possible duplicate.
func (o *outbox) unattempted(id uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.mine, id)
}

// deliver sends committed messages, each conversation's in order, and clears
// them from the outbox. A message that cannot be sent now stays in the
// outbox for the dispatcher. stale says the messages come from an earlier
// read of the outbox, so each is checked to be still undelivered first.
func (e *Engine) deliver(ctx context.Context, queued []Queued, stale bool) {
	var done []uint64
	var blocked []Address // seldom more than one or two
	now := e.clock.Now()
	wake := false
	// Queued by pointer, each address copied once, the rare branches in
	// functions of their own: this runs on the caller's goroutine, and
	// thousands of those may be waiting, each keeping a stack as deep as
	// its deepest call.
	for i := range queued {
		q := &queued[i]
		if slices.Contains(blocked, q.To) {
			continue // keep the conversation's order: later messages wait too
		}
		switch r := e.deliverOne(ctx, q, now, stale); r {
		case sent:
			done = append(done, q.ID)
		case skipped:
		default:
			blocked = append(blocked, q.To)
			wake = wake || r == retryLater
		}
	}
	if len(done) > 0 {
		e.recordDelivered(ctx, done)
	}
	if wake {
		select {
		case e.out.kick <- struct{}{}:
		default:
		}
	}
}

type sendResult int

const (
	sent       sendResult = iota // delivered, or dropped for good: record it
	skipped                      // delivered already: nothing to do
	waitHere                     // not now, and nothing to wake the dispatcher for
	retryLater                   // not now; the dispatcher retries
)

func (e *Engine) deliverOne(ctx context.Context, q *Queued, now time.Time, stale bool) sendResult {
	if !e.out.ready(q.To, now) {
		return retryLater
	}
	e.mu.RLock()
	a := e.adapters[q.To.Platform]
	e.mu.RUnlock()
	if a == nil {
		return waitHere
	}
	if ok, busy := e.out.begin(q.To, q.ID); !ok {
		if busy {
			return retryLater
		}
		return waitHere
	}
	if stale {
		if ok, err := e.store.StillPending(ctx, q.ID); err != nil || !ok {
			e.out.end(q.To, q.ID, false)
			if err != nil {
				return waitHere
			}
			return skipped
		}
	}
	err := e.send(ctx, a, q)
	e.observe().Sent(q.To.Platform, SendResult(err)) // metrics hook
	e.out.end(q.To, q.ID, err == nil || errors.Is(err, ErrRecipientGone))
	switch {
	case err == nil:
		e.out.succeeded(q.To)
		return sent
	case errors.Is(err, ErrRecipientGone):
		e.dropForGone(ctx, q.To, q.ID)
		return sent
	}
	e.keepForRetry(q.To, q.ID, err)
	return retryLater
}

// recordDelivered records deliveries even when the caller is shutting down:
// losing the record would send the messages again after a restart. Once
// handed over, Pending and StillPending leave them out.
func (e *Engine) recordDelivered(ctx context.Context, done []uint64) {
	if err := e.store.Delivered(context.WithoutCancel(ctx), done...); err != nil {
		e.log.Warn("mark delivered", "err", err)
	}
	e.out.delivered(done)
}

// dropForGone drops a message that can never be delivered instead of
// retrying it forever, and stops the conversation's reminders. That is a
// state change, made once the caller (which may hold the conversation) is
// done.
func (e *Engine) dropForGone(ctx context.Context, to Address, id uint64) {
	e.stats.undeliverable.Add(1)
	e.log.Warn("recipient gone; message dropped", "platform", to.Platform, "ref", KeyHash(to.Key()), "outbox_id", id)
	e.out.succeeded(to)
	e.background(func() { e.recipientGone(context.WithoutCancel(ctx), to, id) })
}

// keepForRetry leaves a message in the outbox for the dispatcher.
func (e *Engine) keepForRetry(to Address, id uint64, err error) {
	e.log.Warn("send failed; kept in outbox", "platform", to.Platform, "ref", KeyHash(to.Key()), "outbox_id", id, "err", err)
	e.out.failed(to, err, e.clock.Now())
}

// send delivers one message. A message the bot sends on its own, and any
// message tried before, is first recorded as attempted, durably: after a
// crash, a message with an attempt recorded by an earlier process may have
// reached the platform, and its resend is counted as a possible duplicate.
func (e *Engine) send(ctx context.Context, a Adapter, q *Queued) error {
	if q.Push || q.Attempts > 0 {
		if err := e.recordAttempt(ctx, q.ID); err != nil {
			return err
		}
	}
	err := a.Send(ctx, q.To, q.Msg)
	if errors.Is(err, ErrUnknownOutcome) {
		e.out.unattempted(q.ID) // the retry is as ambiguous as a resend after a crash
	}
	return err
}

func (e *Engine) recordAttempt(ctx context.Context, id uint64) error {
	before, err := e.store.Attempt(ctx, id)
	if err != nil {
		return fmt.Errorf("record attempt: %w", err)
	}
	if mine := e.out.attempted(id); before > 0 && !mine {
		e.stats.ambiguous.Add(1)
		e.log.Warn("resending a message whose earlier send had an unknown outcome", "outbox_id", id)
	}
	return nil
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
		e.log.Warn("switch off reminders of a gone recipient", "ref", KeyHash(to.Key()), "err", err)
	}
}
