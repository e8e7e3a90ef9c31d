package telegram

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot/bottest"
)

// busyEnv is an env whose limiter and engine run on a clock that moves
// only when the test moves it: a group over its 20 messages a minute stays
// held for as long as the test wants, whatever the machine's speed. Every
// API call is stamped with that clock. The engine's dispatcher runs, to
// send the group's messages when their time has come.
func busyEnv(t *testing.T, mod func(*Config)) (*env, *bottest.ManualClock) {
	e := newEnv(t, mod)
	clock := bottest.NewManualClock(start)
	e.engine = bottest.NewEngine(t, e.store, clock)
	e.engine.Register(e.a)
	e.a.lim.now, e.a.lim.sleep = clock.Now, clock.Sleep
	e.fake.mu.Lock() // New's getMe read it in a handler: TCP orders nothing for the race detector
	e.fake.stamp = clock.Now
	e.fake.mu.Unlock()
	// The group stays busy: waiting until everything is sent would wait
	// for the test's own clock.
	e.fake.settle = nil
	e.run(nil)
	bottest.Loop(t, e.engine.RunOutbox)
	// At the end, let the held group go, before the engine and the
	// adapter stop.
	t.Cleanup(func() { clock.Add(time.Hour) })
	return e, clock
}

// sendsTo returns the sendMessage calls to chat.
func (f *fakeTG) sendsTo(chat int64) []apiCall {
	var out []apiCall
	for _, c := range f.callsOf("sendMessage") {
		if c.Form["chat_id"] == strconv.FormatInt(chat, 10) {
			out = append(out, c)
		}
	}
	return out
}

const busyGroup = -100777

// checkBusyGroup is the second half of both tests: while the group is held
// by its limit, a private chat writes 3 s later and is answered at once
// (no time passes on the limiter's clock); then, as time passes, the
// group gets all 25 answers, keeping to its limit of 20 a minute.
func checkBusyGroup(t *testing.T, e *env, clock *bottest.ManualClock, write func(chat int64, text string)) {
	t.Helper()
	if n := len(e.fake.sendsTo(busyGroup)); n >= 25 {
		t.Fatalf("the group got %d answers at once; the test needs it held by its limit", n)
	}
	clock.Add(3 * time.Second)
	asked := clock.Now()
	write(5101, "/start")
	waitFor(t, "the private chat's answer", func() bool { return len(e.fake.sendsTo(5101)) > 0 })
	if d := e.fake.sendsTo(5101)[0].At.Sub(asked); d > time.Second {
		t.Errorf("the private chat was answered %s after it wrote, want within 1s", d)
	}

	waitFor(t, "the group's 25 answers", func() bool {
		n := len(e.fake.sendsTo(busyGroup))
		if n < 25 {
			clock.Add(time.Second) // time passes, a second a look
		}
		return n == 25
	})
	var at []time.Time
	for _, c := range e.fake.sendsTo(busyGroup) {
		if !strings.Contains(c.Form["text"], "/check") {
			t.Fatalf("the group got %q, want the help", c.Form["text"])
		}
		at = append(at, c.At)
	}
	if n := countIn(at, time.Minute); n > 20 {
		t.Errorf("the group got %d messages within a minute, want at most 20", n)
	}
}

// TestBusyGroupHoldsUpNobody: a group sends 25 addressed commands in a
// burst, more than Telegram lets the bot answer in a minute. Every update
// is confirmed (the next getUpdates moves past it) without waiting for the
// answers, and a private chat writing 3 s later is answered at once.
func TestBusyGroupHoldsUpNobody(t *testing.T) {
	e, clock := busyEnv(t, nil)
	last := 0
	for i := range 25 {
		last = e.fake.pushText(busyGroup, user(int64(61+i), "de"), "/help@"+botUsername)
	}
	waitFor(t, "the group's updates confirmed", func() bool {
		e.fake.mu.Lock()
		defer e.fake.mu.Unlock()
		return e.fake.maxOffset > last
	})
	checkBusyGroup(t, e, clock, func(chat int64, text string) {
		e.fake.pushText(chat, user(chat, "de"), text)
	})
}

// TestBusyGroupHoldsUpNobodyWebhook is the same through the webhook: each
// request is answered 200 once its update is committed, without waiting
// for the answers to be sent.
func TestBusyGroupHoldsUpNobodyWebhook(t *testing.T) {
	e, clock := busyEnv(t, func(c *Config) { c.WebhookURL = webhookURL })
	waitFor(t, "setWebhook", func() bool { return len(e.fake.callsOf("setWebhook")) > 0 })
	h := e.a.WebhookHandler(e.engine)
	secret := DeriveSecret(testToken)
	var answered atomic.Int64
	deliver := func(id int, chat int64, from int64, text string) {
		body := updateJSON(t, textUpdate(id, chat, from, text))
		go func() { // a request held up must fail the test, not hang it
			if rec := post(h, http.MethodPost, &secret, strings.NewReader(body)); rec.Code == http.StatusOK {
				answered.Add(1)
			}
		}()
	}
	for i := range 25 {
		deliver(9001+i, busyGroup, int64(61+i), "/help@"+botUsername)
		waitFor(t, "the group's request answered 200", func() bool { return answered.Load() == int64(i+1) })
	}
	checkBusyGroup(t, e, clock, func(chat int64, text string) { deliver(9100, chat, chat, text) })
}
