package locales_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ampel-bot/ampel/internal/heaptest"
	"github.com/ampel-bot/ampel/locales"
)

// A server keeps the loaded Set (its message IDs and what SplitLoader reads) for
// as long as it runs: it must not keep the shipped files' bytes, which the
// binary holds anyway, nor, through the IDs, the strings the TOML parser
// made of whole files. Keeping them cost 1.2 MB of the live heap; the IDs
// alone are about 0.26 MB.
func TestLoadedSetKeepsNoFileText(t *testing.T) {
	n := heaptest.Live(func() any {
		set, err := locales.Load(locales.Builtin)
		if err != nil {
			t.Fatal(err)
		}
		set.Bundle = nil // what a server drops after checking the flows
		return set
	})
	if n > 500<<10 {
		t.Errorf("a loaded Set keeps %d KB live, want at most 500 KB", n>>10)
	}
}

// A language's bundle keeps its messages, not the text of the files they
// came from: the vocabulary of every language (a few dozen messages each)
// is loaded at start, and with it kept the whole interface file of each.
func TestLoadedBundleKeepsNoFileText(t *testing.T) {
	// A large comment, as a translator's notes: 200 KB that no message needs.
	notes := strings.Repeat("# "+strings.Repeat("x", 98)+"\n", 2000)
	set, err := locales.Load(fstest.MapFS{
		"ui.de.toml": {Data: []byte(notes + "\"parse.today\" = \"heute\"\nwelcome = \"Willkommen\"\n")},
		"ui.en.toml": {Data: []byte(notes + "\"parse.today\" = \"today\"\nwelcome = \"Welcome\"\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, prefixes := range [][]string{nil, {"parse."}} {
		load := set.SplitLoader(prefixes...)
		n := heaptest.Live(func() any {
			texts, b, err := load("en")
			if err != nil {
				t.Fatal(err)
			}
			return []any{texts, b}
		})
		if n > 100<<10 {
			t.Errorf("SplitLoader(%q)(en) keeps %d KB live, want at most 100 KB (a file is 200 KB)", prefixes, n>>10)
		}
	}
}

// The date words, language names and rating words of every language are
// loaded at start, whichever languages the users speak. As a server keeps
// them, plain texts, all but their plural messages (none so far): under
// 100 KB, where a bundle of them all kept 160-240 KB, and a bundle for
// each language 270-310 KB (six copies of every language's plural rules).
func TestSplitVocabularyKeepsLittle(t *testing.T) {
	set, err := locales.Load(locales.Builtin)
	if err != nil {
		t.Fatal(err)
	}
	load := set.SplitLoader("parse.", "language.", "scale.")
	n := heaptest.Live(func() any {
		var kept []any
		for _, lang := range set.Langs {
			texts, b, err := load(lang)
			if err != nil {
				t.Fatal(err)
			}
			kept = append(kept, texts, b)
		}
		return kept
	})
	if n > 100<<10 {
		t.Errorf("the vocabulary of %d languages keeps %d KB live, want at most 100 KB", len(set.Langs), n>>10)
	}
	for lang, want := range map[string]string{"de": "Deutsch", "fr": "Français", "ru": "Русский"} {
		texts, _, err := load(lang)
		if err != nil {
			t.Fatal(err)
		}
		if got := texts["language.name"]; got != want {
			t.Errorf("%s: language.name = %q, want %q", lang, got, want)
		}
	}
}

// A vocabulary message one language lacks is not found in another's there:
// the caller falls back as it does for every message (English, then the
// default language).
func TestVocabularyDoesNotMixLanguages(t *testing.T) {
	set, err := locales.Load(fstest.MapFS{
		"ui.de.toml": {Data: []byte("\"parse.today\" = \"heute\"\n")},
		"ui.en.toml": {Data: []byte("\"parse.today\" = \"today\"\n")},
		"x.de.toml":  {Data: []byte("\"scale.x.red\" = \"rot\"\n")},
		"x.en.toml":  {Data: []byte("\"scale.x.red\" = \"red\"\n")},
		"ui.fr.toml": {Data: []byte("\"parse.today\" = \"aujourd'hui\"\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	load := set.SplitLoader("parse.", "scale.")
	texts, _, err := load("fr")
	if err != nil {
		t.Fatal(err)
	}
	if got := texts["parse.today"]; got != "aujourd'hui" {
		t.Errorf("fr parse.today = %q; want aujourd'hui", got)
	}
	if got, ok := texts["scale.x.red"]; ok {
		t.Errorf("fr scale.x.red = %q, want not found (French has no such text)", got)
	}
	if _, _, err := load("pt"); err == nil {
		t.Error("a language with no files loaded")
	}
}

// Has answers what IDs does, for every language and message, and no for a
// message or language there is none of.
func TestHasAnswersAsIDs(t *testing.T) {
	set, err := locales.Load(locales.Builtin)
	if err != nil {
		t.Fatal(err)
	}
	has := set.Has()
	all := map[string]bool{}
	for _, ids := range set.IDs {
		for id := range ids {
			all[id] = true
		}
	}
	for _, lang := range append(set.Langs, "pt") {
		for id := range all {
			if got, want := has(lang, id), set.IDs[lang][id]; got != want {
				t.Errorf("Has(%s, %s) = %v, want %v", lang, id, got, want)
			}
		}
		if has(lang, "no.such.message") {
			t.Errorf("Has(%s, no.such.message)", lang)
		}
	}
}
