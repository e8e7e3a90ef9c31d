package remind_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot/dialogtest"
)

// saveWith goes through the check to a measure of the first checkpoint
// and returns the reply to its review date.
func saveWith(t *testing.T, h *dialogtest.Chat, start, review string) string {
	t.Helper()
	for _, in := range []string{"/check zo-kmu", "1", "3", "3", "3", "3", "3", "3", "1", "Workshop mit Betrieben", "1", "ich", start} {
		h.Say(in)
	}
	got := h.Say(review)
	if !strings.Contains(got, "Gespeichert") {
		t.Fatalf("review date %q not taken: %s", review, got)
	}
	return got
}

// TestRemindersNeverSilentlyNothing: a measure that starts and is reviewed
// today after the reminder hour gets both reminders at once, and the saved
// measure says so; one on a weekend says they come on Monday; with
// reminders off, it says they are off.
func TestRemindersNeverSilentlyNothing(t *testing.T) {
	h := dialogtest.New(t, 0)
	h.Clock.Add(3 * time.Hour) // Wednesday, 12:00
	got := saveWith(t, h, "heute", "heute")
	for _, want := range []string{"Die Erinnerung „Start“ kommt gleich: 09:00 Uhr ist heute schon vorbei.", "Die Erinnerung „Kontrolle“ kommt gleich"} {
		if !strings.Contains(got, want) {
			t.Errorf("saved today at noon: got %q, want %q", got, want)
		}
	}
	var sent []string
	for _, s := range h.RunDue() {
		sent = append(sent, s.Msg.Text)
	}
	if all := strings.Join(sent, "\n"); len(sent) != 2 || !strings.Contains(all, "Es geht los: Workshop mit Betrieben") || !strings.Contains(all, "Zeit für die Kontrolle: Workshop mit Betrieben") {
		t.Errorf("right after saving: sent %q, want the start and the review reminder", sent)
	}

	h = dialogtest.New(t, 0)
	h.Clock.Add(3*24*time.Hour + 3*time.Hour) // Saturday, 12:00
	got = saveWith(t, h, "morgen", "morgen")  // Sunday
	for _, want := range []string{"Die Erinnerung „Start“ kommt am Mo, 15.03.2027 um 09:00 Uhr, nicht am Wochenende", "Die Erinnerung „Kontrolle“ kommt am Mo, 15.03.2027"} {
		if !strings.Contains(got, want) {
			t.Errorf("saved for a Sunday: got %q, want %q", got, want)
		}
	}

	h = dialogtest.New(t, 0)
	h.Say("/reminders")
	h.Say("1") // off
	if got := saveWith(t, h, "morgen", "in 4 Wochen"); !strings.Contains(got, "Ihre Erinnerungen sind ausgeschaltet; mit /reminders schalten Sie sie ein.") {
		t.Errorf("saved with reminders off: got %q, want to hear that they are off", got)
	}

	// An ordinary measure says nothing more.
	h = dialogtest.New(t, 0)
	if got := saveWith(t, h, "morgen", "in 4 Wochen"); strings.Contains(got, "Erinnerung") {
		t.Errorf("saved for tomorrow: got %q, want no word on reminders", got)
	}
}

// TestPauseHeldAfterQuietHours: a pause that holds a reminder says when it
// comes as it will come, after the quiet hours (08:00–10:00 hold the 09:00
// reminder to 10:00), not at the bare reminder hour.
func TestPauseHeldAfterQuietHours(t *testing.T) {
	h := dialogtest.New(t, 0)
	saveWith(t, h, "morgen", "17.3.")
	h.Say("/reminders")
	h.Say("4") // quiet hours
	h.Say("8-10")
	got := h.Say("/pause 12.3.")
	if want := "1 Erinnerung kommt am Mo, 15.03.2027 um 10:00 Uhr."; !strings.Contains(got, want) {
		t.Errorf("paused over the start reminder: got %q, want %q", got, want)
	}
}
