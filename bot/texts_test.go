package bot

import "testing"

// TestFieldParser: plain insertions are rendered by concatenation, anything
// else by text/template, with the same data either way.
func TestFieldParser(t *testing.T) {
	tests := []struct {
		src  string
		data any
		want string
	}{
		{"Hallo {{.Name}}, {{ .N }}/7", kvData{"Name", "Anna", "N", 3}, "Hallo Anna, 3/7"},
		{"{{.Missing}}!", kvData{"Name", "Anna"}, "<no value>!"},
		{"no fields", nil, "no fields"},
		{"{{if .Late}}spät{{else}}pünktlich{{end}}", kvData{"Late", true}, "spät"},
		{"{{.Count}} Punkte", map[string]any{"Count": 2}, "2 Punkte"},
	}
	for _, tt := range tests {
		pt, err := fields.Parse(tt.src, "", "")
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.src, err)
		}
		got, err := pt.Execute(tt.data)
		if err != nil || got != tt.want {
			t.Errorf("Execute(%q): got %q, %v, want %q", tt.src, got, err, tt.want)
		}
	}
}

// TestPlatformLanguages: the language each platform reports for a user
// (Telegram's language_code, Slack's locale, Mattermost's locale) maps onto
// the six shipped languages; one not shipped is English, as is a hint
// that is no language; no hint at all is German, the default.
func TestPlatformLanguages(t *testing.T) {
	texts := datesTexts(t)
	tests := []struct {
		platform, hint, want string
		ok                   bool
	}{
		{"telegram", "fr", "fr", true},
		{"telegram", "es", "es", true},
		{"telegram", "ru", "ru", true},
		{"telegram", "vi", "vi", true},
		{"telegram", "de", "de", true},
		{"telegram", "en", "en", true},
		{"telegram", "kk", "ru", true}, // Kazakh: Russian is read there
		{"telegram", "uz", "ru", true},
		{"telegram", "uk", "en", false},
		{"telegram", "pt-br", "en", false},
		{"telegram", "", "de", false},
		{"slack", "fr-CA", "fr", true},
		{"slack", "fr-FR", "fr", true},
		{"slack", "es-LA", "es", true},
		{"slack", "es-ES", "es", true},
		{"slack", "ru-RU", "ru", true},
		{"slack", "de-DE", "de", true},
		{"slack", "en-GB", "en", true},
		{"slack", "pt-BR", "en", false},
		{"slack", "ja-JP", "en", false},
		{"slack", "zh-CN", "en", false},
		{"mattermost", "fr", "fr", true},
		{"mattermost", "es", "es", true},
		{"mattermost", "ru", "ru", true},
		{"mattermost", "vi", "vi", true},
		{"mattermost", "pt-br", "en", false},
		{"mattermost", "zh-TW", "en", false},
		{"mattermost", "nl", "en", false},
		{"other", "es-419", "es", true},
		{"other", "vi-VN", "vi", true},
		{"other", "de-AT", "de", true},
		{"other", "fr_FR", "fr", true},
		{"other", "xx", "en", false},
		{"other", "not a language", "en", false},
	}
	for _, tt := range tests {
		if got, ok := texts.Supported(tt.hint); got != tt.want || ok != tt.ok {
			t.Errorf("%s %q: got %s, %v, want %s, %v", tt.platform, tt.hint, got, ok, tt.want, tt.ok)
		}
	}
}
