package slack

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/adapters/internal/killtest"
	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// TestKillPoints (issue 18, item 1) is Telegram's TestKillPoints on the
// fake Slack: nothing acknowledged is lost, and a message the process sent
// just before it died is found by the restarted one in the channel's
// latest messages (by the outbox ID in its metadata) and not posted again:
// no message shows twice, and each crash after Slack accepted one is
// counted as a possible duplicate (found).
func TestKillPoints(t *testing.T) {
	fake := newFakeSlack(t)
	killtest.Points(t, killtest.Options{Child: "TestKillPointsChild", Env: []string{"AMPEL_KILLTEST_URL=" + fake.apiURL()}, Shown: fake.shown, Dedupes: true})
}

// shown lists every message as a client shows it, and the title of every
// file shared.
func (f *fakeSlack) shown() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, m := range f.msgs {
		out = append(out, m.Shown())
	}
	for _, s := range f.shares {
		out = append(out, s.Title)
	}
	return out
}

func TestKillPointsChild(t *testing.T) {
	killtest.Child(t, func() (bot.Adapter, error) {
		a, err := New(context.Background(), Config{BotToken: testBotToken, AppToken: testAppToken, APIURL: os.Getenv("AMPEL_KILLTEST_URL")})
		if err != nil {
			return nil, err
		}
		c := bottest.NewClock(start)
		a.lim.now, a.lim.sleep = c.Now, c.Sleep
		a.backoffMin, a.backoffMax = time.Millisecond, 5*time.Millisecond
		return a, nil
	}, func(chat int) bot.Address {
		return bot.Address{Platform: Platform, Workspace: teamID, Chat: fmt.Sprintf("C0KILL%03d", chat)}
	})
}
