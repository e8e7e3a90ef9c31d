package mattermost

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ampel-bot/ampel/bot"
)

// TestEscapingMakesUserTextInert sends user text full of Markdown and
// mentions: the post contains no live mention (@channel, @all, @here,
// @someone) and no live Markdown, and a client shows exactly the text.
func TestEscapingMakesUserTextInert(t *testing.T) {
	e := newEnv(t, nil)
	ch := "town" + strings.Repeat("t", 22)
	e.fake.addChannel(ch)
	text := "Hi @channel @all @here @someone, *bold* _it_ `code` ~~x~~ [l](http://x) <b>&amp; #h\n1. list\n    indented\n> quote | a | $x$ :smile: \\*"
	if err := e.a.Send(context.Background(), bot.Address{Platform: Platform, Chat: ch}, bot.Message{Text: text}); err != nil {
		t.Fatal(err)
	}
	p := e.fake.botPosts(ch)[0]
	for _, live := range []string{"@channel", "@all", "@here", "@someone", "*bold*", "_it_", "`code`", "~~x~~", "[l](", "\n1. ", "\n    ", "\n> ", "$x$"} {
		if strings.Contains(p.Message, live) {
			t.Errorf("post contains live %q: %q", live, p.Message)
		}
	}
	if got := shown(p.Message); got != text {
		t.Errorf("shown as\n%q\nwant\n%q", got, text)
	}
	if name, ok := stripMention("@Ampel. /check", botName); !ok || name != "/check" {
		t.Errorf("stripMention = %q, %v", name, ok)
	}
	if got, ok := stripMention("İİ @AMPEL İ", botName); !ok || got != "İİ İ" {
		t.Errorf("stripMention with non-ASCII = %q, %v", got, ok)
	}
	for _, s := range []string{"@ampelx hi", "x@ampel hi", "hi"} {
		if _, ok := stripMention(s, botName); ok {
			t.Errorf("%q counted as a mention", s)
		}
	}
}

// TestLongTextSplit shows that a text over the post limit (after
// escaping) goes out in several posts that each fit, in order, with
// nothing lost, and files in the last one.
func TestLongTextSplit(t *testing.T) {
	e := newEnv(t, nil)
	ch := "town" + strings.Repeat("t", 22)
	e.fake.addChannel(ch)
	word := "Wort*_ "
	text := strings.Repeat(word, 6000) // 42000 runes, 54000 escaped
	m := bot.Message{Text: text, Files: []bot.File{{Name: "plan.ics", MIME: "text/calendar", Data: []byte("BEGIN:VCALENDAR")}}}
	if err := e.a.Send(context.Background(), bot.Address{Platform: Platform, Chat: ch}, m); err != nil {
		t.Fatal(err)
	}
	posts := e.fake.botPosts(ch)
	if len(posts) != 4 { // 54000 runes escaped
		t.Fatalf("%d posts, want 4", len(posts))
	}
	var joined []string
	for _, p := range posts {
		if n := utf8.RuneCountInString(p.Message); n > maxPost {
			t.Errorf("post of %d runes", n)
		}
		joined = append(joined, shown(p.Message))
	}
	if got := strings.Join(joined, " "); strings.Join(strings.Fields(got), " ") != strings.TrimSpace(text) {
		t.Error("the parts do not add up to the text")
	}
	if last := posts[len(posts)-1]; len(last.FileIds) != 1 || e.fake.uploads[last.FileIds[0]].name != "plan.ics" {
		t.Errorf("file not on the last post: %v", last.FileIds)
	}
}

// TestSendErrors shows how the server's answers reach the outbox: 429
// with X-Ratelimit-Reset is *bot.RateLimited, 403/404 on a channel the
// server says is gone is bot.ErrRecipientGone (on one it says is there, an
// error to retry), a lost answer is bot.ErrUnknownOutcome, and the
// retry of that message carries the same pending_post_id, so the server
// does not post it twice.
func TestSendErrors(t *testing.T) {
	e := newEnv(t, nil)
	ch := "town" + strings.Repeat("t", 22)
	e.fake.addChannel(ch)
	to := bot.Address{Platform: Platform, Chat: ch}
	ctx := context.Background()

	e.fake.failNext("POST /api/v4/posts", failure{status: 429, header: map[string]string{"X-Ratelimit-Reset": "7"}})
	err := e.a.Send(ctx, to, bot.Message{Text: "a"})
	var rl *bot.RateLimited
	if !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second {
		t.Errorf("429: %v, want RateLimited 7s", err)
	}

	if err := e.a.Send(ctx, bot.Address{Platform: Platform, Chat: "gone" + strings.Repeat("g", 22)}, bot.Message{Text: "a"}); !errors.Is(err, bot.ErrRecipientGone) {
		t.Errorf("unknown channel: %v, want ErrRecipientGone", err)
	}
	e.fake.failNext("POST /api/v4/posts", failure{status: 404})
	if err := e.a.Send(ctx, to, bot.Message{Text: "b"}); err == nil || errors.Is(err, bot.ErrRecipientGone) {
		t.Errorf("404 while the channel is there: %v, want an error to retry", err)
	}

	before := len(e.fake.botPosts(ch))
	m := bot.Message{Text: "once", Buttons: [][]bot.Button{{{Label: "Yes", Action: "y"}}}}
	e.fake.failNext("POST /api/v4/posts", failure{drop: true})
	err = e.a.Send(ctx, to, m)
	if !errors.Is(err, bot.ErrUnknownOutcome) {
		t.Errorf("lost answer: %v, want ErrUnknownOutcome", err)
	}
	if err := e.a.Send(ctx, to, m); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if n := len(e.fake.botPosts(ch)) - before; n != 1 {
		t.Errorf("the retried message was posted %d times, want once", n)
	}
	if strings.Contains(err2s(err), testToken) || strings.Contains(e.logs.String(), testToken) {
		t.Error("token leaked")
	}
	if err := e.a.Send(ctx, bot.Address{Platform: "slack", Chat: ch}, bot.Message{Text: "x"}); !errors.Is(err, bot.ErrRecipientGone) {
		t.Errorf("wrong platform: %v", err)
	}
}

func err2s(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
