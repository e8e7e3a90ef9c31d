package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"syscall"

	"github.com/ampel-bot/ampel/bot"
)

// signalWatch turns the first SIGTERM or SIGINT into a graceful stop (its
// context is cancelled: run stops taking events, finishes the turns in
// flight, sends what it can within --shutdown-timeout and closes the
// store) and a second one into an immediate exit. Exiting at once is as
// safe as a crash: every answer acknowledged is committed, and what was
// not sent yet stays in the outbox for the next start.
type signalWatch struct {
	mu   sync.Mutex
	log  *slog.Logger
	exit func(code int)
}

type signalWatchKey struct{}

// watchSignals returns a context that the first signal from sigs cancels;
// the second calls exit with 128 + the signal's number, as a shell
// reports a process ended by a signal.
func watchSignals(parent context.Context, sigs <-chan os.Signal, exit func(int), log *slog.Logger) context.Context {
	w := &signalWatch{log: log, exit: exit}
	ctx, cancel := context.WithCancel(context.WithValue(parent, signalWatchKey{}, w))
	go func() {
		s := <-sigs
		w.logger().Info("signal received: stopping; a second signal ends at once", "signal", s.String())
		cancel()
		s = <-sigs
		w.logger().Error("second signal: exiting at once; turns in flight are cut (their events come again), unsent messages stay in the outbox", "signal", s.String())
		code := 1
		if n, ok := s.(syscall.Signal); ok {
			code = 128 + int(n)
		}
		w.exit(code)
	}()
	return ctx
}

func (w *signalWatch) logger() *slog.Logger {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.log
}

// useLogger makes the signal watch of ctx, if any, log to log: the
// configured format, once run has read it.
func useLogger(ctx context.Context, log *slog.Logger) {
	if w, ok := ctx.Value(signalWatchKey{}).(*signalWatch); ok {
		w.mu.Lock()
		w.log = log
		w.mu.Unlock()
	}
}

// errStopping is what an adapter's new event gets once the process is
// stopping: not committed, so the platform delivers it again to the next
// process.
var errStopping = errors.New("ampel is stopping")

// drain stands between the adapters and the engine. A turn it lets in
// runs to its end under turns, however the adapter's context ends, so a
// stop does not cut an answer between its commit and its reply; turns is
// cancelled only when the shutdown deadline passes. After close it lets
// nothing in, and wait returns when the turns let in have ended.
type drain struct {
	h     bot.Handler
	turns context.Context

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

func (d *drain) Handle(ctx context.Context, ev bot.Event) error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return errStopping
	}
	d.wg.Add(1)
	d.mu.Unlock()
	defer d.wg.Done()
	tctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(d.turns, cancel)
	defer stop()
	return d.h.Handle(tctx, ev)
}

// Settle passes through to the engine, so that the console, which is
// handed the drain, still shows a turn's replies before its next prompt.
func (d *drain) Settle(ctx context.Context, chats ...bot.Address) error {
	if s, ok := d.h.(bot.Settler); ok {
		return s.Settle(ctx, chats...)
	}
	return nil
}

var _ bot.Settler = (*drain)(nil)

// closeAndWait lets no more turns in and waits for those in flight.
func (d *drain) closeAndWait() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.wg.Wait()
}
