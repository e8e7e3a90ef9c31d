package telegram

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot"
)

// TestOnlyRecipientErrorsDropMessages: only Telegram's own answers about
// the chat (blocked, deactivated, kicked, chat not found, …) drop a
// message. A 403 from a proxy in front of Telegram (an HTML page, or JSON
// without Telegram's description) and a refused token are kept for a
// retry; the refused token is reported once, however many sends it fails.
func TestOnlyRecipientErrorsDropMessages(t *testing.T) {
	e := newEnv(t, nil)
	raw := func(status int, body string) {
		e.fake.mu.Lock()
		defer e.fake.mu.Unlock()
		e.fake.fails["sendMessage"] = append(e.fake.fails["sendMessage"], failure{status, body})
	}
	for _, tc := range []struct {
		name string
		fail func()
		gone bool
	}{
		{"blocked", func() { e.fake.failNext("sendMessage", 403, "Forbidden: bot was blocked by the user", 0) }, true},
		{"no conversation", func() {
			e.fake.failNext("sendMessage", 403, "Forbidden: bot can't initiate conversation with a user", 0)
		}, true},
		{"chat not found", func() { e.fake.failNext("sendMessage", 400, "Bad Request: chat not found", 0) }, true},
		{"proxy page", func() { raw(403, "<html><body>403 Forbidden</body></html>") }, false},
		{"proxy JSON", func() { raw(403, `{"ok":false,"message":"forbidden by policy"}`) }, false},
		{"token refused", func() { e.fake.failNext("sendMessage", 401, "Unauthorized", 0) }, false},
		{"token refused again", func() { e.fake.failNext("sendMessage", 401, "Unauthorized", 0) }, false},
	} {
		tc.fail()
		err := e.a.Send(context.Background(), addr(5101), bot.Message{Text: "x"})
		if err == nil || errors.Is(err, bot.ErrRecipientGone) != tc.gone {
			t.Errorf("%s: Send = %v; gone should be %v", tc.name, err, tc.gone)
		}
	}
	if n := strings.Count(e.logs.String(), "trouble=token"); n != 1 {
		t.Errorf("%d warnings; want the refused token reported once\n%s", n, e.logs.String())
	}
}
