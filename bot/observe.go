package bot

import (
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
