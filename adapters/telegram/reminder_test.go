package telegram

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestReviewReminderOnPhone: the review reminder of a plan made in Telegram
// arrives in the chat with its buttons at nine, and pressing "done" settles
// the measure.
func TestReviewReminderOnPhone(t *testing.T) {
	e := newEnv(t, nil)
	e.run(nil)
	c := newChatter(t, e, 2001, "de")
	c.say("/check zo-kmu")
	c.tap("🔴")
	for range 6 {
		c.tap("🟢")
	}
	c.tap("Maßnahmenplan erstellen")
	c.say("Zwei Betriebe besuchen")
	c.tap("hoch")
	c.say("ich")
	c.say("15.3.2027")
	c.say("22.3.2027")
	c.replies()

	e.clock.Set(time.Date(2027, 3, 22, 8, 0, 0, 0, time.UTC)) // 09:00 in Berlin
	if _, err := e.engine.RunDue(context.Background(), e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.settle()
	var found bool
	for _, m := range c.replies() {
		if strings.Contains(m.Text, "Zeit für die Kontrolle: Zwei Betriebe besuchen") && m.Markup != nil {
			found = true
		}
	}
	if !found {
		t.Fatalf("no review reminder with buttons in the chat\n%s", strings.Join(c.log, "\n"))
	}
	c.tap("✅ Erledigt")
	if conv := e.conv(c.chat); conv.Plan.Measures[0].Status != "done" {
		t.Errorf("after pressing done: %+v", conv.Plan.Measures[0])
	}
}
