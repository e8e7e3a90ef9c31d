package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/flows/contentfile/contentfiletest"
)

// TestFlowsCheckRefusesHostileFiles: `ampel flows check` on files from a
// network ends in a moment, whatever they are, and names the file and the
// place of what it refuses. Before, a named pipe or a link to /dev/zero was
// read forever, 40 KB of nested inline tables took minutes and gigabytes to
// parse, and a text with {{range 3000000000}} was run while checking and
// grew to 2 GB.
func TestFlowsCheckRefusesHostileFiles(t *testing.T) {
	t.Run("flows", func(t *testing.T) {
		flowsDir, localesDir := demoDirs(t, demoFlow, nil)
		want := contentfiletest.Hostile(t, flowsDir, ".toml")
		writeFile(t, flowsDir, "deep.toml", "id = \"deep\"\nversion = 1\nx = "+strings.Repeat("{a=", 13000)+"1"+strings.Repeat("}", 13000)+"\n")
		want = append(want, "deep.toml: line 3, column 29: nested more than 8 deep")
		checkRefused(t, flowsDir, localesDir, want)
	})
	t.Run("locales", func(t *testing.T) {
		flowsDir, localesDir := demoDirs(t, demoFlow, nil)
		want := contentfiletest.Hostile(t, localesDir, ".de.toml")
		for _, lang := range []string{"de", "en"} {
			p := filepath.Join(localesDir, "demo."+lang+".toml")
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			title := demoTexts[lang]["demo.title"]
			evil := strings.Replace(string(b), `"`+title+`"`, `"{{range 3000000000}}x{{end}}"`, 1)
			if evil == string(b) {
				t.Fatalf("demo.title %q not found in %s", title, p)
			}
			writeFile(t, localesDir, "demo."+lang+".toml", evil)
		}
		want = append(want, "demo.de.toml: demo.title (other): {{range}} at character 1 is not allowed")
		checkRefused(t, flowsDir, localesDir, want)
	})
}

func checkRefused(t *testing.T, flowsDir, localesDir string, want []string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := contentfiletest.Quick(t, func() error {
		return run(ctx, []string{"flows", "check", flowsDir, "--locales", localesDir}, env(), strings.NewReader(""), io.Discard, io.Discard)
	})
	contentfiletest.Refused(t, err, want)
}
