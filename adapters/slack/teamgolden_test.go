package slack

import (
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/adapters/internal/teamscript"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/dialogtest"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata/")

const teamChannel = "C0TEAM01"

// teamPlatform is a Slack workspace for a team script: the channel
// C0TEAM01, each member U0<NAME> with the app's DM D0<NAME>.
type teamPlatform struct {
	teamscript.Engine
	t      *testing.T
	e      *env
	locale string
	users  map[string]string // user ID -> name in the script
}

// TestTeamTranscripts plays bot/team's five-member team check through the
// Slack fake in German and English: Socket Mode envelopes in, Web API calls
// out, through the real engine. The transcript shows each chat as Slack
// holds it: the posts' Block Kit texts and buttons, and every post changed
// by chat.update (the live progress, a pressed question marked with the
// choice). go test ./adapters/slack -run TeamTranscripts -update rewrites
// testdata/team-*.txt.
func TestTeamTranscripts(t *testing.T) {
	teamscript.Goldens(t, "Slack", *update, "go test ./adapters/slack -run TeamTranscripts -update", newTeamPlatform)
}

// TestReminderTranscripts plays one person's reminder settings in a private
// chat through the Slack fake in German and English, on simulated clocks:
// a one-measure plan, quiet hours and a holiday region set in /reminders,
// the start reminder held by the quiet hours, the review moved past the
// Easter holidays, a snooze to tomorrow, /pause and /resume (issue 17).
// go test ./adapters/slack -run ReminderTranscripts -update rewrites
// testdata/reminders-*.txt.
func TestReminderTranscripts(t *testing.T) {
	teamscript.Scripts(t, "Slack", "adapters/internal/teamscript/testdata", "reminders", *update, "go test ./adapters/slack -run ReminderTranscripts -update", newTeamPlatform)
}

// newTeamPlatform is the platform of a script in lang, on the fake.
func newTeamPlatform(t *testing.T, lang string) teamscript.Platform {
	e := newEnv(t, nil)
	e.a.upd.now, e.a.upd.sleep = e.lclock.Now, e.lclock.Sleep // chat.update's tier, on the fake clock too
	e.run(nil)
	return &teamPlatform{Engine: teamscript.Engine{T: t, Engine: e.engine, Store: e.store, Wait: e.settle,
		Clocks: []*bottest.Clock{e.clock, e.lclock}}, t: t, e: e, locale: map[string]string{"de": "de-DE", "en": "en-US"}[lang], users: map[string]string{}}
}

// id is the Slack user ID of a member, known to users.info from now on.
func (p *teamPlatform) id(user string) string {
	id := "U0" + strings.ToUpper(user)
	if p.users[id] == "" {
		p.users[id] = user
		p.e.fake.mu.Lock()
		p.e.fake.users[id] = slackUser{locale: p.locale, tz: "Europe/Berlin", realName: dialogtest.Name(user)}
		p.e.fake.mu.Unlock()
	}
	return id
}

func (p *teamPlatform) dm(user string) string { return "D" + p.id(user)[1:] }

func (p *teamPlatform) send(typ string, payload any) {
	p.t.Helper()
	p.e.fake.waitAck(p.e.fake.push(typ, payload), 1)
}

func (p *teamPlatform) Type(user string, private bool, text string) string {
	p.t.Helper()
	id, ch := p.id(user), teamChannel
	if private {
		ch = p.dm(user)
	}
	switch {
	case strings.HasPrefix(text, "/"):
		p.send("slash_commands", slashPayload(ch, id, text[1:]))
		return "/ampel " + text[1:]
	case private:
		p.send("events_api", dmEvent(ch, id, text))
		return text
	}
	p.send("events_api", mentionEvent(ch, id, text))
	return "@Ampel " + text
}

func (p *teamPlatform) Press(user string, m teamscript.Message, n int) string {
	p.t.Helper()
	ch, ts, _ := strings.Cut(m.ID, " ")
	msg := p.e.fake.message(ch, ts)
	b := msg.buttons()
	if n < 1 || n > len(b) {
		p.t.Fatalf("%s has no button %d under %q", user, n, msg.Shown())
	}
	p.send("interactive", pressPayload(msg, p.id(user), b[n-1]))
	return unescape(b[n-1].Text.Text)
}

func (p *teamPlatform) Leave(user string) {
	p.t.Helper()
	p.send("events_api", memberLeft(fmt.Sprintf("Ev%06d", seq.Add(1)), teamChannel, p.id(user)))
}

// Messages are the posts Slack holds, then the files shared, by the title
// Slack shows (their names carry the outbox tag).
func (p *teamPlatform) Messages() []teamscript.Message {
	f := p.e.fake
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []teamscript.Message
	for _, m := range f.msgs {
		out = append(out, teamscript.Message{Chat: p.chatOf(m.Channel), ID: m.Channel + " " + m.TS,
			Shown: slackShown(m), Buttons: len(m.buttons())})
	}
	for i, c := range f.shared {
		var files []struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		}
		_ = json.Unmarshal([]byte(c.Form["files"]), &files)
		for _, fl := range files {
			out = append(out, teamscript.Message{Chat: p.chatOf(c.Form["channel_id"]), ID: fmt.Sprintf("file %d %s", i, fl.ID),
				Shown: "📎 " + fl.Title + "\n"})
		}
	}
	return out
}

func (p *teamPlatform) chatOf(channel string) string {
	if channel == teamChannel {
		return "#"
	}
	if u := p.users["U"+channel[1:]]; u != "" && strings.HasPrefix(channel, "D") {
		return u
	}
	p.t.Fatalf("a post in %s: no chat of the team", channel)
	return ""
}

// slackShown is a post as a Slack client shows it: each section's text
// (plain_text, the entities decoded), a context block's elements after
// "⁝" (the mention line is mrkdwn, as sent: "<@U0BERT>" notifies Bert),
// the buttons of each actions block as a row.
func slackShown(m *sentMsg) string {
	var b strings.Builder
	for i, bl := range m.blocks() {
		switch bl.Type {
		case "section", "header":
			b.WriteString(unescape(bl.Text.Text) + "\n")
		case "context":
			var ctx struct {
				Elements []textObj `json:"elements"`
			}
			_ = json.Unmarshal(m.Blocks[i], &ctx)
			for _, e := range ctx.Elements {
				if e.Type == "mrkdwn" {
					b.WriteString("  ⁝ " + e.Text + " (mrkdwn)\n")
				} else {
					b.WriteString("  ⁝ " + unescape(e.Text) + "\n")
				}
			}
		case "actions":
			var row []string
			for _, e := range bl.Elements {
				row = append(row, unescape(e.Text.Text))
			}
			b.WriteString(teamscript.Buttons([][]string{row}))
		default:
			b.WriteString("[" + bl.Type + " block]\n")
		}
	}
	if len(m.Blocks) == 0 {
		b.WriteString(unescape(m.Text) + "\n")
	}
	return b.String()
}
