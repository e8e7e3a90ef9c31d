package mattermost

import (
	"context"
	"strings"
	"testing"

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
}
