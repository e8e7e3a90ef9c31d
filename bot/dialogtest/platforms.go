package dialogtest

import (
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot/bottest"
)

// Linking is an Editing recorder whose platform opens the bot's private
// chat by a link (bot.DeepLinker), as Telegram does.
type Linking struct{ *bottest.Editing }

// StartLink implements bot.DeepLinker.
func (Linking) StartLink(value string) string { return "https://t.me/ampel_bot?start=" + value }

// Platform is the platform a golden transcript of a group plays on, by
// the file name's language, both editing live messages: German on
// Telegram (a private chat is the user's ID; links to the private chat),
// English on Slack (a private chat is a "D…" channel; /ampel team). It
// returns the recorder and how a user's private chat is named.
func Platform(lang string) (Recording, func(user string) string) {
	if lang == "de" {
		return Linking{&bottest.Editing{Recorder: bottest.Recorder{Name: "telegram"}}}, func(u string) string { return u }
	}
	return &bottest.Editing{Recorder: bottest.Recorder{Name: "slack", Prefix: "/ampel"}}, func(u string) string { return "D" + strings.ToUpper(u) }
}

// PlayGolden plays the script of a golden file (its name ends in
// "-<lang>.txt") in a group on the language's Platform.
func PlayGolden(t testing.TB, file, script string) string {
	lang := strings.TrimSuffix(file[strings.LastIndex(file, "-")+1:], ".txt")
	rec, private := Platform(lang)
	g := NewGroup(t, rec)
	g.Lang, g.PrivateChat = lang, private
	return g.Play(script)
}
