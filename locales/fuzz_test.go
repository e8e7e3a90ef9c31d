package locales_test

import (
	"log/slog"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/locales"
)

// FuzzLoad: any pair of locale files (German, the reference, and English)
// is refused with an error, or taken; then every message of every language
// renders, whatever its fields hold, without a panic and at a cost bounded
// by its length (a text only inserts values and chooses between wordings:
// at most 64 insertions of a field), in valid UTF-8.
func FuzzLoad(f *testing.F) {
	de, _ := locales.Builtin.ReadFile("zo-kmu.de.toml")
	en, _ := locales.Builtin.ReadFile("zo-kmu.en.toml")
	f.Add(de, en)
	f.Add([]byte(`a = "Hallo {{.Name}}"`), []byte(`a = "Hello {{.Name}}"`))
	f.Add([]byte("[b]\none = \"ein {{.Count}}\"\nother = \"{{.Count}} {{if gt .Count 2}}viele{{else}}wenige{{end}}\""), []byte("[b]\nother = \"{{.Count}}\""))
	f.Add([]byte(`a = "{{range .X}}{{end}}"`), []byte(`a = "{{printf \"%999999d\" 1}}"`))
	f.Add([]byte(`"date.weekdays" = "Mo|Di"`), []byte(``))
	field := strings.Repeat("ü", 8) // 16 bytes
	var kv []any
	for _, name := range []string{"Name", "Title", "Text", "Date", "Zone", "A", "B", "N", "Max", "Command", "Count"} {
		kv = append(kv, name, field)
	}
	f.Fuzz(func(t *testing.T, de, en []byte) {
		set, err := locales.Load(fstest.MapFS{"f.de.toml": {Data: de}, "f.en.toml": {Data: en}})
		if err != nil {
			return
		}
		texts := bot.NewTexts(set.Bundle, set.Langs, slog.New(slog.DiscardHandler))
		src := max(len(de), len(en))
		for _, lang := range set.Langs {
			for id := range set.IDs[lang] {
				for _, s := range []string{texts.T(lang, id, kv...), texts.N(lang, id, 3, kv...), texts.T(lang, id)} {
					if len(s) > src+64*len(field)+len(id) || !utf8.ValidString(s) {
						t.Fatalf("%s %s renders as %d bytes from files of %d and %d: %q", lang, id, len(s), len(de), len(en), s)
					}
				}
			}
		}
	})
}
