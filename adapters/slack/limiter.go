package slack

import (
	"context"
	"sync"
	"time"

	"github.com/ampel-bot/ampel/adapters/internal/sendkit"
	"github.com/ampel-bot/ampel/bot"
)

// Slack's published posting limit: "chat.postMessage generally allows
// posting one message per second per channel … Short bursts >1 allowed".
// Going over it earns 429s, so the adapter keeps under it itself.
const (
	chatRate  = time.Second
	chatBurst = 3
	// maxWait is the longest a post waits for its turn inside Send (on
	// the engine's sender for the channel, never on the receive path); a
	// post whose turn is further away is handed back to the engine's
	// outbox as *bot.RateLimited, and the channel waits there, without a
	// goroutine, until its turn.
	maxWait = 1500 * time.Millisecond
)

// limiter decides when the next post to a channel may go: a token bucket
// per channel. Posts and uploads pass through it; chat.update, a Tier 3
// method under no per-channel limit, does not.
type limiter struct {
	// now and sleep are the clock; tests replace them with a fake one.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	mu    sync.Mutex
	chats map[string]*bucket
}

func newLimiter() *limiter {
	return &limiter{now: time.Now, sleep: sendkit.Sleep, chats: map[string]*bucket{}}
}

// wait blocks until a post to channel may go and takes its place. If the
// turn is more than maxWait away it takes nothing and returns
// *bot.RateLimited; it returns ctx's error if ctx ends first.
func (l *limiter) wait(ctx context.Context, channel string) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		l.mu.Lock()
		now := l.now()
		b := l.chats[channel]
		if b == nil {
			b = &bucket{}
			l.chats[channel] = b
		}
		at := b.next(now)
		if !at.After(now) {
			b.take(now)
			l.prune(now)
			l.mu.Unlock()
			return nil
		}
		l.mu.Unlock()
		d := at.Sub(now)
		if d > maxWait {
			return &bot.RateLimited{RetryAfter: d}
		}
		if err := l.sleep(ctx, d); err != nil {
			return err
		}
	}
}

// prune drops the state of channels back at rest.
func (l *limiter) prune(now time.Time) {
	if len(l.chats) < 1024 {
		return
	}
	for id, b := range l.chats {
		if !b.tat.After(now) {
			delete(l.chats, id)
		}
	}
}

// bucket is a token bucket of chatBurst tokens refilled one per chatRate,
// kept as the instant it will be full again (the generic cell rate
// algorithm).
type bucket struct {
	tat time.Time
}

func (b *bucket) next(now time.Time) time.Time {
	if at := b.tat.Add(-(chatBurst - 1) * chatRate); at.After(now) {
		return at
	}
	return now
}

func (b *bucket) take(now time.Time) {
	if b.tat.Before(now) {
		b.tat = now
	}
	b.tat = b.tat.Add(chatRate)
}
