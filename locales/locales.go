// Package locales holds every text a user reads, as go-i18n message files in
// TOML (<name>.<language>.toml), and loads them strictly: a file that does not
// parse, a template that does not compile or does more than insert values
// and choose between wordings, or a language that lacks a message German has
// is refused with the file and the message ID. Only regular files of bounded
// size and nesting are read (internal/contentfile), and no template is run
// while checking.
package locales

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"text/template/parse"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	i18ntemplate "github.com/nicksnyder/go-i18n/v2/i18n/template"
	"golang.org/x/text/language"

	"github.com/ampel-bot/ampel/flows/contentfile"
)

// Builtin holds the texts that ship with Ampel.
//
//go:embed *.toml
var Builtin embed.FS

// Reference is the language every other language must match message for message.
const Reference = "de"

// lists are messages holding "a|b|c" alternatives that the bot indexes, with
// how many each must have: a weekday list with six names would break dates.
var lists = map[string]int{"date.weekdays": 7, "date.months": 12, "parse.weekdays": 7, "parse.monthnames": 12}

// Set is a loaded, checked bundle of messages.
type Set struct {
	Bundle *i18n.Bundle
	// Langs lists the languages, reference first, then alphabetically.
	Langs []string
	// IDs maps each language to its message IDs.
	IDs map[string]map[string]bool
	// files holds each language's checked files, in load order, for
	// Loader: parsed again when the language is first used.
	files map[string][]file
	// plural holds the IDs of the messages with a form other than
	// "other", or delimiters of their own, in any language: those
	// SplitLoader keeps in a bundle.
	plural map[string]bool
}

// SplitLoader is Loader for a server, which keeps a language's messages
// apart: a message that has only an "other" text in every language, with
// the usual delimiters, as its text by ID; the others, which need plural
// rules, in a bundle. A bundle keeps over half a kilobyte for every
// message besides its text. With prefixes, as Loader, every language's
// call returns the same bundle, of every language's plural messages with
// those prefixes (there may be none).
func (s *Set) SplitLoader(prefixes ...string) func(lang string) (map[string]string, *i18n.Bundle, error) {
	files, plural := s.files, s.plural
	if len(prefixes) > 0 {
		var once sync.Once
		var b *i18n.Bundle
		var texts map[string]map[string]string
		var err error
		return func(lang string) (map[string]string, *i18n.Bundle, error) {
			if _, ok := files[lang]; !ok {
				return nil, nil, fmt.Errorf("no locale %q", lang)
			}
			once.Do(func() {
				b, texts = i18n.NewBundle(language.Und), map[string]map[string]string{}
				for _, l := range slices.Sorted(maps.Keys(files)) {
					t, e := split(b, files[l], prefixes, plural)
					if e != nil {
						b, texts, err = nil, nil, e
						return
					}
					texts[l] = t
				}
			})
			return texts[lang], b, err
		}
	}
	return func(lang string) (map[string]string, *i18n.Bundle, error) {
		fs, ok := files[lang]
		if !ok {
			return nil, nil, fmt.Errorf("no locale %q", lang)
		}
		b := i18n.NewBundle(language.MustParse(lang))
		texts, err := split(b, fs, nil, plural)
		if err != nil {
			return nil, nil, err
		}
		return texts, b, nil
	}
}

// split parses fs: the messages with IDs of plural into b, the others'
// texts into the map it returns; with prefixes, only the messages whose
// IDs start with one of them.
func split(b *i18n.Bundle, fs []file, prefixes []string, plural map[string]bool) (map[string]string, error) {
	texts := map[string]string{}
	for _, f := range fs {
		mf, err := parseFile(f)
		if err != nil {
			return nil, err
		}
		var rest []*i18n.Message
		for _, m := range mf.Messages {
			switch {
			case len(prefixes) > 0 && !hasPrefix(m.ID, prefixes):
			case plural[m.ID]:
				own(m)
				rest = append(rest, m)
			default:
				texts[strings.Clone(m.ID)] = strings.Clone(m.Other)
			}
		}
		if err := b.AddMessages(mf.Tag, rest...); err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return texts, nil
}

func hasPrefix(id string, prefixes []string) bool {
	return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(id, p) })
}

