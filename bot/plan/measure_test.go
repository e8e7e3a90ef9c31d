package plan_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/dialogtest"
	"github.com/ampel-bot/ampel/flows"
)

// lastMsg is the last message of a reply, which carries the question.
func lastMsg(t *testing.T, sent []bottest.Sent) bot.Message {
	t.Helper()
	if len(sent) == 0 {
		t.Fatal("no reply")
	}
	return sent[len(sent)-1].Msg
}

// TestNoMeasureHasAFixedPlace: "no measure needed" is in the same place on
// every checkpoint's measure question (the last row, before "back", right
// under the suggestions), and a fixed word typed ("keine", "none") means
// it, whatever the number of suggestions.
func TestNoMeasureHasAFixedPlace(t *testing.T) {
	catalog, texts := bottest.Content(t)
	f, _ := catalog.Get("zo-kmu")
	for _, tt := range []struct{ lang, word string }{{"de", "keine"}, {"en", "none"}} {
		h := dialogtest.New(t, 0)
		h.Lang = tt.lang
		h.Say("/check zo-kmu")
		for range f.Checkpoints {
			h.Say("1") // all red: every checkpoint gets a measure question
		}
		m := lastMsg(t, h.Send(bot.Event{Text: "1"})) // build the plan
		for i, cp := range f.Checkpoints {
			title := texts.T(tt.lang, f.CheckpointTitleID(cp))
			if !strings.Contains(m.Text, title) {
				t.Fatalf("%s: measure question %d: got %q, want the one for %q", tt.lang, i+1, m.Text, title)
			}
			last := m.Buttons[len(m.Buttons)-1]
			if len(last) != 2 || last[0].Label != texts.T(tt.lang, "button.skip") || last[1].Label != texts.T(tt.lang, "button.back") {
				t.Errorf("%s: %q: last row %+v, want [%s, %s]", tt.lang, title, last, texts.T(tt.lang, "button.skip"), texts.T(tt.lang, "button.back"))
			}
			m = lastMsg(t, h.Send(bot.Event{Text: tt.word}))
		}
		if want := texts.T(tt.lang, "button.plan.add"); !strings.Contains(flatLabels(m), want) {
			t.Errorf("%s: after %q on every checkpoint: got %q, want the (empty) plan", tt.lang, tt.word, m.Text)
		}
		if n := len(h.Conv().Plan.Measures); n != 0 {
			t.Errorf("%s: %q made %d measures, want none", tt.lang, tt.word, n)
		}
	}
}

func flatLabels(m bot.Message) string {
	var s []string
	for _, b := range m.Flat() {
		s = append(s, b.Label)
	}
	return strings.Join(s, "|")
}

// TestSuggestionsAreANumberedList: where buttons are tapped, a phone cuts
// a label after about 40 characters, and every suggestion is longer. So
// the measure question lists the suggestions numbered in its text and its
// buttons are the numbers, at most six in a row; the number, tapped or
// typed, and the suggestion's whole text typed, take the suggestion. Where
// buttons are typed (the console), the suggestions are the numbered
// buttons themselves, and the text does not list them twice.
func TestSuggestionsAreANumberedList(t *testing.T) {
	catalog, texts := bottest.Content(t)
	f, _ := catalog.Get("zo-kmu")
	for _, typed := range []bool{false, true} {
		for _, lang := range []string{"de", "en"} {
			t.Run(fmt.Sprintf("%s/typed=%v", lang, typed), func(t *testing.T) {
				t.Parallel() // independent conversations: both cores
				suggestionsAreANumberedList(t, f, texts, lang, typed)
			})
		}
	}
}

func suggestionsAreANumberedList(t *testing.T, f *flows.Flow, texts *bot.Texts, lang string, typed bool) {
	for i, cp := range f.Checkpoints {
		h := dialogtest.New(t, 0)
		h.Lang, h.Rec.Typed = lang, typed
		h.Say("/check zo-kmu")
		for j := range f.Checkpoints {
			h.Say(map[bool]string{true: "1", false: "3"}[i == j]) // only checkpoint i needs a measure
		}
		m := lastMsg(t, h.Send(bot.Event{Text: "1"}))
		flat := m.Flat()
		for k, s := range cp.Suggestions {
			text := texts.T(lang, f.SuggestionID(cp, s))
			num := strconv.Itoa(k + 1)
			inText := strings.Contains(m.Text, "\n"+num+". "+text+"\n")
			switch {
			case typed && (inText || flat[k].Label != text):
				t.Errorf("console, %s, %s: suggestion %d: button %q, listed in the text: %v; want the button to be it, and no list", lang, cp.ID, k+1, flat[k].Label, inText)
			case !typed && (!inText || flat[k].Label != num):
				t.Errorf("%s, %s: suggestion %d: button %q, listed in the text as %q: %v; want button %q and the list", lang, cp.ID, k+1, flat[k].Label, num+". "+text, inText, num)
			}
		}
		for _, row := range m.Buttons {
			if len(row) > 6 {
				t.Errorf("%s, %s: a row of %d buttons, want at most 6", lang, cp.ID, len(row))
			}
		}
		// The last suggestion by its number, then (back) by its text.
		last := len(cp.Suggestions)
		want := texts.T(lang, f.SuggestionID(cp, cp.Suggestions[last-1]))
		if got := h.Say(strconv.Itoa(last)); !strings.Contains(got, "„"+want+"“") && !strings.Contains(got, "“"+want+"”") {
			t.Errorf("typed %v, %s, %s: %d typed: got %q, want the suggestion %q to confirm", typed, lang, cp.ID, last, got, want)
		}
		h.Say(texts.T(lang, "button.back"))
		if got := h.Say(want); !strings.Contains(got, "„"+want+"“") && !strings.Contains(got, "“"+want+"”") {
			t.Errorf("typed %v, %s, %s: the suggestion typed whole: got %q, want it to confirm", typed, lang, cp.ID, got)
		}
		if d := h.Conv().Dialog; d.Mode != "m-confirm" {
			t.Errorf("typed %v, %s, %s: after typing a suggestion whole the dialogue is at %q, want it confirmed as a suggestion", typed, lang, cp.ID, d.Mode)
		}
	}
}
