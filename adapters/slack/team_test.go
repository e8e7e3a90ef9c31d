package slack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// TestSendToUserAddress: a message addressed to a user without a chat (a
// team member the bot knows from a channel) is posted to the user's ID,
// which Slack takes for the app's DM with the user; the rest of the
// message and later ones go to the DM's channel, which Slack's answer
// named, and a press there is matched to the question posted. A user
// Slack does not know cannot be written to, for good.
func TestSendToUserAddress(t *testing.T) {
	e := newEnv(t, nil)
	e.fake.mu.Lock()
	e.fake.users["U0MEMB01"] = slackUser{locale: "de-DE", tz: "Europe/Berlin"}
	e.fake.mu.Unlock()
	ctx := context.Background()
	to := bot.Address{Platform: Platform, Workspace: teamID, User: "U0MEMB01"}
	if err := e.a.Send(ctx, to, bot.Message{Text: "Bitte bewerte: 1/7"}); err != nil {
		t.Fatalf("send to a user: %v", err)
	}
	if err := e.a.Send(ctx, to, bot.Message{Text: "Frage 2/7", Buttons: [][]bot.Button{{{Label: "Rot", Action: "1:r"}}}}); err != nil {
		t.Fatalf("second send to the user: %v", err)
	}
	msgs := e.fake.messages("D0MEMB01")
	if len(msgs) != 2 || msgs[0].Shown() != "Bitte bewerte: 1/7" || msgs[1].Shown() != "Frage 2/7" {
		t.Fatalf("the app's DM with the user holds %d messages %+v, want both", len(msgs), msgs)
	}
	var channels []string
	for _, c := range e.fake.callsOf("chat.postMessage") {
		channels = append(channels, c.Form["channel"])
	}
	if fmt.Sprint(channels) != "[U0MEMB01 D0MEMB01]" {
		t.Errorf("posted to %v, want the user's ID, then the DM Slack named", channels)
	}
	if newest, ok := e.a.kbs.Newest("D0MEMB01"); !ok || newest != msgs[1].TS {
		t.Errorf("the DM's open question: %q (%v), want the second message's ts %q", newest, ok, msgs[1].TS)
	}

	err := e.a.Send(ctx, bot.Address{Platform: Platform, Workspace: teamID, User: "U0GONE01"}, bot.Message{Text: "Bitte bewerte"})
	if !errors.Is(err, bot.ErrRecipientGone) {
		t.Errorf("send to an unknown user: %v, want bot.ErrRecipientGone", err)
	}
}

// memberLeft is a member_left_channel callback as Slack sends it.
func memberLeft(id, channel, user string) map[string]any {
	return eventPayload(id, map[string]any{
		"type": "member_left_channel", "user": user, "channel": channel, "channel_type": "C",
		"team": teamID, "event_ts": "1804150950.000100",
	})
}

// TestMemberLeftChannel: a member leaving a channel (or removed from it)
// is a Left event for the channel and that member, with the callback's
// event ID, the same when Slack delivers it again; the engine applies it
// once. The bot's own removal (member_left_channel naming the bot, or
// channel_left / group_left) is a Left event without a user.
func TestMemberLeftChannel(t *testing.T) {
	e := newEnv(t, nil)
	rec := &bottest.Events{}
	e.run(rec)
	env := e.fake.push("events_api", memberLeft("Ev0LEFT01", "C0TEAM01", "U0MEMB01"))
	e.fake.waitAck(env, 1)
	e.fake.redeliver(env)
	e.fake.waitAck(env, 2)
	want := bot.Event{ID: "Ev0LEFT01", Left: true, Group: true,
		Addr: bot.Address{Platform: Platform, Workspace: teamID, Chat: "C0TEAM01", User: "U0MEMB01"}}
	got := rec.All()
	if len(got) != 2 || !equalEvents(got[0], want) || !equalEvents(got[1], want) {
		t.Fatalf("events for a leave delivered twice: %+v, want twice %+v", got, want)
	}
	if n := len(e.fake.callsOf("users.info")); n != 0 {
		t.Errorf("%d users.info calls for a leave, want none", n)
	}

	e.fake.waitAck(e.fake.push("events_api", memberLeft("Ev0LEFT02", "C0TEAM01", botUser)), 1)
	e.fake.waitAck(e.fake.push("events_api", eventPayload("Ev0LEFT03", map[string]any{
		"type": "channel_left", "channel": "C0TEAM02", "event_ts": "1804150951.000100"})), 1)
	e.fake.waitAck(e.fake.push("events_api", eventPayload("Ev0LEFT04", map[string]any{
		"type": "group_left", "channel": "G0TEAM03", "event_ts": "1804150952.000100"})), 1)
	got = rec.All()[2:]
	for i, chat := range []string{"C0TEAM01", "C0TEAM02", "G0TEAM03"} {
		want := bot.Event{ID: fmt.Sprintf("Ev0LEFT%02d", i+2), Left: true, Group: true,
			Addr: bot.Address{Platform: Platform, Workspace: teamID, Chat: chat}}
		if i >= len(got) || !equalEvents(got[i], want) {
			t.Errorf("the bot removed (%d): events %+v, want %+v", i, got, want)
		}
	}
}

