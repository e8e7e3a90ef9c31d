package telegram

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// TestSendToUserAddress: a message addressed to a user without a chat
// (a team member the bot knows from a group) goes to the user's private
// chat with the bot. A user who never started the bot cannot be written
// to: Telegram's 403 makes the message undeliverable for good (the outbox
// drops it instead of retrying forever), and neither the error nor the
// adapter's log names the user.
func TestSendToUserAddress(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	if err := e.a.Send(ctx, bot.Address{Platform: Platform, User: "4711"}, bot.Message{Text: "Bitte bewerte: 1/7"}); err != nil {
		t.Fatalf("send to a user: %v", err)
	}
	if msgs := e.fake.messages(4711); len(msgs) != 1 || msgs[0].Text != "Bitte bewerte: 1/7" {
		t.Errorf("the user's private chat holds %q, want the message", texts(msgs))
	}

	e.fake.refuse(4712)
	err := e.a.Send(ctx, bot.Address{Platform: Platform, User: "4712"}, bot.Message{Text: "Bitte bewerte: 1/7"})
	if !errors.Is(err, bot.ErrRecipientGone) {
		t.Errorf("send to a user who never started the bot: %v, want bot.ErrRecipientGone", err)
	}
	if err != nil && strings.Contains(err.Error(), "4712") || strings.Contains(e.logs.String(), "4712") {
		t.Errorf("the user's ID in the error %q or the log:\n%s", err, e.logs.String())
	}
}

// TestLeftChatMember: someone leaving a group, or being removed, is a
// Left event for the group and that user, with the update's ID: the same
// when Telegram delivers the update again, so that the engine applies it
// once; the next leave (after rejoining) has an ID of its own. The bot's
// own removal is a Left event without a user; a private chat, or another
// bot leaving, is none.
func TestLeftChatMember(t *testing.T) {
	e := newEnv(t, nil)
	rec := &bottest.Events{}
	e.run(rec)
	const group = -100321
	leave := func(chat int64, who *tgbotapi.User) int {
		return e.fake.push(tgbotapi.Update{Message: &tgbotapi.Message{
			MessageID: 7, From: who, Chat: chatOfID(chat), Date: 1804150800, LeftChatMember: who,
		}})
	}
	id := leave(group, user(55, "de"))
	e.fake.waitConsumed(id)
	e.fake.redeliver(id)
	e.fake.waitHandled(id, 2)
	want := bot.Event{ID: itoa(id), Left: true, Group: true, UserName: "Eva",
		Addr: bot.Address{Platform: Platform, Chat: "-100321", User: "55"}}
	got := rec.All()
	if len(got) != 2 || !equalEvents(got[0], want) || !equalEvents(got[1], want) {
		t.Fatalf("events for a leave delivered twice: %+v, want twice %+v", got, want)
	}

	again := leave(group, user(55, "de"))
	kicked := e.fake.push(tgbotapi.Update{Message: &tgbotapi.Message{MessageID: 8, From: user(56, "de"), Chat: chatOfID(group),
		LeftChatMember: &tgbotapi.User{ID: 4242, IsBot: true, FirstName: "Ampel", UserName: botUsername}}})
	otherBot := e.fake.push(tgbotapi.Update{Message: &tgbotapi.Message{MessageID: 9, From: user(56, "de"), Chat: chatOfID(group),
		LeftChatMember: &tgbotapi.User{ID: 99, IsBot: true, FirstName: "Other"}}})
	e.fake.waitConsumed(otherBot)
	got = rec.All()[2:]
	if len(got) != 2 {
		t.Fatalf("events after the first leave: %+v, want the second leave and the bot's removal", got)
	}
	if got[0].ID != itoa(again) || got[0].ID == want.ID || !got[0].Left || got[0].Addr.User != "55" {
		t.Errorf("second leave of the same user: %+v, want a Left event with the new update's ID", got[0])
	}
	if b := got[1]; b.ID != itoa(kicked) || !b.Left || b.Addr.User != "" || b.Addr.Chat != "-100321" {
		t.Errorf("the bot removed: %+v, want a Left event for the group without a user", b)
	}
}

// equalEvents compares the fields a Left or text event sets.
func equalEvents(a, b bot.Event) bool {
	return a.ID == b.ID && a.Left == b.Left && a.Group == b.Group && a.Addr == b.Addr &&
		a.Text == b.Text && a.Action == b.Action && a.UserName == b.UserName
}

