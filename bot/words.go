package bot

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ampel-bot/ampel/flows"
)

// words are what people type instead of tapping a button, gathered from
// every shipped language: a German user may write "red", an English one "🔴".
type words struct {
	// levels maps a scale to its typed words and symbols ("rot", "🔴") and
	// the level each names.
	levels map[string]map[string]string
	// back holds the words for "back" ("zurück", "back").
	back map[string]bool
	// none holds the words for "no measure needed" ("keine", "none"),
	// typed where a measure's text is asked.
	none map[string]bool
}

func newWords(texts *Texts, catalog *flows.Catalog) *words {
	w := &words{levels: map[string]map[string]string{}, back: map[string]bool{}, none: map[string]bool{}}
	for _, f := range catalog.All() {
		if w.levels[f.Scale] != nil {
			continue
		}
		m := map[string]string{}
		for _, l := range f.Levels() {
			for _, lang := range texts.Langs() {
				m[bareSymbol(texts.T(lang, flows.SymbolID(f.Scale, l.ID)))] = l.ID
				if id := "parse.level." + f.Scale + "." + l.ID; texts.Has(lang, id) {
					for _, s := range texts.List(lang, id) {
						if n := Normalize(s); n != "" {
							m[n] = l.ID
						}
					}
				}
			}
		}
		w.levels[f.Scale] = m
	}
	for _, lang := range texts.Langs() {
		for id, set := range map[string]map[string]bool{"parse.back": w.back, "parse.nomeasure": w.none} {
			for _, s := range texts.List(lang, id) {
				if n := Normalize(s); n != "" {
					set[n] = true
				}
			}
		}
	}
	return w
}

// bareSymbol is an emoji without variation selectors and spaces, as typed
// or pasted ("🔴", "🔴\uFE0F ").
func bareSymbol(s string) string {
	return strings.Map(func(r rune) rune {
		if r == 0xFE0F || r == 0xFE0E || r == ' ' {
			return -1
		}
		return r
	}, s)
}

// level returns the scale value a typed word or symbol names.
func (w *words) level(scale, text string) (string, bool) {
	m := w.levels[scale]
	if l, ok := m[bareSymbol(text)]; ok {
		return l, true
	}
	l, ok := m[Normalize(text)]
	return l, ok
}

// typedNumber reads a number as people type or copy it from the screen:
// "2", "2.", "2)", full-width "２".
func typedNumber(text string) (int, bool) {
	if text == "" {
		return 0, false
	}
	if !isPlain(text) {
		text = strings.Map(func(r rune) rune {
			if r >= '０' && r <= '９' {
				return '0' + (r - '０')
			}
			return r
		}, text)
	}
	if last := text[len(text)-1]; last == '.' || last == ')' {
		text = strings.TrimSpace(text[:len(text)-1])
	}
	if !mayBeNumber(text) {
		return 0, false
	}
	n, err := strconv.Atoi(text)
	return n, err == nil
}

// mayBeNumber reports whether text starts as a number strconv.Atoi reads:
// Atoi turns anything else away with an error it allocates, and most typed
// answers are words.
func mayBeNumber(text string) bool {
	if text == "" {
		return false
	}
	c := text[0]
	return '0' <= c && c <= '9' || c == '+' || c == '-'
}

// shortForm finds the one option whose label contains what was typed as
// the start of consecutive words ("dringend" for "🔴 Dringender
// Handlungsbedarf", "kein" for "🟢 Derzeit kein Handlungsbedarf"), or -1.
func shortForm(options []Button, typed string) int {
	want := strings.Fields(Normalize(typed))
	if len(want) == 0 || utf8.RuneCountInString(strings.Join(want, " ")) < 3 {
		return -1
	}
	found := -1
	for i, o := range options {
		have := strings.Fields(Normalize(o.Label))
		if !wordPrefixes(have, want) {
			continue
		}
		if found >= 0 {
			return -1 // more than one: not a short form of any
		}
		found = i
	}
	return found
}

func wordPrefixes(have, want []string) bool {
	for i := 0; i+len(want) <= len(have); i++ {
		ok := true
		for j, w := range want {
			if !strings.HasPrefix(have[i+j], w) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
