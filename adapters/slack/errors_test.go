package slack

import (
	"context"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// TestTokenTroubleKeepsTheConversation: Slack refusing the bot's own token
// or workspace (account_inactive, invalid_auth, token_revoked) says
// nothing about the person written to. The reply stays in the outbox and
// is retried with back-off, the person's reminders stay on, the trouble is
// logged once (not once per attempt), and the reply goes out when Slack
// takes the token again.
func TestTokenTroubleKeepsTheConversation(t *testing.T) {
	for _, code := range []string{"account_inactive", "invalid_auth", "token_revoked"} {
		t.Run(code, func(t *testing.T) {
			e := newEnv(t, nil)
			ctx := context.Background()
			const attempts = 3
			for range attempts {
				e.fake.failNext("chat.postMessage", failure{status: 200, body: `{"ok":false,"error":"` + code + `"}`})
			}
			if err := e.engine.Handle(ctx, bot.Event{ID: "EvTok-" + code, Text: "/start", Addr: dmAddr}); err != nil {
				t.Fatal(err)
			}
			bottest.Retry(t, e.engine, e.clock, attempts+1)
			if n := len(e.fake.callsOf("chat.postMessage")); n != attempts+1 {
				t.Errorf("chat.postMessage called %d times; want %d failed attempts and the one that worked", n, attempts)
			}
			bottest.ExpectKept(t, e.engine, dmAddr)
			if len(e.fake.messages(dmAddr.Chat)) == 0 {
				t.Error("the reply never arrived once Slack took the token again")
			}
			if n := warnings(e.logs.String(), code); n != 1 {
				t.Errorf("%q reported %d times by the adapter; want once\n%s", code, n, e.logs.String())
			}
		})
	}
}

// TestRecipientGoneDropsTheMessage: only answers about the channel or the
// person (channel_not_found, is_archived, user_not_found) drop a message,
// and they switch the conversation's reminders off.
func TestRecipientGoneDropsTheMessage(t *testing.T) {
	for _, code := range []string{"channel_not_found", "is_archived", "user_not_found"} {
		t.Run(code, func(t *testing.T) {
			e := newEnv(t, nil)
			ctx := context.Background()
			e.fake.failNext("chat.postMessage", failure{status: 200, body: `{"ok":false,"error":"` + code + `"}`})
			if err := e.engine.Handle(ctx, bot.Event{ID: "EvGone-" + code, Text: "/start", Addr: dmAddr}); err != nil {
				t.Fatal(err)
			}
			bottest.Retry(t, e.engine, e.clock, 1)
			bottest.ExpectDropped(t, e.engine, e.store, dmAddr)
		})
	}
}

// warnings counts the warnings in log that mention what.
func warnings(log, what string) int {
	n := 0
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "level=WARN") && strings.Contains(l, what) {
			n++
		}
	}
	return n
}
