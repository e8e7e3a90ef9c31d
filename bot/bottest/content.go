package bottest

import (
	"log/slog"
	"testing"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/features"
	"github.com/ampel-bot/ampel/flows"
	"github.com/ampel-bot/ampel/locales"
)

// Content loads the built-in flows and texts, as a test needs them.
func Content(tb testing.TB) (*flows.Catalog, *bot.Texts) {
	tb.Helper()
	return content(tb, slog.New(slog.DiscardHandler))
}

func content(tb testing.TB, log *slog.Logger) (*flows.Catalog, *bot.Texts) {
	tb.Helper()
	catalog, err := flows.Load(flows.Builtin)
	if err != nil {
		tb.Fatal(err)
	}
	set, err := locales.Load(locales.Builtin)
	if err != nil {
		tb.Fatal(err)
	}
	return catalog, bot.NewTexts(set.Bundle, set.Langs, log)
}

// NewEngine builds an engine on store with the built-in content, clock and
// Europe/Berlin as the default zone, as adapter tests need it; it is closed
// when the test ends.
func NewEngine(tb testing.TB, store bot.Store, clock bot.Clock) *bot.Engine {
	tb.Helper()
	return NewLoggedEngine(tb, store, clock, nil)
}

// NewLoggedEngine is NewEngine logging to log.
func NewLoggedEngine(tb testing.TB, store bot.Store, clock bot.Clock, log *slog.Logger) *bot.Engine {
	tb.Helper()
	return newEngine(tb, store, clock, log, nil)
}

// NewObservedEngine is NewEngine reporting to obs.
func NewObservedEngine(tb testing.TB, store bot.Store, clock bot.Clock, obs bot.Observer) *bot.Engine {
	tb.Helper()
	return newEngine(tb, store, clock, nil, obs)
}

func newEngine(tb testing.TB, store bot.Store, clock bot.Clock, log *slog.Logger, obs bot.Observer) *bot.Engine {
	tb.Helper()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	catalog, texts := content(tb, log)
	e, err := bot.New(bot.Config{Store: store, Flows: catalog, Texts: texts, Clock: clock, Zone: Zone("Europe/Berlin"), Log: log, Features: features.All(), Observer: obs})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(e.Close)
	return e
}
