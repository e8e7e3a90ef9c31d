// Package linktest checks, in the adapters' tests, what readiness makes of
// an adapter's connection state (bot.Link).
package linktest

import (
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// NotReady is /readyz's rule for a platform (cmd/ampel's readiness): down
// for longer than its grace.
func NotReady(l bot.Link, now time.Time) bool { return !l.Up && now.Sub(l.Since) > l.Grace }

// Down checks a link that just went down at clock's time: down since then
// with the given grace, still ready at the end of the grace, not ready
// after it. It leaves clock past the grace.
func Down(t testing.TB, link func() bot.Link, clock *bottest.Clock, grace time.Duration) {
	t.Helper()
	l := link()
	if l.Up || l.Grace != grace || !l.Since.Equal(clock.Now()) {
		t.Errorf("down: %+v, want down since %v with grace %v", l, clock.Now(), grace)
	}
	if NotReady(l, clock.Now().Add(grace)) {
		t.Errorf("not ready within the grace: %+v", l)
	}
	clock.Add(grace + time.Second)
	if l := link(); !NotReady(l, clock.Now()) {
		t.Errorf("ready although down for longer than the grace: %+v", l)
	}
}

// Up checks a link that is up: ready, however late it is.
func Up(t testing.TB, link func() bot.Link, clock *bottest.Clock) {
	t.Helper()
	if l := link(); !l.Up || NotReady(l, clock.Now().Add(24*time.Hour)) {
		t.Errorf("not ready while connected: %+v", l)
	}
}
