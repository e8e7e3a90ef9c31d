package telegram

import (
	"flag"
	"regexp"
	"strconv"
	"strings"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/ampel-bot/ampel/adapters/internal/teamscript"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/dialogtest"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata/")

const teamGroup = -100777

// teamPlatform is a Telegram group for a team script, -100777, whose
// members have the user IDs 1001, 1002, … in the order they first act;
// a member's private chat with the bot has the member's ID.
type teamPlatform struct {
	teamscript.Engine
	t     *testing.T
	e     *env
	lang  string
	ids   map[string]int64 // name in the script -> user ID
	names map[int64]string
}

// TestTeamTranscripts plays bot/team's five-member team check through the
// Telegram fake in German and English: updates fetched by getUpdates,
// Bot API calls out, through the real engine. The transcript shows each
// chat as Telegram holds it: the messages' HTML as sent and their inline
// keyboards, and every message changed by editMessageText or
// editMessageReplyMarkup (the live progress, a pressed question marked
// with the choice). go test ./adapters/telegram -run TeamTranscripts
// -update rewrites testdata/team-*.txt.
func TestTeamTranscripts(t *testing.T) {
	teamscript.Goldens(t, "Telegram", *update, "go test ./adapters/telegram -run TeamTranscripts -update", newTeamPlatform)
}

// TestReminderTranscripts plays one person's reminder settings in a private
// chat through the Telegram fake in German and English, on simulated clocks:
// a one-measure plan, quiet hours and a holiday region set in /reminders,
// the start reminder held by the quiet hours, the review moved past the
// Easter holidays, a snooze to tomorrow, /pause and /resume (issue 17).
// go test ./adapters/telegram -run ReminderTranscripts -update rewrites
// testdata/reminders-*.txt.
func TestReminderTranscripts(t *testing.T) {
	teamscript.Scripts(t, "Telegram", "adapters/internal/teamscript/testdata", "reminders", *update, "go test ./adapters/telegram -run ReminderTranscripts -update", newTeamPlatform)
}

// newTeamPlatform is the platform of a script in lang, on the fake.
func newTeamPlatform(t *testing.T, lang string) teamscript.Platform {
	e := newEnv(t, nil)
	e.run(nil)
	return &teamPlatform{Engine: teamscript.Engine{T: t, Engine: e.engine, Store: e.store, Wait: e.settle,
		Clocks: []*bottest.Clock{e.clock, e.lclock}}, t: t, e: e, lang: lang, ids: map[string]int64{}, names: map[int64]string{}}
}

func (p *teamPlatform) user(name string) *tgbotapi.User {
	id, ok := p.ids[name]
	if !ok {
		id = 1001 + int64(len(p.ids))
		p.ids[name], p.names[id] = id, name
	}
	return &tgbotapi.User{ID: id, FirstName: dialogtest.Name(name), LanguageCode: p.lang}
}

func (p *teamPlatform) Type(user string, private bool, text string) string {
	p.t.Helper()
	from := p.user(user)
	chat := int64(teamGroup)
	if private {
		chat = from.ID
	} else if !strings.HasPrefix(text, "/") {
		text = "@" + botUsername + " " + text // in a group, the bot hears what addresses it
	}
	p.e.fake.waitConsumed(p.e.fake.pushText(chat, from, text))
	return text
}

func (p *teamPlatform) Press(user string, m teamscript.Message, n int) string {
	p.t.Helper()
	chat, id, _ := strings.Cut(m.ID, " ")
	c, _ := strconv.ParseInt(chat, 10, 64)
	mid, _ := strconv.Atoi(id)
	p.e.fake.mu.Lock()
	msg := *p.e.fake.msgs[msgKey{c, mid}]
	p.e.fake.mu.Unlock()
	var flat []tgbotapi.InlineKeyboardButton
	if msg.Markup != nil {
		for _, row := range msg.Markup.InlineKeyboard {
			flat = append(flat, row...)
		}
	}
	if n < 1 || n > len(flat) || flat[n-1].CallbackData == nil {
		p.t.Fatalf("%s has no button %d to press under %q %+v", user, n, msg.Text, msg.Markup)
	}
	id2, _ := p.e.fake.pushPress(p.user(user), msg, *flat[n-1].CallbackData)
	p.e.fake.waitConsumed(id2)
	return flat[n-1].Text
}

func (p *teamPlatform) Leave(user string) {
	p.t.Helper()
	from := p.user(user)
	p.e.fake.waitConsumed(p.e.fake.push(tgbotapi.Update{Message: &tgbotapi.Message{
		MessageID: 9000 + int(from.ID), From: from, Chat: chatOfID(teamGroup), Date: 1804150800, LeftChatMember: from}}))
}

// startCode is a team run's code in a link to the bot's private chat:
// random, so written as CODE.
var startCode = regexp.MustCompile(`start=team_[a-z2-7]{8}\b`)

func (p *teamPlatform) Messages() []teamscript.Message {
	f := p.e.fake
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []teamscript.Message
	for _, k := range f.order {
		m := f.msgs[k]
		chat := "#"
		if k.chat != teamGroup {
			if chat = p.names[k.chat]; chat == "" {
				p.t.Fatalf("a message to chat %d: no chat of the team", k.chat)
			}
		}
		var b strings.Builder
		switch {
		case m.Photo != nil:
			b.WriteString("🖼 " + m.Photo.Name + " " + strconv.Itoa(m.Width) + "×" + strconv.Itoa(m.Height) + "\n")
		case m.Doc != nil:
			b.WriteString("📎 " + m.Doc.Name + "\n")
		default:
			b.WriteString(m.Raw + "\n")
		}
		n := 0
		if m.Markup != nil {
			var rows [][]string
			for _, row := range m.Markup.InlineKeyboard {
				var labels []string
				for _, btn := range row {
					l := btn.Text
					if btn.URL != nil {
						l += " → " + *btn.URL
					}
					labels = append(labels, l)
					n++
				}
				rows = append(rows, labels)
			}
			b.WriteString(teamscript.Buttons(rows))
		}
		out = append(out, teamscript.Message{Chat: chat, ID: strconv.FormatInt(k.chat, 10) + " " + strconv.Itoa(k.id),
			Shown: startCode.ReplaceAllString(b.String(), "start=team_CODE"), Buttons: n})
	}
	return out
}