type file struct {
	name string
	// data is the file as read and checked; nil for a file of an
	// embed.FS, which cannot change and is read again from fsys when
	// its language is loaded (a copy kept would double what the binary
	// holds anyway).
	data []byte
	fsys fs.FS
}

// read returns the file's checked content.
func (f file) read() ([]byte, error) {
	if f.data != nil {
		return f.data, nil
	}
	return fs.ReadFile(f.fsys, f.name)
}

// own copies the texts of m that a bundle keeps: the TOML parser returns
// them as parts of one string of the whole file, which any text kept would
// otherwise keep alive, comments and all, for as long as the language is
// loaded.
func own(m *i18n.Message) {
	for _, s := range []*string{&m.ID, &m.Hash, &m.Description, &m.LeftDelim, &m.RightDelim, &m.Zero, &m.One, &m.Two, &m.Few, &m.Many, &m.Other} {
		*s = strings.Clone(*s)
	}
}

// Has returns a function that reports whether lang has a message with the
// given ID, for a server to keep instead of IDs: one map of every ID to the
// languages that have it takes a third of the heap of a map per language.
func (s *Set) Has() func(lang, id string) bool {
	if len(s.Langs) > 64 {
		ids := s.IDs
		return func(lang, id string) bool { return ids[lang][id] }
	}
	bit := make(map[string]uint64, len(s.Langs))
	have := make(map[string]uint64, len(s.IDs[Reference]))
	for i, lang := range s.Langs {
		bit[lang] = 1 << i
		for id := range s.IDs[lang] {
			have[id] |= 1 << i
		}
	}
	return func(lang, id string) bool { return have[id]&bit[lang] != 0 }
}

// Loader returns a function that parses one language's messages into a
// bundle of their own; a server uses SplitLoader, and Loader stays as the
// plain reading that SplitLoader's texts are tested against (bot's
// TestLazyTextsReadAsFull). It parses them from the files Load checked
// (kept as read, so that a file changed on disk since is not taken
// unchecked; the shipped ones, which cannot change, are read again from
// the binary). Every language
// parsed costs heap for as long as it is used (over a megabyte, most of
// it the checks' texts), so a server keeps only the languages its users
// speak; the loader holds the files, not the Set's full Bundle. With
// prefixes, only the messages whose IDs start with one of them are
// parsed: the few a date parser needs of every language. Those are read
// of every language at once, into one bundle that every language's call
// returns (a bundle has the plural rules of every language in the world:
// one per language cost more than their messages); a message a language
// lacks is not taken from another one there either.
func (s *Set) Loader(prefixes ...string) func(lang string) (*i18n.Bundle, error) {
	files := s.files
	if len(prefixes) > 0 {
		var once sync.Once
		var b *i18n.Bundle
		var err error
		return func(lang string) (*i18n.Bundle, error) {
			if _, ok := files[lang]; !ok {
				return nil, fmt.Errorf("no locale %q", lang)
			}
			once.Do(func() {
				// The bundle's own language has no messages: a localizer
				// of one language finds no other's.
				b = i18n.NewBundle(language.Und)
				langs := slices.Sorted(maps.Keys(files))
				for _, l := range langs {
					if err = addFiles(b, files[l], prefixes); err != nil {
						b = nil
						return
					}
				}
			})
			return b, err
		}
	}
	return func(lang string) (*i18n.Bundle, error) {
		fs, ok := files[lang]
		if !ok {
			return nil, fmt.Errorf("no locale %q", lang)
		}
		b := i18n.NewBundle(language.MustParse(lang))
		if err := addFiles(b, fs, nil); err != nil {
			return nil, err
		}
		return b, nil
	}
}

