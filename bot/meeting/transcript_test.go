package meeting_test

import (
	"flag"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot/dialogtest"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata/")

// TestTranscripts plays every meeting dialogue in testdata/ and compares
// what each person would see with the golden file; -update rewrites them.
func TestTranscripts(t *testing.T) {
	dialogtest.Goldens(t, *update, "go test ./bot/meeting -update", func(t *testing.T, file, script string) string {
		lang := strings.TrimSuffix(file[strings.LastIndex(file, "-")+1:], ".txt")
		g := newGroup(t, lang, "anna", "moni", "bert", "carl", "dora")
		return g.Play(script)
	})
}
