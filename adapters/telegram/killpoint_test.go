package telegram

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/ampel-bot/ampel/adapters/internal/killtest"
	"github.com/ampel-bot/ampel/bot"
)

// TestKillPoints (issue 18, item 1): a child process on a bbolt file
// sends through the fake Telegram and kills itself with SIGKILL at each
// kill point in turn, 3 times each (25 with AMPEL_LONG=1), started again
// after each crash (see killtest). Nothing acknowledged is lost; a message
// shows twice only after a crash between Telegram's acceptance and the
// delivered mark (Telegram cannot tell a resend), once per such crash, and
// each is counted as a possible duplicate.
func TestKillPoints(t *testing.T) {
	fake := newFakeTG(t)
	killtest.Points(t, killtest.Options{Child: "TestKillPointsChild", Env: []string{"AMPEL_KILLTEST_URL=" + fake.srv.URL}, Shown: fake.shown})
}

// shown lists the texts of every message the fake holds, and the names of
// its documents.
func (f *fakeTG) shown() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, k := range f.order {
		out = append(out, f.msgs[k].Text)
		if d := f.msgs[k].Doc; d != nil {
			out = append(out, d.Name)
		}
	}
	return out
}

func TestKillPointsChild(t *testing.T) {
	killtest.Child(t, func() (bot.Adapter, error) {
		a, err := New(context.Background(), Config{Token: testToken, APIURL: os.Getenv("AMPEL_KILLTEST_URL")})
		if err != nil {
			return nil, err
		}
		fastAdapter(a)
		return a, nil
	}, func(chat int) bot.Address {
		return bot.Address{Platform: Platform, Chat: strconv.Itoa(9000 + chat)}
	})
}
