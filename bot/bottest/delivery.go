package bottest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
)

// Retry flushes e's outbox rounds times, moving clock past any back-off
// in between, as the dispatcher does over time.
func Retry(tb testing.TB, e *bot.Engine, clock *Clock, rounds int) {
	tb.Helper()
	for range rounds {
		if err := e.Flush(context.Background()); err != nil {
			tb.Fatal(err)
		}
		clock.Add(10 * time.Minute)
	}
}

// ExpectKept checks that nothing was dropped as undeliverable and that the
// reminders of the conversation at to are still on.
func ExpectKept(tb testing.TB, e *bot.Engine, to bot.Address) {
	tb.Helper()
	if got := e.Stats().Undeliverable; got != 0 {
		tb.Errorf("%d messages dropped as undeliverable; want them kept and retried", got)
	}
	if c, err := e.Load(context.Background(), to); err != nil || c.RemindersOff {
		tb.Errorf("the reminders at %s were switched off (%v); want them on", to.Chat, err)
	}
}

// ExpectDropped checks that one message was dropped as undeliverable,
// none is left in the outbox, and the reminders of the conversation at to
// were switched off.
func ExpectDropped(tb testing.TB, e *bot.Engine, store bot.Store, to bot.Address) {
	tb.Helper()
	ctx := context.Background()
	if got := e.Stats().Undeliverable; got != 1 {
		tb.Errorf("undeliverable = %d; want the message dropped", got)
	}
	if pending, _ := store.Pending(ctx, 0, 10); len(pending) != 0 {
		tb.Errorf("%d messages still in the outbox", len(pending))
	}
	// Switched off in the background, once the sender let go.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if c, err := e.Load(ctx, to); err == nil && c.RemindersOff {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the reminders at %s are still on", to.Chat)
		}
	}
}

// Progress commits, as a change no conversation caused (Engine.Do under
// the event ID id), a team's progress "<done> of 5 finished" as the live
// message "team:t1" of the chat to, with a button per label (its action
// "tm:" + label).
func Progress(tb testing.TB, e *bot.Engine, id string, to bot.Address, done int, labels ...string) {
	tb.Helper()
	var row []bot.Button
	for _, l := range labels {
		row = append(row, bot.Button{Label: l, Action: "tm:" + l})
	}
	m := bot.Message{Text: fmt.Sprintf("%d of 5 finished", done), Live: "team:t1"}
	if len(row) > 0 {
		m.Buttons = [][]bot.Button{row}
	}
	if err := e.Do(context.Background(), id, func(tx *bot.Tx) error {
		tx.Send(to, m)
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
}
