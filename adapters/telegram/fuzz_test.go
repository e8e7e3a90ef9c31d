package telegram

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// parseEntities reads text in HTML parse mode as Telegram does for text
// without tags: "<" starts a tag (refused here: none may come from us),
// "&" an entity, of which Telegram knows &lt; &gt; &amp; &quot; and the
// numeric ones. It returns the text the reader sees.
func parseEntities(s string) (string, bool) {
	if strings.ContainsAny(s, "<>") {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '&' {
			b.WriteByte(s[i])
			continue
		}
		end := strings.IndexByte(s[i:], ';')
		if end < 0 {
			return "", false
		}
		name := s[i+1 : i+end]
		switch {
		case name == "lt":
			b.WriteByte('<')
		case name == "gt":
			b.WriteByte('>')
		case name == "amp":
			b.WriteByte('&')
		case name == "quot":
			b.WriteByte('"')
		case strings.HasPrefix(name, "#"):
			base, digits := 10, name[1:]
			if strings.HasPrefix(digits, "x") || strings.HasPrefix(digits, "X") {
				base, digits = 16, digits[1:]
			}
			n, err := strconv.ParseUint(digits, base, 21)
			if err != nil || !utf8.ValidRune(rune(n)) {
				return "", false
			}
			b.WriteRune(rune(n))
		default:
			return "", false
		}
		i += end
	}
	return b.String(), true
}

// FuzzEscape: whatever a user types shows in Telegram exactly as typed:
// escaped, it holds no tag, and Telegram's entities decode it back.
func FuzzEscape(f *testing.F) {
	for _, s := range bottest.FuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseEntities(escape(s))
		if !ok || got != s {
			t.Fatalf("escape(%q) = %q, shown as %q (%v)", s, escape(s), got, ok)
		}
	})
}

// FuzzRender: a message of any text, with buttons and files, becomes
// messages Telegram takes (no tag, known entities only, at most 4,096
// UTF-16 units each) that show the text as written, cut only at white
// space or between characters, with the buttons under the last part.
func FuzzRender(f *testing.F) {
	for _, s := range bottest.FuzzSeeds {
		f.Add(s, "Weiter <b>", uint8(2), false)
	}
	f.Fuzz(func(t *testing.T, text, label string, buttons uint8, file bool) {
		m := bot.Message{Text: text}
		for i := range int(buttons % 4) {
			m.Buttons = append(m.Buttons, []bot.Button{{Label: label, Action: strconv.Itoa(i) + ":b"}})
		}
		if file {
			m.Files = []bot.File{{Name: label, Data: []byte(text)}}
		}
		parts := render(42, m)
		var shown []string
		withKeyboard := -1
		for i, p := range parts {
			switch c := p.cfg.(type) {
			case tgbotapi.MessageConfig:
				got, ok := parseEntities(c.Text)
				if !ok || c.ParseMode != tgbotapi.ModeHTML {
					t.Fatalf("part %d: %q in mode %q is not plain text to Telegram", i, c.Text, c.ParseMode)
				}
				if n := utf16Len(got); n == 0 || n > maxText {
					t.Fatalf("part %d: %d UTF-16 units", i, n)
				}
				shown = append(shown, got)
				if c.ReplyMarkup != nil {
					withKeyboard = i
				}
			case tgbotapi.DocumentConfig:
				if c.ReplyMarkup != nil {
					withKeyboard = i
				}
			}
		}
		if !bottest.SameText(text, shown) {
			t.Fatalf("text %q shown as %q", text, shown)
		}
		// (Buttons under a blank text and no file have nothing to carry
		// them: Telegram sends no empty message. The engine sends none.)
		carried := len(shown) > 0 || file
		if hasButtons := len(m.Buttons) > 0 && carried; hasButtons != (withKeyboard >= 0) || hasButtons && len(shown) > 0 && withKeyboard != len(shown)-1 {
			t.Fatalf("%d rows of buttons on part %d of %d", len(m.Buttons), withKeyboard, len(parts))
		}
	})
}

