package main

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEConfiguration keeps the README's configuration table true: every
// flag and variable ampel knows is documented, with its default.
func TestREADMEConfiguration(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		def := "–"
		if s.def != "" {
			def = "`" + s.def + "`"
		}
		row := "| `--" + s.flag + "` | `" + s.env + "` | "
		i := strings.Index(string(readme), row)
		if i < 0 {
			t.Errorf("README has no row for --%s / %s", s.flag, s.env)
			continue
		}
		if rest := string(readme[i+len(row):]); !strings.HasPrefix(rest, def+" |") && !(s.flag == "lang" && strings.HasPrefix(rest, "from `$LANG` |")) {
			t.Errorf("README row for --%s: default should be %s", s.flag, def)
		}
	}
	for _, sec := range secrets {
		if !strings.Contains(string(readme), "| `"+sec.env+"` / `"+sec.env+"_FILE` |") {
			t.Errorf("README has no row for the secret %s", sec.env)
		}
	}
	for _, cmd := range []string{"go run ./cmd/ampel", "go test ./..."} {
		if !strings.Contains(string(readme), cmd) {
			t.Errorf("README lacks the fresh-machine command %q", cmd)
		}
	}
}
