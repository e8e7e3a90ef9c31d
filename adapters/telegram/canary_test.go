package telegram

import (
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot/bottest"
)

// TestNoUserTextInLogs walks a whole check and plan with a user whose
// name, measure and one typed answer are canaries, the adapter and the
// engine logging JSON at debug level, one reply failing once; no canary
// reaches the log.
func TestNoUserTextInLogs(t *testing.T) {
	var logs bottest.Buffer
	log := bottest.CanaryLog(&logs)
	e := newEnv(t, func(c *Config) { c.Log = log })
	e.engine = bottest.NewLoggedEngine(t, e.store, e.clock, log)
	e.engine.Register(e.a)
	e.run(nil)
	c := newChatter(t, e, 4711, "de")
	first, last, _ := strings.Cut(bottest.Canaries.Name, " ")
	c.from.FirstName, c.from.LastName, c.from.UserName = first, last, first+"_"+last
	bottest.WalkCanaries(bottest.German, bottest.Walker{
		Say: func(s string) { c.say(s) }, Tap: func(s string) { c.tap(s) },
		Command:  func(s string) { c.say("/" + s) },
		FailNext: func() { e.fake.failNext("sendMessage", 500, "Internal Server Error", 0) },
		Retry:    func() { bottest.Retry(t, e.engine, e.clock, 2); c.replies() },
	})
	bottest.CheckCanaryLogs(t, e.conv(c.chat), logs.String())
}
