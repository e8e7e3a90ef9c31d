package bot_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/features"
)

// toy is a feature as a new package would add it: a command, a question
// with two buttons, and what a pressed one does.
func toy() bot.Feature {
	return bot.Feature{
		Name: "toy",
		Modes: []bot.Mode{{
			Name: "toy",
			Ask: func(t *bot.Turn) (bot.Message, bool) {
				return bot.Message{Text: "Which one?", Buttons: [][]bot.Button{{
					{Label: "Apple", Action: t.Action("pick", "apple")},
					{Label: "Pear", Action: t.Action("pick", "pear")},
				}}}, true
			},
			Press: func(t *bot.Turn, verb, arg string) {
				t.Note("You picked " + arg + ".")
				t.To(bot.ModeIdle)
				t.Reask()
			},
		}},
		Commands: []bot.Cmd{{Name: "toy", Run: func(t *bot.Turn, _ []string) { t.To("toy"); t.Ask() }}},
	}
}

// TestAddedFeature: a feature added to the list is asked, answered by a
// pressed, typed-number and typed-label button, refuses its stale buttons
// like every question, and has its command in the menu before /help and
// /cancel, with nothing else in the engine knowing it.
func TestAddedFeature(t *testing.T) {
	h := newHarness(t, 0, func(c *bot.Config) { c.Features = append(features.All(), toy()) })
	sent := h.Send(bot.Event{Text: "/toy"})
	if len(sent) != 1 || !strings.Contains(sent[0].Msg.Text, "Which one?") {
		t.Fatalf("/toy: got %+v, want the toy's question", sent)
	}
	first := sent[0].Msg.Flat()
	if got := h.Say("2"); !strings.Contains(got, "You picked pear.") {
		t.Errorf("typed 2: got %q, want the second button's answer", got)
	}
	h.Send(bot.Event{Text: "/toy"})
	if got := h.Say("apple"); !strings.Contains(got, "You picked apple.") {
		t.Errorf("typed label: got %q, want the first button's answer", got)
	}
	if got := texts(h.Send(bot.Event{Action: first[0].Action})); !strings.Contains(got, "früheren Frage") || strings.Contains(got, "picked") {
		t.Errorf("an earlier question's button: got %q, want it refused", got)
	}
	var names []string
	for _, c := range h.Engine.Commands("de") {
		names = append(names, c.Name)
	}
	if want := []string{"start", "check", "plan", "export", "reminders", "pause", "resume", "timezone", "language", "team", "network", "join", "link", "meeting", "share", "open", "unlink", "delete", "toy", "help", "cancel"}; !slices.Equal(names, want) {
		t.Errorf("command menu: got %v, want %v", names, want)
	}
}

// TestFeatureClash: two features asking the same question, or taking the
// same command, are refused when the engine is built, not found in use.
func TestFeatureClash(t *testing.T) {
	catalog, texts := bottest.Content(t)
	for _, clash := range []bot.Feature{
		{Name: "again", Modes: []bot.Mode{{Name: "plan"}}},
		{Name: "again", Commands: []bot.Cmd{{Name: "help", Run: func(*bot.Turn, []string) {}}}},
		{Name: "again", Lasting: map[string]func(*bot.Turn, string){"rv": func(*bot.Turn, string) {}}},
	} {
		_, err := bot.New(bot.Config{Store: bottest.NewMemStore(), Flows: catalog, Texts: texts, Features: append(features.All(), clash)})
		if err == nil {
			t.Errorf("%+v: engine built, want the clash refused", clash)
		}
	}
}
