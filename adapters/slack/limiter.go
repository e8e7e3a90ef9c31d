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
//
// chat.update is a Tier 3 method ("50+ per minute", per workspace, bursts
// allowed), under no per-channel limit: updates (marking a pressed
// message, editing a live one) pass through a limiter of their own,
// updateRate per workspace with bursts of updateBurst, so that neither
// waits for the other's turns.
const (
	chatRate    = time.Second
	chatBurst   = 3
	updateRate  = 1200 * time.Millisecond
	updateBurst = 20
	// maxWait is the longest a post waits for its turn inside Send (on
	// the engine's sender for the channel, never on the receive path); a
	// post whose turn is further away is handed back to the engine's
	// outbox as *bot.RateLimited, and the channel waits there, without a
	// goroutine, until its turn.
	maxWait = 1500 * time.Millisecond
)

// limiter decides when the next call may go: a token bucket per key (a
// channel for posts and uploads; the workspace for updates).
type limiter struct {
	// now and sleep are the clock; tests replace them with a fake one.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	rate  time.Duration
	burst int

	mu    sync.Mutex
	chats map[string]*bucket
}

// newLimiter is the posting limiter: per channel.
func newLimiter() *limiter {
	return &limiter{now: time.Now, sleep: sendkit.Sleep, rate: chatRate, burst: chatBurst, chats: map[string]*bucket{}}
}

// newUpdateLimiter is chat.update's limiter: per workspace.
func newUpdateLimiter() *limiter {
	return &limiter{now: time.Now, sleep: sendkit.Sleep, rate: updateRate, burst: updateBurst, chats: map[string]*bucket{}}
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
		at := b.next(now, l.rate, l.burst)
		if !at.After(now) {
			b.take(now, l.rate)
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

// bucket is a token bucket of burst tokens refilled one per rate, kept as
// the instant it will be full again (the generic cell rate algorithm).
type bucket struct {
	tat time.Time
}

func (b *bucket) next(now time.Time, rate time.Duration, burst int) time.Time {
	if at := b.tat.Add(-time.Duration(burst-1) * rate); at.After(now) {
		return at
	}
	return now
}

func (b *bucket) take(now time.Time, rate time.Duration) {
	if b.tat.Before(now) {
		b.tat = now
	}
	b.tat = b.tat.Add(rate)
}
