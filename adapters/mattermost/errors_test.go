package mattermost

import (
	"context"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// TestProxyErrorsKeepTheConversation: a 403 or 404 that is not the
// server's own word about the channel (a proxy's or maintenance page's
// HTML while /users/me fails or answers HTML too, or while the channel
// and the bot's membership are there) is no "recipient gone": the reply
// stays in the outbox and is retried with back-off, the person's reminders
// stay on, the trouble is logged once, and the reply arrives once the
// server answers again.
func TestProxyErrorsKeepTheConversation(t *testing.T) {
	for _, tc := range []struct {
		name string
		post failure
		me   *failure
	}{
		{"404 page, users/me a 404 page", failure{status: 404, html: true}, &failure{status: 404, html: true}},
		{"403 page, users/me not JSON", failure{status: 403, html: true}, &failure{status: 200, html: true}},
		{"403 page, channel and membership there", failure{status: 403, html: true}, nil},
		{"404 from the server, channel and membership there", failure{status: 404}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			ctx := context.Background()
			ch := "town" + strings.Repeat("t", 22)
			e.fake.addChannel(ch)
			to := bot.Address{Platform: Platform, Chat: ch, User: "eva" + strings.Repeat("e", 23)}
			const attempts = 3
			for range attempts {
				e.fake.failNext("POST /api/v4/posts", tc.post)
				if tc.me != nil {
					e.fake.failNext("GET /api/v4/users/me", *tc.me)
				}
			}
			if err := e.engine.Handle(ctx, bot.Event{ID: "proxy", Text: "/start", Addr: to}); err != nil {
				t.Fatal(err)
			}
			bottest.Retry(t, e.engine, e.clock, attempts+1)
			bottest.ExpectKept(t, e.engine, to)
			if n := len(e.fake.botPosts(ch)); n != 1 {
				t.Errorf("%d posts once the server answered again; want the reply once", n)
			}
			if n := strings.Count(e.logs.String(), "level=WARN"); n != 1 {
				t.Errorf("%d warnings for one trouble; want 1\n%s", n, e.logs.String())
			}
			if strings.Contains(e.logs.String(), "Down for") {
				t.Error("the proxy's page was copied into the log")
			}
		})
	}
}

// TestChannelGoneDropsTheMessage: when the server itself says the channel
// is gone (/users/me answers as the bot, and the channel is Mattermost's
// own 404, or archived), the message is dropped and the channel's
// reminders are switched off.
func TestChannelGoneDropsTheMessage(t *testing.T) {
	for _, tc := range []struct {
		name     string
		archived bool
	}{{"deleted", false}, {"archived", true}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			ctx := context.Background()
			ch := "gone" + strings.Repeat("g", 22)
			if tc.archived {
				e.fake.addChannel(ch)
				e.fake.mu.Lock()
				e.fake.channels[ch].DeleteAt = 1
				e.fake.mu.Unlock()
			}
			to := bot.Address{Platform: Platform, Chat: ch, User: "eva" + strings.Repeat("e", 23)}
			if err := e.engine.Handle(ctx, bot.Event{ID: "gone", Text: "/start", Addr: to}); err != nil {
				t.Fatal(err)
			}
			bottest.Retry(t, e.engine, e.clock, 1)
			bottest.ExpectDropped(t, e.engine, e.store, to)
		})
	}
}
