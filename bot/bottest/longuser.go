package bottest

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
)

// LongUser is one user who keeps using Ampel for years, to measure what a
// conversation's age costs: every cycle repeats the check (one red point),
// plans a measure for it and marks it done with its review reminder's
// button, 15 events in all; the clock moves a week per cycle.
type LongUser struct {
	Engine *bot.Engine
	Clock  *Clock
	Addr   bot.Address
	Events int // handled so far
	Cycles int // completed so far
}

// longCycle is a cycle's typed turns; "" is the measure's own text. The
// cycle ends with the review reminder's "done" (see Turn).
var longCycle = []string{
	"/check zo-kmu", "1", "3", "3", "3", "3", "3", "3", // a finished run, one red point
	"1", "", "1", "Me", "in 2 weeks", "2", // a measure for it
}

// NewLongUser returns a user on an engine with the built-in content on store.
func NewLongUser(tb testing.TB, store bot.Store) *LongUser {
	tb.Helper()
	clock := NewClock(time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC))
	e := NewEngine(tb, store, clock)
	e.Register(&Recorder{Name: "long"})
	return &LongUser{Engine: e, Clock: clock, Addr: bot.Address{Platform: "long", Chat: "u1", User: "u1"}}
}

// Turn handles the user's next event and returns how long it took.
func (u *LongUser) Turn(tb testing.TB) time.Duration {
	tb.Helper()
	i := u.Events % (len(longCycle) + 1)
	ev := bot.Event{ID: strconv.Itoa(u.Events), Addr: u.Addr, LangHint: "en"}
	switch {
	case i == len(longCycle):
		ev.Action = "rv:" + strconv.Itoa(u.Cycles+1) + ":done"
		u.Cycles++
		u.Clock.Add(7 * 24 * time.Hour)
	case longCycle[i] == "":
		ev.Text = "Measure " + strconv.Itoa(u.Cycles+1)
	default:
		ev.Text = longCycle[i]
	}
	u.Events++
	t0 := time.Now()
	if err := u.Engine.Handle(context.Background(), ev); err != nil {
		tb.Fatalf("event %d: %v", u.Events, err)
	}
	return time.Since(t0)
}
