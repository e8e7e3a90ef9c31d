package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

const webhookURL = "https://ampel.example/telegram/webhook"

// webhookEnv runs the adapter in webhook mode and waits until it has
// registered the webhook.
func webhookEnv(t testing.TB) *env {
	t.Helper()
	e := newEnv(t, func(c *Config) { c.WebhookURL = webhookURL })
	e.run(nil)
	waitFor(t, "setWebhook", func() bool { return len(e.fake.callsOf("setWebhook")) > 0 })
	return e
}

// countingReader notes whether anyone read the body.
type countingReader struct {
	r     io.Reader
	reads int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.reads++
	return c.r.Read(p)
}

func updateJSON(t testing.TB, u tgbotapi.Update) string {
	t.Helper()
	b, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// startUpdate is a valid update: /start in a private chat.
func startUpdate(t testing.TB, id int, chat int64) string {
	return updateJSON(t, textUpdate(id, chat, chat, "/start"))
}

// textUpdate is text typed by user from in chat.
func textUpdate(id int, chat, from int64, text string) tgbotapi.Update {
	return tgbotapi.Update{UpdateID: id, Message: &tgbotapi.Message{
		MessageID: id, From: user(from, "de"), Chat: chatOfID(chat), Date: 1804150800, Text: text,
	}}
}

// post sends a webhook request straight to the handler; secret nil sends
// no header at all. Header values are set raw, as an attacker could send
// them, without net/http's client checks.
func post(h http.Handler, method string, secret *string, body io.Reader) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/telegram/webhook", body)
	if secret != nil {
		req.Header[SecretHeader] = []string{*secret}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// assertUntouched checks that nothing happened in chat: no state stored,
// nothing sent.
func assertUntouched(t testing.TB, e *env, chat int64) {
	t.Helper()
	if got, want := convJSON(t, e.convT(t, chat)), convJSON(t, &bot.Conversation{}); got != want {
		t.Errorf("conversation changed: %s", got)
	}
	if n := len(e.fake.messages(chat)); n != 0 {
		t.Errorf("%d messages sent", n)
	}
}

func refused(t testing.TB, e *env, h http.Handler, name string, secret *string) {
	t.Helper()
	body := &countingReader{r: strings.NewReader(startUpdate(t, 7001, 3001))}
	rec := post(h, http.MethodPost, secret, body)
	if rec.Code != http.StatusForbidden {
		t.Errorf("%s: status %d, want 403", name, rec.Code)
	}
	if body.reads != 0 {
		t.Errorf("%s: the body was read before the secret was checked", name)
	}
	assertUntouched(t, e, 3001)
}

// TestWebhookRefusesWrongSecrets shows that the webhook is registered with
// the derived secret and that requests without exactly that secret are
// refused with 403 before the body is read, leaving no trace.
func TestWebhookRefusesWrongSecrets(t *testing.T) {
	e := webhookEnv(t)
	secret := DeriveSecret(testToken)
	set := e.fake.callsOf("setWebhook")[0].Form
	if set["url"] != webhookURL || set["secret_token"] != secret || !strings.Contains(set["allowed_updates"], "callback_query") {
		t.Errorf("setWebhook %v, want url %s and secret_token %s", set, webhookURL, secret)
	}
	if len(secret) != 64 || strings.Trim(secret, "0123456789abcdef") != "" {
		t.Errorf("derived secret %q: want 64 hex characters", secret)
	}
	if n := len(e.fake.callsOf("getUpdates")) + len(e.fake.callsOf("deleteWebhook")); n != 0 {
		t.Errorf("webhook mode polled or deleted the webhook (%d calls)", n)
	}
	h := e.a.WebhookHandler(e.engine)
	refused(t, e, h, "no header", nil)
	for name, s := range map[string]string{
		"empty":          "",
		"wrong":          "wrong",
		"prefix":         secret[:63],
		"longer":         secret + "0",
		"upper case":     strings.ToUpper(secret),
		"trailing space": secret + " ",
		"leading space":  " " + secret,
		"the token":      testToken,
		"first byte":     "0" + secret[1:],
		"NUL":            secret[:32] + "\x00" + secret[33:],
	} {
		if s == secret {
			t.Fatalf("case %s is the secret", name)
		}
		refused(t, e, h, name, &s)
	}
	// Two headers, the first wrong: the first counts.
	req := httptest.NewRequest(http.MethodPost, "/telegram/webhook", strings.NewReader(startUpdate(t, 7002, 3001)))
	req.Header[SecretHeader] = []string{"wrong", secret}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Errorf("two headers: status %d, want 403", rec.Code)
	}
	assertUntouched(t, e, 3001)
}

// FuzzWebhookSecret: no header value but the secret gets anything done.
// `go test` runs the seeds; `go test -fuzz FuzzWebhookSecret` explores.
func FuzzWebhookSecret(f *testing.F) {
	secret := DeriveSecret(testToken)
	for _, s := range []string{"", "x", secret[:63], secret + "a", strings.ToUpper(secret), "\x00", "\r\n" + secret, secret[1:] + "0", testToken, strings.Repeat("a", 300)} {
		f.Add(s)
	}
	e := webhookEnv(f)
	h := e.a.WebhookHandler(e.engine)
	f.Fuzz(func(t *testing.T, s string) {
		if s == secret {
			t.Skip("the secret itself")
		}
		refused(t, e, h, "fuzzed", &s)
	})
}

// TestWebhookHandlesOnceAfterCommit shows that a valid update is answered
// 200 after it took effect, that Telegram's retries of it (it sends again
// when no answer came in time) have no second effect, that a failing
// handler yields 500 so that Telegram retries, and that presses are
// answered and marked in webhook mode as in polling.
func TestWebhookHandlesOnceAfterCommit(t *testing.T) {
	e := webhookEnv(t)
	secret := DeriveSecret(testToken)
	h := e.a.WebhookHandler(e.engine)
	const chat = 3002
	for i := range 3 {
		if rec := post(h, http.MethodPost, &secret, strings.NewReader(startUpdate(t, 8001, chat))); rec.Code != http.StatusOK {
			t.Fatalf("delivery %d: status %d %s, want 200", i+1, rec.Code, rec.Body)
		}
	}
	e.settle()
	msgs := e.fake.messages(chat)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "Willkommen") {
		t.Fatalf("replies to one update sent three times: %q, want one welcome", texts(msgs))
	}

	// A press, through the webhook.
	var b *tgbotapi.InlineKeyboardButton
	for _, row := range msgs[0].Markup.InlineKeyboard {
		for i := range row {
			if row[i].Text == "Check starten" {
				b = &row[i]
			}
		}
	}
	u, query := e.fake.pressUpdate(user(chat, "de"), msgs[0], *b.CallbackData)
	u.UpdateID = 8002
	if rec := post(h, http.MethodPost, &secret, strings.NewReader(updateJSON(t, u))); rec.Code != http.StatusOK {
		t.Fatalf("press: status %d", rec.Code)
	}
	e.settle()
	msgs = e.fake.messages(chat)
	if len(msgs) != 2 || !hasButton(msgs[1], bottest.German.Check) {
		t.Fatalf("replies to the press: %q, want the list of checks", texts(msgs))
	}
	if msgs[0].Markup != nil || !strings.HasSuffix(msgs[0].Text, "✓ Check starten") {
		t.Errorf("pressed message not marked: %q, keyboard %v", msgs[0].Text, msgs[0].Markup)
	}
	answered := false
	for _, c := range e.fake.callsOf("answerCallbackQuery") {
		answered = answered || c.Form["callback_query_id"] == query
	}
	if !answered {
		t.Error("the callback query was not answered")
	}

	// A handler that cannot commit: 500, and Telegram's retry succeeds.
	failing := e.a.WebhookHandler(handlerFunc(func(ctx context.Context, ev bot.Event) error { return errors.New("store down") }))
	if rec := post(failing, http.MethodPost, &secret, strings.NewReader(startUpdate(t, 8003, 3003))); rec.Code != http.StatusInternalServerError {
		t.Errorf("failing handler: status %d, want 500", rec.Code)
	}
	if rec := post(h, http.MethodPost, &secret, strings.NewReader(startUpdate(t, 8003, 3003))); rec.Code != http.StatusOK {
		t.Errorf("retry: status %d, want 200", rec.Code)
	}
	e.settle()
	if n := len(e.fake.messages(3003)); n != 1 {
		t.Errorf("%d replies after a failed and a good delivery, want 1", n)
	}

	// Not a POST, not JSON, too large.
	if rec := post(h, http.MethodGet, &secret, nil); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %d, want 405", rec.Code)
	}
	if rec := post(h, http.MethodPost, &secret, strings.NewReader("{not json")); rec.Code != http.StatusBadRequest {
		t.Errorf("bad JSON: status %d, want 400", rec.Code)
	}
	huge := `{"update_id":1,"message":{"text":"` + strings.Repeat("a", 2<<20) + `"}}`
	if rec := post(h, http.MethodPost, &secret, strings.NewReader(huge)); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("2 MiB body: status %d, want 413", rec.Code)
	}
}

type handlerFunc func(ctx context.Context, ev bot.Event) error

func (f handlerFunc) Handle(ctx context.Context, ev bot.Event) error { return f(ctx, ev) }
