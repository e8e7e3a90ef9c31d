package team_test

import (
	"flag"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/dialogtest"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata/")

// platforms are the platforms the transcripts play on, by the file
// name's language: German on Telegram (a private chat is the user's ID;
// /team), English on Slack (a private chat is a "D…" channel; /ampel team).
var platforms = map[string]func() (*bottest.Recorder, func(string) string){
	"de": func() (*bottest.Recorder, func(string) string) {
		return &bottest.Recorder{Name: "telegram"}, func(u string) string { return u }
	},
	"en": func() (*bottest.Recorder, func(string) string) {
		return &bottest.Recorder{Name: "slack", Prefix: "/ampel"}, func(u string) string { return "D" + strings.ToUpper(u) }
	},
}

// TestTranscripts plays every team dialogue in testdata/ and compares
// what each person would see with the golden file; -update rewrites them.
func TestTranscripts(t *testing.T) {
	dialogtest.Goldens(t, *update, "go test ./bot/team -update", func(t *testing.T, file, script string) string {
		lang := strings.TrimSuffix(file[strings.LastIndex(file, "-")+1:], ".txt")
		rec, private := platforms[lang]()
		g := dialogtest.NewGroup(t, rec)
		g.Lang, g.PrivateChat = lang, private
		return g.Play(script)
	})
}
