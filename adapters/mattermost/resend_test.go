package mattermost

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
)

// TestResendAfterRestartPostsOnce: the server accepted a post, and the
// process died before it marked the message delivered. The restarted
// process (a new adapter, which remembers nothing) sends the same outbox
// message again: the post carries the same pending_post_id, and the server
// (within its 30 s) does not post it twice. A different outbox message
// with the same text is posted.
func TestResendAfterRestartPostsOnce(t *testing.T) {
	e := newEnv(t, nil)
	ch := "town" + strings.Repeat("t", 22)
	e.fake.addChannel(ch)
	to := bot.Address{Platform: Platform, Chat: ch}
	m := bot.Message{Text: "Danke!", Buttons: [][]bot.Button{{{Label: "Weiter", Action: "n"}}}}
	if err := e.a.Send(bot.WithOutboxID(context.Background(), 41), to, m); err != nil {
		t.Fatal(err)
	}
	restarted, err := New(context.Background(), Config{URL: e.fake.srv.URL, Token: testToken, HTTPClient: e.fake.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if err := restarted.Send(bot.WithOutboxID(context.Background(), 41), to, m); err != nil {
		t.Fatal(err)
	}
	if n := len(e.fake.botPosts(ch)); n != 1 {
		t.Errorf("the message resent after a restart shows %d times; want once", n)
	}
	if err := restarted.Send(bot.WithOutboxID(context.Background(), 42), to, m); err != nil {
		t.Fatal(err)
	}
	if n := len(e.fake.botPosts(ch)); n != 2 {
		t.Errorf("after another message with the same text: %d posts; want 2", n)
	}
	// The server forgets a pending_post_id after 30 s: a resend later than
	// that shows twice (and the engine counts it as a possible duplicate).
	e.fake.mu.Lock()
	e.fake.clock = max(e.fake.clock, time.Now().UnixMilli()) + 31_000
	e.fake.mu.Unlock()
	if err := restarted.Send(bot.WithOutboxID(context.Background(), 42), to, m); err != nil {
		t.Fatal(err)
	}
	if n := len(e.fake.botPosts(ch)); n != 3 {
		t.Errorf("a resend 31 s later: %d posts; want 3, as the server keeps pending_post_id 30 s", n)
	}
}

// TestOutboxIDUsedAgainPostsTheNewMessage: a database started afresh or
// restored from a backup gives out outbox IDs the last one used. A new
// message under an ID the server saw within its 30 s is a different
// message, and is posted, not dropped as a duplicate of the old one
// (found by TestKillPoints, whose runs each start a database afresh).
func TestOutboxIDUsedAgainPostsTheNewMessage(t *testing.T) {
	e := newEnv(t, nil)
	ch := "town" + strings.Repeat("r", 22)
	e.fake.addChannel(ch)
	to := bot.Address{Platform: Platform, Chat: ch}
	if err := e.a.Send(bot.WithOutboxID(context.Background(), 7), to, bot.Message{Text: "Vorher"}); err != nil {
		t.Fatal(err)
	}
	restored, err := New(context.Background(), Config{URL: e.fake.srv.URL, Token: testToken, HTTPClient: e.fake.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if err := restored.Send(bot.WithOutboxID(context.Background(), 7), to, bot.Message{Text: "Nachher"}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range e.fake.botPosts(ch) {
		got = append(got, p.Message)
	}
	if len(got) != 2 || got[1] != "Nachher" {
		t.Errorf("posts %q; want the new message posted after the old one", got)
	}
}
