package main

import (
	"os"
	"strings"
	"testing"
	"time"
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
		if note, ok := defaultNotes[s.flag]; ok {
			def = strings.Replace(note, "$LANG", "`$LANG`", 1)
		}
		row := "| `--" + s.flag + "` | `" + s.env + "` | "
		i := strings.Index(string(readme), row)
		if i < 0 {
			t.Errorf("README has no row for --%s / %s", s.flag, s.env)
			continue
		}
		if rest := string(readme[i+len(row):]); !strings.HasPrefix(rest, def+" |") {
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

// TestHelpNamesEverything: --help is where an operator looks first, so it
// lists every subcommand's flags and prints each default once.
func TestHelpNamesEverything(t *testing.T) {
	var b strings.Builder
	usage(&b)
	out := b.String()
	for _, want := range []string{"--rounds", "--memory", "--locales DIR", "flows check DIR", "(default from $LANG)"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"(default -)", "(default: "} {
		if strings.Contains(out, bad) {
			t.Errorf("--help prints %q:\n%s", bad, out)
		}
	}
}

// hangGuard bounds how long a test waits for something that should come
// at once (a server up, a reply shown). The waits end as soon as it comes;
// the bound only keeps a hang from stalling the run, so it is generous
// enough for a loaded machine running the race detector.
const hangGuard = 60 * time.Second