// webhookFuzzEnv is the adapter in webhook mode for a fuzz target, and a
// check of what it sent since the last input: every text Telegram was
// asked to show was plain text to it (no tag a user could have slipped in,
// known entities only) and within its length.
func webhookFuzzEnv(f *testing.F) (http.Handler, func(t *testing.T)) {
	e := webhookEnv(f)
	h := e.a.WebhookHandler(e.engine)
	seen := 0
	return h, func(t *testing.T) {
		calls := e.fake.callsOf("sendMessage")
		calls = append(calls, e.fake.callsOf("editMessageText")...)
		for _, c := range calls[min(seen, len(calls)):] {
			if _, err := parseHTML(c.Form["text"], c.Form["parse_mode"]); err != nil {
				t.Fatalf("%s %q: %v", c.Method, c.Form["text"], err)
			}
		}
		seen = len(calls)
	}
}

// webhookStatus says whether a status is an answer a webhook may give a
// request with the right secret: taken, or refused as malformed or too
// large. 500 (not handled: Telegram delivers it again, forever) must not
// come from what the update holds while the store works.
func webhookStatus(code int) bool {
	return code == http.StatusOK || code == http.StatusBadRequest || code == http.StatusRequestEntityTooLarge
}

// FuzzWebhookBody: any body Telegram could send with the right secret is
// answered 200, 400 or 413, never 500 and never a panic, and whatever the
// bot answers is plain text to Telegram.
func FuzzWebhookBody(f *testing.F) {
	f.Add([]byte(startUpdate(f, 9001, 4001)))
	f.Add([]byte(`{"update_id":9002,"message":{"message_id":1,"date":1804150800,"chat":{"id":-4002,"type":"group"},"from":{"id":5,"first_name":"A"},"text":"/check@ampel_test_bot zo-kmu","entities":[{"type":"bot_command","offset":0,"length":27}]}}`))
	f.Add([]byte(`{"update_id":9003,"callback_query":{"id":"q1","from":{"id":4003,"first_name":"A"},"message":{"message_id":7,"date":1804150800,"chat":{"id":4003,"type":"private"}},"data":"3:r:red"}}`))
	f.Add([]byte(`{"update_id":9004,"message":{"message_id":2,"date":1804150800,"chat":{"id":-4004,"type":"group"},"migrate_to_chat_id":-1004004}}`))
	f.Add([]byte(`{"update_id":9005,"my_chat_member":{"chat":{"id":4005,"type":"private"},"from":{"id":4005},"date":1,"old_chat_member":{"status":"member","user":{"id":4242}},"new_chat_member":{"status":"kicked","user":{"id":4242}}}}`))
	f.Add([]byte(`{"update_id":9006,"message":{"message_id":3,"date":1804150800,"chat":{"id":4006,"type":"private"},"from":{"id":1087968824,"first_name":"Group"},"sender_chat":{"id":-1,"type":"supergroup"},"text":"<b>&amp;</b> @all"}}`))
	f.Add([]byte(`{"update_id":-1}`))
	f.Add([]byte(`{`))
	h, check := webhookFuzzEnv(f)
	secret := DeriveSecret(testToken)
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := post(h, http.MethodPost, &secret, bytes.NewReader(body))
		if !webhookStatus(rec.Code) {
			t.Fatalf("status %d (%s) for %q", rec.Code, rec.Body, body)
		}
		check(t)
	})
}

// FuzzWebhookText: any text typed in a private chat or a group, as a
// well-formed update, is taken (200), and every answer is plain text to
// Telegram: nothing a user typed becomes markup.
func FuzzWebhookText(f *testing.F) {
	for i, s := range bottest.FuzzSeeds {
		f.Add(s, int64(5000+i), i%2 == 0)
	}
	h, check := webhookFuzzEnv(f)
	secret := DeriveSecret(testToken)
	id := 20000
	f.Fuzz(func(t *testing.T, text string, chat int64, group bool) {
		id++
		from, typ := user(chat, "de"), "private"
		if group {
			typ, chat = "supergroup", -chat
		}
		u := tgbotapi.Update{UpdateID: id, Message: &tgbotapi.Message{
			MessageID: id, From: from, Chat: &tgbotapi.Chat{ID: chat, Type: typ}, Date: 1804150800, Text: text,
		}}
		rec := post(h, http.MethodPost, &secret, strings.NewReader(updateJSON(t, u)))
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d (%s) for %q", rec.Code, rec.Body, text)
		}
		check(t)
	})
}
