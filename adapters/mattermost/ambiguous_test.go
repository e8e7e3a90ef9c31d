package mattermost

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/adapters/internal/linktest"
	"github.com/ampel-bot/ampel/bot"
)

// TestDeliveredThenTimedOut (issue 18, item 3) is Telegram's on the fake
// Mattermost, losing the answer to 5 % of post creations and patches:
// nothing is lost, and a post whose answer was lost is sent again with the
// same pending_post_id, which the server does not post twice; each resend
// is counted.
func TestDeliveredThenTimedOut(t *testing.T) {
	fake := newFakeMM(t)
	channel := func(chat int) string { return fmt.Sprintf("amb%023d", chat) }
	for chat := range 20 {
		fake.addChannel(channel(chat))
	}
	shown := func() []linktest.Shown {
		fake.mu.Lock()
		defer fake.mu.Unlock()
		var out []linktest.Shown
		for _, id := range fake.order {
			if p := fake.posts[id]; p.UserId == botID && p.DeleteAt == 0 {
				out = append(out, linktest.Shown{Chat: p.ChannelId, States: fake.states[id]})
			}
		}
		return out
	}
	am := linktest.NewAmbiguous(t, start, func(chat int) bot.Address { return bot.Address{Platform: Platform, Chat: channel(chat)} }, shown, "POST posts", "PUT patch")
	fake.misanswer.Store(am.Mis)
	client := am.Mis.Client(fake.srv.Client())
	client.Timeout = time.Second // a lost answer is held this long
	a, err := New(context.Background(), Config{URL: fake.srv.URL, Token: testToken, HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	a.backoffMin, a.backoffMax = time.Millisecond, 5*time.Millisecond
	am.Engine.Register(a)
	t.Log(am.Run(t))
}
