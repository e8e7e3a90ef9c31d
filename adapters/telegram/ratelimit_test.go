package telegram

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

func addr(chat int64) bot.Address {
	return bot.Address{Platform: Platform, Chat: strconv.FormatInt(chat, 10), User: strconv.FormatInt(chat, 10)}
}

var icsFile = bot.File{Name: "plan.ics", MIME: "text/calendar", Data: []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")}

// TestSendRateLimited shows that a 429 becomes *bot.RateLimited with
// Telegram's retry_after, for messages and for uploads, where the library
// reports the error with code 0; and that the retry of a message whose
// text went out before its file was refused sends only the file.
func TestSendRateLimited(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()

	e.fake.failNext("sendMessage", 429, "Too Many Requests: retry after 7", 7)
	err := e.a.Send(ctx, addr(5001), bot.Message{Text: "Hallo"})
	var rl *bot.RateLimited
	if !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second {
		t.Fatalf("Send after a 429 = %v, want *bot.RateLimited of 7s", err)
	}
	if n := len(e.fake.messages(5001)); n != 0 {
		t.Fatalf("%d messages delivered despite the 429", n)
	}

	// The library's own view of an upload's 429: code 0, as documented.
	e.fake.failNext("sendDocument", 429, "Too Many Requests: retry after 5", 5)
	_, libErr := e.a.with(&call{ctx: ctx, client: e.a.client}).Request(tgbotapi.NewDocument(5001, tgbotapi.FileBytes{Name: "x", Bytes: []byte("x")}))
	var te *tgbotapi.Error
	if !errors.As(libErr, &te) || te.Code != 0 || te.RetryAfter != 5 {
		t.Fatalf("library error for an upload's 429 = %#v; the workaround assumes Code 0 and RetryAfter 5", libErr)
	}

	e.fake.failNext("sendDocument", 429, "Too Many Requests: retry after 5", 5)
	m := bot.Message{Text: "Ihr Plan als Kalender", Files: []bot.File{icsFile}}
	err = e.a.Send(ctx, addr(5001), m)
	if !errors.As(err, &rl) || rl.RetryAfter != 5*time.Second {
		t.Fatalf("Send after an upload's 429 = %v, want *bot.RateLimited of 5s", err)
	}
	if err := e.a.Send(ctx, addr(5001), m); err != nil {
		t.Fatalf("retry: %v", err)
	}
	msgs := e.fake.messages(5001)
	if len(msgs) != 2 || msgs[0].Text != "Ihr Plan als Kalender" || msgs[1].Doc == nil || msgs[1].Doc.Name != "plan.ics" || string(msgs[1].Doc.Data) != string(icsFile.Data) {
		t.Fatalf("after the retry the chat holds %d messages %q; want the text once, then plan.ics", len(msgs), texts(msgs))
	}
	if n := len(e.fake.callsOf("sendMessage")); n != 2 { // the 429 and the text
		t.Errorf("sendMessage called %d times, want 2: the retry must not repeat the text", n)
	}
}

// TestRateLimitedReplyDeliveredOnceByOutbox runs the way back through the
// engine: a reply refused with 429 stays in the outbox, is not retried
// before retry_after has passed on the engine's clock, and then arrives
// exactly once.
func TestRateLimitedReplyDeliveredOnceByOutbox(t *testing.T) {
	e := newEnv(t, nil)
	e.run(nil)
	ctx := context.Background()
	e.fake.failNext("sendMessage", 429, "Too Many Requests: retry after 3", 3)
	c := newChatter(t, e, 5002, "de")
	if r := c.say("/start"); len(r) != 0 {
		t.Fatalf("delivered despite the 429: %q", texts(r))
	}
	if err := e.engine.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if r := c.replies(); len(r) != 0 {
		t.Fatalf("retried before retry_after passed: %q", texts(r))
	}
	e.clock.Add(3 * time.Second)
	for range 2 {
		if err := e.engine.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if r := c.replies(); len(r) != 1 || r[0].Markup == nil {
		t.Fatalf("after retry_after: %q, want the welcome once, with its buttons", texts(r))
	}
	if pending, _ := e.store.Pending(ctx, 0, 10); len(pending) != 0 {
		t.Errorf("outbox still holds %d messages", len(pending))
	}
}

// TestBlockedUserIsNotRetried: a 403 makes the message undeliverable; the
// engine drops it instead of retrying forever. "chat not found" likewise.
func TestBlockedUserIsNotRetried(t *testing.T) {
	e := newEnv(t, nil)
	e.run(nil)
	e.fake.failNext("sendMessage", 403, "Forbidden: bot was blocked by the user", 0)
	c := newChatter(t, e, 5004, "de")
	c.say("/start")
	if got := e.engine.Stats().Undeliverable; got != 1 {
		t.Errorf("undeliverable = %d, want 1", got)
	}
	if pending, _ := e.store.Pending(context.Background(), 0, 10); len(pending) != 0 {
		t.Errorf("a message to a user who blocked the bot stays in the outbox")
	}
	// Their reminders are switched off: nothing more is tried for them.
	for deadline := time.Now().Add(time.Minute); !e.conv(5004).RemindersOff; time.Sleep(5 * time.Millisecond) { // a hang guard: the switch is asynchronous
		if time.Now().After(deadline) {
			t.Fatal("the reminders of a user who blocked the bot are still on")
		}
	}

	for _, tc := range []struct {
		code int
		desc string
		gone bool
	}{
		{403, "Forbidden: user is deactivated", true},
		{403, "Forbidden: bot was kicked from the group chat", true},
		{400, "Bad Request: chat not found", true},
		{400, "Bad Request: message text is empty", false},
	} {
		e.fake.failNext("sendMessage", tc.code, tc.desc, 0)
		err := e.a.Send(context.Background(), addr(5005), bot.Message{Text: "x"})
		if errors.Is(err, bot.ErrRecipientGone) != tc.gone || errors.Is(err, bot.ErrUnknownOutcome) {
			t.Errorf("%d %s: Send = %v; gone should be %v", tc.code, tc.desc, err, tc.gone)
		}
	}
}

// TestLimiterBurstToOneChat sends 100 messages to one chat as fast as
// Send allows, on a fake clock: at most 3 in any second, and no more than
// one a second beyond that burst.
func TestLimiterBurstToOneChat(t *testing.T) {
	e := newEnv(t, nil)
	e.fake.mu.Lock() // New's getMe read it in a handler: TCP orders nothing for the race detector
	e.fake.stamp = e.lclock.Now
	e.fake.mu.Unlock()
	for i := range 100 {
		if err := e.a.Send(context.Background(), addr(5003), bot.Message{Text: "Nachricht " + strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	var at []time.Time
	for _, c := range e.fake.callsOf("sendMessage") {
		at = append(at, c.At)
	}
	if len(at) != 100 {
		t.Fatalf("%d messages sent, want 100", len(at))
	}
	checkBucket(t, at)
	if span := at[99].Sub(at[0]); span != 97*time.Second {
		t.Errorf("100 messages took %s of the fake clock, want 97s (3 at once, then 1/s)", span)
	}
}

// checkBucket asserts that grants keep to a burst of 3 and 1 per second:
// in any 1-second window at most 3, and between any two grants i and j no
// more than 3 plus the whole seconds between them.
func checkBucket(t *testing.T, at []time.Time) {
	t.Helper()
	for i := range at {
		n := 0
		for j := i; j < len(at) && at[j].Sub(at[i]) < time.Second; j++ {
			n++
		}
		if n > 3 {
			t.Fatalf("%d messages within one second from %s", n, at[i].Sub(start))
		}
		for j := i + 1; j < len(at); j++ {
			if allowed := 3 + int(at[j].Sub(at[i])/time.Second); j-i+1 > allowed {
				t.Fatalf("%d messages between %s and %s, more than %d", j-i+1, at[i].Sub(start), at[j].Sub(start), allowed)
			}
		}
	}
}

// countIn returns the most grants in any window of length d.
func countIn(at []time.Time, d time.Duration) int {
	most := 0
	for i := range at {
		n := 0
		for _, t := range at {
			if !t.Before(at[i]) && t.Sub(at[i]) < d {
				n++
			}
		}
		most = max(most, n)
	}
	return most
}

func testLimiter() (*limiter, *bottest.Clock) {
	l := newLimiter()
	c := bottest.NewClock(start)
	l.now, l.sleep = c.Now, c.Sleep
	return l, c
}

// TestLimiterGroupsAndTotal: 20 messages a minute to a group, 30 a second
// in all, and a waiter whose context ends takes nothing.
func TestLimiterGroupsAndTotal(t *testing.T) {
	ctx := context.Background()
	l, _ := testLimiter()
	var group []time.Time
	for range 45 {
		g, err := l.wait(ctx, -100123)
		if err != nil {
			t.Fatal(err)
		}
		group = append(group, g)
	}
	if n := countIn(group, time.Minute); n != 20 {
		t.Errorf("a group got up to %d messages a minute, want 20", n)
	}
	checkBucket(t, group)

	l, _ = testLimiter()
	var total []time.Time
	for i := range 100 {
		g, err := l.wait(ctx, int64(i+1)) // all different chats
		if err != nil {
			t.Fatal(err)
		}
		total = append(total, g)
	}
	if n := countIn(total, time.Second); n != 30 {
		t.Errorf("up to %d messages a second in all, want 30", n)
	}
	if span := total[99].Sub(total[0]); span != 3*time.Second {
		t.Errorf("100 messages to 100 chats took %s, want 3s", span)
	}

	// Concurrent waiters (for the race detector): the limits hold.
	l, _ = testLimiter()
	var mu sync.Mutex
	var got []time.Time
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Go(func() {
			g, err := l.wait(ctx, int64(i%4+1))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			got = append(got, g)
			mu.Unlock()
		})
	}
	wg.Wait()
	if n := countIn(got, time.Second); n > 30 {
		t.Errorf("concurrent waiters: %d in one second", n)
	}

	l, _ = testLimiter()
	for range 3 {
		l.wait(ctx, 7)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.wait(cctx, 7); !errors.Is(err, context.Canceled) {
		t.Errorf("wait with an ended context = %v", err)
	}
	if next := l.chats[7].next(l.now()); !next.Equal(start.Add(time.Second)) {
		t.Errorf("a cancelled wait took a place: next at %s", next.Sub(start))
	}
}
