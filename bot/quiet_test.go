package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
)

// setQuiet sets quiet hours through /reminders, typed.
func setQuiet(t *testing.T, h *harness, typed string) {
	t.Helper()
	h.Say("/reminders")
	h.Say("4") // quiet hours
	if out := h.Say(typed); !strings.Contains(out, "Ruhezeiten gespeichert") {
		t.Fatalf("quiet hours %q not taken: %s", typed, out)
	}
}

// TestQuietHoursHoldReminder: a reminder whose hour falls inside quiet
// hours comes at their end, not before, and once.
func TestQuietHoursHoldReminder(t *testing.T) {
	h := newHarness(t, 0)
	setQuiet(t, h, "8-10:30")
	if got := h.Conv().Quiet; got != "08:00–10:30" {
		t.Fatalf("stored quiet hours: %q", got)
	}
	planWith(t, h, "15.3.2027", "29.3.2027")
	berlin := mustZone("Europe/Berlin")
	h.Clock.Set(time.Date(2027, 3, 15, 10, 29, 0, 0, berlin))
	for _, s := range h.RunDue() {
		t.Errorf("inside quiet hours: got %q", s.Msg.Text)
	}
	h.Clock.Set(time.Date(2027, 3, 15, 10, 30, 0, 0, berlin))
	if got := h.RunDue(); len(got) != 1 || !strings.Contains(got[0].Msg.Text, "Es geht los") {
		t.Fatalf("at the end of quiet hours: got %v, want the start reminder", got)
	}
	if again := h.RunDue(); len(again) != 0 {
		t.Errorf("sent twice: %v", again)
	}
	if out := h.Say("/reminders"); !strings.Contains(out, "Ruhezeiten: 08:00–10:30") || !strings.Contains(out, "29.03.2027 10:30") {
		t.Errorf("/reminders does not show the quiet hours and the held review: %q", out)
	}
}

// TestQuietHoursAfterDowntime: reminders that fell due while the bot was
// down are not sent at night when it comes back, but when quiet hours end.
func TestQuietHoursAfterDowntime(t *testing.T) {
	h := newHarness(t, 0)
	setQuiet(t, h, "22:00–07:00")
	planWith(t, h, "15.3.2027", "29.3.2027")
	berlin := mustZone("Europe/Berlin")
	h.Clock.Set(time.Date(2027, 3, 15, 23, 0, 0, 0, berlin)) // back at 23:00
	for _, s := range h.RunDue() {
		t.Errorf("at 23:00, inside quiet hours: got %q", s.Msg.Text)
	}
	h.Clock.Set(time.Date(2027, 3, 16, 6, 59, 0, 0, berlin))
	for _, s := range h.RunDue() {
		t.Errorf("at 06:59: got %q", s.Msg.Text)
	}
	h.Clock.Set(time.Date(2027, 3, 16, 7, 0, 0, 0, berlin))
	if got := h.RunDue(); len(got) != 1 || !strings.Contains(got[0].Msg.Text, "Es geht los") {
		t.Fatalf("at 07:00: got %v, want the start reminder once", got)
	}
}

// TestQuietHoursTodayAtNight: a start "today" saved at night would come at
// once; inside quiet hours it comes when they end.
func TestQuietHoursTodayAtNight(t *testing.T) {
	h := newHarness(t, 0)
	setQuiet(t, h, "20-8")
	berlin := mustZone("Europe/Berlin")
	h.Clock.Set(time.Date(2027, 3, 15, 21, 0, 0, 0, berlin))
	for _, in := range []string{"/check zo-kmu", "1", "3", "3", "3", "3", "3", "3", "1", "Workshop mit Betrieben", "1", "ich", "heute"} {
		h.Say(in)
	}
	// Saying when it comes, never silently nothing.
	if out := h.Say("29.3.2027"); !strings.Contains(out, "kommt nach Ihren Ruhezeiten: am Di, 16.03.2027 um 08:00 Uhr") {
		t.Errorf("saved at 21:00, start today: %q", out)
	}
	if r := reminderOf(t, h, bot.KindStart); !r.Due.Equal(time.Date(2027, 3, 16, 8, 0, 0, 0, berlin)) {
		t.Fatalf("start today at 21:00: due %s, want 08:00 tomorrow", r.Due.In(berlin))
	}
	if got := h.RunDue(); len(got) != 0 {
		t.Errorf("at 21:00: got %v", got)
	}
}

// TestQuietHoursTyped: the forms people type, and what is refused.
func TestQuietHoursTyped(t *testing.T) {
	for in, want := range map[string]string{"20-8": "20:00–08:00", "22:30 – 6": "22:30–06:00", "8.15-9.45": "08:15–09:45", "22h-7h": "22:00–07:00", "0-24": ""} {
		q, ok := bot.ParseQuiet(in)
		if got := q.String(); ok != (want != "") || got != want {
			t.Errorf("%q: got %q (%v), want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"8", "25-7", "8:75-9", "20-20", "abends"} {
		if q, ok := bot.ParseQuiet(in); ok {
			t.Errorf("%q: got %v, want refused", in, q)
		}
	}
}