// parseFile parses a file Load checked.
func parseFile(f file) (*i18n.MessageFile, error) {
	data, err := f.read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.name, err)
	}
	mf, err := i18n.ParseMessageFileBytes(data, f.name, map[string]i18n.UnmarshalFunc{"toml": toml.Unmarshal})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.name, err)
	}
	return mf, nil
}

// addFiles parses fs into b: with prefixes, only the messages whose IDs
// start with one of them.
func addFiles(b *i18n.Bundle, fs []file, prefixes []string) error {
	for _, f := range fs {
		mf, err := parseFile(f)
		if err != nil {
			return err
		}
		msgs := mf.Messages
		if len(prefixes) > 0 {
			msgs = slices.DeleteFunc(msgs, func(m *i18n.Message) bool { return !hasPrefix(m.ID, prefixes) })
		}
		for _, m := range msgs {
			own(m)
		}
		if err := b.AddMessages(mf.Tag, msgs...); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return nil
}

// Load reads every *.toml file at the top of each fsys. A later file with the
// same name and content as an earlier one (a directory holding a copy of the
// shipped locales) is passed over; any other message defined twice is refused.
func Load(fsyss ...fs.FS) (*Set, error) {
	b := i18n.NewBundle(language.MustParse(Reference))
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	s := &Set{Bundle: b, IDs: map[string]map[string]bool{}, files: map[string][]file{}, plural: map[string]bool{}}
	where := map[string]string{}       // lang + "\x00" + id -> file, for reporting
	msgs := map[string]*i18n.Message{} // lang + "\x00" + id -> message
	seen := map[string][]byte{}        // file name -> content
	ids := map[string]string{}         // message ID -> the copy s.IDs holds
	var problems []string
	for _, fsys := range fsyss {
		_, fixed := fsys.(embed.FS)
		names, err := fs.Glob(fsys, "*.toml")
		if err != nil {
			return nil, fmt.Errorf("list locale files: %w", err)
		}
		sort.Strings(names)
		for _, name := range names {
			data, err := contentfile.Read(fsys, name)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", name, err))
				continue
			}
			if prev, ok := seen[name]; ok && bytes.Equal(prev, data) {
				continue
			}
			seen[name] = data
			var de *contentfile.DepthError
			if err := contentfile.CheckDepth(data); errors.As(err, &de) {
				problems = append(problems, fmt.Sprintf("%s: line %d: %v", name, de.Line, de))
				continue
			}
			mf, err := b.ParseMessageFileBytes(data, name)
			if err != nil {
				var pe toml.ParseError
				if errors.As(err, &pe) {
					// The library's line can be off by one for an unclosed
					// table header; the byte offset is right.
					line := pe.Position.Line
					if start := pe.Position.Start; start > 0 && start <= len(data) {
						line = 1 + strings.Count(string(data[:start]), "\n")
					}
					problems = append(problems, fmt.Sprintf("%s: line %d: %s", name, line, pe.Message))
				} else {
					problems = append(problems, fmt.Sprintf("%s: %v", name, err))
				}
				continue
			}
			base, conf := mf.Tag.Base()
			if mf.Tag == language.Und || conf == language.No {
				problems = append(problems, fmt.Sprintf("%s: the file name must end in .<language>.toml", name))
				continue
			}
			lang := base.String()
			kept := file{name: name, data: data}
			if fixed {
				kept = file{name: name, fsys: fsys}
			}
			s.files[lang] = append(s.files[lang], kept)
			if s.IDs[lang] == nil {
				s.IDs[lang] = map[string]bool{}
			}
			for _, m := range mf.Messages {
				key := lang + "\x00" + m.ID
				if prev, dup := where[key]; dup {
					problems = append(problems, fmt.Sprintf("%s: %s: already defined in %s", name, m.ID, prev))
				}
				where[key] = name
				msgs[key] = m
				if m.Zero != "" || m.One != "" || m.Two != "" || m.Few != "" || m.Many != "" || m.LeftDelim != "" || m.RightDelim != "" {
					s.plural[strings.Clone(m.ID)] = true
				}
				// Not the file's text (see own), and one copy for all languages.
				id, ok := ids[m.ID]
				if !ok {
					id = strings.Clone(m.ID)
					ids[id] = id
				}
				s.IDs[lang][id] = true
				for form, src := range map[string]string{"zero": m.Zero, "one": m.One, "two": m.Two, "few": m.Few, "many": m.Many, "other": m.Other} {
					if src == "" {
						continue
					}
					if err := checkTemplate(m.ID, src); err != nil {
						problems = append(problems, fmt.Sprintf("%s: %s (%s): %v", name, m.ID, form, err))
					}
				}
				if m.Other == "" {
					problems = append(problems, fmt.Sprintf("%s: %s: has no \"other\" text", name, m.ID))
				}
				if writesOne(m.One) {
					problems = append(problems, fmt.Sprintf("%s: %s (one): writes the number 1; write {{.Count}}, as the one form also stands for other numbers in some languages (0 in French, 21 in Russian)", name, m.ID))
				}
				if want, ok := lists[m.ID]; ok {
					if got := len(strings.Split(m.Other, "|")); got != want {
						problems = append(problems, fmt.Sprintf("%s: %s: has %d entries separated by |, needs %d", name, m.ID, got, want))
					}
				}
			}
		}
	}
	ref := s.IDs[Reference]
	if len(ref) == 0 && len(problems) == 0 {
		return nil, fmt.Errorf("no %s locale found: it is the reference every language is checked against", Reference)
	}
	for lang, ids := range s.IDs {
		if lang == Reference {
			continue
		}
		for _, id := range sortedKeys(ids) {
			if !ref[id] {
				problems = append(problems, fmt.Sprintf("%s: %s: not a message German has (a typo?)", where[lang+"\x00"+id], id))
			}
		}
		s.Langs = append(s.Langs, lang)
	}
	problems = append(problems, complete(s.IDs, where)...)
	problems = append(problems, checkPlurals(b, s.IDs, where, msgs)...)
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	sort.Strings(s.Langs)
	s.Langs = append([]string{Reference}, s.Langs...)
	return s, nil
}

