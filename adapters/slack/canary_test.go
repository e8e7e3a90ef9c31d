package slack

import (
	"testing"

	"github.com/ampel-bot/ampel/bot/bottest"
)

// TestNoUserTextInLogs walks a whole check and plan in the DM over Socket
// Mode with a user whose name, measure and one typed answer are
// canaries, the adapter (and the Slack library through it) and the
// engine logging JSON at debug level, one reply failing once; no canary
// reaches the log.
func TestNoUserTextInLogs(t *testing.T) {
	var logs bottest.Buffer
	log := bottest.CanaryLog(&logs)
	e := newEnv(t, func(c *Config) { c.Log = log })
	e.engine = bottest.NewLoggedEngine(t, e.store, e.clock, log)
	e.engine.Register(e.a)
	e.run(nil)
	c := newChatter(t, e, "D0CAN0001", "U0CAN0001", german.locale, german.tz)
	e.fake.mu.Lock()
	u := e.fake.users[c.user]
	u.realName = bottest.Canaries.Name
	e.fake.users[c.user] = u
	e.fake.mu.Unlock()
	bottest.WalkCanaries(german.Script, bottest.Walker{
		Say: func(s string) { c.say(s) }, Tap: func(s string) { c.tap(s) },
		Command: func(s string) { // with the user's name, as Slack sends it along
			p := slashPayload(c.channel, c.user, s)
			p["user_name"] = bottest.Canaries.Name
			c.send("slash_commands", p, "> /ampel "+s)
		},
		FailNext: func() { e.fake.failNext("chat.postMessage", failure{status: 500, body: "upstream trouble"}) },
		Retry:    func() { bottest.Retry(t, e.engine, e.clock, 2); c.replies() },
	})
	bottest.CheckCanaryLogs(t, e.conv(c.channel), logs.String())
}
