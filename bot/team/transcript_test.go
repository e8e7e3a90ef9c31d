package team_test

import (
	"flag"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/dialogtest"
	"github.com/ampel-bot/ampel/bot/team"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata/")

// linking is a platform that opens the bot's private chat by a link
// (bot.DeepLinker), as Telegram does.
type linking struct{ *bottest.Editing }

func (linking) StartLink(value string) string { return "https://t.me/ampel_bot?start=" + value }

// platforms are the platforms the transcripts play on, by the file
// name's language, both editing live messages: German on Telegram (a
// private chat is the user's ID; /team; a link to the private chat),
// English on Slack (a private chat is a "D…" channel; /ampel team).
var platforms = map[string]func() (dialogtest.Recording, func(string) string){
	"de": func() (dialogtest.Recording, func(string) string) {
		return linking{&bottest.Editing{Recorder: bottest.Recorder{Name: "telegram"}}}, func(u string) string { return u }
	},
	"en": func() (dialogtest.Recording, func(string) string) {
		return &bottest.Editing{Recorder: bottest.Recorder{Name: "slack", Prefix: "/ampel"}}, func(u string) string { return "D" + strings.ToUpper(u) }
	},
}

// TestTranscripts plays every team dialogue in testdata/ and compares
// what each person would see with the golden file; -update rewrites them.
func TestTranscripts(t *testing.T) {
	dialogtest.Goldens(t, *update, "go test ./bot/team -update", func(t *testing.T, file, script string) string {
		team.CountCodes(t)
		lang := strings.TrimSuffix(file[strings.LastIndex(file, "-")+1:], ".txt")
		rec, private := platforms[lang]()
		g := dialogtest.NewGroup(t, rec)
		g.Lang, g.PrivateChat = lang, private
		return g.Play(script)
	})
}
