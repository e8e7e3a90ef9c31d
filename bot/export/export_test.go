package export

import (
	"io/fs"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/flows"
	"github.com/ampel-bot/ampel/locales"
)

// testLangs are the languages the tests render: the shipped ones and, from
// testdata/locales, the export texts and a few fixtures in French, Spanish,
// Russian and Vietnamese, so that every script is drawn.
var testLangs = []string{"de", "en", "fr", "es", "ru", "vi"}

// content returns the built-in flows and texts in testLangs. The testdata
// files are read last: where the shipped locales gain the same IDs, the
// fixtures still decide, and the golden pictures stay put.
func content(tb testing.TB) (*flows.Catalog, *bot.Texts) {
	tb.Helper()
	catalog, err := flows.Load(flows.Builtin)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := locales.Load(locales.Builtin); err != nil {
		tb.Fatal(err)
	}
	b := i18n.NewBundle(language.German)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	for _, fsys := range []fs.FS{locales.Builtin, os.DirFS("testdata/locales")} {
		names, err := fs.Glob(fsys, "*.toml")
		if err != nil {
			tb.Fatal(err)
		}
		for _, name := range names {
			data, err := fs.ReadFile(fsys, name)
			if err != nil {
				tb.Fatal(err)
			}
			if _, err := b.ParseMessageFileBytes(data, name); err != nil {
				tb.Fatalf("%s: %v", name, err)
			}
		}
	}
	return catalog, bot.NewTexts(b, testLangs, slog.New(slog.DiscardHandler))
}

func flow(tb testing.TB, c *flows.Catalog, id string) *flows.Flow {
	tb.Helper()
	f, ok := c.Get(id)
	if !ok {
		tb.Fatalf("no flow %q", id)
	}
	return f
}

var berlin = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return loc
}()

// at is a moment in Berlin.
func at(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, berlin)
}

// rated is a finished run of f with the ratings given in checkpoint order
// ("" leaves a checkpoint unrated).
func rated(f *flows.Flow, done time.Time, ratings ...string) *bot.Run {
	r := &bot.Run{Flow: f.ID, Version: f.Version, Started: done.Add(-time.Hour), Done: done, Ratings: map[string]string{}}
	for i, v := range ratings {
		if v != "" {
			r.Ratings[f.Checkpoints[i].ID] = v
		}
	}
	return r
}
