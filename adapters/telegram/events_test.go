package telegram

import (
	"context"
	"reflect"
	"strings"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/ampel-bot/ampel/bot"
)

// TestUpdatesToEvents shows which updates reach the engine, and as what.
func TestUpdatesToEvents(t *testing.T) {
	e := newEnv(t, nil)
	group := chatOfID(-100777)
	eva := user(11, "de")
	kb := &tgbotapi.InlineKeyboardMarkup{InlineKeyboard: [][]tgbotapi.InlineKeyboardButton{{tgbotapi.NewInlineKeyboardButtonData("Ja", "3:yes")}}}
	pressed := &tgbotapi.Message{MessageID: 9, Chat: chatOfID(11), Text: "Frage?", ReplyMarkup: kb}
	for _, tc := range []struct {
		name   string
		u      tgbotapi.Update
		want   *bot.Event // nil: not handed to the engine
		answer bool       // a callback query to answer
	}{
		{"text", tgbotapi.Update{UpdateID: 1, Message: &tgbotapi.Message{From: eva, Chat: chatOfID(11), Text: "/start abc"}},
			&bot.Event{ID: "1", Text: "/start abc", LangHint: "de", UserName: "Eva", Addr: bot.Address{Platform: "telegram", Chat: "11", User: "11"}}, false},
		{"group command to this bot", tgbotapi.Update{UpdateID: 2, Message: &tgbotapi.Message{From: eva, Chat: group, Text: "/check@Ampel_Test_Bot zo-kmu"}},
			&bot.Event{ID: "2", Text: "/check zo-kmu", LangHint: "de", Group: true, UserName: "Eva", Addr: bot.Address{Platform: "telegram", Chat: "-100777", User: "11"}}, false},
		{"group command to another bot", tgbotapi.Update{UpdateID: 3, Message: &tgbotapi.Message{From: eva, Chat: group, Text: "/check@other_bot"}}, nil, false},
		{"anonymous admin", tgbotapi.Update{UpdateID: 4, Message: &tgbotapi.Message{From: &tgbotapi.User{ID: anonymousAdmin, IsBot: true, FirstName: "Group"}, SenderChat: group, Chat: group, Text: "/plan"}},
			&bot.Event{ID: "4", Text: "/plan", Group: true, Addr: bot.Address{Platform: "telegram", Chat: "-100777"}}, false},
		{"posting as a channel", tgbotapi.Update{UpdateID: 5, Message: &tgbotapi.Message{From: &tgbotapi.User{ID: 136817688, IsBot: true}, SenderChat: &tgbotapi.Chat{ID: -1005, Type: "channel"}, Chat: group, Text: "/plan"}},
			&bot.Event{ID: "5", Text: "/plan", Group: true, Addr: bot.Address{Platform: "telegram", Chat: "-100777"}}, false},
		{"another bot", tgbotapi.Update{UpdateID: 6, Message: &tgbotapi.Message{From: &tgbotapi.User{ID: 99, IsBot: true}, Chat: group, Text: "/start"}}, nil, false},
		{"sticker", tgbotapi.Update{UpdateID: 7, Message: &tgbotapi.Message{From: eva, Chat: chatOfID(11), Sticker: &tgbotapi.Sticker{FileID: "s"}}}, nil, false},
		{"channel post", tgbotapi.Update{UpdateID: 8, ChannelPost: &tgbotapi.Message{Chat: &tgbotapi.Chat{ID: -1005, Type: "channel"}, Text: "/start"}}, nil, false},
		{"automatic forward", tgbotapi.Update{UpdateID: 9, Message: &tgbotapi.Message{From: &tgbotapi.User{ID: 777000}, Chat: group, Text: "news", IsAutomaticForward: true}}, nil, false},
		{"edited message", tgbotapi.Update{UpdateID: 10, EditedMessage: &tgbotapi.Message{From: eva, Chat: chatOfID(11), Text: "3"}}, nil, false},
		{"press", tgbotapi.Update{UpdateID: 11, CallbackQuery: &tgbotapi.CallbackQuery{ID: "q", From: user(12, "en-GB"), Message: pressed, Data: "3:yes"}},
			&bot.Event{ID: "11", Action: "3:yes", LangHint: "en-GB", UserName: "Eva", Addr: bot.Address{Platform: "telegram", Chat: "11", User: "12"}}, true},
		{"group became a supergroup", tgbotapi.Update{UpdateID: 13, Message: &tgbotapi.Message{From: eva, Chat: group, MigrateToChatID: -1001777}},
			&bot.Event{ID: "13", MovedTo: "-1001777", Addr: bot.Address{Platform: "telegram", Chat: "-100777"}}, false},
		{"supergroup's side of the move", tgbotapi.Update{UpdateID: 14, Message: &tgbotapi.Message{From: eva, Chat: chatOfID(-1001777), MigrateFromChatID: -100777}}, nil, false},
		{"press on an inline message", tgbotapi.Update{UpdateID: 12, CallbackQuery: &tgbotapi.CallbackQuery{ID: "q", From: eva, InlineMessageID: "i", Data: "3:yes"}}, nil, true},
	} {
		ev, cq, ok := e.a.event(tc.u)
		if (cq != nil) != tc.answer {
			t.Errorf("%s: callback to answer = %v, want %v", tc.name, cq != nil, tc.answer)
		}
		switch {
		case tc.want == nil && ok:
			t.Errorf("%s: handed to the engine as %+v", tc.name, ev)
		case tc.want != nil && !ok:
			t.Errorf("%s: not handed to the engine", tc.name)
		case tc.want != nil && !reflect.DeepEqual(ev, *tc.want):
			t.Errorf("%s: event %+v, want %+v", tc.name, ev, *tc.want)
		}
	}
}

