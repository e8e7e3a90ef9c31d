package bot

import (
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"

	"github.com/ampel-bot/ampel/flows"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/nicksnyder/go-i18n/v2/i18n/template"
	"golang.org/x/text/language"
)

// fallbackLang is the language a text is shown in when the user's language
// lacks it (a check not translated yet), and whose words for dates everyone
// may type; the reference language comes after it.
const fallbackLang = "en"

// Texts renders the messages of every shipped language. It is built once at
// start and read concurrently.
type Texts struct {
	langs   []string
	matcher language.Matcher
	// loc holds each shipped language's localizer, made on first use
	// (see NewLazyTexts); the map itself never changes after start.
	loc map[string]*langLoc
	// has, when set, answers Has without loading a language.
	has func(lang, id string) bool
	// also lists, per language, the languages a text it lacks is taken
	// from: English, then the default (a check not translated yet).
	also map[string][]string
	log  *slog.Logger
	// matched caches Supported: matching a language tag is costly and the
	// platforms send few distinct ones.
	matched  sync.Map
	nMatched atomic.Int64
}

// langLoc is one language's localizer, loaded once.
type langLoc struct {
	once sync.Once
	load func() (*i18n.Localizer, map[string]string, error)
	loc  *i18n.Localizer
	// own holds, where the language was loaded so, the texts of the
	// messages that have no plural forms, by ID: loc has only the others
	// (see NewLazyTexts). parsed caches their templates, by ID, as loc
	// caches its own.
	own    map[string]string
	parsed sync.Map
	// early, until the language is loaded, renders the few messages
	// every language's date words come from (see VocabPrefixes); with
	// earlyOwn, their texts as own holds the language's.
	early    *i18n.Localizer
	earlyOwn map[string]string
	loaded   atomic.Bool
	// plain caches the language's messages rendered without data, the
	// most frequent kind, by ID: looking one up allocates nothing.
	plain sync.Map
	// dates caches formatDate, by day (yyyymmdd): a day is written the
	// same way every time, and writing it renders three messages and
	// splits two lists. Days in use are few; it stops growing at maxDates.
	datesMu sync.Mutex
	dates   map[int]string
}

// maxDates bounds each language's cache of written days.
const maxDates = 4096

func (l *langLoc) get(t *Texts, lang string) *i18n.Localizer {
	l.once.Do(func() {
		loc, own, err := l.load()
		if err != nil {
			// The files were checked at start and are kept as read: this
			// is a bug. The language's users see English (or German).
			t.log.Error("load locale", "lang", lang, "err", err)
			return
		}
		l.loc, l.own, l.load = loc, own, nil
		l.loaded.Store(true)
	})
	return l.loc
}

// NewTexts wraps a bundle whose languages are langs (the first is the default).
func NewTexts(b *i18n.Bundle, langs []string, log *slog.Logger) *Texts {
	return newTexts(langs, func(l string) (*i18n.Localizer, map[string]string, error) { return i18n.NewLocalizer(b, l), nil, nil }, log)
}

// VocabPrefixes start the IDs of the messages that every language's words
// for dates, time zones, languages and ratings come from: the engine reads
// them of every language at start (anyone may type "Wien", "English" or
// "rot").
var VocabPrefixes = []string{"parse.", "language.", "scale."}

// NewLazyTexts is NewTexts for a server: each language's messages are
// parsed by load when a user first needs them (the default language at
// once), so that languages nobody speaks there cost no memory. load
// returns the texts of the messages without plural forms by ID, and the
// others in a bundle: a bundle keeps over half a kilobyte per message.
// has reports whether a language has a message, for Has: checking a flow
// against every language loads none of them. vocab loads a language's
// messages with IDs of VocabPrefixes only, as load does.
func NewLazyTexts(langs []string, has func(lang, id string) bool, load, vocab func(lang string) (map[string]string, *i18n.Bundle, error), log *slog.Logger) *Texts {
	t := newTexts(langs, func(l string) (*i18n.Localizer, map[string]string, error) {
		own, b, err := load(l)
		if err != nil {
			return nil, nil, err
		}
		return i18n.NewLocalizer(b, l), own, nil
	}, log)
	t.has = has
	for _, l := range langs {
		own, b, err := vocab(l)
		if err != nil {
			log.Error("load locale", "lang", l, "err", err)
			continue
		}
		t.loc[l].early, t.loc[l].earlyOwn = i18n.NewLocalizer(b, l), own
	}
	// The default language at once; English, too, only when someone
	// needs it (its speakers, or a check not translated into theirs): a
	// server whose users all speak the default keeps one language's
	// messages, not two.
	if lo := t.loc[langs[0]]; lo != nil {
		lo.get(t, langs[0])
	}
	return t
}

