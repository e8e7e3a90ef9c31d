package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
)

// TestSnoozeStart: "tomorrow" on a start reminder brings it again the next
// morning, once; nothing comes between.
func TestSnoozeStart(t *testing.T) {
	h := newHarness(t, 0)
	planWith(t, h, "15.3.2027", "29.3.2027")
	berlin := mustZone("Europe/Berlin")
	h.Clock.Set(time.Date(2027, 3, 15, 9, 0, 0, 0, berlin))
	got := h.RunDue()
	if len(got) != 1 {
		t.Fatalf("start: got %d messages", len(got))
	}
	row := got[0].Msg.Buttons[len(got[0].Msg.Buttons)-1]
	var out string
	for _, s := range h.Send(bot.Event{Action: row[0].Action}) {
		out += s.Msg.Text
	}
	if !strings.Contains(out, "Ich erinnere Sie am Di, 16.03.2027 um 09:00 Uhr wieder") {
		t.Fatalf("snooze tomorrow: %q", out)
	}
	texts, at := sentBetween(t, h, time.Date(2027, 3, 17, 0, 0, 0, 0, berlin))
	if len(texts) != 1 || !at[0].Equal(time.Date(2027, 3, 16, 9, 0, 0, 0, berlin)) || !strings.Contains(texts[0], "Es geht los") {
		t.Errorf("after snoozing: got %q at %v, want the start once on 16.03. 09:00", texts, at)
	}
}

// TestSnoozeReviewAsks: snoozing a review reminder asks whether the review
// date moves; "only remind me" leaves the plan, "move" moves the date.
func TestSnoozeReviewAsks(t *testing.T) {
	h := newHarness(t, 0)
	planWith(t, h, "15.3.2027", "29.3.2027")
	berlin := mustZone("Europe/Berlin")
	h.Clock.Set(time.Date(2027, 3, 29, 9, 0, 0, 0, berlin))
	if got := h.RunDue(); len(got) != 1 { // the review; the start is long missed
		t.Fatalf("got %d reminders, want 1", len(got))
	}
	// Typed, the button's label: the reminder is the last question.
	if out := h.Say("nächste woche"); !strings.Contains(out, "auch auf Mo, 05.04.2027 verschoben") {
		t.Fatalf("typed next week: %q", out)
	}
	if out := h.Say("nur wieder erinnern"); !strings.Contains(out, "am Mo, 05.04.2027 um 09:00 Uhr wieder") {
		t.Fatalf("only remind: %q", out)
	}
	if m := h.Conv().Plan.Find(1); m.Review != "2027-03-29" {
		t.Errorf("review date moved without asking: %s", m.Review)
	}
	texts, _ := sentBetween(t, h, time.Date(2027, 4, 5, 9, 0, 0, 0, berlin))
	if len(texts) != 1 || !strings.Contains(texts[0], "Zeit für die Kontrolle") {
		t.Fatalf("on 05.04.: got %q, want the review reminder once", texts)
	}
	if out := h.Say("datum wählen"); !strings.Contains(out, "Wann soll ich wieder erinnern") {
		t.Fatalf("pick a date: %q", out)
	}
	if out := h.Say("5.4.2027"); !strings.Contains(out, "zu früh") {
		t.Errorf("today: %q", out)
	}
	h.Say("12.4.2027")
	if out := h.Say("kontrolle verschieben"); !strings.Contains(out, "verschoben auf Mo, 12.04.2027") {
		t.Fatalf("move: %q", out)
	}
	if m := h.Conv().Plan.Find(1); m.Review != "2027-04-12" {
		t.Errorf("review date: got %s, want 2027-04-12", m.Review)
	}
	texts, _ = sentBetween(t, h, time.Date(2027, 4, 13, 0, 0, 0, 0, berlin))
	if len(texts) != 1 || !strings.Contains(texts[0], "Zeit für die Kontrolle") {
		t.Errorf("up to 13.04.: got %q, want the moved review once", texts)
	}
}
