package bottest_test

import (
	"testing"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

func TestMemStore(t *testing.T) {
	bottest.TestStore(t, func(t *testing.T) bot.Store { return bottest.NewMemStore() })
}
