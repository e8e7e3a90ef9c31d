package bot

import (
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/flows"
	"github.com/ampel-bot/ampel/locales"
	"github.com/nicksnyder/go-i18n/v2/i18n"
)

// A server parses a language's messages only once someone needs them,
// English too (the default language at start): every language costs over
// two megabytes of heap. Yet the words anyone may
// type (dates, zones, languages, ratings) are known in every language from
// the start, and what a language shows does not depend on when it loaded.
func TestLanguagesLoadWhenUsed(t *testing.T) {
	set, err := locales.Load(locales.Builtin)
	if err != nil {
		t.Fatal(err)
	}
	catalog, err := flows.Load(flows.Builtin)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var loaded []string
	full := set.SplitLoader()
	texts := NewLazyTexts(set.Langs, set.Has(), func(lang string) (map[string]string, *i18n.Bundle, error) {
		mu.Lock()
		loaded = append(loaded, lang)
		mu.Unlock()
		return full(lang)
	}, set.SplitLoader(VocabPrefixes...), slog.New(slog.DiscardHandler))
	want := func(langs ...string) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		got := slices.Clone(loaded)
		slices.Sort(got)
		if !slices.Equal(got, langs) {
			t.Fatalf("languages loaded: %v, want %v", got, langs)
		}
	}
	want("de")

	// What the engine builds at start reads every language's vocabulary.
	for _, f := range catalog.All() {
		if err := texts.CheckFlow(f); err != nil {
			t.Fatal(err)
		}
	}
	vocab := newDateVocab(texts)
	w := newWords(texts, catalog)
	want("de")

	today := time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC) // a Wednesday
	if d, _, p := vocab.parseDate("fr", "mardi prochain", today); p != dateOK || d.Weekday() != time.Tuesday {
		t.Errorf(`French "mardi prochain" before French loaded: %v %v`, d, p)
	}
	if _, ok := vocab.findZone("Wien"); !ok {
		t.Error(`"Wien" not found as a time zone`)
	}
	if l, ok := vocab.language("русский"); !ok || l != "ru" {
		t.Errorf(`"русский" read as %q %v, want ru`, l, ok)
	}
	if _, ok := w.level("traffic-light", "rouge"); !ok {
		t.Error(`"rouge" not read as a rating`)
	}

	all := NewTexts(set.Bundle, set.Langs, slog.New(slog.DiscardHandler))
	early := texts.T("ru", "language.name")
	want("de")
	if got := texts.T("fr", "welcome"); got != all.T("fr", "welcome") {
		t.Errorf("French welcome loaded late: %q, want %q", got, all.T("fr", "welcome"))
	}
	want("de", "fr")
	texts.T("ru", "welcome")
	if texts.T("ru", "language.name") != early || early != all.T("ru", "language.name") {
		t.Errorf("Russian language name before and after loading: %q, %q", early, texts.T("ru", "language.name"))
	}
	if got, want := texts.N("ru", "plan.header", 21), all.N("ru", "plan.header", 21); got != want {
		t.Errorf("Russian plural loaded late: %q, want %q", got, want)
	}
	want("de", "fr", "ru")
	// A check not translated into French is shown in English, which is
	// loaded for it, as for its own speakers.
	if got, want := texts.T("fr", "kmu-zo.title"), all.T("en", "kmu-zo.title"); got != want || got == "kmu-zo.title" {
		t.Errorf("French title of a check only in German and English: %q, want the English %q", got, want)
	}
	want("de", "en", "fr", "ru")
	if got, want := texts.T("en", "welcome"), all.T("en", "welcome"); got != want {
		t.Errorf("English welcome loaded late: %q, want %q", got, want)
	}
}

// A server keeps a loaded language's messages without plural forms as
// plain texts, apart from the library's bundle (half a kilobyte less each):
// every message of every language reads as it did from a bundle of all the
// language's messages, with data or without, with a count or without, and
// where a language lacks it (a check not translated, an ID nobody shipped).
func TestLazyTextsReadAsFull(t *testing.T) {
	set, err := locales.Load(locales.Builtin)
	if err != nil {
		t.Fatal(err)
	}
	discard := slog.New(slog.DiscardHandler)
	lazy := NewLazyTexts(set.Langs, set.Has(), set.SplitLoader(), set.SplitLoader(VocabPrefixes...), discard)
	bundles, vocab := set.Loader(), set.Loader(VocabPrefixes...)
	all := NewLazyTexts(set.Langs, set.Has(), func(lang string) (map[string]string, *i18n.Bundle, error) {
		b, err := bundles(lang)
		return nil, b, err
	}, func(lang string) (map[string]string, *i18n.Bundle, error) {
		b, err := vocab(lang)
		return nil, b, err
	}, discard)
	ids := map[string]bool{"no.such.message": true}
	for _, have := range set.IDs {
		for id := range have {
			ids[id] = true
		}
	}
	kv := []any{"Title", "T", "Name", "N", "Date", "1.2.", "Count", 3, "Level", "L", "Lang", "en"}
	// First what the engine reads of every language before it is loaded.
	words := 0
	for _, lang := range set.Langs[1:] {
		for id := range ids {
			if !vocabID(id) {
				continue
			}
			if got, want := lazy.T(lang, id), all.T(lang, id); got != want {
				t.Errorf("T(%s, %s) before %s loaded = %q, want %q", lang, id, lang, got, want)
			}
			words++
		}
	}
	if words < 100 || lazy.loc["fr"].loaded.Load() {
		t.Fatalf("read %d words, French loaded %v; want a hundred or more words before any language but the default loads", words, lazy.loc["fr"].loaded.Load())
	}
	checked := 0
	for _, lang := range set.Langs {
		for id := range ids {
			if got, want := lazy.T(lang, id), all.T(lang, id); got != want {
				t.Errorf("T(%s, %s) = %q, want %q", lang, id, got, want)
			}
			if got, want := lazy.T(lang, id, kv...), all.T(lang, id, kv...); got != want {
				t.Errorf("T(%s, %s, data) = %q, want %q", lang, id, got, want)
			}
			for _, n := range []int{0, 1, 2, 5, 21} {
				if got, want := lazy.N(lang, id, n), all.N(lang, id, n); got != want {
					t.Errorf("N(%s, %s, %d) = %q, want %q", lang, id, n, got, want)
				}
			}
			if got, want := lazy.Has(lang, id), all.Has(lang, id); got != want {
				t.Errorf("Has(%s, %s) = %v, want %v", lang, id, got, want)
			}
			checked++
		}
	}
	if checked < 5000 {
		t.Errorf("checked %d messages, want every message of every language", checked)
	}
}