func newTexts(langs []string, load func(string) (*i18n.Localizer, map[string]string, error), log *slog.Logger) *Texts {
	t := &Texts{langs: langs, loc: map[string]*langLoc{}, also: map[string][]string{}, log: log}
	tags := make([]language.Tag, len(langs))
	for i, l := range langs {
		tags[i] = language.MustParse(l)
		t.loc[l] = &langLoc{load: func() (*i18n.Localizer, map[string]string, error) { return load(l) }}
	}
	for _, l := range langs {
		for _, o := range []string{fallbackLang, langs[0]} {
			if o != l && t.loc[o] != nil && !slices.Contains(t.also[l], o) {
				t.also[l] = append(t.also[l], o)
			}
		}
	}
	t.matcher = language.NewMatcher(tags)
	return t
}

// Langs returns the shipped languages, default first.
func (t *Texts) Langs() []string { return t.langs }

// Supported returns the shipped language closest to hint, as Telegram's
// language_code, Slack's locale or Mattermost's locale give it ("en-GB" →
// "en", "fr-CA" → "fr", "es-419" → "es"), and whether there was a real match.
// A language not shipped ("pt-BR") is English, where it is shipped; no hint
// at all is the default language.
func (t *Texts) Supported(hint string) (string, bool) {
	if hint == "" {
		return t.langs[0], false
	}
	if m, ok := t.matched.Load(hint); ok {
		r := m.(matchResult)
		return r.lang, r.ok
	}
	lang, ok := t.langs[0], false
	if t.loc[fallbackLang] != nil {
		lang = fallbackLang
	}
	if tag, err := language.Parse(hint); err == nil {
		if _, i, conf := t.matcher.Match(tag); conf != language.No {
			lang, ok = t.langs[i], true
		}
	}
	// Hints come from platforms, and a client can send any: odd ones stay
	// out of the cache, and it stops growing at maxMatched.
	if len(hint) <= 64 && t.nMatched.Load() < maxMatched {
		if _, loaded := t.matched.LoadOrStore(hint, matchResult{lang, ok}); !loaded {
			t.nMatched.Add(1)
		}
	}
	return lang, ok
}

// maxMatched bounds the cache of language hints; real platforms send a few
// dozen distinct ones.
const maxMatched = 1024

type matchResult struct {
	lang string
	ok   bool
}

// Has reports whether lang has a message with the given ID.
func (t *Texts) Has(lang, id string) bool {
	if t.has != nil {
		return t.has(lang, id)
	}
	loc := t.localizer(lang)
	if loc == nil {
		return false
	}
	if _, ok := t.loc[lang].own[id]; ok {
		return true
	}
	// The identity parser looks the message up without running its template.
	_, err := loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateParser: template.IdentityParser{}})
	return err == nil
}

// T renders message id in lang with data ("key", value, …). A missing message
// cannot happen after start-up checks; should it, the ID is shown and logged
// rather than an empty text.
func (t *Texts) T(lang, id string, kv ...any) string {
	if len(kv) == 0 {
		l := t.loc[lang]
		if l != nil {
			if s, ok := l.plain.Load(id); ok {
				return s.(string)
			}
		}
		s, ok := t.render(lang, id, nil, nil)
		if ok && l != nil { // only shipped messages in shipped languages: the cache stays bounded
			l.plain.Store(id, s)
		}
		return s
	}
	s, _ := t.render(lang, id, nil, kv)
	return s
}

// N renders a message with plural forms chosen by n (CLDR rules of lang).
func (t *Texts) N(lang, id string, n int, kv ...any) string {
	s, _ := t.render(lang, id, n, append(kv, "Count", n))
	return s
}

