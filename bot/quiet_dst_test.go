package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// simulate calls the scheduler every 15 minutes of the simulated clock
// until end, fails on anything sent inside the quiet hours, hands each send
// to each, and returns the first line of every send after its local time.
func simulate(t *testing.T, h *harness, zone *time.Location, end time.Time, quietHours string, each func(now time.Time, s bottest.Sent)) []string {
	t.Helper()
	quiet, _ := bot.ParseQuiet(quietHours)
	var sent []string
	for ; h.Clock.Now().Before(end); h.Clock.Add(15 * time.Minute) {
		now := h.Clock.Now().In(zone)
		for _, s := range h.RunDue() {
			local := now.Hour()*60 + now.Minute()
			if local >= quiet.From || local < quiet.To {
				t.Errorf("sent inside quiet hours at %s: %q", now, s.Msg.Text)
			}
			first, _, _ := strings.Cut(s.Msg.Text, "\n")
			sent = append(sent, now.Format("02.01. 15:04 MST")+" "+first)
			each(now, s)
		}
	}
	return sent
}

// checkSent compares what was sent with want, and checks that every plan
// reminder was sent: nothing lost.
func checkSent(t *testing.T, h *harness, sent, want []string) {
	t.Helper()
	if strings.Join(sent, "\n") != strings.Join(want, "\n") {
		t.Errorf("sent:\n%s\nwant:\n%s", strings.Join(sent, "\n"), strings.Join(want, "\n"))
	}
	for _, r := range h.Conv().Reminders {
		if r.Kind != bot.KindRepeat && r.Status != bot.ReminderSent {
			t.Errorf("reminder %s: status %q, want sent (nothing lost)", r.ID, r.Status)
		}
	}
}

// TestQuietPauseSnoozeAcrossDST runs a week around the spring change of the
// clocks in Berlin (Sunday 28.03.2027, 02:00 → 03:00) under the simulated
// clock, the scheduler called every 15 minutes, with quiet hours over
// midnight (22:00–09:30), weekends allowed, a snooze onto the day of the
// change and a pause: nothing is sent inside the quiet hours or while
// paused, nothing is lost, nothing comes twice.
func TestQuietPauseSnoozeAcrossDST(t *testing.T) {
	berlin := mustZone("Europe/Berlin")
	h := newHarness(t, 0)
	h.Say("/reminders")
	h.Say("2") // weekends too: the clocks change on a Sunday
	setQuiet(t, h, "22:00–09:30")
	planWith(t, h, "27.3.2027", "31.3.2027")
	h.Clock.Set(time.Date(2027, 3, 26, 12, 0, 0, 0, berlin))
	pausedFrom, pausedTo := time.Time{}, time.Date(2027, 4, 1, 0, 0, 0, 0, berlin)
	sent := simulate(t, h, berlin, time.Date(2027, 4, 3, 0, 0, 0, 0, berlin), "22:00–09:30", func(now time.Time, s bottest.Sent) {
		if !pausedFrom.IsZero() && !now.Before(pausedFrom) && now.Before(pausedTo) {
			t.Errorf("sent while paused at %s: %q", now, s.Msg.Text)
		}
		if strings.HasPrefix(s.Msg.Text, "Es geht los") && now.Day() == 27 {
			// Snoozed onto the day the clocks change.
			row := s.Msg.Buttons[len(s.Msg.Buttons)-1]
			h.Send(bot.Event{Action: row[0].Action})
		}
		if strings.HasPrefix(s.Msg.Text, "Es geht los") && now.Day() == 28 {
			if out := h.Say("/pause bis 31.3."); !strings.Contains(out, "1 Erinnerung kommt am Do, 01.04.2027") {
				t.Fatalf("/pause: %q", out)
			}
			pausedFrom = now
		}
	})
	checkSent(t, h, sent, []string{
		"27.03. 09:30 CET Es geht los: Workshop mit Betrieben",
		"28.03. 09:30 CEST Es geht los: Workshop mit Betrieben",
		"01.04. 09:30 CEST (Verschoben wegen Ihrer Pause; fällig war Mi, 31.03.2027)",
	})
}
