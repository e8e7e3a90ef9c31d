package telegram

import (
	"context"
	"sync"
	"time"

	"github.com/ampel-bot/ampel/adapters/internal/sendkit"
	"github.com/ampel-bot/ampel/bot"
)

// Telegram's published sending limits. Going over them earns 429s with a
// retry_after of up to minutes for the whole chat, so the adapter keeps
// under them itself and waits for its turn instead.
const (
	chatRate    = time.Second // one message per second per chat ...
	chatBurst   = 3           // ... with short bursts allowed
	groupCount  = 20          // 20 messages per minute per group
	groupPeriod = time.Minute
	totalCount  = 30 // 30 messages per second overall
	totalPeriod = time.Second
)

// limiter decides when the next message may go: a token bucket per chat, a
// sliding window per group and one for the whole bot. Every message and
// every edit passes through it; answers to callback queries do not, as
// they are not messages and must be given at once.
type limiter struct {
	// now and sleep are the clock; tests replace them with a fake one so
	// that a hundred messages at one per second take no real time.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	// until, if set, sleeps until an instant instead of sleep: a virtual
	// clock moves to it (several waiters sleeping side by side take the
	// time one does).
	until func(ctx context.Context, at time.Time) error
	// granted, if set, hears of every turn given, under the lock, in
	// the order given: tests check the limits on it.
	granted func(chat int64, at time.Time)

	mu     sync.Mutex
	chats  map[int64]*bucket
	groups map[int64]*window
	total  *window
}

func newLimiter() *limiter {
	return &limiter{
		now: time.Now, sleep: sendkit.Sleep,
		chats: map[int64]*bucket{}, groups: map[int64]*window{},
		total: newWindow(totalCount, totalPeriod),
	}
}

// maxWait is the longest Send waits for its turn: a message whose turn is
// further away (a group over its 20 messages a minute) is handed back to
// the engine's outbox as *bot.RateLimited, and its chat waits there, while
// the engine's sender goes on with other chats.
const maxWait = 1500 * time.Millisecond

// wait blocks until a message to chat may be sent, takes its place in every
// limit and returns the instant it was granted. It gives up when ctx is
// done, without taking anything.
func (l *limiter) wait(ctx context.Context, chat int64) (time.Time, error) {
	return l.waitAtMost(ctx, chat, 0)
}

// waitAtMost is wait, except that a turn more than most away (if most > 0)
// is not waited for: it returns *bot.RateLimited with the time to wait,
// without taking anything.
func (l *limiter) waitAtMost(ctx context.Context, chat int64, most time.Duration) (time.Time, error) {
	for {
		if err := ctx.Err(); err != nil {
			return time.Time{}, err
		}
		l.mu.Lock()
		now := l.now()
		b := l.chats[chat]
		if b == nil {
			b = &bucket{}
			l.chats[chat] = b
		}
		var g *window
		if chat < 0 { // groups, supergroups and channels have negative IDs
			if g = l.groups[chat]; g == nil {
				g = newWindow(groupCount, groupPeriod)
				l.groups[chat] = g
			}
		}
		at := b.next(now)
		if g != nil {
			at = later(at, g.next(now))
		}
		at = later(at, l.total.next(now))
		if !at.After(now) {
			b.take(now)
			if g != nil {
				g.take(now)
			}
			l.total.take(now)
			if l.granted != nil {
				l.granted(chat, now)
			}
			l.prune(now)
			l.mu.Unlock()
			return now, nil
		}
		l.mu.Unlock()
		if d := at.Sub(now); most > 0 && d > most {
			return time.Time{}, &bot.RateLimited{RetryAfter: d}
		}
		sleep := func() error { return l.sleep(ctx, at.Sub(now)) }
		if l.until != nil {
			sleep = func() error { return l.until(ctx, at) }
		}
		if err := sleep(); err != nil {
			return time.Time{}, err
		}
	}
}

// prune drops the state of chats that are back at rest, so that the maps
// hold only chats written to in the last minute or so.
func (l *limiter) prune(now time.Time) {
	if len(l.chats) < 1024 && len(l.groups) < 1024 {
		return
	}
	for id, b := range l.chats {
		if b.full(now) {
			delete(l.chats, id)
		}
	}
	for id, g := range l.groups {
		if g.idle(now) {
			delete(l.groups, id)
		}
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// bucket is a token bucket of chatBurst tokens refilled one per chatRate,
// kept as the instant it will be full again (the generic cell rate
// algorithm), in whole durations, so that a grant is never a nanosecond
// early through rounding.
type bucket struct {
	tat time.Time // when the bucket is full again
}

// next is the earliest instant a token is available.
func (b *bucket) next(now time.Time) time.Time {
	return later(now, b.tat.Add(-(chatBurst-1)*chatRate))
}

func (b *bucket) take(now time.Time) {
	b.tat = later(b.tat, now).Add(chatRate)
}

func (b *bucket) full(now time.Time) bool { return !b.tat.After(now) }

// window allows at most n events in any period: it remembers the last n
// instants, and the next event may come once the oldest of them is a whole
// period ago.
type window struct {
	period time.Duration
	times  []time.Time // ring of the last n grants
	head   int         // oldest entry once the ring is full
}

func newWindow(n int, period time.Duration) *window {
	return &window{period: period, times: make([]time.Time, 0, n)}
}

func (w *window) next(now time.Time) time.Time {
	if len(w.times) < cap(w.times) {
		return now
	}
	return later(now, w.times[w.head].Add(w.period))
}

func (w *window) take(now time.Time) {
	if len(w.times) < cap(w.times) {
		w.times = append(w.times, now)
		return
	}
	w.times[w.head] = now
	w.head = (w.head + 1) % len(w.times)
}

func (w *window) idle(now time.Time) bool {
	for _, t := range w.times {
		if now.Sub(t) < w.period {
			return false
		}
	}
	return true
}
