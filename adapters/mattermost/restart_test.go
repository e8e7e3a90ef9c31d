package mattermost

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/store"
)

// TestRestartCatchUpAppliesNothingTwice: a user writes 300 messages, more
// than the store remembers IDs of per conversation (256), and the bot
// answers each. After a restart the catch-up reads all of them back (they
// are within its lookback); none is answered again, and the next message is
// answered as usual. The engine runs on the real store, which remembers a
// window of IDs, as in production. (Before, all 300 were answered again:
// each of the 44 oldest, applied again, pushed the next one out of the
// window.)
func TestRestartCatchUpAppliesNothingTwice(t *testing.T) {
	const n = 300
	fake := newFakeMM(t)
	user, dm := "usera"+strings.Repeat("a", 21), "dma"+strings.Repeat("a", 23)
	fake.addUser(user, "en", "Europe/Berlin")
	fake.addDM(dm, user)
	path := filepath.Join(t.TempDir(), "ampel.db")

	// life runs the bot (store, engine, adapter) until stop is called.
	life := func() (rec *recorder, stop func()) {
		db, err := store.Open(path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		engine := bottest.NewEngine(t, db, bottest.NewClock(start))
		a, err := New(context.Background(), Config{URL: fake.srv.URL, Token: testToken, HTTPClient: fake.srv.Client()})
		if err != nil {
			t.Fatal(err)
		}
		a.backoffMin, a.backoffMax = time.Millisecond, 5*time.Millisecond
		engine.Register(a)
		rec = &recorder{next: engine}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx, rec) }()
		waitFor(t, "the WebSocket connection", fake.connected)
		stopped := false
		stop = func() {
			if stopped {
				return
			}
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			engine.Close()
			db.Close()
		}
		t.Cleanup(stop)
		return rec, stop
	}
	answers := func() int { return len(fake.botPosts(dm)) }

	rec, stop := life()
	var ids []string
	for i := range n {
		ids = append(ids, fake.userPost(dm, user, fmt.Sprintf("/help %d", i)))
	}
	waitFor(t, "every message handled and answered", func() bool { return rec.count(ids[n-1]) == 1 && answers() >= n })
	if got := answers(); got != n {
		t.Fatalf("%d messages got %d answers before the restart, want one each", n, got)
	}
	stop()

	rec, _ = life()
	waitFor(t, "the catch-up reading back every message", func() bool {
		for _, id := range ids {
			if rec.count(id) == 0 {
				return false
			}
		}
		return true
	})
	next := fake.userPost(dm, user, "/language")
	waitFor(t, "the next message answered", func() bool {
		posts := fake.botPosts(dm)
		return rec.count(next) == 1 && len(posts) > n && strings.Contains(shown(posts[len(posts)-1].Message), "English")
	})
	if got := answers() - n - 1; got != 0 {
		t.Errorf("after the restart, %d of the %d messages read back were answered again, want none", got, n)
	}
}
