package telegram

import (
	"context"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/adapters/internal/linktest"
	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// TestFaultsLeakNothing (issue 18, item 10) runs linktest.LeakTest on
// Telegram: every other call fails (refused, timed out, or a 502 echoing
// the request, whose URL holds the token, as text and as Telegram's JSON)
// while a user named with a canary types a canary answer and the bot
// sends a reply quoting a canary measure.
func TestFaultsLeakNothing(t *testing.T) {
	l := linktest.NewLeakTest(t)
	e := newEnv(t, func(c *Config) { c.Log, c.HTTPClient = l.Log, l.Client(c.HTTPClient) })
	e.engine = bottest.NewLoggedEngine(t, e.store, e.clock, l.Log)
	e.engine.Register(e.a)
	l.Start()
	e.run(nil)
	first, last, _ := strings.Cut(bottest.Canaries.Name, " ")
	from := user(4711, "de")
	from.FirstName, from.LastName, from.UserName = first, last, first+"_"+last
	l.Run(func() error {
		e.fake.pushText(4711, from, bottest.Canaries.Answer)
		return e.a.Send(context.Background(), addr(4711), bot.Message{Text: "Gespeichert: " + bottest.Canaries.Measure})
	})
	var shown []string
	for _, m := range e.fake.messages(4711) {
		shown = append(shown, m.Text)
	}
	l.Check(shown, testToken, strings.SplitN(testToken, ":", 2)[1], e.a.cfg.Secret)
	if !strings.Contains(l.Logs.String(), "getUpdates failed") {
		t.Error("receiving met no fault")
	}
}
