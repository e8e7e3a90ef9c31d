package sendkit

import (
	"context"
	"sync"
	"time"
)

// Lanes runs work queued under a key in order, and work of different keys
// in parallel, on a goroutine per key that exists only while the key has
// work. Adapters use it for what must not hold up receiving: a
// conversation's events handled in order while a busy one waits, and the
// calls after an event (answering a pressed button, marking the pressed
// message) that the next event of the same chat must not wait for.
type Lanes struct {
	ctx     context.Context
	max     int
	mu      sync.Mutex
	queues  map[string][]func(context.Context)
	pending int           // queued or running
	idle    chan struct{} // closed when pending drops to 0; nil if nobody waits
	closed  bool
	wg      sync.WaitGroup
}

// NewLanes returns lanes whose work runs under ctx: once ctx is done, work
// still queued is dropped. With max > 0, at most max jobs wait at once and
// Go refuses more.
func NewLanes(ctx context.Context, max int) *Lanes {
	return &Lanes{ctx: ctx, max: max, queues: map[string][]func(context.Context){}}
}

// Go queues f under key. It reports false if f was refused: the lanes are
// closed, their context is done, or max jobs wait already.
func (l *Lanes) Go(key string, f func(ctx context.Context)) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.ctx.Err() != nil || l.max > 0 && l.pending >= l.max {
		return false
	}
	l.pending++
	if q, busy := l.queues[key]; busy {
		l.queues[key] = append(q, f)
		return true
	}
	l.queues[key] = nil
	l.wg.Add(1)
	go l.run(key, f)
	return true
}

func (l *Lanes) run(key string, f func(context.Context)) {
	defer l.wg.Done()
	for {
		if l.ctx.Err() == nil {
			f(l.ctx)
		}
		l.mu.Lock()
		l.pending--
		q := l.queues[key]
		if len(q) == 0 {
			delete(l.queues, key)
			if l.pending == 0 && l.idle != nil {
				close(l.idle)
				l.idle = nil
			}
			l.mu.Unlock()
			return
		}
		f, l.queues[key] = q[0], q[1:]
		l.mu.Unlock()
	}
}

// Idle waits until no work is queued or running, or ctx is done.
func (l *Lanes) Idle(ctx context.Context) error {
	l.mu.Lock()
	if l.pending == 0 {
		l.mu.Unlock()
		return nil
	}
	if l.idle == nil {
		l.idle = make(chan struct{})
	}
	ch := l.idle
	l.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Drain waits up to d for the work queued to be done.
func (l *Lanes) Drain(d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_ = l.Idle(ctx)
}

// Close refuses further work and waits until the work running ends (queued
// work is dropped if the context is done, else run).
func (l *Lanes) Close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.wg.Wait()
}
