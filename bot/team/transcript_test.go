package team_test

import (
	"flag"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot/dialogtest"
	"github.com/ampel-bot/ampel/bot/team"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata/")

// TestTranscripts plays every team dialogue in testdata/ and compares
// what each person would see with the golden file; -update rewrites them.
func TestTranscripts(t *testing.T) {
	dialogtest.Goldens(t, *update, "go test ./bot/team -update", func(t *testing.T, file, script string) string {
		team.CountCodes(t)
		lang := strings.TrimSuffix(file[strings.LastIndex(file, "-")+1:], ".txt")
		rec, private := dialogtest.Platform(lang)
		g := dialogtest.NewGroup(t, rec)
		g.Lang, g.PrivateChat = lang, private
		return g.Play(script)
	})
}
