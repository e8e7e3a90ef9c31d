package mattermost

import (
	"fmt"
	"strings"
	"testing"
)

// TestCatchUpBeyondTheServersLimit: while the WebSocket is down, 1,300
// messages arrive in one direct channel — more than the 1,000 the server
// hands back for "posts since". After the reconnect every one of them is
// handled, once and in the order posted: the channel is read back page by
// page. (Before, the 300 oldest were never seen.)
func TestCatchUpBeyondTheServersLimit(t *testing.T) {
	e := newEnv(t, nil)
	rec := &recorder{}
	e.a.recv.readTimeout = 0
	dm, user := "dmc"+strings.Repeat("c", 23), "userc"+strings.Repeat("c", 21)
	e.fake.addUser(user, "de", "Europe/Berlin")
	e.fake.addDM(dm, user)
	e.run(rec)
	first := e.fake.userPost(dm, user, "before")
	waitFor(t, "the first message", func() bool { return rec.count(first) == 1 })

	e.fake.setDown(true)
	const missed = 1300
	ids := make([]string, missed)
	for i := range ids {
		ids[i] = e.fake.userPost(dm, user, fmt.Sprintf("while down %d", i))
	}
	e.fake.setDown(false)
	waitFor(t, "every message handled", func() bool {
		for _, id := range ids {
			if rec.count(id) == 0 {
				return false
			}
		}
		return true
	})
	var texts []string
	for _, ev := range rec.events() {
		texts = append(texts, ev.Text)
	}
	if len(texts) != missed+1 {
		t.Fatalf("%d events handled, want %d", len(texts), missed+1)
	}
	for i, text := range texts[1:] {
		if want := fmt.Sprintf("while down %d", i); text != want {
			t.Fatalf("event %d: %q, want %q (in the order posted, each once)", i+1, text, want)
		}
	}
	if paged := len(e.fake.callsOfPrefix("GET /api/v4/channels/" + dm + "/posts")); paged < 2 {
		t.Errorf("%d reads of the channel's posts, want the capped one and pages after it", paged)
	}
}
