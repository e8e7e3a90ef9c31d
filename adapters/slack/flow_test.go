package slack

import (
	"bytes"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ampel-bot/ampel/bot/bottest"
)

// chatter is a person talking to the bot in a channel: the DM with the
// bot, or a team channel where they mention it or use /ampel.
type chatter struct {
	t       *testing.T
	e       *env
	channel string
	user    string
	seen    int      // messages of the channel already returned
	log     []string // the transcript, for failure messages
	envs    []string // envelopes sent
	presses int
}

var seq atomic.Int64

func newChatter(t *testing.T, e *env, channel, user, locale, tz string) *chatter {
	e.fake.mu.Lock()
	e.fake.users[user] = slackUser{locale: locale, tz: tz}
	e.fake.mu.Unlock()
	return &chatter{t: t, e: e, channel: channel, user: user}
}

// eventPayload is an Events API callback as Slack sends it.
func eventPayload(id string, inner map[string]any) map[string]any {
	return map[string]any{
		"token": "verification-token-unused", "team_id": teamID, "api_app_id": "A0APP0001",
		"type": "event_callback", "event_id": id, "event_time": 1804150800, "event": inner,
	}
}

// dmEvent is a message typed in the DM with the bot; Slack sends typed
// "&", "<" and ">" as entities.
func dmEvent(channel, user, text string) map[string]any {
	n := seq.Add(1)
	return eventPayload(fmt.Sprintf("Ev%06d", n), map[string]any{
		"type": "message", "channel_type": "im", "channel": channel, "user": user,
		"text": escape(text), "ts": fmt.Sprintf("1804150900.%06d", n), "event_ts": fmt.Sprintf("1804150900.%06d", n),
		"client_msg_id": fmt.Sprintf("c-%d", n),
	})
}

func mentionEvent(channel, user, text string) map[string]any {
	n := seq.Add(1)
	return eventPayload(fmt.Sprintf("Ev%06d", n), map[string]any{
		"type": "app_mention", "channel": channel, "user": user,
		"text": "<@" + botUser + "> " + escape(text), "ts": fmt.Sprintf("1804150900.%06d", n),
		"event_ts": fmt.Sprintf("1804150900.%06d", n),
	})
}

func slashPayload(channel, user, text string) map[string]any {
	n := seq.Add(1)
	return map[string]any{
		"token": "verification-token-unused", "team_id": teamID, "team_domain": "ampel-test",
		"channel_id": channel, "channel_name": "team", "user_id": user, "user_name": "eva",
		"command": "/ampel", "text": escape(text), "api_app_id": "A0APP0001",
		"response_url": "https://hooks.slack.com/commands/T0TEAM01/1/x",
		"trigger_id":   fmt.Sprintf("13345224609.738474920.%d", n),
	}
}

// pressPayload is a block_actions interaction for the button with value
// under m, as Slack sends it: with the message as it is now.
func pressPayload(m sentMsg, user string, b element) map[string]any {
	n := seq.Add(1)
	blockID := ""
	for _, bl := range m.blocks() {
		for _, el := range bl.Elements {
			if el.ActionID == b.ActionID {
				blockID = bl.BlockID
			}
		}
	}
	return map[string]any{
		"type": "block_actions", "token": "verification-token-unused", "api_app_id": "A0APP0001",
		"team":       map[string]any{"id": teamID, "domain": "ampel-test"},
		"user":       map[string]any{"id": user, "username": "eva", "team_id": teamID},
		"container":  map[string]any{"type": "message", "message_ts": m.TS, "channel_id": m.Channel, "is_ephemeral": false},
		"channel":    map[string]any{"id": m.Channel, "name": "x"},
		"trigger_id": fmt.Sprintf("13345224609.738474920.t%d", n),
		"message": map[string]any{"type": "message", "user": botUser, "bot_id": "B0BOT0001", "ts": m.TS,
			"text": m.Text, "blocks": m.Blocks},
		"response_url": "https://hooks.slack.com/actions/T0TEAM01/1/x",
		"actions": []any{map[string]any{"action_id": b.ActionID, "block_id": blockID, "value": b.Value,
			"type": "button", "action_ts": fmt.Sprintf("1804151000.%06d", n), "text": b.Text}},
	}
}

