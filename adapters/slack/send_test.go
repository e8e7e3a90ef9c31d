package slack

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
)

var dmAddr = bot.Address{Platform: Platform, Workspace: teamID, Chat: "D0SEND001", User: "U0SEND001"}

// TestSendErrors maps Slack's answers onto the outbox's errors: a 429
// with Retry-After is *bot.RateLimited with that wait; a channel the bot
// can never post to is bot.ErrRecipientGone (a refused token is not); a 5xx or a connection cut
// after the request was written is bot.ErrUnknownOutcome. No token or
// secret appears in any error or log line.
func TestSendErrors(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.SigningSecret = testSecret })
	msg := bot.Message{Text: "Hallo"}

	e.fake.failNext("chat.postMessage", failure{status: 429, header: http.Header{"Retry-After": {"7"}}, body: `{"ok":false,"error":"ratelimited"}`})
	err := e.a.Send(context.Background(), dmAddr, msg)
	rl, ok := errors.AsType[*bot.RateLimited](err)
	if !ok || rl.RetryAfter != 7*time.Second {
		t.Errorf("429: err = %v; want *bot.RateLimited of 7s", err)
	}

	for code, gone := range map[string]bool{"channel_not_found": true, "not_in_channel": true, "is_archived": true,
		"user_not_found": true, "account_inactive": false, "invalid_auth": false, "token_revoked": false} {
		e.fake.failNext("chat.postMessage", failure{status: 200, body: `{"ok":false,"error":"` + code + `"}`})
		if err := e.a.Send(context.Background(), dmAddr, msg); errors.Is(err, bot.ErrRecipientGone) != gone {
			t.Errorf("%s: err = %v; gone should be %v", code, err, gone)
		}
	}
	e.fake.failNext("chat.postMessage", failure{status: 200, body: `{"ok":false,"error":"invalid_blocks"}`})
	if err := e.a.Send(context.Background(), dmAddr, msg); err == nil || errors.Is(err, bot.ErrRecipientGone) || errors.Is(err, bot.ErrUnknownOutcome) {
		t.Errorf("invalid_blocks: err = %v; want a plain error", err)
	}
	e.fake.failNext("chat.postMessage", failure{status: 503, body: "<html>"})
	if err := e.a.Send(context.Background(), dmAddr, msg); !errors.Is(err, bot.ErrUnknownOutcome) {
		t.Errorf("503: err = %v; want ErrUnknownOutcome", err)
	}
	e.fake.failNext("chat.postMessage", failure{hangUp: true})
	if err := e.a.Send(context.Background(), dmAddr, msg); !errors.Is(err, bot.ErrUnknownOutcome) {
		t.Errorf("connection cut after the request: err = %v; want ErrUnknownOutcome", err)
	}
	if err := e.a.Send(context.Background(), bot.Address{Platform: "telegram", Chat: "1"}, msg); !errors.Is(err, bot.ErrRecipientGone) {
		t.Errorf("foreign address: err = %v; want ErrRecipientGone", err)
	}
	// The adapter's own limit: a burst of 3, then one per second; a turn
	// further away than maxWait is handed back as *bot.RateLimited.
	var slept []time.Duration
	e.a.lim.sleep = func(ctx context.Context, d time.Duration) error {
		slept = append(slept, d)
		return e.lclock.Sleep(ctx, d)
	}
	to := bot.Address{Platform: Platform, Chat: "D0BURST01"}
	for i := range 5 {
		if err := e.a.Send(context.Background(), to, msg); err != nil {
			t.Fatalf("post %d: %v", i+1, err)
		}
	}
	if len(slept) != 2 || slept[0] != time.Second || slept[1] != time.Second {
		t.Errorf("waits %v; want none for a burst of 3, then 1s each", slept)
	}
	e.a.lim.mu.Lock()
	e.a.lim.chats[to.Chat].tat = e.lclock.Now().Add(5 * time.Second) // a queue of 5 posts
	e.a.lim.mu.Unlock()
	err = e.a.Send(context.Background(), to, msg)
	if rl, ok := errors.AsType[*bot.RateLimited](err); !ok || rl.RetryAfter != 3*time.Second {
		t.Errorf("post 3 s away: err = %v; want *bot.RateLimited of 3s", err)
	}

	// Bad credentials at start: the error names no token.
	_, err = New(context.Background(), Config{BotToken: "xoxb-9999999999-9999999999999-WrongWrongWrongWrongWron", AppToken: testAppToken,
		APIURL: e.fake.apiURL(), HTTPClient: e.fake.srv.Client(), Log: e.a.log})
	if err == nil || !strings.Contains(err.Error(), "invalid_auth") {
		t.Errorf("New with a wrong token: %v; want invalid_auth", err)
	}
	for _, s := range []string{err.Error(), e.logs.String()} {
		for _, secret := range []string{testBotToken, testAppToken, testSecret, "xoxb-", "xapp-"} {
			if strings.Contains(s, secret) {
				t.Errorf("secret %q in %q", secret, s)
			}
		}
	}
	if got := newRedactor(testBotToken, testSecret).redact("a " + testBotToken + " b " + testSecret + " c xapp-1-A-2-zz"); got != "a <redacted> b <redacted> c <redacted>" {
		t.Errorf("redact left a token: %q", got)
	}
}

