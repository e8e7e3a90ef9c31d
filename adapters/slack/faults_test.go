package slack

import (
	"context"
	"testing"

	"github.com/ampel-bot/ampel/adapters/internal/linktest"
	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// TestFaultsLeakNothing (issue 18, item 10) runs linktest.LeakTest on
// Slack: every other Web API call fails (refused, timed out, or a 502
// echoing the request, the token in its headers, as text and as Slack's
// JSON) while a user named with a canary types a canary answer over Socket
// Mode and the bot sends a reply quoting a canary measure.
func TestFaultsLeakNothing(t *testing.T) {
	l := linktest.NewLeakTest(t)
	e := newEnv(t, func(c *Config) { c.Log, c.HTTPClient = l.Log, l.Client(c.HTTPClient) })
	e.engine = bottest.NewLoggedEngine(t, e.store, e.clock, l.Log)
	e.engine.Register(e.a)
	c := newChatter(t, e, "D0LEAK001", "U0LEAK001", "de-DE", "Europe/Berlin")
	e.fake.mu.Lock()
	u := e.fake.users[c.user]
	u.realName = bottest.Canaries.Name
	e.fake.users[c.user] = u
	e.fake.mu.Unlock()
	l.Start()
	e.run(nil)
	to := bot.Address{Platform: Platform, Workspace: teamID, Chat: c.channel, User: c.user}
	l.Run(func() error {
		e.fake.push("events_api", dmEvent(c.channel, c.user, bottest.Canaries.Answer))
		return e.a.Send(context.Background(), to, bot.Message{Text: "Gespeichert: " + bottest.Canaries.Measure})
	})
	var shown []string
	for _, m := range e.fake.messages(c.channel) {
		shown = append(shown, m.Shown()+"\n"+m.Text)
	}
	l.Check(shown, testBotToken, testAppToken)
}
