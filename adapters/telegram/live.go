package telegram

import (
	"context"
	"regexp"
	"strconv"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/ampel-bot/ampel/bot"
)

// msgRef names a message: its chat and ID.
type msgRef struct {
	chat int64
	id   int
}

var _ bot.Editor = (*Adapter)(nil)

// SendLive implements bot.Editor: a live message is sent as one message
// (its text cut to Telegram's limit), and its ID is the reference.
func (a *Adapter) SendLive(ctx context.Context, to bot.Address, m bot.Message) (string, error) {
	_, id, err := a.send(ctx, to, m)
	if err != nil {
		return "", err
	}
	return strconv.Itoa(id), nil
}

// Edit implements bot.Editor with editMessageText: the text and the
// inline keyboard are replaced (an empty keyboard removes the buttons). An
// edit that changes nothing ("message is not modified") succeeds; a
// message that is gone, or too old to be edited, wraps
// bot.ErrMessageGone. Edits wait for the chat's turn as posts do.
func (a *Adapter) Edit(ctx context.Context, to bot.Address, ref string, m bot.Message) error {
	chat, err := chatID(to)
	id, err2 := strconv.Atoi(ref)
	if err != nil || err2 != nil || to.Platform != Platform {
		return a.r.errorf([]error{bot.ErrMessageGone}, "telegram: %q/%q/%q is no Telegram message", to.Platform, to.Chat, ref)
	}
	if _, err := a.waitLimit(ctx, chat, maxWait); err != nil {
		return a.r.errorf([]error{err}, "telegram: waiting to edit: %v", err)
	}
	e := tgbotapi.NewEditMessageText(chat, id, escape(liveText(m.Text)))
	e.ParseMode = tgbotapi.ModeHTML
	e.DisableWebPagePreview = true
	e.ReplyMarkup = &tgbotapi.InlineKeyboardMarkup{InlineKeyboard: keyboard(m.Buttons)}
	if e.ReplyMarkup.InlineKeyboard == nil {
		e.ReplyMarkup.InlineKeyboard = [][]tgbotapi.InlineKeyboardButton{}
	}
	_, err = a.request(ctx, e, "editMessageText")
	switch {
	case err == nil, strings.Contains(err.Error(), "message is not modified"):
		a.live.Add(msgRef{chat, id})
		return nil
	case strings.Contains(err.Error(), "message to edit not found"), strings.Contains(err.Error(), "message can't be edited"):
		return a.r.errorf([]error{bot.ErrMessageGone}, "telegram editMessageText: %v", err)
	}
	return err
}

var _ bot.DeepLinker = (*Adapter)(nil)

// startValue is what Telegram takes as a deep link's start parameter, of
// at most maxStart characters (not in the pattern: see secretPattern).
var startValue = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

const maxStart = 64

// StartLink implements bot.DeepLinker: t.me/<bot>?start=value opens the
// private chat with the bot, which the user starts with one tap; the bot
// then receives "/start value". A value Telegram would not take (empty,
// longer than 64 characters, or with a character other than A-Z, a-z,
// 0-9, _ and -) gets no link: "".
func (a *Adapter) StartLink(value string) string {
	if a.self == "" || len(value) > maxStart || !startValue.MatchString(value) {
		return ""
	}
	return "https://t.me/" + a.self + "?start=" + value
}

// liveText cuts a live message's text to one message.
func liveText(s string) string {
	if utf16Len(s) <= maxText {
		return s
	}
	return truncateUTF16(s, maxText-1) + "…"
}
