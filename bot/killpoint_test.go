package bot

import "testing"

// TestKillAtRefusesBadSpecs: a crash test's AMPEL_KILLPOINT that names no
// point, or no count, is refused (the process would otherwise run to the
// end and the test pass without a crash); an empty one arms nothing.
func TestKillAtRefusesBadSpecs(t *testing.T) {
	for _, spec := range []string{"after-commit", "after-commit:0", "after-commit:x", "before-commit:1", ":1"} {
		if err := KillAt(spec); err == nil {
			t.Errorf("KillAt(%q) = nil, want an error", spec)
		}
	}
	if err := KillAt(""); err != nil || killHook != nil {
		t.Errorf("KillAt(\"\") = %v, hook set %v; want nothing armed", err, killHook != nil)
	}
}
