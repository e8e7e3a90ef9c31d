package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/ampel-bot/ampel/adapters/internal/sendkit"
	"github.com/ampel-bot/ampel/bot"
)

// maxText is Telegram's limit on a message's text, in UTF-16 code units
// after entity parsing (the unescaped text). Counting code units rather
// than runes keeps emoji, which take two, from pushing a part over.
const maxText = 4096

// Send implements bot.Adapter: it sends the text, split at Telegram's
// limit, with the buttons as an inline keyboard under its last part, then
// the files (a picture as a photo, others as documents, see filePart). Every part waits for its turn under Telegram's
// limits, or, if the turn is further away than maxWait, the rest of the
// message is handed back as *bot.RateLimited. If a part fails, the parts
// already sent are remembered, so that the outbox's retry of the same
// message continues where it stopped instead of repeating them.
func (a *Adapter) Send(ctx context.Context, to bot.Address, m bot.Message) error {
	_, _, err := a.send(ctx, to, m)
	return err
}

// send is Send, returning the chat the message went to and the ID of its
// part with the buttons (else its last part).
func (a *Adapter) send(ctx context.Context, to bot.Address, m bot.Message) (int64, int, error) {
	chat, err := chatID(to)
	if err != nil || to.Platform != Platform {
		// Never deliverable, so the outbox must drop it, not retry it.
		return 0, 0, a.r.errorf([]error{bot.ErrRecipientGone}, "telegram: %q/%q is not a Telegram chat", to.Platform, to.Chat)
	}
	if m.Live != "" {
		m.Text = liveText(m.Text) // one message, to be edited
	}
	ref, onKeyboard := 0, false
	parts := render(chat, m)
	key := sendkit.Key(strconv.FormatInt(chat, 10), m)
	for i := a.parts.Get(key); i < len(parts); i++ {
		if _, err := a.waitLimit(ctx, chat, maxWait); err != nil {
			a.parts.Set(key, i)
			return 0, 0, a.r.errorf([]error{err}, "telegram: waiting to send: %v", err)
		}
		resp, err := a.request(ctx, parts[i].cfg, parts[i].method)
		var moved *movedError
		if errors.As(err, &moved) && moved.to != chat {
			// A group that became a supergroup: its messages go there now
			// (the engine moves its conversation when the update saying
			// so arrives). Once: a second move would be a loop.
			a.log.Info("telegram group moved; sending to its new chat")
			chat, parts = moved.to, render(moved.to, m)
			if _, err := a.waitLimit(ctx, chat, maxWait); err != nil {
				a.parts.Set(key, i)
				return 0, 0, a.r.errorf([]error{err}, "telegram: waiting to send: %v", err)
			}
			resp, err = a.request(ctx, parts[i].cfg, parts[i].method)
		}
		if err != nil {
			if errors.Is(err, bot.ErrRecipientGone) {
				a.parts.Forget(key)
			} else {
				a.parts.Set(key, i)
			}
			return 0, 0, err
		}
		var sent struct {
			MessageID int `json:"message_id"`
		}
		if json.Unmarshal(resp.Result, &sent) == nil && sent.MessageID != 0 && !onKeyboard {
			ref, onKeyboard = sent.MessageID, parts[i].keyboard
		}
		switch {
		case m.Live != "":
			a.live.Add(msgRef{chat, ref}) // its buttons are no question's
		case parts[i].keyboard && sent.MessageID != 0:
			a.kbs.Set(chat, sent.MessageID)
		}
	}
	a.parts.Forget(key)
	a.alarm.Clear(a.log, "telegram takes messages again")
	return chat, ref, nil
}

// chatID is the chat an address reaches: its chat, or, for an address
// with a user and no chat, the user's private chat with the bot, whose ID
// is the user's. Telegram lets the bot write there only once the user has
// started it; before, it answers 403 "bot can't initiate conversation
// with a user", which is bot.ErrRecipientGone (see goneDescriptions).
func chatID(to bot.Address) (int64, error) {
	id := to.Chat
	if id == "" {
		id = to.User
	}
	return strconv.ParseInt(id, 10, 64)
}

type part struct {
	cfg      tgbotapi.Chattable
	method   string
	keyboard bool // it carries the message's buttons
}

// render turns a message into the requests that send it.
func render(chat int64, m bot.Message) []part {
	var parts []part
	var kb any
	if rows := keyboard(m.Buttons); len(rows) > 0 {
		kb = tgbotapi.InlineKeyboardMarkup{InlineKeyboard: rows}
	}
	chunks := splitText(m.Text, maxText)
	for i, c := range chunks {
		msg := tgbotapi.NewMessage(chat, escape(c))
		msg.ParseMode = tgbotapi.ModeHTML
		msg.DisableWebPagePreview = true
		last := i == len(chunks)-1 && kb != nil
		if last {
			msg.ReplyMarkup = kb
		}
		parts = append(parts, part{msg, "sendMessage", last})
	}
	for i, f := range m.Files {
		var fkb any
		if len(chunks) == 0 && i == len(m.Files)-1 {
			fkb = kb // no text to carry the buttons
		}
		parts = append(parts, filePart(chat, f, fkb))
	}
	return parts
}

