package bot_test

import (
	"strings"
	"testing"
	"time"
)

// sentBetween runs the scheduler every 15 minutes from the clock's time to
// until and returns what was sent, each with when.
func sentBetween(t *testing.T, h *harness, until time.Time) (texts []string, at []time.Time) {
	t.Helper()
	for !h.Clock.Now().After(until) {
		for _, s := range h.RunDue() {
			texts = append(texts, s.Msg.Text)
			at = append(at, h.Clock.Now())
		}
		h.Clock.Add(15 * time.Minute)
	}
	return texts, at
}

// TestPauseHoldsAndSendsOnce: "/pause bis 19.3." holds the reminders that
// fall into it; they come once, marked, on the first working morning after
// (the pause ends on a Friday: Monday), and the one after the pause at its
// own time.
func TestPauseHoldsAndSendsOnce(t *testing.T) {
	h := newHarness(t, 0)
	planWith(t, h, "12.3.2027", "24.3.2027")
	out := h.Say("/pause bis 19.3.")
	if !strings.Contains(out, "pausieren bis einschließlich Fr, 19.03.2027") || !strings.Contains(out, "1 Erinnerung kommt am Mo, 22.03.2027 um 09:00 Uhr") {
		t.Fatalf("/pause: %q", out)
	}
	if out := h.Say("/reminders"); !strings.Contains(out, "Pausiert bis einschließlich Fr, 19.03.2027") || !strings.Contains(out, "Mo, 22.03.2027 09:00 · Start") {
		t.Errorf("/reminders while paused: %q", out)
	}
	berlin := mustZone("Europe/Berlin")
	texts, at := sentBetween(t, h, time.Date(2027, 3, 25, 0, 0, 0, 0, berlin))
	if len(texts) != 2 {
		t.Fatalf("got %d reminders, want the start (postponed) and the review: %q", len(texts), texts)
	}
	if want := time.Date(2027, 3, 22, 9, 0, 0, 0, berlin); !at[0].Equal(want) || !strings.Contains(texts[0], "Verschoben wegen Ihrer Pause; fällig war Fr, 12.03.2027") || !strings.Contains(texts[0], "Es geht los") {
		t.Errorf("first: at %s %q, want the postponed start at %s", at[0], texts[0], want)
	}
	if want := time.Date(2027, 3, 24, 9, 0, 0, 0, berlin); !at[1].Equal(want) || strings.Contains(texts[1], "Verschoben") {
		t.Errorf("second: at %s %q, want the review, not postponed, at %s", at[1], texts[1], want)
	}
}

// TestResumeEndsPause: /resume sends what the pause held at once, marked,
// and only once; what comes after is at its time.
func TestResumeEndsPause(t *testing.T) {
	h := newHarness(t, 0)
	planWith(t, h, "morgen", "17.3.2027")
	h.Say("/pause 19.3.")
	berlin := mustZone("Europe/Berlin")
	h.Clock.Set(time.Date(2027, 3, 12, 10, 0, 0, 0, berlin))
	if got := h.RunDue(); len(got) != 0 {
		t.Fatalf("while paused: got %d", len(got))
	}
	if out := h.Say("/resume"); !strings.Contains(out, "Die Pause ist beendet") {
		t.Fatalf("/resume: %q", out)
	}
	got := h.RunDue()
	if len(got) != 1 || !strings.Contains(got[0].Msg.Text, "fällig war Do, 11.03.2027") {
		t.Fatalf("after /resume: got %v, want the held start once", got)
	}
	texts, at := sentBetween(t, h, time.Date(2027, 3, 18, 0, 0, 0, 0, berlin))
	if len(texts) != 1 || !at[0].Equal(time.Date(2027, 3, 17, 9, 0, 0, 0, berlin)) {
		t.Errorf("after: got %q at %v, want the review at 17.03. 09:00", texts, at)
	}
	if out := h.Say("/resume"); !strings.Contains(out, "nicht pausiert") {
		t.Errorf("/resume without a pause: %q", out)
	}
}

// TestPauseRefusesPast: a pause that ends before today is refused, and
// the question stays open for a date.
func TestPauseRefusesPast(t *testing.T) {
	h := newHarness(t, 0)
	if out := h.Say("/pause bis gestern"); !strings.Contains(out, "Vergangenheit") {
		t.Fatalf("past pause: %q", out)
	}
	if out := h.Say("2"); !strings.Contains(out, "pausieren bis einschließlich Di, 23.03.2027") {
		t.Errorf("two weeks: %q", out)
	}
}