// equalEvents compares the fields a Left or text event sets.
func equalEvents(a, b bot.Event) bool {
	return a.ID == b.ID && a.Left == b.Left && a.Group == b.Group && a.Addr == b.Addr &&
		a.Text == b.Text && a.Action == b.Action
}

// TestTeamSlashCommandInChannel: "/ampel team zo-kmu" in a channel
// reaches the engine as "/team zo-kmu" from the channel (Group), and in
// the DM as "/team zo-kmu" from the DM.
func TestTeamSlashCommandInChannel(t *testing.T) {
	e := newEnv(t, nil)
	rec := &bottest.Events{}
	e.run(rec)
	e.fake.waitAck(e.fake.push("slash_commands", slashPayload("C0TEAM01", "U0MEMB01", "team zo-kmu")), 1)
	e.fake.waitAck(e.fake.push("slash_commands", slashPayload("D0MEMB01", "U0MEMB01", "team zo-kmu")), 1)
	got := rec.All()
	if len(got) != 2 {
		t.Fatalf("events: %+v, want two", got)
	}
	if ev := got[0]; ev.Text != "/team zo-kmu" || !ev.Group || ev.Addr.Chat != "C0TEAM01" || ev.Addr.User != "U0MEMB01" {
		t.Errorf("/ampel team in a channel: %+v, want \"/team zo-kmu\" from the channel, as a group", ev)
	}
	if ev := got[1]; ev.Text != "/team zo-kmu" || ev.Group || ev.Addr.Chat != "D0MEMB01" {
		t.Errorf("/ampel team in the DM: %+v, want \"/team zo-kmu\" from the DM", ev)
	}
}

// TestMemberLeavesTeamRun: through the engine, a member who joins a
// channel's team check gets the invitation in the app's DM (a message to
// the user's address, posted to the user's ID); when the member leaves
// the channel, the channel is told once, though Slack delivers the
// member_left_channel event twice.
func TestMemberLeavesTeamRun(t *testing.T) {
	e := newEnv(t, nil)
	e.run(nil)
	lead := newChatter(t, e, "C0TEAM01", "U0LEAD01", "de-DE", "Europe/Berlin")
	member := newChatter(t, e, "C0TEAM01", "U0MEMB01", "de-DE", "Europe/Berlin")
	e.fake.mu.Lock()
	e.fake.users["U0MEMB01"] = slackUser{locale: "de-DE", tz: "Europe/Berlin", realName: "Jonas"}
	e.fake.mu.Unlock()
	// The channel's progress is a live message, edited at most once a
	// second: the channel's next message waits behind its edit.
	tick := func() {
		e.clock.Add(2 * time.Second)
		if err := e.engine.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		e.settle()
	}
	var progress sentMsg
	var join element
	for _, m := range lead.slash("team zo-kmu") {
		for _, b := range m.buttons() {
			if unescape(b.Text.Text) == "Mitmachen" {
				progress, join = m, b
			}
		}
	}
	if join.Value == "" {
		t.Fatalf("no join button in the channel:\n%s", strings.Join(lead.log, "\n"))
	}
	member.send("interactive", pressPayload(progress, member.user, join), "~ tap Mitmachen")
	tick()
	if dm := e.fake.messages("D0MEMB01"); len(dm) == 0 || !strings.Contains(dm[0].Shown(), "Sie machen beim Team-Check") {
		t.Fatalf("the member's DM with the app holds %d messages, want the invitation", len(dm))
	}
	env := e.fake.push("events_api", memberLeft("Ev0LEFT09", "C0TEAM01", "U0MEMB01"))
	e.fake.waitAck(env, 1)
	e.fake.redeliver(env)
	e.fake.waitAck(env, 2)
	tick()
	n := 0
	var shown []string
	for _, m := range e.fake.messages("C0TEAM01") {
		shown = append(shown, m.Shown())
		if strings.Contains(m.Shown(), "Jonas ist nicht mehr im Kanal") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the channel was told %d times that the member left, want once:\n%s", n, strings.Join(shown, "\n---\n"))
	}
}