// TestSendRendering: a long text is split into sections of at most 3000
// escaped characters over several posts, the buttons come under the last
// one with long labels cut to 75 characters, and a file goes through the
// three-step upload with its exact size, to the channel.
func TestSendRendering(t *testing.T) {
	e := newEnv(t, nil)
	para := strings.Repeat("Ampel & <Plan> ", 150) // 2250 runes, 3150 escaped
	text := strings.Repeat(para+"\n\n", 12)
	long := strings.Repeat("Ä", 100)
	m := bot.Message{Text: text, Buttons: [][]bot.Button{{{Label: "Ja", Action: "1:yes"}, {Label: long, Action: "1:long"}}, {{Label: "<!here>", Action: "/help"}}},
		Files: []bot.File{{Name: "plan.ics", MIME: "text/calendar", Data: []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")}}}
	if err := e.a.Send(context.Background(), dmAddr, m); err != nil {
		t.Fatal(err)
	}
	msgs := e.fake.messages(dmAddr.Chat)
	if len(msgs) < 2 {
		t.Fatalf("%d posts; want the text split over several", len(msgs))
	}
	var shown []string
	for i, p := range msgs {
		if n := len(p.buttons()); (i == len(msgs)-1) != (n > 0) {
			t.Errorf("post %d has %d buttons; want buttons under the last post only", i, n)
		}
		shown = append(shown, p.Shown())
	}
	if got, want := strings.Join(strings.Fields(strings.Join(shown, " ")), " "), strings.Join(strings.Fields(text), " "); got != want {
		t.Errorf("the split text does not add up to the original")
	}
	btns := msgs[len(msgs)-1].buttons()
	if len(btns) != 3 || btns[0].Value != "1:yes" || btns[2].Value != "/help" || btns[2].Text.Text != "&lt;!here&gt;" ||
		len([]rune(btns[1].Text.Text)) != 75 || !strings.HasSuffix(btns[1].Text.Text, "…") {
		t.Errorf("buttons = %+v", btns)
	}
	if n := len(e.fake.shared); n != 1 {
		t.Fatalf("%d files shared; want 1", n)
	}
	c := e.fake.shared[0].Form
	if c["channel_id"] != dmAddr.Chat || !strings.Contains(c["files"], "plan.ics") {
		t.Errorf("files.completeUploadExternal %v", c)
	}
	if e.fake.lengths["F1"] != "32" || string(e.fake.uploads["F1"]) != string(m.Files[0].Data) {
		t.Errorf("upload: announced %s bytes, got %q", e.fake.lengths["F1"], e.fake.uploads["F1"])
	}
}

// TestEscaping: text from users and the engine comes out literally:
// "<!channel>", "<@U123>", "&lt;" and "*bold*" are sent escaped in
// plain_text objects (no mention, no formatting), as the fake's block
// check also enforces on every post.
func TestEscaping(t *testing.T) {
	e := newEnv(t, nil)
	if err := e.a.Send(context.Background(), dmAddr, bot.Message{Text: "Priorität für " + userText + "?", Buttons: [][]bot.Button{{{Label: "*hoch*", Action: "1:p:high"}}}}); err != nil {
		t.Fatal(err)
	}
	m := e.fake.messages(dmAddr.Chat)[0]
	raw := m.blocks()[0].Text.Text
	for _, want := range []string{`&lt;!channel&gt;`, `&lt;@U123&gt;`, `&amp;lt;`, `*bold*`} {
		if !strings.Contains(raw, want) {
			t.Errorf("block %s lacks %s", raw, want)
		}
	}
	if m.blocks()[0].Text.Type != "plain_text" {
		t.Errorf("section text type %q; want plain_text (no mrkdwn formatting)", m.blocks()[0].Text.Type)
	}
	if !strings.Contains(m.Text, "&lt;!channel&gt;") || !strings.Contains(m.Shown(), userText) {
		t.Errorf("fallback %q / shown %q", m.Text, m.Shown())
	}
	if got := unescape(escape(userText)); got != userText {
		t.Errorf("unescape(escape(x)) = %q", got)
	}
}

// TestAppHome publishes the home tab with the commands in the user's
// language when the user opens it, and acknowledges the event.
func TestAppHome(t *testing.T) {
	e := newEnv(t, nil)
	e.run(nil)
	e.fake.users["U0HOME001"] = slackUser{locale: "de-DE", tz: "Europe/Berlin"}
	id := e.fake.push("events_api", eventPayload("EvHome1", map[string]any{
		"type": "app_home_opened", "user": "U0HOME001", "channel": "D0HOME001", "tab": "home", "event_ts": "1.1"}))
	e.fake.waitAck(id, 1)
	waitFor(t, "views.publish", func() bool { return len(e.fake.callsOf("views.publish")) == 1 })
	v := e.fake.callsOf("views.publish")[0].Form["_json"]
	if !strings.Contains(v, `"user_id":"U0HOME001"`) || !strings.Contains(v, `"type":"home"`) || !strings.Contains(v, "/ampel check") {
		t.Errorf("home view %s", v)
	}
	if de, en := e.engine.Commands("de")[1].Description, e.engine.Commands("en")[1].Description; de == en || !strings.Contains(v, escape(de)) {
		t.Errorf("home view not in German (%q): %s", de, v)
	}
}

// TestMentions: a reminder's responsible person is mentioned for real, and
// nothing else can become a mention.
func TestMentions(t *testing.T) {
	parts := render(bot.Message{Text: "Zeit für die Kontrolle <!channel>", Mentions: []string{"U0ANNA01", "<!channel>", "x>"}}, nil)
	b, err := json.Marshal(parts[0].blocks)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	if !strings.Contains(got, `"text":"\u003c@U0ANNA01\u003e"`) && !strings.Contains(got, `"text":"<@U0ANNA01>"`) {
		t.Errorf("no mention of U0ANNA01 in %s", got)
	}
	if strings.Count(got, "<!channel>")+strings.Count(got, `\u003c!channel\u003e`) != 0 {
		t.Errorf("a channel mention got through: %s", got)
	}
}
