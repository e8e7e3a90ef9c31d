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
// testdata/locales, a few fixtures in French, Spanish,
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

// measure is an open measure for checkpoint cp of f.
func measure(id int, f *flows.Flow, cp int, text, prio, resp, start, review string) bot.Measure {
	return bot.Measure{ID: id, Flow: f.ID, Checkpoint: f.Checkpoints[cp].ID, Text: text, Priority: prio,
		Responsible: resp, Me: resp == "", Start: start, Review: review, Status: bot.StatusOpen}
}

// planInput is a German plan of zo-kmu with every kind of row: open, done
// and dropped measures, one the owner is responsible for, a long one that
// wraps, one with a character no font has, and one of another check.
func planInput(tb testing.TB) Input {
	tb.Helper()
	catalog, texts := content(tb)
	zo, bmo := flow(tb, catalog, "zo-kmu"), flow(tb, catalog, "bmo-advocacy")
	p := bot.Plan{NextID: 7, Measures: []bot.Measure{
		measure(1, zo, 2, "Arbeitsgruppe „KMU-Kontakte“ gründen", "high", "Jana Müller", "2027-03-22", "2027-05-03"),
		measure(2, zo, 3, "Glossar der wichtigsten Begriffe aus Wirtschaft und Ehrenamt anlegen, mit Beispielen aus unserer eigenen Arbeit und der Arbeit der Betriebe, damit beide Seiten einander verstehen", "medium", "", "2027-04-01", "2027-06-30"),
		measure(3, zo, 3, "Alte Idee, verworfen", "low", "Paul", "2027-04-01", "2027-04-15"),
		measure(4, zo, 4, "Drei Betriebe zum Sommerfest einladen 🎉", "medium", "Ömer Şahin", "2027-04-12", "2027-07-01"),
		measure(5, zo, 6, "Ansprechperson für Kooperationen benennen", "low", "Vorstand", "2027-03-16", "2027-04-13"),
		measure(6, bmo, 0, "Mitgliederbefragung vorbereiten", "high", "Kim", "2027-05-02", "2027-06-01"),
	}}
	p.Measures[2].Status = bot.StatusDropped
	p.Measures[4].Status = bot.StatusDone
	return Input{Texts: texts, Lang: "de", Zone: berlin, Now: at(2027, 3, 15, 11, 0), Flow: zo, Catalog: catalog,
		Run:  rated(zo, at(2027, 3, 15, 10, 30), "green", "yellow", "red", "red", "yellow", "green", "yellow"),
		Prev: rated(zo, at(2026, 9, 1, 16, 0), "yellow", "yellow", "red", "yellow", "red", "", "green"),
		Plan: &p, Owner: "Vorstand des Fördervereins Kinderhaus e. V.", Ref: "3f9a1c0b2d4e"}
}

// date is a calendar day as the plan keeps them.
func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
