package bot_test

import (
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// TestLastingButtons: the buttons bot.Lasting calls lasting are those the
// engine still takes after later questions (so an adapter may keep them on
// a superseded question), and the others get "belongs to an earlier
// question".
func TestLastingButtons(t *testing.T) {
	h := newHarness(t, 0)
	menu := h.Send(bot.Event{Text: "/start"})[0].Msg.Flat()
	rate := h.Send(bot.Event{Action: "/check zo-kmu"})[0].Msg.Flat()
	h.Send(bot.Event{Action: rate[0].Action}) // on to the second question
	h.Send(bot.Event{Text: "3"})
	for _, b := range menu {
		if !bot.Lasting(b.Action) {
			t.Errorf("menu button %q not lasting", b.Label)
		}
	}
	for _, b := range rate {
		if bot.Lasting(b.Action) {
			t.Errorf("rating button %q lasting", b.Label)
		}
	}
	if got := texts(h.Send(bot.Event{Action: menu[len(menu)-1].Action})); strings.Contains(got, "früheren Frage") {
		t.Errorf("an old menu's lasting button was refused: %q", got)
	}
	if got := texts(h.Send(bot.Event{Action: rate[1].Action})); !strings.Contains(got, "früheren Frage") {
		t.Errorf("an old question's button was taken: %q", got)
	}
}

func texts(sent []bottest.Sent) string {
	var b strings.Builder
	for _, s := range sent {
		b.WriteString(s.Msg.Text)
	}
	return b.String()
}
