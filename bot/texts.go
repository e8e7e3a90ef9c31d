package bot

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ampel-bot/ampel/flows"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Texts renders the messages of every shipped language. It is built once at
// start and read concurrently.
type Texts struct {
	langs   []string
	matcher language.Matcher
	loc     map[string]*i18n.Localizer
	log     *slog.Logger
}

// NewTexts wraps a bundle whose languages are langs (the first is the default).
func NewTexts(b *i18n.Bundle, langs []string, log *slog.Logger) *Texts {
	t := &Texts{langs: langs, loc: map[string]*i18n.Localizer{}, log: log}
	tags := make([]language.Tag, len(langs))
	for i, l := range langs {
		tags[i] = language.MustParse(l)
		t.loc[l] = i18n.NewLocalizer(b, l)
	}
	t.matcher = language.NewMatcher(tags)
	return t
}

// Langs returns the shipped languages, default first.
func (t *Texts) Langs() []string { return t.langs }

// Supported returns the shipped language closest to hint ("en-GB" → "en"),
// and whether there was a real match.
func (t *Texts) Supported(hint string) (string, bool) {
	if hint == "" {
		return t.langs[0], false
	}
	tag, err := language.Parse(hint)
	if err != nil {
		return t.langs[0], false
	}
	_, i, conf := t.matcher.Match(tag)
	if conf == language.No {
		return t.langs[0], false
	}
	return t.langs[i], true
}

// Has reports whether lang has a message with the given ID.
func (t *Texts) Has(lang, id string) bool {
	loc, ok := t.loc[lang]
	if !ok {
		return false
	}
	_, err := loc.Localize(&i18n.LocalizeConfig{MessageID: id})
	return err == nil
}

// T renders message id in lang with data ("key", value, …). A missing message
// cannot happen after start-up checks; should it, the ID is shown and logged
// rather than an empty text.
func (t *Texts) T(lang, id string, kv ...any) string {
	return t.render(lang, id, nil, kv)
}

// N renders a message with plural forms chosen by n (CLDR rules of lang).
func (t *Texts) N(lang, id string, n int, kv ...any) string {
	return t.render(lang, id, n, append(kv, "Count", n))
}

func (t *Texts) render(lang, id string, count any, kv []any) string {
	loc, ok := t.loc[lang]
	if !ok {
		loc = t.loc[t.langs[0]]
	}
	var data map[string]any
	if len(kv) > 0 {
		data = make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			data[kv[i].(string)] = kv[i+1]
		}
	}
	s, err := loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data, PluralCount: count})
	if err != nil {
		t.log.Error("localize", "id", id, "lang", lang, "err", err)
		if s == "" {
			return id
		}
	}
	return s
}

// List splits a message holding "a|b|c" alternatives.
func (t *Texts) List(lang, id string) []string {
	parts := strings.Split(t.T(lang, id), "|")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// CheckFlow reports every text a flow needs that a shipped language lacks,
// with the flow file and the place that needs it.
func (t *Texts) CheckFlow(f *flows.Flow) error {
	var missing []string
	for _, lang := range t.langs {
		for _, r := range f.TextRefs() {
			if !t.Has(lang, r.ID) {
				missing = append(missing, fmt.Sprintf("%s: %s: no text %q in locale %s", f.File, r.Place, r.ID, lang))
			}
		}
	}
	if len(missing) > 0 {
		return errors.New(strings.Join(missing, "\n"))
	}
	return nil
}
