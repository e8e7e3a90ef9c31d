package bottest

import (
	"log/slog"
	"testing"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/flows"
	"github.com/ampel-bot/ampel/locales"
)

// Content loads the built-in flows and texts, as a test needs them.
func Content(tb testing.TB) (*flows.Catalog, *bot.Texts) {
	tb.Helper()
	catalog, err := flows.Load(flows.Builtin)
	if err != nil {
		tb.Fatal(err)
	}
	set, err := locales.Load(locales.Builtin)
	if err != nil {
		tb.Fatal(err)
	}
	return catalog, bot.NewTexts(set.Bundle, set.Langs, slog.New(slog.DiscardHandler))
}