// send pushes an envelope, waits for its ack (which comes after the
// commit and the replies) and returns the bot's new messages.
func (c *chatter) send(typ string, payload any, what string) []sentMsg {
	c.t.Helper()
	c.log = append(c.log, what)
	id := c.e.fake.push(typ, payload)
	c.envs = append(c.envs, id)
	c.e.fake.waitAck(id, 1)
	return c.replies()
}

// say types text in the DM.
func (c *chatter) say(text string) []sentMsg {
	c.t.Helper()
	return c.send("events_api", dmEvent(c.channel, c.user, text), "> "+text)
}

// mention writes "@Ampel text" in the channel.
func (c *chatter) mention(text string) []sentMsg {
	c.t.Helper()
	return c.send("events_api", mentionEvent(c.channel, c.user, text), "> @Ampel "+text)
}

// slash uses "/ampel text".
func (c *chatter) slash(text string) []sentMsg {
	c.t.Helper()
	return c.send("slash_commands", slashPayload(c.channel, c.user, text), "> /ampel "+text)
}

// tap presses the button whose label starts with label under the newest
// message with buttons, and waits until that message was updated.
func (c *chatter) tap(label string) []sentMsg {
	c.t.Helper()
	msgs := c.e.fake.messages(c.channel)
	for i := len(msgs) - 1; i >= 0; i-- {
		if len(msgs[i].buttons()) == 0 {
			continue
		}
		return c.tapOn(msgs[i], label)
	}
	c.t.Fatalf("no buttons in the channel\ntranscript:\n%s", strings.Join(c.log, "\n"))
	return nil
}

// tapOn presses a button under a given message.
func (c *chatter) tapOn(m sentMsg, label string) []sentMsg {
	c.t.Helper()
	for _, b := range m.buttons() {
		if strings.HasPrefix(unescape(b.Text.Text), label) {
			edits := c.e.fake.message(m.Channel, m.TS).Edited
			out := c.send("interactive", pressPayload(m, c.user, b), "~ tap "+label)
			waitFor(c.t, "the pressed message updated", func() bool {
				return c.e.fake.message(m.Channel, m.TS).Edited > edits
			})
			c.presses++
			return out
		}
	}
	var labels []string
	for _, b := range m.buttons() {
		labels = append(labels, b.Text.Text)
	}
	c.t.Fatalf("no button %q under %q (buttons %q)\ntranscript:\n%s", label, m.Shown(), labels, strings.Join(c.log, "\n"))
	return nil
}

func (c *chatter) replies() []sentMsg {
	msgs := c.e.fake.messages(c.channel)
	out := msgs[c.seen:]
	c.seen = len(msgs)
	for _, m := range out {
		c.log = append(c.log, m.Shown())
	}
	return out
}

func (c *chatter) expect(msgs []sentMsg, want string) {
	c.t.Helper()
	for _, m := range msgs {
		if strings.Contains(m.Shown(), want) {
			return
		}
	}
	c.t.Fatalf("no reply contains %q\ntranscript:\n%s", want, strings.Join(c.log, "\n"))
}

// script is the whole check and a plan in one language: the labels of
// the buttons pressed and the texts typed.
type script struct {
	bottest.Script
	locale, tz string // the user's Slack profile
}

var (
	german  = script{bottest.German, "de-DE", "Europe/Berlin"}
	english = script{bottest.English, "en-US", "America/New_York"}
)

// userText is typed as a measure: Slack markup and an entity that must
// come out literally, never as a mention, a formatting or a "<".
const userText = `Leitbild <!channel> <@U123> &lt; *bold* & "Nutzen"`

// TestWholeCheckAndPlanInDM runs the zo-kmu check and a plan in the DM
// with the bot, in German (users.info locale de-DE), over Socket Mode:
// every rating, the plan and its measure, by button presses and typed
// text, through the real engine. It shows that button values round-trip,
// that every envelope is acknowledged after its commit, that pressed
// messages are updated to show the choice without their buttons, that
// users' text is escaped everywhere, and that the locale and time zone
// reach the conversation.
func TestWholeCheckAndPlanInDM(t *testing.T) {
	e := newEnv(t, nil)
	e.run(nil)
	c := newChatter(t, e, "D0EVA0001", "U0EVA0001", german.locale, german.tz)
	runScript(t, e, c, german, c.say, func(text string) []sentMsg { return c.slash(text) })
	conv := e.conv(c.channel)
	if conv.Hint != "de-DE" || conv.ZoneHint != "Europe/Berlin" {
		t.Errorf("hints = %q, %q; want de-DE and Europe/Berlin from users.info", conv.Hint, conv.ZoneHint)
	}
	if n := len(e.fake.callsOf("users.info")); n != 1 {
		t.Errorf("users.info called %d times; want 1 (cached)", n)
	}
}

