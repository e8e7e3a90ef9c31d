package flows

import (
	"slices"
	"testing"
)

// TestNetzQualitaetBuiltin: the network check ships with the 14 quality
// criteria of the Offensive Mittelstand's table, in its order, rated
// fulfilled / not fulfilled, each with ideas for the action plan.
func TestNetzQualitaetBuiltin(t *testing.T) {
	c, err := Load(Builtin)
	if err != nil {
		t.Fatalf("Load(Builtin): %v", err)
	}
	f, ok := c.Get("netz-qualitaet")
	if !ok {
		t.Fatalf("Get(%q): got not found, want the built-in check", "netz-qualitaet")
	}
	if got, want := f.Scale, "fulfilled"; got != want {
		t.Errorf("scale: got %q, want %q", got, want)
	}
	want := []string{
		"zusammenarbeit", "praxisstandards", "beratung", // the three professional requirements
		"intermediaere", "partner-om", "ansprechpartner", "offenheit", "grundlagen",
		"klima", "konsens", "information", "plenum", "bericht", "ehrenamt",
	}
	var got []string
	for _, cp := range f.Checkpoints {
		got = append(got, cp.ID)
		if n := len(cp.Suggestions); n < 4 || n > 12 {
			t.Errorf("%s: %d suggestions, want 4 to 12", cp.ID, n)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("checkpoints: got %d %q, want %d %q", len(got), got, len(want), want)
	}
}