// TestStartLink: the link that opens the bot's private chat with a start
// value, for a member who has not started the bot; values Telegram would
// refuse get no link. Opening it sends "/start <value>", which reaches the
// engine as it is, also with the bot's name in the command.
func TestStartLink(t *testing.T) {
	e := newEnv(t, nil)
	rec := &bottest.Events{}
	e.run(rec)
	var linker bot.DeepLinker = e.a
	if got, want := linker.StartLink("team_ab12"), "https://t.me/"+botUsername+"?start=team_ab12"; got != want {
		t.Errorf("StartLink(team_ab12) = %q, want %q", got, want)
	}
	for _, bad := range []string{"", "team ab12", "team_ab12&x=1", "tëam", strings.Repeat("a", 65)} {
		if got := linker.StartLink(bad); got != "" {
			t.Errorf("StartLink(%q) = %q, want no link", bad, got)
		}
	}
	if got := linker.StartLink(strings.Repeat("a", 64)); got == "" {
		t.Error("StartLink of 64 characters: no link, want one")
	}

	e.fake.pushText(4711, user(4711, "de"), "/start team_ab12")
	e.fake.waitConsumed(e.fake.pushText(4711, user(4711, "de"), "/start@"+botUsername+" team_ab12"))
	for _, ev := range rec.All() {
		if ev.Text != "/start team_ab12" || ev.Group || ev.Addr.Chat != "4711" || ev.Addr.User != "4711" {
			t.Errorf("deep link's start in the private chat: %+v, want the text \"/start team_ab12\"", ev)
		}
	}
}

// TestTeamCommandInGroup: "/team zo-kmu" in a group, with or without the
// bot's name, reaches the engine as "/team zo-kmu" from the group.
func TestTeamCommandInGroup(t *testing.T) {
	e := newEnv(t, nil)
	rec := &bottest.Events{}
	e.run(rec)
	const group = -100322
	e.fake.pushText(group, user(57, "de"), "/team zo-kmu")
	e.fake.waitConsumed(e.fake.pushText(group, user(57, "de"), "/team@"+botUsername+" zo-kmu"))
	got := rec.All()
	if len(got) != 2 {
		t.Fatalf("events: %+v, want two", got)
	}
	for _, ev := range got {
		if ev.Text != "/team zo-kmu" || !ev.Group || ev.Addr.Chat != "-100322" || ev.Addr.User != "57" {
			t.Errorf("team command in a group: %+v, want \"/team zo-kmu\" from the group", ev)
		}
	}
}

// TestMemberLeavesTeamRun: through the engine, a member who joined a
// group's team check and then leaves the group is dropped from the run,
// and the group is told once, though Telegram delivers the leave twice.
func TestMemberLeavesTeamRun(t *testing.T) {
	e := newEnv(t, nil)
	e.run(nil)
	const group = -100600
	lead, member := user(61, "de"), &tgbotapi.User{ID: 62, FirstName: "Jonas", LanguageCode: "de"}
	e.fake.waitConsumed(e.fake.pushText(group, lead, "/team zo-kmu"))
	var join sentMsg
	data := ""
	for _, m := range e.fake.messages(group) {
		if m.Markup == nil {
			continue
		}
		for _, row := range m.Markup.InlineKeyboard {
			for _, b := range row {
				if b.Text == "Mitmachen" && b.CallbackData != nil {
					join, data = m, *b.CallbackData
				}
			}
		}
	}
	if data == "" {
		t.Fatalf("no join button in the group: %q", texts(e.fake.messages(group)))
	}
	// The channel's progress is a live message, edited at most once a
	// second: the group's next message waits behind its edit.
	tick := func() {
		e.clock.Add(2 * time.Second)
		if err := e.engine.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		e.settle()
	}
	id, _ := e.fake.pushPress(member, join, data)
	e.fake.waitConsumed(id)
	tick()
	if len(e.fake.messages(62)) == 0 {
		t.Fatal("the member who joined got nothing privately")
	}
	left := e.fake.push(tgbotapi.Update{Message: &tgbotapi.Message{MessageID: 70, From: member, Chat: chatOfID(group), LeftChatMember: member}})
	e.fake.waitConsumed(left)
	e.fake.redeliver(left)
	e.fake.waitHandled(left, 2)
	tick()
	n := 0
	for _, m := range e.fake.messages(group) {
		if strings.Contains(m.Text, "Jonas ist nicht mehr im Kanal") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the group was told %d times that the member left, want once:\n%s", n, strings.Join(texts(e.fake.messages(group)), "\n---\n"))
	}
}