// render localizes a message; ok is false when lang or the message is not
// shipped or the template failed.
func (t *Texts) render(lang, id string, count any, kv []any) (string, bool) {
	loc := t.localizerFor(lang, id)
	ok := loc != nil
	if !ok {
		lang = t.langs[0]
		loc = t.localizer(lang)
	}
	// The data stays a flat list: our field templates look names up in it
	// directly, and only a text/template fallback builds a map.
	var data any
	if len(kv) > 0 {
		data = kvData(kv)
	}
	cfg := &i18n.LocalizeConfig{MessageID: id, TemplateData: data, PluralCount: count, TemplateParser: fields}
	s, err := t.localize(lang, loc, cfg)
	if err != nil {
		var nf *i18n.MessageNotFoundErr
		if errors.As(err, &nf) {
			// A check not translated into lang is shown in English (or
			// German): the locales make sure the interface is complete.
			for _, o := range t.also[lang] {
				if lo := t.localizer(o); lo == nil {
					continue
				} else if s, err := t.localize(o, lo, cfg); err == nil {
					return s, ok
				}
			}
			// An ID nobody shipped can only be built from data: say which
			// by length and hash, never by its text.
			t.log.Error("localize: no such message", "lang", lang, "id_len", len(id), "id_hash", shortHash(id))
		} else {
			t.log.Error("localize", "id", id, "lang", lang, "err", err)
		}
		if s == "" {
			return id, false
		}
	}
	return s, ok && err == nil
}

// localize renders cfg with lo, a localizer of lang: from the texts kept
// beside it (see langLoc.own) where they have the message.
func (t *Texts) localize(lang string, lo *i18n.Localizer, cfg *i18n.LocalizeConfig) (string, error) {
	l := t.loc[lang]
	var own map[string]string
	full := false // lo is the language's own localizer, not early's
	switch {
	case l == nil:
	case lo == l.early:
		own = l.earlyOwn
	case l.loaded.Load() && lo == l.loc:
		own, full = l.own, true
	}
	src, ok := own[cfg.MessageID]
	if !ok {
		return lo.Localize(cfg)
	}
	if cfg.PluralCount != nil && full {
		// A count for a message that has no plural forms in any
		// language: the library picks the form and says it lacks it,
		// as it did when the message was in its bundle. (Its text is
		// the "other" one all the same, which is all the vocabulary's
		// bundle, of no language of its own, could say.)
		c := *cfg
		c.MessageID, c.DefaultMessage = "", &i18n.Message{ID: cfg.MessageID, Other: src}
		return lo.Localize(&c)
	}
	var pt template.ParsedTemplate
	if v, ok := l.parsed.Load(cfg.MessageID); ok {
		pt = v.(template.ParsedTemplate)
	} else {
		p, err := cfg.TemplateParser.Parse(src, "", "")
		if err != nil {
			return "", err
		}
		pt = p
		l.parsed.Store(cfg.MessageID, p)
	}
	return pt.Execute(cfg.TemplateData)
}

// localizerFor is the localizer that renders id in lang: the language's
// own, loading it on first use, except for a message of VocabPrefixes
// while the language is not loaded yet (the engine reads date words and
// language names of every language; that loads none of them whole).
func (t *Texts) localizerFor(lang, id string) *i18n.Localizer {
	if l := t.loc[lang]; l != nil && l.early != nil && !l.loaded.Load() && vocabID(id) {
		return l.early
	}
	return t.localizer(lang)
}

func vocabID(id string) bool {
	for _, p := range VocabPrefixes {
		if strings.HasPrefix(id, p) {
			return true
		}
	}
	return false
}

// localizer returns lang's localizer, loading it on first use; nil for a
// language not shipped.
func (t *Texts) localizer(lang string) *i18n.Localizer {
	l := t.loc[lang]
	if l == nil {
		return nil
	}
	return l.get(t, lang)
}

