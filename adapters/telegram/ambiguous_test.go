package telegram

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/adapters/internal/linktest"
	"github.com/ampel-bot/ampel/bot"
)

// TestDeliveredThenTimedOut (issue 18, item 3): the fake Telegram posts or
// edits and loses its answer to 5 % of sendMessage and editMessageText
// calls (the connection dropped, or the answer held past the client's
// timeout). Of 1,000 messages (10,000 with AMPEL_LONG=1) none is lost;
// Telegram cannot tell a resend, so a message may show twice, but no more
// than answers were lost, and each is counted as a possible duplicate; a
// live message never shows an older tally after a newer one.
func TestDeliveredThenTimedOut(t *testing.T) {
	fake := newFakeTG(t)
	shown := func() []linktest.Shown {
		fake.mu.Lock()
		defer fake.mu.Unlock()
		var out []linktest.Shown
		for _, k := range fake.order {
			out = append(out, linktest.Shown{Chat: strconv.FormatInt(k.chat, 10), States: fake.msgs[k].States})
		}
		return out
	}
	am := linktest.NewAmbiguous(t, start, func(chat int) bot.Address { return bot.Address{Platform: Platform, Chat: strconv.Itoa(7000 + chat)} }, shown, "POST sendMessage", "POST editMessageText")
	fake.misanswer.Store(am.Mis)
	client := am.Mis.Client(fake.srv.Client())
	client.Timeout = time.Second // a lost answer is held this long
	a, err := New(context.Background(), Config{Token: testToken, APIURL: fake.srv.URL, PollTimeout: 100 * time.Millisecond, HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	fastAdapter(a)
	am.Engine.Register(a)
	t.Log(am.Run(t))
}
