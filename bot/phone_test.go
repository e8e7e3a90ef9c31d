package bot_test

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/flows"
)

// Phone-screen budgets, in characters as the user reads them.
const (
	maxFirstScreen = 500 // title, goal, intro and the first question
	maxExampleList = 700 // one checkpoint's examples, with their heading
	maxSuggestion  = 90  // one suggestion: one short line of a numbered list
	minSuggestions = 4   // fewer would leave the action plan without ideas
)

// onPhone starts every shipped check in every language it is written in
// (bmo-advocacy in all six, the others in German and English), each on a
// fresh conversation after /start, and hands fn what "/check <id>" showed.
func onPhone(t *testing.T, fn func(h *harness, f *flows.Flow, lang, first string)) {
	catalog, texts := bottest.Content(t)
	n := 0
	for _, f := range catalog.All() {
		for _, lang := range texts.Langs() {
			if texts.FlowLang(f, lang) != lang {
				continue
			}
			n++
			h := newHarness(t, 0)
			h.Lang = lang
			h.Say("/start")
			var first string
			for _, s := range h.Send(bot.Event{Text: "/check " + f.ID}) {
				first += s.Msg.Text
			}
			fn(h, f, lang, first)
		}
	}
	if n < 2*len(catalog.All())+4 {
		t.Errorf("checks shown on a phone: got %d (check, language) pairs, want every check in German and English and bmo-advocacy in four more", n)
	}
}

// TestFirstScreenFitsAPhone: the message that opens a check – its title, the
// goal, the introduction and the first checkpoint's question – fits on a phone
// screen without scrolling past the question, in every language.
func TestFirstScreenFitsAPhone(t *testing.T) {
	_, texts := bottest.Content(t)
	onPhone(t, func(_ *harness, f *flows.Flow, lang, text string) {
		if n := utf8.RuneCountInString(text); n > maxFirstScreen {
			t.Errorf("%s %s: the first screen of the check has %d characters, want at most %d:\n%s", f.ID, lang, n, maxFirstScreen, text)
		}
		// The goal keeps its label, and the screen ends with the question.
		if goal := texts.T(lang, f.GoalID()); !strings.Contains(text, goal) || !strings.Contains(goal, ":") {
			t.Errorf("%s %s: the first screen should show the goal with its label (%q):\n%s", f.ID, lang, goal, text)
		}
		if ask := texts.T(lang, "rate.ask"); !strings.HasSuffix(text, ask) {
			t.Errorf("%s %s: the first screen should end with the question %q:\n%s", f.ID, lang, ask, text)
		}
	})
}

// TestExampleListsFitAPhone: every checkpoint's examples fit a phone screen,
// and every suggestion is one short line that can become a measure.
func TestExampleListsFitAPhone(t *testing.T) {
	_, texts := bottest.Content(t)
	onPhone(t, func(h *harness, f *flows.Flow, lang, _ string) {
		for i, cp := range f.Checkpoints {
			title := texts.T(lang, f.CheckpointTitleID(cp))
			var reply string
			for _, s := range h.Send(bot.Event{Text: texts.T(lang, "button.examples")}) {
				reply += s.Msg.Text
			}
			header := "\n\n" + texts.T(lang, "rate.header", "N", i+1, "Total", len(f.Checkpoints), "Title", title)
			list, _, ok := strings.Cut(reply, header)
			if !ok || !strings.Contains(list, title) {
				t.Fatalf("%s %s: examples of %q: got %q, want the list followed by the question", f.ID, lang, title, reply)
			}
			if n := utf8.RuneCountInString(list); n > maxExampleList {
				t.Errorf("%s %s: examples of %q have %d characters, want at most %d:\n%s", f.ID, lang, title, n, maxExampleList, list)
			}
			if len(cp.Suggestions) < minSuggestions {
				t.Errorf("%s: %q has %d suggestions, want at least %d", f.ID, cp.ID, len(cp.Suggestions), minSuggestions)
			}
			for _, s := range cp.Suggestions {
				text := texts.T(lang, f.SuggestionID(cp, s))
				if n := utf8.RuneCountInString(text); n > maxSuggestion || strings.Contains(text, "\n") {
					t.Errorf("%s %s: suggestion %s has %d characters, want one line of at most %d: %q", f.ID, lang, f.SuggestionID(cp, s), n, maxSuggestion, text)
				}
			}
			// The last value of the scale needs no action (green, fulfilled):
			// on to the next checkpoint.
			h.Send(bot.Event{Text: strconv.Itoa(len(f.Levels()))})
		}
	})
}
