package mattermost

import (
	"context"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/adapters/internal/linktest"
	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// TestFaultsLeakNothing (issue 18, item 10) runs linktest.LeakTest on
// Mattermost: every other REST call fails (refused, timed out, or a 502
// echoing the request, the token in its headers, as text and as the
// server's JSON error) while a user named with a canary posts a canary
// answer and the bot sends a reply quoting a canary measure.
func TestFaultsLeakNothing(t *testing.T) {
	l := linktest.NewLeakTest(t)
	e := newEnv(t, func(c *Config) { c.Log, c.HTTPClient = l.Log, l.Client(c.HTTPClient) })
	e.engine = bottest.NewLoggedEngine(t, e.store, e.clock, l.Log)
	e.engine.Register(e.a)
	e.rec.next = e.engine
	user := "canary" + strings.Repeat("c", 20)
	c := newChatter(t, e, user, "dmcanary"+strings.Repeat("d", 18), "de")
	first, last, _ := strings.Cut(bottest.Canaries.Name, " ")
	e.fake.mu.Lock()
	u := e.fake.users[user]
	u.FirstName, u.LastName, u.Nickname, u.Username = first, last, first, strings.ToLower(first+"."+last)
	e.fake.mu.Unlock()
	l.Start()
	bottest.Run(t, e.a, e.rec)
	to := bot.Address{Platform: Platform, Chat: c.channel, User: c.user}
	l.Run(func() error {
		e.fake.userPost(c.channel, c.user, bottest.Canaries.Answer)
		return e.a.Send(context.Background(), to, bot.Message{Text: "Gespeichert: " + bottest.Canaries.Measure})
	})
	var shown []string
	for _, p := range e.fake.botPosts(c.channel) {
		shown = append(shown, p.Message)
	}
	l.Check(shown, testToken, e.a.cfg.CommandToken)
}
