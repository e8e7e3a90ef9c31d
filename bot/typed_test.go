package bot_test

import (
	"strings"
	"testing"
)

// TestTypedButtonsHint: on a platform with nothing to tap (the console, a
// bot.Typer) the hints ask for the number; everywhere else they keep
// asking to tap a button.
func TestTypedButtonsHint(t *testing.T) {
	tests := []struct {
		lang  string
		typed bool
		want  []string // in the hint to a rating in words, then at "responsible?"
		never string
	}{
		{"de", true, []string{"Bitte schreiben Sie die Nummer Ihrer Wahl (1 bis ", "Schreiben Sie einen Namen oder „Ich“."}, "tippen"},
		{"en", true, []string{"Please type the number of your choice (1 to ", "Type a name, or “Me”."}, "tap"},
		{"de", false, []string{"Bitte tippen Sie auf eine Schaltfläche", "tippen Sie auf „Ich“"}, "Ihrer Wahl"},
		{"en", false, []string{"Please tap a button", "tap “Me”"}, "of your choice"},
	}
	for _, tt := range tests {
		h := newHarness(t, 0)
		h.Lang, h.Rec.Typed = tt.lang, tt.typed
		h.Say("/check zo-kmu")
		got := h.Say("keine Ahnung")
		for _, in := range []string{"1", "3", "3", "3", "3", "3", "3", "1", "Eigene Maßnahme", "1"} {
			h.Say(in)
		}
		got += h.Say("")
		for _, want := range tt.want {
			if !strings.Contains(got, want) {
				t.Errorf("%s, typed %v: got %q, want %q", tt.lang, tt.typed, got, want)
			}
		}
		if strings.Contains(got, tt.never) {
			t.Errorf("%s, typed %v: got %q, want no %q", tt.lang, tt.typed, got, tt.never)
		}
	}
}

// TestOverlongInput: a message longer than the bot reads (a pasted file, a
// stuck key) gets the answer that it is too long, in any state, and the
// question again; nothing of it is taken; the next message is answered.
func TestOverlongInput(t *testing.T) {
	h := newHarness(t, 0)
	huge := strings.Repeat("x", 2<<20)
	got := h.Say(huge)
	if !strings.Contains(got, "Diese Nachricht ist viel zu lang") || !strings.Contains(got, "Check starten") {
		t.Errorf("2 MB when idle: got %.300q, want the too-long hint and the menu", got)
	}
	if got := h.Say("/check zo-kmu"); !strings.Contains(got, "1/7") {
		t.Errorf("/check after the long line: got %.300q, want the first question", got)
	}
	for _, in := range []string{"1", "3", "3", "3", "3", "3", "3", "1"} {
		h.Say(in)
	}
	// A pasted essay where the measure's text is asked for: over what is
	// read, so it is not cut into a measure nobody wrote.
	essay := strings.Repeat("Ein langer Absatz. ", 1000)
	got = h.Say(essay)
	if !strings.Contains(got, "Diese Nachricht ist viel zu lang") || !strings.Contains(got, "Maßnahme für") {
		t.Errorf("19 KB as the measure: got %.300q, want the too-long hint and the question again", got)
	}
	if d := h.Conv().Dialog.Draft; d != nil && d.Text != "" {
		t.Errorf("the long message became the measure's text (%d bytes)", len(d.Text))
	}
}
