package mattermost

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// TestLiveMessageEditedInPlace: a team's progress in a channel is one
// post, patched in place (PUT /api/v4/posts/{id}/patch: its message and
// buttons, its other props kept) as it changes; every member's press of
// its button reaches the engine and leaves the post as it is (the engine
// edits it); and once it was deleted, the next state is posted anew.
func TestLiveMessageEditedInPlace(t *testing.T) {
	e := newEnv(t, nil)
	e.run(nil)
	town := "town" + strings.Repeat("t", 22)
	e.fake.addChannel(town)
	to := bot.Address{Platform: Platform, Chat: town}
	n := 0
	progress := func(done int, buttons ...string) {
		t.Helper()
		n++
		bottest.Progress(t, e.engine, fmt.Sprintf("p%d", n), to, done, buttons...)
		bottest.Settle(t, e.engine)
		e.clock.Add(2 * time.Second) // the next state may go at once
	}
	progress(0, "Join")
	posts := e.fake.botPosts(town)
	if len(posts) != 1 || shown(posts[0].Message) != "0 of 5 finished" || len(actionsOf(posts[0])) != 1 {
		t.Fatalf("the channel shows %d posts, want the progress with its button", len(posts))
	}
	live := posts[0].Id

	progress(1, "Join", "Remind")
	posts = e.fake.botPosts(town)
	if len(posts) != 1 || posts[0].Id != live || shown(posts[0].Message) != "1 of 5 finished" || posts[0].EditAt == 0 ||
		len(actionsOf(posts[0])) != 2 || posts[0].GetProp(model.PostPropsFromBot) != "true" {
		t.Fatalf("after the second state the channel shows %+v, want the one post patched to 1 of 5 with two buttons, from_bot kept", posts)
	}
	if calls := e.fake.callsOfPrefix("PUT /api/v4/posts/" + live + "/patch"); len(calls) != 1 {
		t.Errorf("patch calls of the live post: %d, want 1", len(calls))
	}

	join := actionsOf(posts[0])[0]
	for _, u := range []string{"anna" + strings.Repeat("a", 22), "ben" + strings.Repeat("b", 23)} {
		e.fake.addUser(u, "de", "Europe/Berlin")
		if code := e.fake.deliverPress(e.mux, pressRequest(posts[0], join, u)); code != 200 {
			t.Fatalf("%s's press of Join: status %d", u, code)
		}
	}
	joins := 0
	for _, ev := range e.rec.events() {
		if ev.Action == "tm:Join" {
			joins++
		}
	}
	if joins != 2 {
		t.Errorf("the engine heard %d presses of Join, want both members'", joins)
	}
	bottest.Settle(t, e.engine)
	if p := e.fake.botPosts(town)[0]; p.Id != live || shown(p.Message) != "1 of 5 finished" || len(actionsOf(p)) != 2 {
		t.Errorf("after the presses the live post is %q with %d buttons, want it left as the engine showed it", p.Message, len(actionsOf(p)))
	}

	e.fake.deletePost(live)
	progress(2, "Join")
	posts = e.fake.botPosts(town)
	last := posts[len(posts)-1]
	if last.Id == live || shown(last.Message) != "2 of 5 finished" {
		t.Fatalf("after the post was deleted the channel shows %+v, want the state posted anew", posts)
	}
	progress(3, "Join")
	if p := e.fake.botPosts(town); p[len(p)-1].Id != last.Id || shown(p[len(p)-1].Message) != "3 of 5 finished" {
		t.Errorf("the state after: %q, want the new post patched", p[len(p)-1].Message)
	}
}

// TestPressAnsweredWithoutReadingThePost: the answer to a press is its
// acknowledgement, and the update of the pressed post rides on it. For a
// post this process created, the answer reads nothing first: a server
// slow to return posts does not delay it.
func TestPressAnsweredWithoutReadingThePost(t *testing.T) {
	e := newEnv(t, nil)
	e.run(nil)
	c := newChatter(t, e, "eva"+strings.Repeat("e", 23), "dmeva"+strings.Repeat("d", 21), "de")
	c.say("/start")
	posts := e.fake.botPosts(c.channel)
	welcome := posts[len(posts)-1]
	var start *model.PostAction
	for _, a := range actionsOf(welcome) {
		if strings.HasPrefix(a.Name, "Check starten") {
			start = a
		}
	}
	if start == nil {
		t.Fatalf("no button Check starten under %q", welcome.Message)
	}
	release := e.fake.holds.Hold("GET /api/v4/posts/")
	defer release()
	answered, pressed := make(chan int, 1), make(chan struct{})
	go func() {
		defer close(pressed)
		answered <- e.fake.deliverPress(e.mux, pressRequest(welcome, start, c.user))
	}()
	// After the hang guard's Fatal the press goes on once the hold is let
	// go; deliverPress may fail the test, so it must not outlive it.
	defer func() { release(); <-pressed }()
	select {
	case code := <-answered:
		if code != 200 {
			t.Fatalf("press answered %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the press's answer waits for the server to return the post")
	}
	if p := e.fake.botPosts(c.channel)[len(posts)-1]; !strings.HasSuffix(shown(p.Message), "✓ Check starten") || len(actionsOf(p)) != 0 {
		t.Errorf("the pressed post shows %q with %d buttons, want it marked", shown(p.Message), len(actionsOf(p)))
	}
}
