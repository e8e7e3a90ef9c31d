package bot_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/locales"
)

// TestInvisibleCharactersStripped: what a user types as a measure and what a
// platform reports as a name lose the characters that hide or reorder text
// (a right-to-left override makes "Workshop" read "pohskroW") or break it
// over lines in the plan, while emoji sequences joined by U+200D, a
// subdivision flag and a Persian word with its non-joiner stay whole.
func TestInvisibleCharactersStripped(t *testing.T) {
	h := newHarness(t, 0)
	h.Addr = bot.Address{Platform: "console", Chat: "-100", User: "U0ANNA01"}
	name := "\u2066Anna\u202E\u200B Berg\u2028\u200D\u3164"
	group := func(text string) string {
		t.Helper()
		var b strings.Builder
		for _, s := range h.Send(bot.Event{Text: text, Group: true, UserName: name}) {
			b.WriteString(s.Msg.Text)
		}
		return b.String()
	}
	for _, in := range []string{"/check zo-kmu", "1", "3", "3", "3", "3", "3", "3", "1"} {
		group(in)
	}
	family, scotland, persian := "👩\u200D👩\u200D👧", "🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F", "می\u200Cخواهم"
	typed := "Work\u202Eshop\u2028mit\u0085zwei\u000BBe\u00ADtrie\u200Bben\u2029" + family + " " + scotland + " " + persian + "\u200F\u061C\u2069\uFEFF"
	group(typed)
	group("1") // priority
	group("1") // me: the name the platform reported
	group("heute")
	plan := group("heute")
	m := h.Conv().Plan.Measures
	if len(m) != 1 {
		t.Fatalf("plan: got %d measures, want 1; last reply %q", len(m), plan)
	}
	wantText := "Workshop mit zwei Betrieben " + family + " " + scotland + " " + persian
	if m[0].Text != wantText {
		t.Errorf("measure text: got %+q, want %+q", m[0].Text, wantText)
	}
	if m[0].Responsible != "Anna Berg" {
		t.Errorf("responsible from the platform's name: got %+q, want %q", m[0].Responsible, "Anna Berg")
	}
	for _, r := range m[0].Text + m[0].Responsible {
		switch {
		case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x2028, r == 0x2029, r == 0x85, r == 0x200B, r == 0xFEFF:
			t.Errorf("stored %U in %+q", r, m[0].Text+" / "+m[0].Responsible)
		}
	}
	// A typed name too.
	h2 := newHarness(t, 0)
	for _, in := range []string{"/check zo-kmu", "1", "3", "3", "3", "3", "3", "3", "1", "Workshop", "1", "Bo\u202E\u2028b\u0085Meier", "heute", "heute"} {
		h2.Say(in)
	}
	if got := h2.Conv().Plan.Measures[0].Responsible; got != "Bob Meier" && got != "Bo b Meier" {
		t.Errorf("typed responsible: got %+q, want it without the override and the line breaks", got)
	}
}

// loggingHarness is a harness whose engine and texts log into the returned
// buffer, at every level.
func loggingHarness(t *testing.T) (*harness, *bottest.Buffer) {
	t.Helper()
	logs := &bottest.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	set, err := locales.Load(locales.Builtin)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, 0, func(c *bot.Config) {
		c.Log = log
		c.Texts = bot.NewTexts(set.Bundle, set.Langs, log)
	})
	return h, logs
}

// TestForgedButtonArguments presses buttons the question never offered,
// with arguments a forger chooses (a priority carrying markup, a colour of
// no scale, an index past the end, a date a thousand years ahead, a zone
// and a language that do not exist): each gets "this button belongs to an
// earlier question" and the question again, the stored conversation does
// not change at all, and no chosen text reaches the log.
func TestForgedButtonArguments(t *testing.T) {
	const evil = "</b><script>alert(1)</script>EVIL"
	h, logs := loggingHarness(t)
	seq := func() int { return h.Conv().Dialog.Seq }
	stored := func() string {
		b, err := json.Marshal(h.Conv())
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	forge := func(t *testing.T, verbArg string) {
		t.Helper()
		before := stored()
		action := fmt.Sprintf("%d:%s", seq(), verbArg)
		var got string
		for _, s := range h.Send(bot.Event{Action: action}) {
			got += s.Msg.Text
		}
		if !strings.Contains(got, "früheren Frage") {
			t.Errorf("press %q: got %q, want the hint about an earlier question", action, got)
		}
		if after := stored(); after != before {
			t.Errorf("press %q changed the conversation:\nbefore %s\nafter  %s", action, before, after)
		}
		if strings.Contains(got, "EVIL") {
			t.Errorf("press %q: the reply shows the forged text: %q", action, got)
		}
	}
	tests := []struct {
		name  string
		setup []string // typed before the forged presses
		mode  string   // the question they reach, as stored
		press []string
	}{
		{"colour", []string{"/check zo-kmu"}, "rate", []string{"r:purple", "r:" + evil, "r:", "cp:0", "later:x"}},
		{"change index", []string{"1", "3", "3", "3", "3", "3", "3", "2"}, "change", []string{"cp:99", "cp:-1", "cp:" + evil}},
		{"suggestion index", []string{"1", "1", "1"}, "m-text", []string{"sg:99", "sg:-1", "sg:" + evil, "form:x"}},
		{"priority", []string{"Eigene Maßnahme"}, "m-prio", []string{"p:" + evil, "p:urgent", "p:"}},
		{"responsible", []string{"1"}, "m-resp", []string{"me:" + evil, "you"}},
		{"start date", []string{"ich"}, "m-start", []string{"d:365000", "d:m99999", "d:-5", "d:s28", "d:" + evil}},
		{"review date", []string{"heute"}, "m-review", []string{"d:s99999", "d:sm999", "d:0", "d:" + evil}},
		{"measure index", []string{"heute", "/plan", "1"}, "plan-pick", []string{"m:99", "m:0", "m:" + evil}},
		{"zone index", []string{"/timezone"}, "tz", []string{"z:99", "z:-1", "z:" + evil}},
		{"language", []string{"/language"}, "lang", []string{"l:" + evil, "l:pt", "l:"}},
	}
	for _, tt := range tests {
		for _, in := range tt.setup {
			h.Say(in)
		}
		if got := h.Conv().Dialog.Mode; got != tt.mode {
			t.Fatalf("%s: after typing %q the open question is %q, want %q", tt.name, tt.setup, got, tt.mode)
		}
		t.Run(tt.name, func(t *testing.T) {
			for _, p := range tt.press {
				forge(t, p)
			}
		})
	}
	if strings.Contains(h.Say("/plan"), "EVIL") {
		t.Errorf("the plan shows forged text")
	}
	if l := logs.String(); strings.Contains(l, "EVIL") || strings.Contains(l, "script") {
		t.Errorf("the log carries forged text:\n%s", l)
	}
}
