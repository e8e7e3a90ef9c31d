package mattermost

import (
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot/bottest"
)

// TestNoUserTextInLogs walks a whole check and plan in a direct channel
// with buttons, with a user whose name, measure and one typed answer are
// canaries, the adapter and the engine logging JSON at debug level, one
// reply failing once; no canary reaches the log.
func TestNoUserTextInLogs(t *testing.T) {
	var logs bottest.Buffer
	log := bottest.CanaryLog(&logs)
	e := newEnv(t, func(c *Config) { c.Log = log })
	e.engine = bottest.NewLoggedEngine(t, e.store, e.clock, log)
	e.engine.Register(e.a)
	e.rec.next = e.engine
	e.run(nil)
	user := "canary" + strings.Repeat("c", 20)
	c := newChatter(t, e, user, "dmcanary"+strings.Repeat("d", 18), "de")
	first, last, _ := strings.Cut(bottest.Canaries.Name, " ")
	e.fake.mu.Lock()
	u := e.fake.users[user]
	u.FirstName, u.LastName, u.Nickname, u.Username = first, last, first, strings.ToLower(first+"."+last)
	e.fake.mu.Unlock()
	bottest.WalkCanaries(bottest.German, bottest.Walker{
		Say: func(s string) { c.say(s) }, Tap: func(s string) { c.tap(s) },
		Command:  func(s string) { c.say("/" + s) },
		FailNext: func() { e.fake.failNext("POST /api/v4/posts", failure{status: 500}) },
		Retry:    func() { bottest.Retry(t, e.engine, e.clock, 2); c.replies() },
	})
	bottest.CheckCanaryLogs(t, e.conv(c.channel), logs.String())
}
