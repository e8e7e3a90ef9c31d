package bot_test

import (
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot/bottest"
)

// TestPlanOpensUrgentFirstOnlyWhenThereIsAnOrder: the plan's first words
// promise "the urgent ones first" only when the checkpoints that need action
// differ in urgency. On the two-state scale of the network check every
// criterion not fulfilled is equally urgent, and so is a traffic-light
// result whose points are all yellow: there the promise would be false.
func TestPlanOpensUrgentFirstOnlyWhenThereIsAnOrder(t *testing.T) {
	for _, tt := range []struct {
		name, lang string
		script     []string
		want       string
		urgent     bool
	}{
		{"zo-kmu red and yellow", "de", []string{"/check zo-kmu", "1", "2", "3", "3", "3", "3", "3"}, "Los geht's: 2 Punkte brauchen Maßnahmen.", true},
		{"zo-kmu all yellow", "de", []string{"/check zo-kmu", "2", "2", "3", "3", "3", "3", "3"}, "Los geht's: 2 Punkte brauchen Maßnahmen.", false},
		{"netz-qualitaet not fulfilled", "de", append([]string{"/check netz-qualitaet", "1", "1", "1"}, repeat("2", 11)...), "Los geht's: 3 Punkte brauchen Maßnahmen.", false},
		{"netz-qualitaet not fulfilled, en", "en", append([]string{"/check netz-qualitaet", "1", "1"}, repeat("2", 12)...), "Let's go: 2 checkpoints need measures.", false},
		{"zo-kmu red and yellow, en", "en", []string{"/check zo-kmu", "2", "1", "3", "3", "3", "3", "3"}, "Let's go: 2 checkpoints need measures.", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, 0)
			h.Lang = tt.lang
			for _, in := range tt.script {
				h.Say(in)
			}
			got := h.Say("1") // build the action plan
			if !strings.Contains(got, tt.want) {
				t.Fatalf("plan opening: got %q, want it to contain %q", got, tt.want)
			}
			urgent := strings.Contains(got, "Die dringenden zuerst.") || strings.Contains(got, "The urgent ones first.")
			if urgent != tt.urgent {
				t.Errorf("plan opening says the urgent ones come first: %v, want %v:\n%s", urgent, tt.urgent, got)
			}
		})
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// TestFulfilledTypedInWords: on the two-state scale a rating can be typed in
// the words of either label ("fulfilled", "nicht erfüllt") or as yes/no,
// in both languages; "fulfilled" alone is not mistaken for part of "not
// fulfilled".
func TestFulfilledTypedInWords(t *testing.T) {
	for _, tt := range []struct {
		lang, typed, want string
	}{
		{"en", "fulfilled", "yes"},
		{"en", "Fulfilled", "yes"},
		{"en", "not fulfilled", "no"},
		{"en", "yes", "yes"},
		{"en", "no", "no"},
		{"de", "erfüllt", "yes"},
		{"de", "nicht erfüllt", "no"},
		{"de", "ja", "yes"},
		{"de", "nein", "no"},
		{"de", "✅", "yes"},
		{"de", "❌", "no"},
	} {
		h := newHarness(t, 0)
		h.Lang = tt.lang
		h.Say("/check netz-qualitaet")
		got := h.Say(tt.typed)
		if r := h.Conv().Run.Ratings["zusammenarbeit"]; r != tt.want {
			t.Errorf("%s: %q typed on the first criterion: rated %q, want %q; reply:\n%s", tt.lang, tt.typed, r, tt.want, got)
		}
	}
}

// TestNetzQualitaetMarksProfessionalRequirements: the first three criteria
// are the table's "fachliche Anforderungen". A flow has no field for that
// mark, so their statements open with it, in every language, the intro
// says so, and no other criterion carries it.
func TestNetzQualitaetMarksProfessionalRequirements(t *testing.T) {
	catalog, texts := bottest.Content(t)
	f, ok := catalog.Get("netz-qualitaet")
	if !ok {
		t.Fatal("no netz-qualitaet check")
	}
	for _, tt := range []struct{ lang, mark, intro string }{
		{"de", "Fachliche Anforderung: ", "fachliche Anforderungen"},
		{"en", "Professional requirement: ", "professional requirements"},
	} {
		if intro := texts.T(tt.lang, f.IntroID()); !strings.Contains(intro, tt.intro) {
			t.Errorf("%s intro: got %q, want it to name the %s", tt.lang, intro, tt.intro)
		}
		for i, cp := range f.Checkpoints {
			statement := texts.T(tt.lang, f.StatementID(cp))
			if marked := strings.HasPrefix(statement, tt.mark); marked != (i < 3) {
				t.Errorf("%s %s: statement marked %q: %v, want %v: %q", tt.lang, cp.ID, tt.mark, marked, i < 3, statement)
			}
		}
	}
}
