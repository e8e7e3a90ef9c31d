package mattermost

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/adapters/internal/killtest"
	"github.com/ampel-bot/ampel/bot"
)

// TestKillPoints (issue 18, item 1) is Telegram's TestKillPoints on the
// fake Mattermost: nothing acknowledged is lost, and a message the process
// sent just before it died is sent again by the restarted one with the
// same pending_post_id, which the server (within its 30 s) does not post
// twice: no message shows twice, and each such resend is counted.
func TestKillPoints(t *testing.T) {
	fake := newFakeMM(t)
	for chat := range 40 {
		fake.addChannel(killChannel(chat))
	}
	killtest.Points(t, killtest.Options{Child: "TestKillPointsChild", Env: []string{"AMPEL_KILLTEST_URL=" + fake.srv.URL}, Shown: fake.shown, Dedupes: true})
}

func killChannel(chat int) string { return fmt.Sprintf("kill%022d", chat) }

// shown lists the text of every post of the bot, and the names of the
// files it carries.
func (f *fakeMM) shown() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, id := range f.order {
		if p := f.posts[id]; p.UserId == botID && p.DeleteAt == 0 {
			out = append(out, p.Message)
			for _, fid := range p.FileIds {
				out = append(out, f.uploads[fid].name)
			}
		}
	}
	return out
}

func TestKillPointsChild(t *testing.T) {
	killtest.Child(t, func() (bot.Adapter, error) {
		a, err := New(context.Background(), Config{URL: os.Getenv("AMPEL_KILLTEST_URL"), Token: testToken})
		if err != nil {
			return nil, err
		}
		a.backoffMin, a.backoffMax = time.Millisecond, 5*time.Millisecond
		return a, nil
	}, func(chat int) bot.Address {
		return bot.Address{Platform: Platform, Chat: killChannel(chat)}
	})
}
