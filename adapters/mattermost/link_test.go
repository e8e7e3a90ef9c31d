package mattermost

import (
	"testing"
	"time"

	"github.com/ampel-bot/ampel/adapters/internal/linktest"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// TestLinkFollowsWebSocket: readiness as the operator sees it through the
// WebSocket. Connected: ready. A dropped connection that is made again at
// once: ready. The server goes away: not ready once that lasted longer
// than the grace, not before; the server back: ready again.
func TestLinkFollowsWebSocket(t *testing.T) {
	e := newEnv(t, nil)
	clock := bottest.NewClock(time.Now())
	e.a.now = clock.Now
	e.run(nil)
	waitFor(t, "the link up", func() bool { return e.a.Link().Up })
	linktest.Up(t, e.a.Link, clock)

	e.fake.setDown(true)
	waitFor(t, "the link down", func() bool { return !e.a.Link().Up })
	linktest.Down(t, e.a.Link, clock, linkGrace)
	e.fake.setDown(false)
	waitFor(t, "the link up again", func() bool { return e.a.Link().Up })
	linktest.Up(t, e.a.Link, clock)

	e.fake.drop()
	waitFor(t, "a new connection", e.fake.connected)
	waitFor(t, "the link up after a drop", func() bool { return e.a.Link().Up })
}
