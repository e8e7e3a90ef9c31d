package bot_test

import (
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
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
	f := catalog.All()[0]
	for _, tt := range []struct{ lang, word string }{{"de", "keine"}, {"en", "none"}} {
		h := newHarness(t, 0)
		h.lang = tt.lang
		h.say("/check")
		for range f.Checkpoints {
			h.say("1") // all red: every checkpoint gets a measure question
		}
		m := lastMsg(t, h.send(bot.Event{Text: "1"})) // build the plan
		for i, cp := range f.Checkpoints {
			title := texts.T(tt.lang, f.CheckpointTitleID(cp))
			if !strings.Contains(m.Text, title) {
				t.Fatalf("%s: measure question %d: got %q, want the one for %q", tt.lang, i+1, m.Text, title)
			}
			last := m.Buttons[len(m.Buttons)-1]
			if len(last) != 2 || last[0].Label != texts.T(tt.lang, "button.skip") || last[1].Label != texts.T(tt.lang, "button.back") {
				t.Errorf("%s: %q: last row %+v, want [%s, %s]", tt.lang, title, last, texts.T(tt.lang, "button.skip"), texts.T(tt.lang, "button.back"))
			}
			m = lastMsg(t, h.send(bot.Event{Text: tt.word}))
		}
		if want := texts.T(tt.lang, "button.plan.add"); !strings.Contains(flatLabels(m), want) {
			t.Errorf("%s: after %q on every checkpoint: got %q, want the (empty) plan", tt.lang, tt.word, m.Text)
		}
		if n := len(h.conv().Plan.Measures); n != 0 {
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