// TestWholeCheckAndPlanInChannel runs the same in a team channel in
// English (locale en-US): typed answers are mentions of the bot, commands
// come through /ampel. The conversation and its plan belong to the
// channel.
func TestWholeCheckAndPlanInChannel(t *testing.T) {
	e := newEnv(t, nil)
	e.run(nil)
	c := newChatter(t, e, "C0TEAM001", "U0BOB0001", english.locale, english.tz)
	runScript(t, e, c, english, c.mention, c.slash)
	if got := e.conv(c.channel).Addr; got.Chat != c.channel || got.Workspace != teamID {
		t.Errorf("conversation address %+v; want the channel %s in %s", got, c.channel, teamID)
	}
}

func runScript(t *testing.T, e *env, c *chatter, sc script, say, command func(string) []sentMsg) {
	t.Helper()
	c.expect(command("start"), sc.Welcome)
	c.tap(sc.StartCheck) // which check: a list
	c.expect(c.tap(sc.Check), "1/7")
	c.expect(c.tap(sc.Red), "2/7")   // pressed
	c.expect(say("2"), "3/7")        // typed: yellow
	c.expect(c.tap(sc.Green), "4/7") // pressed
	c.expect(say("3"), "5/7")        // typed
	c.expect(c.tap(sc.Green), "6/7") // pressed
	c.expect(say("3"), "7/7")        // typed
	c.expect(c.tap(sc.Green), "🔴 1 · 🟡 1 · 🟢 5")
	// The result's picture, uploaded in three steps and shared into the
	// conversation's channel.
	if files := e.fake.filesIn(c.channel); len(files) != 1 || !strings.HasSuffix(files[0].Name, ".png") || !bytes.HasPrefix(files[0].Data, []byte("\x89PNG")) {
		t.Errorf("files shared after the result: %d, want its picture", len(files))
	}
	c.tap(sc.BuildPlan)
	c.expect(say(userText), userText) // own measure, echoed in the priority question
	c.tap(sc.High)
	say("Maria Schulz")
	c.expect(say(sc.InTwoWeeks), sc.StartLine)
	c.tap(sc.FourWeeks) // the red point's measure is saved
	c.tap(sc.Next)      // no other for it; now the yellow one
	c.expect(c.tap(sc.NoMeasure), sc.PlanHeader)
	c.expect(command("plan"), sc.PlanHeader)

	conv := e.conv(c.channel)
	if n := len(conv.Plan.Measures); n != 1 || conv.Plan.Measures[0].Text != userText || conv.Plan.Measures[0].Priority != "high" {
		t.Errorf("stored plan = %+v, want one high-priority measure %q", conv.Plan.Measures, userText)
	}
	// Every envelope was acknowledged exactly once.
	for _, id := range c.envs {
		if n := e.fake.acked(id); n != 1 {
			t.Errorf("envelope %s acknowledged %d times", id, n)
		}
	}
	// Every pressed message shows the choice and has no buttons left.
	edited := 0
	found := false
	for _, m := range e.fake.messages(c.channel) {
		if m.Edited == 0 {
			continue
		}
		edited++
		if len(m.buttons()) != 0 {
			t.Errorf("message %s was updated but kept its buttons", m.TS)
		}
		if !strings.Contains(m.Shown(), "✓ ") {
			t.Errorf("updated message %s does not show the choice: %q", m.TS, m.Shown())
		}
		if strings.Contains(m.Shown(), userText) && strings.HasSuffix(m.Shown(), "✓ "+sc.High) {
			found = true
		}
	}
	if edited != c.presses {
		t.Errorf("%d messages updated, want one per press (%d)", edited, c.presses)
	}
	if !found {
		t.Errorf("the priority question was not updated to show %q", "✓ "+sc.High)
	}
}
