// Package linktest holds what the adapters' connection tests share: what
// readiness makes of an adapter's connection state (bot.Link), and a
// dialogue to drive through dropped connections whose answers show a
// message lost or handled twice.
package linktest

import (
	"fmt"
	"strings"
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

// Next is the message a user types after k messages: "/check zo-kmu",
// then in turn a rating (1, 2, 3) and "6" (back). Each message is answered
// with one message, showing the first checkpoint after the start and after
// "back", the second after a rating.
func Next(k int) string {
	switch {
	case k == 0:
		return "/check zo-kmu"
	case k%2 == 1:
		return fmt.Sprint(1 + (k/2)%3)
	}
	return "6"
}

// Answers checks the answers a user got to the messages typed (made by
// Next): one each, in order. A message lost, handled twice or out of turn
// moves the dialogue to another checkpoint.
func Answers(t testing.TB, user string, typed, answers []string) {
	t.Helper()
	if len(answers) != len(typed) {
		t.Errorf("%s typed %d messages and got %d answers", user, len(typed), len(answers))
	}
	for i := range min(len(answers), len(typed)) {
		want := "1/7 · "
		if i%2 == 1 {
			want = "2/7 · "
		}
		if !strings.Contains(answers[i], want) {
			t.Errorf("%s: answer %d to %q does not show %q: %.80q", user, i+1, typed[i], want, answers[i])
			return
		}
	}
}
