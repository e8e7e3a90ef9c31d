package bot_test

import (
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot/bottest"
)

// TestBareCommands: where no slash command reaches the bot (a
// bot.BareCommander: Mattermost without /ampel), the texts name the
// commands as words to type („plan“, never "/plan"), and the words are
// commands, in German and English alike, with their arguments: at rest and
// at a question with buttons. At a question that takes free text (a
// measure, a name) only "abbrechen"/"cancel" and "hilfe"/"help" are; "plan"
// and "Start" there are the answer. Elsewhere the words stay text.
func TestBareCommands(t *testing.T) {
	h := newHarness(t, 0)
	h.Rec.Bare = true
	expect := func(in string, want ...string) {
		t.Helper()
		got := h.Say(in)
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%q: got %q, want %q", in, got, w)
			}
		}
		if strings.Contains(got, " /") || strings.Contains(got, "\n/") {
			t.Errorf("%q: a slash command in %q", in, got)
		}
	}
	expect("hilfe", "„plan“ – Maßnahmenplan ansehen", "„abbrechen“ – aktuellen Schritt abbrechen")
	expect("Help", "„hilfe“ – diese Hilfe") // English words too
	expect("Plan", "Ihr Maßnahmenplan ist noch leer")
	expect("language en", "From now on I'll write to you in English.")
	expect("help", "“plan” – view and edit your action plan", "“cancel” – cancel the current step")
	expect("sprache de", "Ich schreibe Ihnen ab jetzt auf Deutsch.")
	expect("zeitzone Europe/Vienna", "Zeitzone: ")
	expect("Erinnerungen", "Ihre Erinnerungen")
	expect("check zo-kmu", "1/7")
	expect("abbrechen", "Pausiert", "mit „check“ geht es weiter")
	expect("CHECK", "1/7")
	for _, in := range []string{"1", "3", "3", "3", "3", "3", "3"} {
		h.Say(in)
	}
	expect("1", "Maßnahme") // build the plan: the measure's text is asked
	expect("plan", "Welche Priorität hat „plan“?")
	expect("1")                     // priority
	expect("Start", "Wann beginnt") // a person called Start
	if d := h.Conv().Dialog.Draft; d == nil || d.Text != "plan" || d.Responsible != "Start" {
		t.Errorf("draft %+v, want the text \"plan\" by \"Start\"", d)
	}
	expect("hilfe", "„hilfe“ – diese Hilfe")
	expect("abbrechen", "Die angefangene Maßnahme verwerfen?") // a draft is never thrown away unasked
	expect("1", "Abgebrochen")
	expect("plan b", "Was möchten Sie tun?") // not a command: words after it

	// Where slash commands work, the words are text and the texts say "/plan".
	h = newHarness(t, 0)
	if got := h.Say("hilfe"); strings.Contains(got, "So geht") || !strings.Contains(got, "Was möchten Sie tun?") {
		t.Errorf("\"hilfe\" with slash commands: %q, want the menu", got)
	}
	if got := h.Say("/help"); !strings.Contains(got, "\n/plan – ") {
		t.Errorf("/help with slash commands: %q, want /plan", got)
	}
}

// TestCommandWordsDistinct: no word names two commands in any of the
// languages, so a word always means one command.
func TestCommandWordsDistinct(t *testing.T) {
	_, texts := bottest.Content(t)
	names := []string{"start", "check", "plan", "reminders", "timezone", "language", "help", "cancel"}
	seen := map[string]string{}
	for _, lang := range texts.Langs() {
		for _, n := range names {
			w := strings.ToLower(texts.T(lang, "command.word."+n))
			if w == "" || strings.ContainsAny(w, " /") {
				t.Errorf("%s: command.word.%s = %q, want one word", lang, n, w)
			}
			if prev, ok := seen[w]; ok && prev != n {
				t.Errorf("%s: %q names %s and %s", lang, w, prev, n)
			}
			seen[w] = n
		}
	}
}
