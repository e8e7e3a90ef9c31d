package mattermost

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// TestReconnectCatchesUp drops the WebSocket 20 times. Messages are posted
// while it is up, while it is down (the server refuses new connections, so
// only the REST catch-up can find them) and right after it is back, in two
// direct channels and a shared channel where only mentions count. Every
// message for the bot is handled exactly once, none is missed, each
// channel's in the order posted; the bot's own posts and channel talk
// without a mention are not handled.
func TestReconnectCatchesUp(t *testing.T) {
	e := newEnv(t, nil)
	rec := &recorder{}
	e.a.recv.readTimeout = 0
	dms := []string{"dma" + strings.Repeat("a", 23), "dmb" + strings.Repeat("b", 23)}
	users := []string{"usera" + strings.Repeat("a", 21), "userb" + strings.Repeat("b", 21)}
	town := "town" + strings.Repeat("t", 22)
	for i := range dms {
		e.fake.addUser(users[i], "de", "Europe/Berlin")
		e.fake.addDM(dms[i], users[i])
	}
	e.fake.addChannel(town)
	e.run(rec)

	want := map[string][]string{} // channel -> handled texts in order
	var ids []string
	n := 0
	post := func(phase string) {
		for i, ch := range dms {
			n++
			text := fmt.Sprintf("%s %d", phase, n)
			ids = append(ids, e.fake.userPost(ch, users[i], text))
			want[ch] = append(want[ch], text)
		}
		n++
		text := fmt.Sprintf("%s %d", phase, n)
		ids = append(ids, e.fake.userPost(town, users[0], "@"+botName+" "+text))
		want[town] = append(want[town], text)
		e.fake.userPost(town, users[1], "chatter without mention") // not for the bot
		e.fake.userPost(town, users[1], "mail me at x@"+botName+".org")
	}
	for round := range 20 {
		post("up")
		if round%2 == 0 {
			e.fake.drop() // a plain drop: it reconnects at once
		} else {
			e.fake.setDown(true) // down for a while, with posts meanwhile
			post("down")
			post("down")
			e.fake.setDown(false)
		}
		waitFor(t, "reconnect", e.fake.connected)
		post("back")
	}
	waitFor(t, "every message handled", func() bool {
		for _, id := range ids {
			if rec.count(id) == 0 {
				return false
			}
		}
		return true
	})
	for _, id := range ids {
		if c := rec.count(id); c != 1 {
			t.Errorf("post %s handled %d times", id, c)
		}
	}
	got := map[string][]string{}
	for _, ev := range rec.events() {
		got[ev.Addr.Chat] = append(got[ev.Addr.Chat], ev.Text)
		if ev.Addr.Chat == town && !ev.Group || ev.Addr.Chat != town && ev.Group {
			t.Errorf("event %s in %s has Group %v", ev.ID, ev.Addr.Chat, ev.Group)
		}
		if ev.LangHint != "de" || ev.ZoneHint != "Europe/Berlin" {
			t.Errorf("event %s hints %q %q", ev.ID, ev.LangHint, ev.ZoneHint)
		}
	}
	for ch, texts := range want {
		if strings.Join(got[ch], "|") != strings.Join(texts, "|") {
			t.Errorf("channel %s handled\n%v\nwant\n%v", ch, got[ch], texts)
		}
	}
	if len(rec.events()) != len(ids) {
		t.Errorf("%d events handled, want %d", len(rec.events()), len(ids))
	}
	e.fake.mu.Lock()
	dials := e.fake.dials
	e.fake.mu.Unlock()
	since := 0
	for _, c := range e.fake.callsOfPrefix("GET /api/v4/channels/") {
		if strings.HasSuffix(c, "/posts") {
			since++
		}
	}
	if since == 0 {
		t.Error("no REST catch-up happened")
	}
	if dials < 21 {
		t.Errorf("%d connections, want at least 21", dials)
	}
}

// TestReconnectWaitCappedWhileServerAnswers keeps the WebSocket refused
// while REST works, with the real back-off (1 s doubling to a minute) on a
// simulated clock: while the server answers its ping, no wait between two
// connection attempts is longer than 10 s, though the back-off grows past
// it; when pings fail too, the waits grow up to the minute.
func TestReconnectWaitCappedWhileServerAnswers(t *testing.T) {
	for _, sick := range []bool{false, true} {
		e := newEnv(t, nil)
		e.a.backoffMin, e.a.backoffMax = time.Second, time.Minute
		type wait struct {
			dials int // connection attempts before it
			d     time.Duration
		}
		var mu sync.Mutex
		var waits []wait
		e.a.rc.wait = func(ctx context.Context, d time.Duration, kick <-chan struct{}) (bool, error) {
			e.fake.mu.Lock()
			dials := e.fake.dials
			e.fake.mu.Unlock()
			mu.Lock()
			full := len(waits) >= 60
			if !full {
				waits = append(waits, wait{dials, d})
			}
			mu.Unlock()
			if full {
				<-ctx.Done()
				return false, ctx.Err()
			}
			return false, nil // the simulated time passed
		}
		e.fake.setDown(true)
		e.fake.mu.Lock()
		e.fake.sick = sick
		e.fake.mu.Unlock()
		bottest.Run(t, e.a, e.rec)
		waitFor(t, "60 waits", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(waits) >= 60
		})
		mu.Lock()
		gaps := map[int]time.Duration{} // attempts so far -> time until the next
		last := waits[len(waits)-1].dials
		for _, w := range waits {
			if w.dials < last { // the last gap may be unfinished
				gaps[w.dials] += w.d
			}
		}
		mu.Unlock()
		longest := time.Duration(0)
		for _, g := range gaps {
			longest = max(longest, g)
		}
		switch {
		case !sick && (longest > 10*time.Second || longest < 5*time.Second):
			t.Errorf("server answering pings: longest wait %v, want at most 10 s (and the back-off past 5 s)", longest)
		case sick && (longest <= 10*time.Second || longest > time.Minute):
			t.Errorf("server not answering: longest wait %v, want the back-off, over 10 s up to a minute", longest)
		}
	}
}

// TestReconnectAtOnceWhenRESTWorks: while the WebSocket is down and the
// next attempt an hour away, a message is typed; when the server is back,
// the first REST request that succeeds (a post the bot sends) makes the
// bot connect at once, and the message typed meanwhile is answered.
func TestReconnectAtOnceWhenRESTWorks(t *testing.T) {
	e := newEnv(t, nil)
	e.a.backoffMin, e.a.backoffMax = time.Hour, time.Hour
	e.a.rc.pingEvery = time.Hour
	e.run(nil)
	c := newChatter(t, e, "user"+strings.Repeat("u", 22), "dm"+strings.Repeat("d", 24), "en")
	e.fake.setDown(true)
	waitFor(t, "the connection lost", func() bool { return !e.a.rc.up.Load() })
	id := e.fake.userPost(c.channel, c.user, "/help")
	e.fake.setDown(false)
	if err := e.a.Send(context.Background(), bot.Address{Platform: Platform, Chat: c.channel}, bot.Message{Text: "Reminder"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the message typed meanwhile answered", func() bool { return e.rec.count(id) == 1 })
}
