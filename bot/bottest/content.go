package bottest

import (
	"log/slog"
	"sync"
	"testing"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/features"
	"github.com/ampel-bot/ampel/flows"
	"github.com/ampel-bot/ampel/locales"
)

// Content loads the built-in flows and texts, as a test needs them. They
// are loaded once per test binary and shared: neither changes after it is
// loaded, and loading them took a second under the race detector, for
// each of hundreds of tests.
func Content(tb testing.TB) (*flows.Catalog, *bot.Texts) {
	tb.Helper()
	return content(tb, nil)
}

var loaded struct {
	once    sync.Once
	catalog *flows.Catalog
	set     *locales.Set
	texts   *bot.Texts // logging nowhere
	err     error
}

// content is Content with texts that log to log (nil: nowhere).
func content(tb testing.TB, log *slog.Logger) (*flows.Catalog, *bot.Texts) {
	tb.Helper()
	loaded.once.Do(func() {
		if loaded.catalog, loaded.err = flows.Load(flows.Builtin); loaded.err != nil {
			return
		}
		if loaded.set, loaded.err = locales.Load(locales.Builtin); loaded.err != nil {
			return
		}
		loaded.texts = bot.NewTexts(loaded.set.Bundle, loaded.set.Langs, slog.New(slog.DiscardHandler))
	})
	if loaded.err != nil {
		tb.Fatal(loaded.err)
	}
	if log == nil {
		return loaded.catalog, loaded.texts
	}
	return loaded.catalog, bot.NewTexts(loaded.set.Bundle, loaded.set.Langs, log)
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
	catalog, texts := content(tb, log)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e, err := bot.New(bot.Config{Store: store, Flows: catalog, Texts: texts, Clock: clock, Zone: Zone("Europe/Berlin"), Log: log, Features: features.All(), Observer: obs})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(e.Close)
	return e
}
