package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
)

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
	quiet, _ := bot.ParseQuiet("22:00–09:30")
	var sent []string
	pausedFrom, pausedTo := time.Time{}, time.Date(2027, 4, 1, 0, 0, 0, 0, berlin)
	for end := time.Date(2027, 4, 3, 0, 0, 0, 0, berlin); h.Clock.Now().Before(end); h.Clock.Add(15 * time.Minute) {
		now := h.Clock.Now().In(berlin)
		for _, s := range h.RunDue() {
			local := now.Hour()*60 + now.Minute()
			if local >= quiet.From || local < quiet.To {
				t.Errorf("sent inside quiet hours at %s: %q", now, s.Msg.Text)
			}
			if !pausedFrom.IsZero() && !now.Before(pausedFrom) && now.Before(pausedTo) {
				t.Errorf("sent while paused at %s: %q", now, s.Msg.Text)
			}
			first, _, _ := strings.Cut(s.Msg.Text, "\n")
			sent = append(sent, now.Format("02.01. 15:04 MST")+" "+first)
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
		}
	}
	want := []string{
		"27.03. 09:30 CET Es geht los: Workshop mit Betrieben",
		"28.03. 09:30 CEST Es geht los: Workshop mit Betrieben",
		"01.04. 09:30 CEST (Verschoben wegen Ihrer Pause; fällig war Mi, 31.03.2027)",
	}
	if strings.Join(sent, "\n") != strings.Join(want, "\n") {
		t.Errorf("sent:\n%s\nwant:\n%s", strings.Join(sent, "\n"), strings.Join(want, "\n"))
	}
	for _, r := range h.Conv().Reminders {
		if r.Kind != bot.KindRepeat && r.Status != bot.ReminderSent {
			t.Errorf("reminder %s: status %q, want sent (nothing lost)", r.ID, r.Status)
		}
	}
}