// Interface is the name of the locale files that hold the interface
// (ui.<language>.toml): every language has all of its messages. Every other
// file holds one check's texts, which a language may lack as a whole (the
// check is then shown in English or German); English has everything.
const Interface = "ui"

// English is the language that has every message, as German does: the
// language a check is shown in where the user's language lacks it.
const English = "en"

// fileBase is a locale file's name without its language and extension:
// "ui" for "ui.fr.toml".
func fileBase(name string) string {
	name = strings.TrimSuffix(name, ".toml")
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[:i]
	}
	return name
}

// complete reports, file by file, the messages of a German file that the same
// file in another language lacks, and a file a language must have and has
// not: the interface in every language, everything in English. ids holds the
// message IDs by language, where the file of each (lang + "\x00" + id).
func complete(ids map[string]map[string]bool, where map[string]string) []string {
	// German's files and their IDs.
	files := map[string][]string{}
	for _, id := range sortedKeys(ids[Reference]) {
		name := where[Reference+"\x00"+id]
		files[name] = append(files[name], id)
	}
	var problems []string
	for lang, have := range ids {
		if lang == Reference {
			continue
		}
		// The files this language has.
		own := map[string]bool{}
		for id := range have {
			own[fileBase(where[lang+"\x00"+id])] = true
		}
		for deFile, deIDs := range files {
			base := fileBase(deFile)
			file := base + "." + lang + ".toml"
			if !own[base] {
				if lang == English || base == Interface {
					problems = append(problems, fmt.Sprintf("%s: missing: every text of %s is needed in %s (%d messages)", file, deFile, lang, len(deIDs)))
				}
				continue
			}
			for _, id := range deIDs {
				if !have[id] || fileBase(where[lang+"\x00"+id]) != base {
					problems = append(problems, fmt.Sprintf("%s: missing %s (defined in %s)", file, id, deFile))
				}
			}
		}
	}
	return problems
}

