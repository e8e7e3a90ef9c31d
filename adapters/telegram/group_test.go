package telegram

import (
	"strings"
	"testing"
)

// TestGroupMentionCheck: in a group, "@ampel_test_bot check" starts the
// check (the adapter cuts the mention, the engine takes the word as the
// command), though Telegram has slash commands; and the first "Hallo" in a
// chat gets the welcome, once.
func TestGroupMentionCheck(t *testing.T) {
	e := newEnv(t, nil)
	e.run(nil)
	c := newChatter(t, e, -100555, "de")
	c.from = user(555, "de")
	text := func(msgs []sentMsg) string {
		var s []string
		for _, m := range msgs {
			s = append(s, m.Text)
		}
		return strings.Join(s, "\n")
	}
	if got := text(c.say("@" + botUsername + " Hallo")); !strings.Contains(got, "Willkommen bei Ampel!") {
		t.Errorf("first contact: got %q, want the welcome", got)
	}
	if got := text(c.say("@" + botUsername + " Hallo")); strings.Contains(got, "Willkommen") {
		t.Errorf("second hello: got %q, want no second welcome", got)
	}
	if got := text(c.say("@" + botUsername + " check zo-kmu")); !strings.Contains(got, "1/7") {
		t.Errorf("@bot check in a group: got %q, want the check's first question", got)
	}
	// The first word in another group is the command, with no menu before.
	c2 := newChatter(t, e, -100556, "en")
	c2.from = user(556, "en")
	if got := text(c2.say("@" + botUsername + " check zo-kmu")); !strings.Contains(got, "1/7") || strings.Contains(got, "Welcome") {
		t.Errorf("@bot check first in a group: got %q, want the check's first question (no welcome: a command)", got)
	}
}
