package mattermost

import (
	"time"

	"github.com/ampel-bot/ampel/bot"
)

// linkGrace is how long the WebSocket may be down before readiness says
// so: a dropped connection is normal (a server restart, a proxy's idle
// timeout) and is followed at once by a new one and a catch-up; one failed
// attempt and its first back-off (1 s) pass unnoticed too. Down for longer
// means the server or the way to it is in trouble.
const linkGrace = 10 * time.Second

// Link says whether the WebSocket is connected, for readiness (bot.Linked):
// up from the server's hello on, down from the moment a connection fails
// (or the first one cannot be made) until the next hello.
func (a *Adapter) Link() bot.Link { return a.link.Get() }
