// Package features lists the parts of the dialogue the bot is built with:
// cmd/ampel and the tests wire an engine with All. Adding a feature is a
// package under bot/ and a line here.
package features

import (
	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/check"
	"github.com/ampel-bot/ampel/bot/holiday"
	"github.com/ampel-bot/ampel/bot/link"
	"github.com/ampel-bot/ampel/bot/meeting"
	"github.com/ampel-bot/ampel/bot/network"
	"github.com/ampel-bot/ampel/bot/plan"
	"github.com/ampel-bot/ampel/bot/privacy"
	"github.com/ampel-bot/ampel/bot/remind"
	"github.com/ampel-bot/ampel/bot/settings"
	"github.com/ampel-bot/ampel/bot/share"
	"github.com/ampel-bot/ampel/bot/takeaway"
	"github.com/ampel-bot/ampel/bot/team"
)

// All returns the features in command-menu order (the core's /start comes
// first, /help and /cancel last).
func All() []bot.Feature {
	return []bot.Feature{
		check.Feature(),
		plan.Feature(),
		takeaway.Feature(),
		remind.Feature(),
		settings.Feature(),
		team.Feature(),
		network.Feature(),
		meeting.Feature(),
		share.Feature(),
		link.Feature(),
		privacy.Feature(),
		holiday.Feature(),
	}
}