// PluralSamples are the counts every plural message is rendered with by the
// checks: they reach every form of the six shipped languages (French and
// Vietnamese "one" for 0 and 1, Russian "one" for 21, "few" for 2 and 22,
// "many" for 5 and 25, French and Spanish "many" for 1000000).
var PluralSamples = []int{0, 1, 2, 5, 21, 22, 25, 1000000}

var pluralFormErr = regexp.MustCompile(`has no plural form "(\w+)"`)

// checkPlurals reports every plural form a message lacks in its language,
// as go-i18n's CLDR rules choose them for PluralSamples: a message with
// plural forms in German, or in its own file, needs every form its language
// uses. Only the message is looked up; no template is run.
func checkPlurals(b *i18n.Bundle, ids map[string]map[string]bool, where map[string]string, msgs map[string]*i18n.Message) []string {
	plural := func(m *i18n.Message) bool {
		return m != nil && (m.Zero != "" || m.One != "" || m.Two != "" || m.Few != "" || m.Many != "")
	}
	var problems []string
	for lang, have := range ids {
		loc := i18n.NewLocalizer(b, lang)
		for _, id := range sortedKeys(have) {
			key := lang + "\x00" + id
			if !plural(msgs[key]) && !plural(msgs[Reference+"\x00"+id]) {
				continue
			}
			missing := map[string][]int{}
			var forms []string
			for _, n := range PluralSamples {
				_, err := loc.Localize(&i18n.LocalizeConfig{MessageID: id, PluralCount: n, TemplateParser: i18ntemplate.IdentityParser{}})
				if err == nil {
					continue
				}
				if m := pluralFormErr.FindStringSubmatch(err.Error()); m != nil && m[1] == "other" {
					continue // reported as a text with no "other"
				} else if m != nil {
					if missing[m[1]] == nil {
						forms = append(forms, m[1])
					}
					missing[m[1]] = append(missing[m[1]], n)
					continue
				}
				problems = append(problems, fmt.Sprintf("%s: %s: count %d: %v", where[key], id, n, err))
			}
			for _, f := range forms {
				problems = append(problems, fmt.Sprintf("%s: %s: no %q form, which %s uses for %s", where[key], id, f, lang, joinInts(missing[f])))
			}
		}
	}
	return problems
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// writesOne reports a "one" text that writes the number 1 outside its
// {{…}} actions.
func writesOne(src string) bool {
	for src != "" {
		i := strings.Index(src, "{{")
		text := src
		if i >= 0 {
			text = src[:i]
		}
		if standaloneOne.MatchString(text) {
			return true
		}
		if i < 0 {
			return false
		}
		j := strings.Index(src[i:], "}}")
		if j < 0 {
			return false
		}
		src = src[i+j+2:]
	}
	return false
}

var standaloneOne = regexp.MustCompile(`(^|[^0-9])1([^0-9]|$)`)

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

const (
	// maxText bounds one message: no chat platform shows a longer one.
	maxText = 8 << 10
	// maxActions bounds the {{…}} of one message; ours have at most 4.
	maxActions = 64
	// maxNesting bounds {{if}} and {{with}} inside each other and
	// parenthesised pipelines.
	maxNesting = 8
)

// allowedFuncs are the template functions a text may use to choose a
// wording. The others can print or index without bound (printf "%999999d")
// or call methods.
var allowedFuncs = map[string]bool{"and": true, "or": true, "not": true, "eq": true, "ne": true, "lt": true, "le": true, "gt": true, "ge": true, "len": true}

// checkTemplate parses a message text the way the bot will and walks the
// parse tree, without running it: a text may insert values ({{.Name}}) and
// choose with {{if}}, {{with}} and comparisons; {{range}}, {{template}},
// {{block}}, {{define}}, variables and the printing functions are refused,
// so that rendering a text costs no more than its length.
func checkTemplate(id, src string) error {
	if len(src) > maxText {
		return fmt.Errorf("%d bytes; a message has at most %d", len(src), maxText)
	}
	tmpl, err := template.New(id).Parse(src)
	if err != nil {
		return err
	}
	if len(tmpl.Templates()) > 1 {
		return errors.New("{{define}} and {{block}} are not allowed: " + textRule)
	}
	if tmpl.Tree == nil || tmpl.Tree.Root == nil {
		return nil
	}
	w := treeWalk{src: src}
	w.node(tmpl.Tree.Root, 0)
	return w.err
}

const textRule = "a text may only insert values ({{.Name}}) and choose with {{if}} or {{with}}"

type treeWalk struct {
	src     string
	actions int
	err     error
}

// refuse records what is not allowed, at the {{ of the action holding n,
// counted in characters from 1.
func (w *treeWalk) refuse(n parse.Node, what string) {
	if w.err != nil {
		return
	}
	pos := min(max(int(n.Position()), 0), len(w.src))
	if i := strings.LastIndex(w.src[:pos], "{{"); i >= 0 {
		pos = i
	}
	w.err = fmt.Errorf("%s at character %d is not allowed: %s", what, utf8.RuneCountInString(w.src[:pos])+1, textRule)
}

func (w *treeWalk) node(n parse.Node, depth int) {
	if w.err != nil || n == nil {
		return
	}
	if depth > maxNesting {
		w.refuse(n, fmt.Sprintf("nesting deeper than %d", maxNesting))
		return
	}
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			w.node(c, depth)
		}
	case *parse.TextNode, *parse.CommentNode:
	case *parse.ActionNode:
		w.action(n)
		w.pipe(n.Pipe, depth)
	case *parse.IfNode:
		w.action(n)
		w.pipe(n.Pipe, depth)
		w.node(n.List, depth+1)
		w.node(n.ElseList, depth+1)
	case *parse.WithNode:
		w.action(n)
		w.pipe(n.Pipe, depth)
		w.node(n.List, depth+1)
		w.node(n.ElseList, depth+1)
	case *parse.RangeNode:
		w.refuse(n, "{{range}}")
	case *parse.TemplateNode:
		w.refuse(n, "{{template}}")
	case *parse.BreakNode, *parse.ContinueNode:
		w.refuse(n, "{{break}} and {{continue}}")
	case *parse.PipeNode:
		w.pipe(n, depth+1)
	case *parse.FieldNode, *parse.DotNode, *parse.StringNode, *parse.NumberNode, *parse.BoolNode, *parse.NilNode:
	case *parse.IdentifierNode:
		if !allowedFuncs[n.Ident] {
			w.refuse(n, "the function "+n.Ident)
		}
	case *parse.VariableNode:
		w.refuse(n, "a variable")
	default:
		w.refuse(n, fmt.Sprintf("%q", n.String()))
	}
}

func (w *treeWalk) action(n parse.Node) {
	w.actions++
	if w.actions > maxActions && w.err == nil {
		w.err = fmt.Errorf("more than %d {{…}}: %s", maxActions, textRule)
	}
}

func (w *treeWalk) pipe(p *parse.PipeNode, depth int) {
	if p == nil || w.err != nil {
		return
	}
	if len(p.Decl) > 0 {
		w.refuse(p, "a variable")
		return
	}
	for _, c := range p.Cmds {
		for _, a := range c.Args {
			w.node(a, depth)
		}
	}
}
