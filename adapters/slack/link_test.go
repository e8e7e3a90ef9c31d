package slack

import (
	"testing"
	"time"

	"github.com/ampel-bot/ampel/adapters/internal/linktest"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// cut closes the Socket Mode connection from Slack's side, as a network
// failure or a restarted Slack server does, without a disconnect message.
func (f *fakeSlack) cut() {
	c := f.current()
	f.mu.Lock()
	f.conn = nil
	f.mu.Unlock()
	c.Close()
}

// refuse makes apps.connections.open fail with a 503 until it is called
// with false, as while Slack is unreachable.
func (f *fakeSlack) refuse(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fails["apps.connections.open"] = nil
	if on {
		for range 1000 {
			f.fails["apps.connections.open"] = append(f.fails["apps.connections.open"],
				failure{status: 503, body: `{"ok":false,"error":"service_unavailable"}`})
		}
	}
}

func (f *fakeSlack) connections() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns
}

// TestLinkFollowsSocketMode: readiness as the operator sees it through
// Socket Mode. Connected: ready. Slack asks for a new connection: still
// ready (it comes at once). The connection drops and Slack stays away:
// not ready once that lasted longer than the grace, not before; Slack
// back: ready again.
func TestLinkFollowsSocketMode(t *testing.T) {
	e := newEnv(t, nil)
	clock := bottest.NewClock(time.Now())
	e.a.now = clock.Now
	e.run(nil)
	waitFor(t, "the link up", func() bool { return e.a.Link().Up })

	e.fake.disconnect()
	waitFor(t, "a new connection after the refresh", func() bool { return e.fake.connections() == 2 && e.a.Link().Up })
	linktest.Up(t, e.a.Link, clock)

	e.fake.refuse(true)
	e.fake.cut()
	waitFor(t, "the link down", func() bool { return !e.a.Link().Up })
	linktest.Down(t, e.a.Link, clock, linkGrace)
	e.fake.refuse(false)
	waitFor(t, "the link up again", func() bool { return e.a.Link().Up })
	linktest.Up(t, e.a.Link, clock)
}

// TestLinkHTTPModeHasNoConnection: in HTTP mode Slack calls the bot; there
// is no connection to watch, and the adapter never says it is down.
func TestLinkHTTPModeHasNoConnection(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AppToken, c.SigningSecret = "", testSecret })
	bottest.Run(t, e.a, e.engine)
	linktest.Up(t, e.a.Link, bottest.NewClock(time.Now()))
}