// shortHash tells values apart in a log without showing them.
func shortHash(s string) string {
	h := fnv.New32a()
	h.Write([]byte(s))
	return strconv.FormatUint(uint64(h.Sum32()), 16)
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
// with the flow file and the place that needs it: the default language and
// English need all of them, another language all or none (the check is
// then shown in English, see FlowLang).
func (t *Texts) CheckFlow(f *flows.Flow) error {
	var missing []string
	refs := f.TextRefs()
	own := 0 // the check's own texts, "<id>.…"; the others are the interface's (scale labels)
	for _, r := range refs {
		if strings.HasPrefix(r.ID, f.ID+".") {
			own++
		}
	}
	for _, lang := range t.langs {
		var lacks []string
		lacksOwn := 0
		for _, r := range refs {
			if !t.Has(lang, r.ID) {
				lacks = append(lacks, fmt.Sprintf("%s: %s: no text %q in locale %s", f.File, r.Place, r.ID, lang))
				if strings.HasPrefix(r.ID, f.ID+".") {
					lacksOwn++
				}
			}
		}
		if lacksOwn == own && lang != t.langs[0] && lang != fallbackLang {
			lacks = lacks[own:] // not translated: shown in English
		}
		missing = append(missing, lacks...)
	}
	if len(missing) > 0 {
		return errors.New(strings.Join(missing, "\n"))
	}
	return nil
}

// FlowLang is the language a check's texts are shown in for a user of lang:
// lang where it has them, else English, else the default language.
func (t *Texts) FlowLang(f *flows.Flow, lang string) string {
	if t.Has(lang, f.TitleID()) {
		return lang
	}
	for _, o := range t.also[lang] {
		if t.Has(o, f.TitleID()) {
			return o
		}
	}
	return lang
}

// OtherLangNote tells the user, as a check starts, that it is shown in
// English (or German) because their language lacks it: once, not with
// every checkpoint.
func (t *Turn) OtherLangNote(f *flows.Flow) {
	if l := t.e.texts.FlowLang(f, t.lang); l != t.lang {
		t.Note(t.T("check.otherlang", "Title", t.T(f.TitleID()), "Lang", l))
	}
}

// fields is the template parser for every message. Nearly all of our
// templates only insert values ("{{.Title}}"); those are executed by plain
// concatenation, several times faster than text/template. Anything else
// falls back to text/template, so translators lose nothing.
var fields = fieldParser{}

type fieldParser struct{}

func (fieldParser) Cacheable() bool { return true }

func (fieldParser) Parse(src, left, right string) (template.ParsedTemplate, error) {
	var ft fieldTemplate
	rest := src
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			ft.lits = append(ft.lits, rest)
			return &ft, nil
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			break
		}
		name := strings.TrimSpace(rest[i+2 : i+j])
		if !isField(name) {
			break
		}
		ft.lits = append(ft.lits, rest[:i])
		ft.names = append(ft.names, name[1:])
		rest = rest[i+j+2:]
	}
	pt, err := (&template.TextParser{}).Parse(src, left, right)
	if err != nil {
		return nil, err
	}
	return mapTemplate{pt}, nil
}

func isField(s string) bool {
	if len(s) < 2 || s[0] != '.' {
		return false
	}
	for _, r := range s[1:] {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' {
			return false
		}
	}
	return true
}

// fieldTemplate is lits[0] names[0] lits[1] names[1] … lits[n].
type fieldTemplate struct {
	lits  []string
	names []string
}

// kvData is template data as a flat list: "Name", value, "Name", value, ….
type kvData []any

func (kv kvData) get(name string) any {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == name {
			return kv[i+1]
		}
	}
	return nil
}

func (kv kvData) asMap() map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok {
			m[k] = kv[i+1]
		}
	}
	return m
}

// mapTemplate runs a text/template with kvData turned into the map it needs.
type mapTemplate struct{ template.ParsedTemplate }

func (m mapTemplate) Execute(data any) (string, error) {
	if kv, ok := data.(kvData); ok {
		data = kv.asMap()
	}
	return m.ParsedTemplate.Execute(data)
}

func (ft *fieldTemplate) Execute(data any) (string, error) {
	lookup := func(name string) any { return nil }
	switch d := data.(type) {
	case kvData:
		lookup = d.get
	case map[string]any: // go-i18n's own data for a bare plural count
		lookup = func(name string) any { return d[name] }
	}
	n := 0
	for _, lit := range ft.lits {
		n += len(lit) + 8
	}
	var b strings.Builder
	b.Grow(n)
	for i, lit := range ft.lits {
		b.WriteString(lit)
		if i >= len(ft.names) {
			break
		}
		switch v := lookup(ft.names[i]).(type) {
		case string:
			b.WriteString(v)
		case int:
			b.WriteString(strconv.Itoa(v))
		case nil:
			b.WriteString("<no value>")
		default:
			fmt.Fprint(&b, v)
		}
	}
	return b.String(), nil
}
