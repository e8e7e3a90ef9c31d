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

// NewEngine builds an engine on store with the built-in content, clock and
// Europe/Berlin as the default zone, as adapter tests need it; it is closed
// when the test ends.
func NewEngine(tb testing.TB, store bot.Store, clock bot.Clock) *bot.Engine {
	tb.Helper()
	catalog, texts := Content(tb)
	e, err := bot.New(bot.Config{Store: store, Flows: catalog, Texts: texts, Clock: clock, Zone: Zone("Europe/Berlin")})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(e.Close)
	return e
}
