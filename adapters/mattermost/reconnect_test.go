package mattermost

import (
	"fmt"
	"strings"
	"testing"
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
