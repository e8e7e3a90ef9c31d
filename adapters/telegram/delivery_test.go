package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// crashOnce is the engine as seen by an adapter whose process dies between
// receiving an update and committing it: the first time an event with the
// given text arrives, nothing is committed and Handle fails.
type crashOnce struct {
	h    bot.Handler
	text string

	mu      sync.Mutex
	crashed bool
	seen    map[string]int // event ID -> times handed over
}

func (c *crashOnce) Handle(ctx context.Context, ev bot.Event) error {
	c.mu.Lock()
	c.seen[ev.ID]++
	crash := !c.crashed && ev.Text == c.text
	if crash {
		c.crashed = true
	}
	c.mu.Unlock()
	if crash {
		return errors.New("process died before the commit")
	}
	return c.h.Handle(ctx, ev)
}

func (c *crashOnce) times(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[id]
}

func convJSON(t testing.TB, c *bot.Conversation) string {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCrashBeforeCommitIsRedelivered shows that an update whose handling
// fails before the commit is not confirmed to Telegram (the offset stays),
// comes again, and then takes effect exactly once.
func TestCrashBeforeCommitIsRedelivered(t *testing.T) {
	e := newEnv(t, nil)
	h := &crashOnce{h: e.engine, text: "/check zo-kmu", seen: map[string]int{}}
	e.run(h)
	c := newChatter(t, e, 2001, "de")
	c.say("/start")

	id := e.fake.pushText(c.chat, c.from, "/check zo-kmu")
	e.fake.waitConsumed(id)
	if n := h.times(itoa(id)); n != 2 {
		t.Errorf("the update was handed to the engine %d times, want 2 (failed, then redelivered)", n)
	}
	if n := e.fake.servedCount(id); n != 2 {
		t.Errorf("Telegram served the update %d times, want 2: the offset must not pass an update that failed", n)
	}
	replies := c.replies()
	if len(replies) != 1 || !strings.Contains(replies[0].Text, "1/7 · Strategischer Nutzen") {
		t.Fatalf("replies to /check = %q, want exactly the first question once", texts(replies))
	}
	conv := e.conv(c.chat)
	if conv.Run == nil || conv.Run.Flow != "zo-kmu" || conv.Dialog.Mode != "rate" {
		t.Errorf("stored conversation after /check = %+v, want the check running", conv)
	}
	if !strings.Contains(e.logs.String(), "update_id="+itoa(id)) {
		t.Errorf("the failure is not logged with its update_id:\n%s", e.logs)
	}
}

// TestDuplicateDeliveryHasOneEffect shows that an update delivered again
// after it was committed (the crash came after the commit, before the
// confirmation reached Telegram) has no second effect: the engine knows
// its ID. Typed text and a pressed button alike; the second press is
// answered again and its edit finds nothing to change.
func TestDuplicateDeliveryHasOneEffect(t *testing.T) {
	e := newEnv(t, nil)
	e.run(nil)
	c := newChatter(t, e, 2002, "en")

	id := e.fake.pushText(c.chat, c.from, "/start")
	e.fake.waitConsumed(id)
	if r := c.replies(); len(r) != 1 {
		t.Fatalf("replies to /start: %q", texts(r))
	}
	before := convJSON(t, e.conv(c.chat))
	e.fake.redeliver(id)
	e.fake.waitHandled(id, 2)
	if r := c.replies(); len(r) != 0 {
		t.Errorf("a redelivered /start was answered again: %q", texts(r))
	}
	if after := convJSON(t, e.conv(c.chat)); after != before {
		t.Errorf("a redelivered update changed the conversation:\nbefore %s\nafter  %s", before, after)
	}

	m, data := c.button("Start the check")
	press, query := e.fake.pushPress(c.from, m, data)
	e.fake.waitConsumed(press)
	if r := c.replies(); len(r) != 1 || !hasButton(r[0], bottest.English.Check) {
		t.Fatalf("replies to the press: %q, want the list of checks", texts(r))
	}
	before = convJSON(t, e.conv(c.chat))
	e.fake.redeliver(press)
	e.fake.waitHandled(press, 2)
	if r := c.replies(); len(r) != 0 {
		t.Errorf("a redelivered press was answered again: %q", texts(r))
	}
	if after := convJSON(t, e.conv(c.chat)); after != before {
		t.Errorf("a redelivered press changed the conversation:\nbefore %s\nafter  %s", before, after)
	}
	answers := 0
	for _, call := range e.fake.callsOf("answerCallbackQuery") {
		if call.Form["callback_query_id"] == query {
			answers++
		}
	}
	if answers != 2 {
		t.Errorf("the callback was answered %d times, want once per delivery (2)", answers)
	}
	if strings.Contains(e.logs.String(), "could not mark") {
		t.Errorf("an unchanged edit was logged as a failure:\n%s", e.logs)
	}
}

func texts(msgs []sentMsg) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Text)
	}
	return out
}

// TestRunStopsWhenTokenRevoked: a revoked token is the one failure Run
// does not retry; its error names no token.
func TestRunStopsWhenTokenRevoked(t *testing.T) {
	e := newEnv(t, nil)
	e.fake.failNext("getUpdates", 401, "Unauthorized", 0)
	err := e.a.Run(context.Background(), e.engine)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("Run = %v, want the 401", err)
	}
	assertNoToken(t, "Run's error", err.Error())
}

// TestPollingRemovesAWebhookSetMeanwhile: getUpdates refuses to work while
// a webhook is set; the loop deletes it again and goes on.
func TestPollingRemovesAWebhookSetMeanwhile(t *testing.T) {
	e := newEnv(t, nil)
	e.fake.failNext("getUpdates", 409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first", 0)
	e.run(nil)
	c := newChatter(t, e, 2003, "de")
	if r := c.say("/start"); len(r) != 1 {
		t.Fatalf("replies after the conflict: %q", texts(r))
	}
	if n := len(e.fake.callsOf("deleteWebhook")); n != 2 {
		t.Errorf("deleteWebhook called %d times, want 2 (at the start and after the conflict)", n)
	}
}

// hasButton reports whether m's keyboard has a button whose label starts
// with label.
func hasButton(m sentMsg, label string) bool {
	if m.Markup == nil {
		return false
	}
	for _, row := range m.Markup.InlineKeyboard {
		for _, b := range row {
			if strings.HasPrefix(b.Text, label) {
				return true
			}
		}
	}
	return false
}
