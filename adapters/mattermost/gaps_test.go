package mattermost

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/adapters/internal/linktest"
)

// advance moves the fake server's clock: the posts after it are that much
// later.
func (f *fakeMM) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clock += d.Milliseconds()
}

// now is the fake server's clock, which the adapter shares in the test.
func (f *fakeMM) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return time.UnixMilli(max(f.clock, time.Now().UnixMilli()))
}

// TestWebSocketGapsCaughtUp (issue 18, item 5): the WebSocket is dropped
// 100 times (1,000 with AMPEL_LONG=1) while 4 users go through a check in
// their direct channels (a rating, then "back", and again) and others chat
// in a shared channel. Between the drops each user types a message and
// waits for the answer. During each gap the server refuses new
// connections while people go on posting: half of the gaps are short
// (a message or two), a quarter hold more posts than the server's replay
// buffer (128 events: the users type three messages each without an
// answer, and the shared channel is busy), and a quarter last longer than
// the server keeps a connection's events (5 minutes on the clock the
// server and the adapter share), so that only the REST catch-up can find
// what was posted. At the
// end every message was handed to the engine exactly once and answered
// exactly once, in order: the answers alternate between the first and
// second checkpoint, which one missed or doubled message would upset.
func TestWebSocketGapsCaughtUp(t *testing.T) {
	drops := 100
	if os.Getenv("AMPEL_LONG") != "" {
		drops = 1000
	}
	e := newEnv(t, nil)
	e.a.recv.readTimeout = 0
	e.a.now = e.fake.now
	town := "town" + strings.Repeat("t", 22)
	e.fake.addChannel(town)
	const users = 4
	var chatters []*chatter
	for i := range users {
		chatters = append(chatters, newChatter(t, e, fmt.Sprintf("user%d%s", i, strings.Repeat("u", 21)), fmt.Sprintf("dm%d%s", i, strings.Repeat("d", 23)), "de"))
	}
	e.run(nil)
	var ids []string
	typeNext := func(c *chatter) string {
		text := linktest.Next(len(c.log))
		c.log = append(c.log, text)
		id := e.fake.userPost(c.channel, c.user, text)
		ids = append(ids, id)
		return id
	}
	answered := func(ids ...string) func() bool {
		return func() bool {
			for _, id := range ids {
				if e.rec.count(id) == 0 {
					return false
				}
			}
			return true
		}
	}
	long, byEvents, byTime, most, chatter := 0, 0, 0, 0, 0
	for round := range drops {
		var steady []string
		for _, c := range chatters {
			steady = append(steady, typeNext(c))
		}
		waitFor(t, "the messages answered", answered(steady...))

		e.fake.setDown(true)
		waitFor(t, "the connection lost", func() bool { return !e.a.rc.up.Load() })
		posted := 0
		switch round % 4 {
		case 0, 2: // short
			for _, c := range chatters[:1+round%3] {
				typeNext(c)
				posted++
			}
		case 1: // more than the server's 128 events
			for range 3 {
				for _, c := range chatters {
					typeNext(c)
					posted++
				}
			}
			for posted <= 128 {
				chatter++
				e.fake.userPost(town, chatters[posted%users].user, fmt.Sprintf("chatter %d", chatter))
				posted++
			}
			long++
			byEvents++
		case 3: // longer than 5 minutes
			typeNext(chatters[0])
			e.fake.advance(5*time.Minute + time.Second)
			for _, c := range chatters {
				typeNext(c)
			}
			posted = users + 1
			long++
			byTime++
		}
		most = max(most, posted)
		e.fake.setDown(false)
		waitFor(t, "a new connection", e.fake.connected)
	}
	// Then count: a missed message is named below.
	for deadline := time.Now().Add(10 * time.Second); !answered(ids...)() && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}

	for _, id := range ids {
		if n := e.rec.count(id); n != 1 {
			t.Errorf("post %s handed to the engine %d times", id, n)
		}
	}
	typed := 0
	for _, c := range chatters {
		var got []string
		for _, p := range e.fake.botPosts(c.channel) {
			got = append(got, p.Message)
		}
		typed += len(c.log)
		linktest.Answers(t, c.user, c.log, got)
	}
	if n := len(e.rec.events()); n != typed {
		t.Errorf("%d events handled, want the %d messages for the bot (not the shared channel's chatter)", n, typed)
	}
	if long != drops/2 || byEvents == 0 || byTime == 0 {
		t.Fatalf("%d long gaps (%d by events, %d by time), want %d", long, byEvents, byTime, drops/2)
	}
	t.Logf("%d dropped connections, %d of the gaps longer than the server's replay (%d with more than 128 posts, up to %d; %d longer than 5 minutes), %d messages for the bot and %d posts of chatter: 0 missed, 0 answered twice, %d REST catch-up reads",
		drops, long, byEvents, most, byTime, typed, chatter, len(e.fake.callsOfPrefix("GET /api/v4/users/"+botID+"/channels")))
}