// TestGroupChat: in a group the conversation belongs to the chat; commands
// addressed to the bot by name work, anonymous admins are heard, commands
// for other bots are left alone.
func TestGroupChat(t *testing.T) {
	e := newEnv(t, nil)
	e.run(nil)
	const group = -100888
	e.fake.waitConsumed(e.fake.pushText(group, user(21, "de"), "/start@"+botUsername))
	msgs := e.fake.messages(group)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "Willkommen") {
		t.Fatalf("replies in the group: %q", texts(msgs))
	}
	e.fake.waitConsumed(e.fake.pushText(group, user(22, "de"), "/help@other_bot"))
	if n := len(e.fake.messages(group)); n != 1 {
		t.Errorf("a command for another bot was answered")
	}
	id := e.fake.push(tgbotapi.Update{Message: &tgbotapi.Message{
		MessageID: 1, From: &tgbotapi.User{ID: anonymousAdmin, IsBot: true, FirstName: "Group"},
		SenderChat: chatOfID(group), Chat: chatOfID(group), Text: "/help",
	}})
	e.fake.waitConsumed(id)
	if msgs := e.fake.messages(group); len(msgs) != 2 || !strings.Contains(msgs[1].Text, "/check") {
		t.Errorf("the anonymous admin's /help was not answered: %q", texts(msgs))
	}
	// Members chatting among themselves get no hints; a reply to the bot
	// is an answer.
	e.fake.waitConsumed(e.fake.pushText(group, user(23, "de"), "Wann treffen wir uns?"))
	if n := len(e.fake.messages(group)); n != 2 {
		t.Errorf("group chatter was answered (%d messages)", n)
	}
	id = e.fake.push(tgbotapi.Update{Message: &tgbotapi.Message{
		MessageID: 5, From: user(23, "de"), Chat: chatOfID(group), Text: "1",
		ReplyToMessage: &tgbotapi.Message{MessageID: 4, From: &tgbotapi.User{ID: 999, IsBot: true, UserName: botUsername}},
	}})
	e.fake.waitConsumed(id)
	if n := len(e.fake.messages(group)); n != 3 {
		t.Errorf("a reply to the bot was not answered (%d messages)", n)
	}
	// A mention addresses the bot; the answer is what follows it.
	ev, _, ok := e.a.event(tgbotapi.Update{UpdateID: 99, Message: &tgbotapi.Message{From: user(24, "de"), Chat: chatOfID(group), Text: "@" + botUsername + " 2"}})
	if !ok || ev.Text != "2" {
		t.Errorf("a mention with an answer: %q, handed on %v", ev.Text, ok)
	}
}

// TestGroupBecomesSupergroup: when Telegram upgrades a group, its
// conversation moves to the new chat ID, and a message still addressed to
// the old ID is delivered to the new chat.
func TestGroupBecomesSupergroup(t *testing.T) {
	e := newEnv(t, nil)
	e.run(nil)
	const old, moved = -4001, -1004001
	e.fake.waitConsumed(e.fake.pushText(old, user(31, "de"), "/check@"+botUsername+" zo-kmu"))
	before := e.conv(old)
	if before.Run == nil {
		t.Fatal("the check did not start in the group")
	}
	id := e.fake.push(tgbotapi.Update{Message: &tgbotapi.Message{MessageID: 2, From: user(31, "de"), Chat: chatOfID(old), MigrateToChatID: moved}})
	e.fake.push(tgbotapi.Update{Message: &tgbotapi.Message{MessageID: 1, From: user(31, "de"), Chat: &tgbotapi.Chat{ID: moved, Type: "supergroup"}, MigrateFromChatID: old}})
	e.fake.waitConsumed(id + 1)
	after := e.conv(moved)
	if after.Run == nil || after.Addr.Chat != "-1004001" || after.Dialog.Mode != before.Dialog.Mode {
		t.Errorf("the supergroup's conversation = %+v, want the group's check", after)
	}
	if e.conv(old).Run != nil {
		t.Error("the old group still holds the check")
	}

	e.fake.failNextWith("sendMessage", 400, "Bad Request: group chat was upgraded to a supergroup chat", map[string]any{"migrate_to_chat_id": moved})
	if err := e.a.Send(context.Background(), addr(old), bot.Message{Text: "Erinnerung"}); err != nil {
		t.Fatalf("Send to the old group: %v", err)
	}
	if msgs := e.fake.messages(moved); len(msgs) != 1 || msgs[0].Text != "Erinnerung" {
		t.Errorf("messages in the supergroup: %q", texts(msgs))
	}
}

func TestGroupHelpExplainsPrivacyMode(t *testing.T) {
	e := newEnv(t, nil)
	e.run(nil)
	const group = -100999
	e.fake.waitConsumed(e.fake.pushText(group, user(41, "de"), "/help@"+botUsername))
	msgs := e.fake.messages(group)
	if len(msgs) == 0 || !strings.Contains(msgs[len(msgs)-1].Text, "Datenschutzmodus von Telegram") {
		t.Errorf("/help in a Telegram group: %q", texts(msgs))
	}
}
