package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/holiday"
)

// TestHolidaysAcrossDST runs Easter 2027 in Brandenburg, the week the
// clocks change (Easter Sunday 28.03., 02:00 → 03:00), under the simulated
// clock, the scheduler called every 15 minutes, with quiet hours over
// midnight (22:00–09:30). The start reminder (Wednesday) is snoozed to
// Thursday and a pause set until Thursday, the eve of Good Friday; the
// review falls on Easter Monday. Nothing is sent on a holiday (Good
// Friday, Easter Sunday, Easter Monday), inside the quiet hours or while
// paused; both come on Tuesday, the first working morning, once each,
// saying why; nothing is lost.
func TestHolidaysAcrossDST(t *testing.T) {
	berlin := mustZone("Europe/Berlin")
	h := newHarness(t, 0)
	h.Say("/reminders")
	h.Say("5") // public holidays: German opens the states
	if out := h.Say("Brandenburg"); !strings.Contains(out, "Feiertage: Brandenburg") {
		t.Fatalf("region not set: %s", out)
	}
	setQuiet(t, h, "22:00–09:30")
	planWith(t, h, "24.3.2027", "29.3.2027")
	h.Clock.Set(time.Date(2027, 3, 22, 12, 0, 0, 0, berlin))
	var cal holiday.Calendar
	pausedFrom, pausedTo := time.Time{}, time.Date(2027, 3, 26, 0, 0, 0, 0, berlin)
	sent := simulate(t, h, berlin, time.Date(2027, 4, 3, 0, 0, 0, 0, berlin), "22:00–09:30", func(now time.Time, s bottest.Sent) {
		if name, ok := cal.Off("DE-BB", now); ok {
			t.Errorf("sent on a holiday (%s) at %s: %q", name, now, s.Msg.Text)
		}
		if !pausedFrom.IsZero() && !now.Before(pausedFrom) && now.Before(pausedTo) {
			t.Errorf("sent while paused at %s: %q", now, s.Msg.Text)
		}
		if strings.HasPrefix(s.Msg.Text, "Es geht los") && now.Day() == 24 {
			row := s.Msg.Buttons[len(s.Msg.Buttons)-1]
			h.Send(bot.Event{Action: row[0].Action}) // tomorrow
			// A pause until Thursday: the snoozed reminder falls into it,
			// and the day after it is Good Friday.
			if out := h.Say("/pause bis 25.3."); !strings.Contains(out, "1 Erinnerung kommt am Di, 30.03.2027") {
				t.Fatalf("/pause: %q", out)
			}
			pausedFrom = now
		}
	})
	checkSent(t, h, sent, []string{
		"24.03. 09:30 CET Es geht los: Workshop mit Betrieben",
		"30.03. 09:30 CEST (Verschoben wegen Ihrer Pause; fällig war Do, 25.03.2027)",
		"30.03. 09:30 CEST (Verschoben vom Mo, 29.03.2027, einem Feiertag: Ostermontag)",
	})
}

// TestQuietHoursCarryNoReminderOntoAnOffDay: with reminders at 20:00 (an
// operator's choice) and quiet hours 18:00–08:00, a reminder's quiet hours
// end the next morning; when that morning is a Saturday or a holiday, the
// reminder waits for the next working morning instead: Friday's start
// comes on Monday at 08:00, the review on Maundy Thursday not on Good
// Friday but on the Tuesday after Easter. The saved plan says so.
func TestQuietHoursCarryNoReminderOntoAnOffDay(t *testing.T) {
	berlin := mustZone("Europe/Berlin")
	h := newHarness(t, 0, func(c *bot.Config) { c.Reminders.Hour = 20 })
	h.Say("/reminders")
	h.Say("5")
	if out := h.Say("Brandenburg"); !strings.Contains(out, "Feiertage: Brandenburg") {
		t.Fatalf("region not set: %s", out)
	}
	setQuiet(t, h, "18-8")
	for _, in := range []string{"/check zo-kmu", "1", "3", "3", "3", "3", "3", "3", "1", "Workshop mit Betrieben", "1", "ich", "19.3.2027"} {
		h.Say(in)
	}
	if out := h.Say("25.3.2027"); !strings.Contains(out, "am Mo, 22.03.2027 um 08:00 Uhr") || !strings.Contains(out, "am Di, 30.03.2027 um 08:00 Uhr") {
		t.Errorf("saved: %q; want both reminders said to come on the next working morning", out)
	}
	// The list says when they come, too.
	if out := h.Say("/reminders"); !strings.Contains(out, "• Mo, 22.03.2027 08:00 · Start") || !strings.Contains(out, "• Di, 30.03.2027 08:00 · Kontrolle") {
		t.Errorf("/reminders: %q; want the days they come on", out)
	}
	sent := simulate(t, h, berlin, time.Date(2027, 4, 3, 0, 0, 0, 0, berlin), "18:00–08:00", func(now time.Time, s bottest.Sent) {
		if wd := now.Weekday(); wd == time.Saturday || wd == time.Sunday {
			t.Errorf("sent at the weekend, %s: %q", now, s.Msg.Text)
		}
	})
	checkSent(t, h, sent, []string{
		"22.03. 08:00 CET Es geht los: Workshop mit Betrieben",
		"30.03. 08:00 CEST Zeit für die Kontrolle: Workshop mit Betrieben",
	})
}

// TestLateReminderWaitsForAWorkingMorning: a reminder due on Friday at
// 17:00 that the bot could not send until 19:00 (it was down) falls into
// the quiet hours 18:00–08:00; it comes when they end on Monday, not on
// Saturday morning.
func TestLateReminderWaitsForAWorkingMorning(t *testing.T) {
	berlin := mustZone("Europe/Berlin")
	h := newHarness(t, 0, func(c *bot.Config) { c.Reminders.Hour = 17 })
	setQuiet(t, h, "18-8")
	planWith(t, h, "19.3.2027", "31.3.2027")
	h.Clock.Set(time.Date(2027, 3, 19, 19, 0, 0, 0, berlin)) // back at 19:00
	sent := simulate(t, h, berlin, time.Date(2027, 3, 24, 0, 0, 0, 0, berlin), "18:00–08:00", func(now time.Time, s bottest.Sent) {})
	if want := "22.03. 08:00 CET Es geht los: Workshop mit Betrieben"; strings.Join(sent, "\n") != want {
		t.Errorf("sent:\n%s\nwant:\n%s", strings.Join(sent, "\n"), want)
	}
}
