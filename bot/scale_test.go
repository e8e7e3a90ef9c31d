package bot_test

import (
	"strings"
	"testing"
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
		{"zo-kmu red and yellow, en", "en", []string{"/check zo-kmu", "2", "1", "3", "3", "3", "3", "3"}, "Let's go: 2 checkpoints need measures.", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, 0)
			h.lang = tt.lang
			for _, in := range tt.script {
				h.say(in)
			}
			got := h.say("1") // build the action plan
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
