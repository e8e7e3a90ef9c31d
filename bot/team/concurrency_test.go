package team_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/dialogtest"
	"github.com/ampel-bot/ampel/bot/team"
)

// TestTwentyAtOnce: twenty members of a channel press their rating
// buttons at the same moment, checkpoint after checkpoint, each press
// delivered twice (a platform's retry) at the same time: every rating is
// counted once, the channel's live progress ends showing all twenty
// finished, edited at most once a second, and the rating closes with
// every member's rating in the spread.
func TestTwentyAtOnce(t *testing.T) {
	const n = 20
	rec := &bottest.Editing{Recorder: bottest.Recorder{Name: "slack"}}
	g := dialogtest.NewGroup(t, rec)
	t0 := g.Clock.Now()
	var users []string
	g.Event("u00", false, bot.Event{Text: "/team zo-kmu"})
	for i := range n {
		u := fmt.Sprintf("u%02d", i)
		users = append(users, u)
		g.Event(u, false, bot.Event{Action: g.Button("#", 1)})
	}
	level := func(i int) int { return i%3 + 1 } // red, yellow, green in turn
	var channel []string
	for round := range 7 {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, u := range users {
			ev := bot.Event{ID: fmt.Sprintf("r%d-%s", round, u), Addr: g.Private(u), Action: g.Button(u, level(i)), LangHint: "de"}
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					if err := g.Engine.Handle(context.Background(), ev); err != nil {
						t.Errorf("%s round %d: %v", u, round, err)
					}
				}()
			}
		}
		close(start)
		wg.Wait()
		for _, s := range g.Take() {
			if s.To.Chat == g.Channel.Chat {
				channel = append(channel, s.Msg.Text)
			}
		}
	}
	r := run(t, g)
	for i, m := range r.Members {
		if len(m.Run.Ratings) != 7 || !m.Run.Finished() {
			t.Errorf("%s: %d ratings, finished %v; want all 7", m.ID, len(m.Run.Ratings), m.Run.Finished())
		}
		for cp, v := range m.Run.Ratings {
			if want := []string{"", "red", "yellow", "green"}[level(i)]; v != want {
				t.Errorf("%s rated %s %s, want %s", m.ID, cp, v, want)
			}
		}
	}
	if r.State != team.Settling {
		t.Errorf("after all finished: state %q, want settling", r.State)
	}
	// The live progress was posted once, edited at most once a second
	// (of the test's clock), and shows all twenty finished.
	posted := 0
	for _, s := range g.Sent {
		if s.Msg.Live != "" {
			posted++
		}
	}
	if posted != 1 {
		t.Errorf("the progress was posted %d times, want once and then edited", posted)
	}
	if secs := int(g.Clock.Now().Sub(t0).Seconds()); len(g.Edits) > secs || len(g.Edits) < 7 {
		t.Errorf("the progress was edited %d times in %d seconds, want at most one a second, and some", len(g.Edits), secs)
	}
	if last := rec.Shown("m1").Text; !strings.Contains(last, "20 von 20 fertig") {
		t.Errorf("the progress shown at the end:\n%s\nwant 20 of 20 finished", last)
	}
	// Every rating is in the spread once: 7 red, 7 yellow, 6 green.
	spread := strings.Repeat("🔴", 7) + strings.Repeat("🟡", 7) + strings.Repeat("🟢", 6) + " "
	if got := strings.Join(channel, "\n"); strings.Count(got, spread) != 7 {
		t.Errorf("the spread: want every checkpoint with %q, got\n%s", spread, got[max(0, len(got)-3000):])
	}
}