// keyboard renders the buttons, one keyboard row per row. A button's
// callback data is its action: the engine keeps actions within Telegram's
// 64 bytes.
func keyboard(buttons [][]bot.Button) [][]tgbotapi.InlineKeyboardButton {
	var rows [][]tgbotapi.InlineKeyboardButton
	for _, row := range buttons {
		var r []tgbotapi.InlineKeyboardButton
		for _, b := range row {
			r = append(r, tgbotapi.NewInlineKeyboardButtonData(b.Label, b.Action))
		}
		if len(r) > 0 {
			rows = append(rows, r)
		}
	}
	return rows
}

// escape makes text literal in HTML parse mode: all the engine's texts are
// plain, and users' input ("<b>&") must show as typed.
func escape(s string) string { return tgbotapi.EscapeText(tgbotapi.ModeHTML, s) }

// splitText cuts s into parts of at most limit UTF-16 code units, as
// Telegram counts (see sendkit.Split for where it cuts).
func splitText(s string, limit int) []string { return sendkit.Split(s, limit, utf16Units) }

// utf16Units is how many UTF-16 code units r takes.
func utf16Units(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

// utf16Len is the length of s as Telegram counts it.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// Errors Telegram gives when a chat can never be written to again: the
// user blocked the bot, never started it or was deleted, the bot left or
// was removed, the chat is gone. Only these drop a message: a 403 or 400
// without one of them (a proxy's answer, say) is retried.
var goneDescriptions = []string{
	"chat not found", "user not found", "peer_id_invalid", "bot was blocked",
	"user is deactivated", "bot was kicked", "group chat was upgraded",
	"chat was deleted", "bot is not a member", "can't initiate conversation",
	"can't send messages to bots",
}

// movedError is Telegram's answer for a group that became a supergroup:
// the chat is gone, and continues as the chat to.
type movedError struct {
	to  int64
	err error
}

func (e *movedError) Error() string { return e.err.Error() }
func (e *movedError) Unwrap() error { return e.err }

// errUnauthorized marks errors after which the adapter cannot go on: the
// token was rejected or revoked.
var errUnauthorized = errors.New("telegram rejected the token")

// classify turns a failed request into the error the engine understands,
// redacted:
//   - Telegram asked to wait (retry_after; uploads report it with code 0):
//     *bot.RateLimited.
//   - The recipient is gone (goneDescriptions): wraps bot.ErrRecipientGone.
//   - The request may have reached Telegram (it was written, or an answer
//     came that could not be read, or a 5xx): wraps bot.ErrUnknownOutcome.
//   - Anything else (refused connection, DNS, a 400): a plain error; the
//     message was not taken.
func (a *Adapter) classify(ctx context.Context, c *call, method string, err error) error {
	wrote, status := c.result()
	var te *tgbotapi.Error
	if errors.As(err, &te) {
		code := te.Code
		if code == 0 {
			code = status // UploadFiles leaves error_code out
		}
		desc := strings.ToLower(te.Message)
		switch {
		case te.RetryAfter > 0 || code == 429:
			return &bot.RateLimited{RetryAfter: time.Duration(max(te.RetryAfter, 1)) * time.Second}
		case code == 401:
			err := a.r.errorf([]error{errUnauthorized}, "telegram %s: %d %s", method, code, te.Message)
			a.alarm.Raise(a.log, "token", "telegram rejects the token; messages are kept and retried", "err", err)
			return err
		case te.MigrateToChatID != 0:
			return &movedError{to: te.MigrateToChatID, err: a.r.errorf([]error{bot.ErrRecipientGone}, "telegram %s: %d %s", method, code, te.Message)}
		case (code == 403 || code == 400) && sendkit.ContainsAny(desc, goneDescriptions):
			return a.r.errorf([]error{bot.ErrRecipientGone}, "telegram %s: %d %s", method, code, te.Message)
		case code >= 500 || status >= 500:
			// Not Telegram's own fixed text, perhaps: a proxy's answer
			// shaped like it may echo the request, the user's text and
			// all. The code says enough.
			return a.r.errorf([]error{bot.ErrUnknownOutcome}, "telegram %s: %d (the description left out)", method, code)
		}
		return a.r.errorf(nil, "telegram %s: %d %s", method, code, te.Message)
	}
	var kinds []error
	if ctx.Err() != nil {
		kinds = append(kinds, ctx.Err())
	}
	var e error
	switch {
	case status >= 500:
		kinds = append(kinds, bot.ErrUnknownOutcome)
		e = a.r.errorf(kinds, "telegram %s: HTTP %d: %v", method, status, err)
	case status != 0 || wrote || sendkit.MayHaveArrived(err):
		// Telegram got the request; whether it acted is unknown.
		kinds = append(kinds, bot.ErrUnknownOutcome)
		fallthrough
	default:
		e = a.r.errorf(kinds, "telegram %s: %v", method, err)
	}
	if ctx.Err() == nil {
		a.alarm.Raise(a.log, "unreachable", "telegram cannot be reached or fails; messages are kept and retried", "err", e)
	}
	return e
}
