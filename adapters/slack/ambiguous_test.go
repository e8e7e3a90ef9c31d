package slack

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/adapters/internal/linktest"
	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// TestDeliveredThenTimedOut (issue 18, item 3) is Telegram's on the fake
// Slack, losing the answer to 5 % of chat.postMessage and chat.update
// calls: nothing is lost, and a message whose answer was lost is looked
// for in the channel before it is sent again (by the outbox ID in its
// metadata), found, and not posted twice; each is counted.
func TestDeliveredThenTimedOut(t *testing.T) {
	fake := newFakeSlack(t)
	shown := func() []linktest.Shown {
		fake.mu.Lock()
		defer fake.mu.Unlock()
		var out []linktest.Shown
		for _, m := range fake.msgs {
			out = append(out, linktest.Shown{Chat: m.Channel, States: m.States})
		}
		return out
	}
	am := linktest.NewAmbiguous(t, start, func(chat int) bot.Address {
		return bot.Address{Platform: Platform, Workspace: teamID, Chat: fmt.Sprintf("C0AMB%04d", chat)}
	}, shown, "POST chat.postMessage", "POST chat.update")
	fake.misanswer.Store(am.Mis)
	client := am.Mis.Client(fake.srv.Client())
	client.Timeout = time.Second // a lost answer is held this long
	a, err := New(context.Background(), Config{BotToken: testBotToken, AppToken: testAppToken, APIURL: fake.apiURL(), HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	a.backoffMin, a.backoffMax = time.Millisecond, 5*time.Millisecond
	lc := bottest.NewClock(start)
	a.lim.now, a.lim.sleep = lc.Now, lc.Sleep
	a.upd.now, a.upd.sleep = lc.Now, lc.Sleep
	am.Engine.Register(a)
	t.Log(am.Run(t))
}
