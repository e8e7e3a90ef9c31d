package slack

import (
	"time"

	"github.com/ampel-bot/ampel/bot"
)

// linkGrace is how long Socket Mode may be without a connection before
// readiness says so. Slack asks for a new connection every few hours (a
// "disconnect" message) and the library opens it at once; a failed
// attempt is retried after 100 ms, doubling. A refresh and a few failed
// attempts pass unnoticed; down for longer means Slack or the way to it
// is in trouble.
const linkGrace = 10 * time.Second

// Link says whether the Socket Mode connection is open, for readiness
// (bot.Linked): down from the moment the library starts connecting (at the
// start, and after the connection dropped or Slack asked for a new one)
// until it is connected, and for good once Slack refused the app token.
//
// In HTTP mode (the Events API) the adapter holds no connection: Slack
// calls the bot, and whether it can is the HTTP server's matter, which
// the adapter cannot see. Link then always reports up.
func (a *Adapter) Link() bot.Link { return a.link.Get() }
