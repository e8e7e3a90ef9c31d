package mattermost

import (
	"encoding/json"
	"flag"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/ampel-bot/ampel/adapters/internal/teamscript"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/dialogtest"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata/")

// teamChannel is the team's channel in the team scripts.
var teamChannel = "town" + strings.Repeat("t", 22)

// teamPlatform is a Mattermost server for a team script: the open
// channel teamChannel; each member's user ID is their name padded with
// "u" to 26 characters, their direct channel with the bot the same with
// "d" (the server finds it when the adapter opens it).
type teamPlatform struct {
	teamscript.Engine
	t     *testing.T
	e     *env
	lang  string
	names map[string]string // user or direct channel ID -> name in the script
	n     int
}

// TestTeamTranscripts plays bot/team's five-member team check through the
// Mattermost fake in German and English: posts over the WebSocket, slash
// commands and button presses POSTed to the adapter as the server does,
// REST calls out, through the real engine. The transcript shows each
// channel as the server holds it: the posts' Markdown as sent and their
// attachments' buttons, and every post changed (the live progress by PUT
// …/patch, a pressed question by the press's answer). go test
// ./adapters/mattermost -run TeamTranscripts -update rewrites
// testdata/team-*.txt.
func TestTeamTranscripts(t *testing.T) {
	teamscript.Goldens(t, "Mattermost", *update, "go test ./adapters/mattermost -run TeamTranscripts -update", newTeamPlatform)
}

// TestReminderTranscripts plays one person's reminder settings in a private
// chat through the Mattermost fake in German and English, on simulated clocks:
// a one-measure plan, quiet hours and a holiday region set in /reminders,
// the start reminder held by the quiet hours, the review moved past the
// Easter holidays, a snooze to tomorrow, /pause and /resume (issue 17).
// go test ./adapters/mattermost -run ReminderTranscripts -update rewrites
// testdata/reminders-*.txt.
func TestReminderTranscripts(t *testing.T) {
	teamscript.Scripts(t, "Mattermost", "adapters/internal/teamscript/testdata", "reminders", *update, "go test ./adapters/mattermost -run ReminderTranscripts -update", newTeamPlatform)
}

// newTeamPlatform is the platform of a script in lang, on the fake.
func newTeamPlatform(t *testing.T, lang string) teamscript.Platform {
	e := newEnv(t, nil)
	e.fake.addChannel(teamChannel)
	e.run(nil)
	return &teamPlatform{Engine: teamscript.Engine{T: t, Engine: e.engine, Store: e.store, Wait: func() { bottest.Settle(t, e.engine) },
		Clocks: []*bottest.Clock{e.clock}}, t: t, e: e, lang: lang, names: map[string]string{}}
}

func pad(s, with string) string { return s + strings.Repeat(with, 26-len(s)) }

// id is the member's user ID, known to the server from now on.
func (p *teamPlatform) id(user string) string {
	id := pad(user, "u")
	if p.names[id] == "" {
		p.names[id], p.names[pad(user, "d")] = user, user
		p.e.fake.addUser(id, p.lang, "Europe/Berlin")
		p.e.fake.addDM(pad(user, "d"), id)
		p.e.fake.mu.Lock()
		p.e.fake.users[id].FirstName = dialogtest.Name(user)
		p.e.fake.mu.Unlock()
	}
	return id
}

func (p *teamPlatform) Type(user string, private bool, text string) string {
	p.t.Helper()
	id, ch := p.id(user), teamChannel
	if private {
		ch = pad(user, "d")
	}
	if cmd, ok := strings.CutPrefix(text, "/"); ok {
		p.n++
		form := url.Values{"channel_id": {ch}, "user_id": {id}, "command": {"/ampel"}, "text": {cmd},
			"trigger_id": {"trig" + strconv.Itoa(p.n)}}
		req := httptest.NewRequest("POST", CommandPath, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Token cmd-token-1234567890")
		w := httptest.NewRecorder()
		p.e.mux.ServeHTTP(w, req)
		if w.Code != 200 {
			p.t.Fatalf("/ampel %s: status %d", cmd, w.Code)
		}
		return "/ampel " + cmd
	}
	if !private {
		text = "@" + botName + " " + text
	}
	post := p.e.fake.userPost(ch, id, text)
	waitFor(p.t, "post "+post+" handled", func() bool { return p.e.rec.count(post) == 1 })
	return text
}

func (p *teamPlatform) Press(user string, m teamscript.Message, n int) string {
	p.t.Helper()
	p.e.fake.mu.Lock()
	post := p.e.fake.posts[m.ID].Clone()
	p.e.fake.mu.Unlock()
	acts := actionsOf(post)
	if n < 1 || n > len(acts) {
		p.t.Fatalf("%s has no button %d under %q", user, n, post.Message)
	}
	if code := p.e.fake.deliverPress(p.e.mux, pressRequest(post, acts[n-1], p.id(user))); code != 200 {
		p.t.Fatalf("press %q: HTTP %d", acts[n-1].Name, code)
	}
	return acts[n-1].Name
}

func (p *teamPlatform) Leave(user string) {
	p.t.Helper()
	post := p.e.fake.memberLeaves(teamChannel, p.id(user), "")
	waitFor(p.t, "the leave handled", func() bool { return p.e.rec.count(post) == 1 })
}

// Messages are the bot's posts: their Markdown as sent, then each
// attachment's text and buttons, and the files attached.
func (p *teamPlatform) Messages() []teamscript.Message {
	f := p.e.fake
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []teamscript.Message
	for _, id := range f.order {
		post := f.posts[id]
		if post.UserId != botID || post.DeleteAt != 0 {
			continue
		}
		chat := "#"
		if post.ChannelId != teamChannel {
			if chat = p.names[post.ChannelId]; chat == "" {
				p.t.Fatalf("a post in %s: no chat of the team", post.ChannelId)
			}
		}
		var b strings.Builder
		b.WriteString(post.Message + "\n")
		raw, _ := json.Marshal(post.GetProps()["attachments"])
		var atts []*model.MessageAttachment
		_ = json.Unmarshal(raw, &atts)
		n := 0
		for _, a := range atts {
			if a == nil {
				continue
			}
			if a.Text != "" {
				b.WriteString("  ⁝ " + a.Text + "\n")
			}
			var row []string
			for _, act := range a.Actions {
				row = append(row, act.Name)
				n++
			}
			b.WriteString(teamscript.Buttons([][]string{row}))
		}
		for _, fid := range post.FileIds {
			b.WriteString("📎 " + f.uploads[fid].name + "\n")
		}
		out = append(out, teamscript.Message{Chat: chat, ID: id, Shown: b.String(), Buttons: n})
	}
	return out
}
