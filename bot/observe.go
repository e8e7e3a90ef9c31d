package bot

import (
	"context"
	"errors"
	"time"
)

// Observer hears what the engine and the adapters did, for metrics. Its
// methods run on hot paths: they must be quick and must not block. What
// they are given carries no user or chat ID and no text: a platform name,
// a fixed outcome word, a duration. A nil Observer in Config means nobody
// listens.
type Observer interface {
	// Turn: an inbound event of platform was handled in d; outcome is
	// TurnOK or TurnError (nothing committed; the platform may redeliver).
	Turn(platform, outcome string, d time.Duration)
	// Sent: one send of an outbox message to platform ended with result
	// (SendOK, SendRateLimited, SendRetried, SendGone, SendUnknown).
	Sent(platform, result string)
	// Refused: an inbound event of platform was turned away for reason
	// (RefusedSignature, RefusedStale, RefusedUnauthorised).
	Refused(platform, reason string)
	// LimiterWait: a send to platform waited d for the platform's rate
	// limits (the adapter's own limiter).
	LimiterWait(platform string, d time.Duration)
}

// Outcomes and reasons an Observer hears.
const (
	TurnOK    = "ok"
	TurnError = "error"

	SendOK          = "ok"
	SendRateLimited = "rate_limited"
	SendRetried     = "retried" // failed otherwise; the dispatcher retries it
	SendGone        = "recipient_gone"
	SendUnknown     = "unknown_outcome"

	RefusedSignature    = "bad_signature"
	RefusedStale        = "stale_button"
	RefusedUnauthorised = "unauthorised"
)

// SendResult names the result of a send for an Observer.
func SendResult(err error) string {
	var rl *RateLimited
	switch {
	case err == nil:
		return SendOK
	case errors.Is(err, ErrRecipientGone):
		return SendGone
	case errors.As(err, &rl):
		return SendRateLimited
	case errors.Is(err, ErrUnknownOutcome):
		return SendUnknown
	}
	return SendRetried
}

// NopObserver hears nothing.
type NopObserver struct{}

func (NopObserver) Turn(string, string, time.Duration) {}
func (NopObserver) Sent(string, string)                {}
func (NopObserver) Refused(string, string)             {}
func (NopObserver) LimiterWait(string, time.Duration)  {}

// Link is what an adapter says about its connection to its platform, for
// readiness: up, or down since Since and retrying; Grace is how long it
// may be down before the operator should hear of it (its first back-off:
// one failed reconnect is normal, two in a row are not).
type Link struct {
	Up    bool
	Since time.Time
	Grace time.Duration
}

// Linked is implemented by adapters that hold a connection (or a polling
// loop) to their platform.
type Linked interface {
	Link() Link
}

// DuplicateObserver is an Observer that also hears of possible duplicates:
// a message about to be sent again although an earlier attempt (before a
// crash, or with an unknown outcome) may have arrived. outcome is
// DuplicateResent (sent again: the platform may show it twice) or
// DuplicateFound (the adapter found the earlier one: not sent again).
type DuplicateObserver interface {
	PossibleDuplicate(platform, outcome string)
}

// Outcomes a DuplicateObserver hears.
const (
	DuplicateResent = "resent"
	DuplicateFound  = "found"
)

// Arrivals is an Adapter that can look on its platform whether a message
// arrived: Slack finds its recent posts by the outbox ID and a digest of
// the message they carry. The engine asks before it sends again a message
// that may have arrived; the outbox ID is in ctx (OutboxID), m is the
// message as queued (files not made yet: their names, no bytes). An
// outbox ID alone is not enough: a database restored from a backup issues
// IDs again, and a new message under an old ID must not be taken for the
// old one. An error means "could not look": the message is sent again, and
// counted.
type Arrivals interface {
	Arrived(ctx context.Context, to Address, m Message) (bool, error)
}

type outboxIDKey struct{}

// WithOutboxID returns ctx carrying the outbox ID of the message being sent.
func WithOutboxID(ctx context.Context, id uint64) context.Context {
	return context.WithValue(ctx, outboxIDKey{}, id)
}

// OutboxID is the outbox ID of the message Adapter.Send is sending (or
// Arrivals.Arrived looks for): stable across restarts, so an adapter can
// make its platform recognise a resend (Mattermost's pending_post_id,
// Slack's message metadata). ok is false outside the engine's sends.
func OutboxID(ctx context.Context) (id uint64, ok bool) {
	id, ok = ctx.Value(outboxIDKey{}).(uint64)
	return id, ok
}
