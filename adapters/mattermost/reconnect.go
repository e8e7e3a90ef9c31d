package mattermost

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/ampel-bot/ampel/adapters/internal/sendkit"
)

// Reconnecting.
//
// After the WebSocket fails, Run waits before it connects again, longer
// after every failure in a row (backoffMin doubling up to backoffMax, a
// minute), so that a server in trouble is not hammered. Whatever is typed
// meanwhile is read by the catch-up after the next connect, so the wait is
// how late those messages are answered. Two things cut it short:
//
//   - While the server answers its ping (GET system/ping), the wait is at
//     most pingEvery (10 s): it is waited in steps of pingEvery, and when
//     more is left after a step, a ping that succeeds ends it. A server
//     that is down still gets the whole back-off, and a ping every 10 s.
//   - Any REST request that succeeds while the WebSocket is down (a post
//     the engine sends, a button press's answer) ends the wait at once:
//     the server is back.

// reconnectState is what Run and REST requests share about the
// WebSocket's state.
type reconnectState struct {
	up   atomic.Bool   // a connection is open
	kick chan struct{} // a REST request succeeded while down
	// wait sleeps for d, or until kick; tests replace it.
	wait func(ctx context.Context, d time.Duration, kick <-chan struct{}) (kicked bool, err error)
	// pingEvery is the longest step of a wait (tests change it).
	pingEvery time.Duration
}

func newReconnectState() *reconnectState {
	return &reconnectState{kick: make(chan struct{}, 1), wait: sleepOrKick, pingEvery: 10 * time.Second}
}

func sleepOrKick(ctx context.Context, d time.Duration, kick <-chan struct{}) (bool, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case <-t.C:
		return false, nil
	case <-kick:
		return true, nil
	}
}

// restOK notes a REST request that succeeded: if the WebSocket is down,
// the wait before the next connect ends.
func (r *reconnectState) restOK() {
	if r.up.Load() {
		return
	}
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// reconnectWait waits before connecting again after attempt failures in a
// row (see the comment at the top of this file). It returns ctx's error if
// ctx ends first.
func (a *Adapter) reconnectWait(ctx context.Context, attempt int) error {
	r := a.rc
	defer func() {
		select {
		case <-r.kick: // answered by the connect that follows
		default:
		}
	}()
	left := sendkit.Backoff(a.backoffMin, a.backoffMax, attempt)
	for {
		step := min(left, r.pingEvery)
		kicked, err := r.wait(ctx, step, r.kick)
		if err != nil || kicked {
			return err
		}
		if left -= step; left <= 0 || a.ping(ctx) {
			return nil
		}
	}
}

// ping reports whether the server answers its ping.
func (a *Adapter) ping(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := a.call(ctx, "ping", func(ctx context.Context) (*model.Response, error) {
		_, resp, err := a.api.GetPingWithOptions(ctx, model.SystemPingOptions{})
		return resp, err
	})
	return err == nil
}
