package locales

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/ampel-bot/ampel/flows/contentfile/contentfiletest"
)

func TestBuiltinLoads(t *testing.T) {
	s, err := Load(Builtin)
	if err != nil {
		t.Fatalf("Load(Builtin): got error\n%v\nwant none", err)
	}
	if len(s.Langs) == 0 || s.Langs[0] != "de" {
		t.Errorf("Langs: got %q, want German first", s.Langs)
	}
	if !slices.Contains(s.Langs, "en") {
		t.Errorf("Langs: got %q, want it to contain %q", s.Langs, "en")
	}
	if got := len(s.IDs); got != len(s.Langs) {
		t.Errorf("IDs: got %d languages, want one per language in Langs (%d)", got, len(s.Langs))
	}
	// Every language speaks its own name, so the bundle really holds the texts.
	for _, tt := range []struct{ lang, want string }{{"de", "Deutsch"}, {"en", "English"}} {
		got, err := i18n.NewLocalizer(s.Bundle, tt.lang).Localize(&i18n.LocalizeConfig{MessageID: "language.name"})
		if err != nil || got != tt.want {
			t.Errorf("language.name in %s: got %q, %v, want %q", tt.lang, got, err, tt.want)
		}
	}
}

// missingIDs returns the IDs of ref that other lacks, sorted.
func missingIDs(ref, other map[string]bool) []string {
	var missing []string
	for id := range ref {
		if !other[id] {
			missing = append(missing, id)
		}
	}
	sort.Strings(missing)
	return missing
}

// TestComplete is the product requirement: a test fails when a locale file
// lacks a message ID that the German file of the same name has, naming the
// file and the IDs. Every language has the whole interface (ui.<lang>.toml);
// English has every file German has; a check's file may be missing in
// another language as a whole (the check is shown in English there), never
// in part. Load enforces this too; the test does not rely on it: it reads
// the shipped files itself and checks both its own reading and Set.IDs.
func TestComplete(t *testing.T) {
	raw := shippedIDs(t)
	if len(raw[Reference]) < 100 {
		t.Fatalf("German message IDs read from the files: got %d, want the full set (at least 100)", len(raw[Reference]))
	}
	if len(raw) < 2 {
		t.Fatalf("languages read from the files: got %d, want at least 2", len(raw))
	}
	byFile := map[string]map[string]bool{} // file name -> its IDs
	for _, file := range shippedFiles(t) {
		ids := map[string]bool{}
		walkStrings(t, file.name, file.data, func(key, _ string) {
			if i := strings.Index(key, " ("); i >= 0 {
				key = key[:i]
			}
			ids[key] = true
		})
		byFile[file.name] = ids
	}
	for _, lang := range []string{"de", "en", "es", "fr", "ru", "vi"} {
		if byFile[Interface+"."+lang+".toml"] == nil {
			t.Errorf("%s.%s.toml: no such file, want the interface in all six languages", Interface, lang)
		}
	}
	for _, deFile := range sortedKeys(mapKeys(byFile)) {
		base, ok := strings.CutSuffix(deFile, "."+Reference+".toml")
		if !ok {
			continue
		}
		for _, lang := range sortedKeys(mapKeys(raw)) {
			if lang == Reference {
				continue
			}
			file := base + "." + lang + ".toml"
			ids, ok := byFile[file]
			if !ok {
				if base == Interface || lang == English {
					t.Errorf("%s: no such file, want one with all %d messages of %s", file, len(byFile[deFile]), deFile)
				}
				continue
			}
			if missing := missingIDs(byFile[deFile], ids); len(missing) > 0 {
				t.Errorf("%s: got %d of the %d IDs of %s, want all; missing:\n%s", file, len(ids), len(byFile[deFile]), deFile, strings.Join(missing, "\n"))
			}
		}
	}
	for lang, ids := range raw {
		if extra := missingIDs(ids, raw[Reference]); len(extra) > 0 {
			t.Errorf("locale %s: IDs German lacks:\n%s", lang, strings.Join(extra, "\n"))
		}
	}

	s, err := Load(Builtin)
	if err != nil {
		t.Fatalf("Load(Builtin): got error\n%v\nwant none", err)
	}
	for _, lang := range s.Langs {
		if missing := missingIDs(raw[lang], s.IDs[lang]); len(missing) > 0 {
			t.Errorf("Set.IDs[%s]: got %d IDs, want all %d of its files; missing:\n%s", lang, len(s.IDs[lang]), len(raw[lang]), strings.Join(missing, "\n"))
		}
	}
	if missing := missingIDs(s.IDs[Reference], s.IDs[English]); len(missing) > 0 {
		t.Errorf("Set.IDs: English lacks %d German message IDs, want none; missing:\n%s", len(missing), strings.Join(missing, "\n"))
	}
}

func mapKeys[V any](m map[string]V) map[string]bool {
	keys := map[string]bool{}
	for k := range m {
		keys[k] = true
	}
	return keys
}

// TestPluralForms renders every plural message of every shipped language at
// PluralSamples with the real templates: a form the language's CLDR rules
// choose and the message lacks, or any other error, fails; and the text
// shows the count it was rendered for (a "one" form also stands for 0 in
// French and Vietnamese and for 21 in Russian), except that a text for
// exactly 1 may say it in words.
func TestPluralForms(t *testing.T) {
	s, err := Load(Builtin)
	if err != nil {
		t.Fatalf("Load(Builtin): %v", err)
	}
	msgs := map[string]map[string]bool{} // the plural messages, by language
	for _, file := range shippedFiles(t) {
		lang := strings.Split(file.name, ".")[len(strings.Split(file.name, "."))-2]
		for id, v := range file.data {
			if table, ok := v.(map[string]any); ok && (table["one"] != nil || table["few"] != nil || table["many"] != nil) {
				if msgs[lang] == nil {
					msgs[lang] = map[string]bool{}
				}
				msgs[lang][id] = true
			}
		}
	}
	n := 0
	for _, lang := range s.Langs {
		if len(msgs[lang]) == 0 {
			t.Errorf("%s: no plural messages found, want every language to have them", lang)
		}
		loc := i18n.NewLocalizer(s.Bundle, lang)
		for _, id := range sortedKeys(msgs[Reference]) {
			if !msgs[lang][id] {
				t.Errorf("%s: %s is plural in German, want plural forms in %s too", lang, id, lang)
			}
			for _, count := range PluralSamples {
				n++
				got, err := loc.Localize(&i18n.LocalizeConfig{MessageID: id, PluralCount: count,
					TemplateData: map[string]any{"Count": count, "Title": "T"}})
				if err != nil {
					t.Errorf("%s %s at %d: %v", lang, id, count, err)
					continue
				}
				if count != 1 && !strings.Contains(got, strconv.Itoa(count)) {
					t.Errorf("%s %s at %d: got %q, want the count in it", lang, id, count, got)
				}
			}
		}
	}
	if n < 2*5*len(PluralSamples) {
		t.Errorf("rendered %d plural texts, want every plural message of every language", n)
	}
}

func TestMissingIDs(t *testing.T) {
	ref := map[string]bool{"a": true, "b": true, "c": true}
	tests := []struct {
		name  string
		other map[string]bool
		want  []string
	}{
		{"complete", map[string]bool{"a": true, "b": true, "c": true}, nil},
		{"extra is not missing", map[string]bool{"a": true, "b": true, "c": true, "d": true}, nil},
		{"two missing, sorted", map[string]bool{"b": true}, []string{"a", "c"}},
		{"empty", map[string]bool{}, []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		if got := missingIDs(ref, tt.other); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestMalformed(t *testing.T) {
	const de = "greeting = \"Hallo {{.Name}}\"\nbye = \"Tschüss\"\n"
	tests := []struct {
		name  string
		files fstest.MapFS
		// want lists the expected problem lines in order; each got line must
		// start with its want line (a line from the TOML parser may go on).
		want []string
	}{
		{
			name:  "TOML syntax error in German",
			files: fstest.MapFS{"ui.de.toml": {Data: []byte("greeting = \"Hallo\"\nbye = \"Tschüss\n")}},
			want:  []string{"ui.de.toml: line 2: "},
		},
		{
			name: "TOML syntax error in English",
			files: fstest.MapFS{
				"ui.de.toml": {Data: []byte(de)},
				"ui.en.toml": {Data: []byte("greeting = \"Hello {{.Name}}\"\n\nbye = = \"Bye\"\n")},
			},
			want: []string{"ui.en.toml: line 3: "},
		},
		{
			name:  "unclosed template",
			files: fstest.MapFS{"ui.de.toml": {Data: []byte("greeting = \"Hallo {{.Name\"\nbye = \"Tschüss\"\n")}},
			want:  []string{"ui.de.toml: greeting (other): template: greeting:1: unclosed action"},
		},
		{
			name:  "broken template in a plural form",
			files: fstest.MapFS{"ui.de.toml": {Data: []byte("items = { one = \"ein {{.Name\", other = \"{{.Count}} Dinge\" }\n")}},
			want:  []string{"ui.de.toml: items (one): template: items:1: unclosed action"},
		},
		{
			name: "English lacks an ID German has",
			files: fstest.MapFS{
				"ui.de.toml": {Data: []byte(de)},
				"ui.en.toml": {Data: []byte("greeting = \"Hello {{.Name}}\"\n")},
			},
			want: []string{"ui.en.toml: missing bye (defined in ui.de.toml)"},
		},
		{
			name: "English lacks IDs German has in two files",
			files: fstest.MapFS{
				"ui.de.toml":    {Data: []byte(de)},
				"check.de.toml": {Data: []byte("check.title = \"Titel\"\n")},
				"ui.en.toml":    {Data: []byte("greeting = \"Hello {{.Name}}\"\n")},
			},
			want: []string{
				"check.en.toml: missing: every text of check.de.toml is needed in en (1 messages)",
				"ui.en.toml: missing bye (defined in ui.de.toml)",
			},
		},
		{
			name: "English has an ID German lacks",
			files: fstest.MapFS{
				"ui.de.toml": {Data: []byte(de)},
				"ui.en.toml": {Data: []byte("greeting = \"Hello {{.Name}}\"\nbye = \"Bye\"\ngreting = \"Hi\"\n")},
			},
			want: []string{"ui.en.toml: greting: not a message German has (a typo?)"},
		},
		{
			name: "file name without a language",
			files: fstest.MapFS{
				"ui.de.toml": {Data: []byte(de)},
				"ui.toml":    {Data: []byte(de)},
			},
			want: []string{"ui.toml: the file name must end in .<language>.toml"},
		},
		{
			name: "file name with an unknown language",
			files: fstest.MapFS{
				"ui.de.toml": {Data: []byte(de)},
				"ui.xx.toml": {Data: []byte(de)},
			},
			want: []string{"ui.xx.toml: the file name must end in .<language>.toml"},
		},
		{
			name:  "message without other",
			files: fstest.MapFS{"ui.de.toml": {Data: []byte("items = { one = \"ein Ding\" }\nbye = \"Tschüss\"\n")}},
			want:  []string{"ui.de.toml: items: has no \"other\" text"},
		},
		{
			name:  "empty message",
			files: fstest.MapFS{"ui.de.toml": {Data: []byte("greeting = \"\"\nbye = \"Tschüss\"\n")}},
			want:  []string{"ui.de.toml: greeting: has no \"other\" text"},
		},
		{
			name: "same ID in two German files",
			files: fstest.MapFS{
				"a.de.toml": {Data: []byte("bye = \"Tschüss\"\n")},
				"b.de.toml": {Data: []byte("bye = \"Ciao\"\n")},
			},
			want: []string{"b.de.toml: bye: already defined in a.de.toml"},
		},
		{
			name:  "no German",
			files: fstest.MapFS{"ui.en.toml": {Data: []byte("bye = \"Bye\"\n")}},
			want:  []string{"no de locale found: it is the reference every language is checked against"},
		},
		{
			name: "a check's file in part",
			files: fstest.MapFS{
				"ui.de.toml":  {Data: []byte(de)},
				"ui.en.toml":  {Data: []byte("greeting = \"Hello {{.Name}}\"\nbye = \"Bye\"\n")},
				"ui.fr.toml":  {Data: []byte("greeting = \"Bonjour {{.Name}}\"\nbye = \"Salut\"\n")},
				"chk.de.toml": {Data: []byte("\"chk.a\" = \"A\"\n\"chk.b\" = \"B\"\n")},
				"chk.en.toml": {Data: []byte("\"chk.a\" = \"A\"\n\"chk.b\" = \"B\"\n")},
				"chk.fr.toml": {Data: []byte("\"chk.a\" = \"A\"\n")},
			},
			want: []string{"chk.fr.toml: missing chk.b (defined in chk.de.toml)"},
		},
		{
			name: "a language without the interface",
			files: fstest.MapFS{
				"ui.de.toml":  {Data: []byte(de)},
				"ui.en.toml":  {Data: []byte("greeting = \"Hello {{.Name}}\"\nbye = \"Bye\"\n")},
				"chk.de.toml": {Data: []byte("\"chk.a\" = \"A\"\n")},
				"chk.en.toml": {Data: []byte("\"chk.a\" = \"A\"\n")},
				"chk.fr.toml": {Data: []byte("\"chk.a\" = \"A\"\n")},
			},
			want: []string{"ui.fr.toml: missing: every text of ui.de.toml is needed in fr (2 messages)"},
		},
		{
			name: "plural forms a language needs",
			files: fstest.MapFS{
				"ui.de.toml": {Data: []byte("items = { one = \"{{.Count}} Ding\", other = \"{{.Count}} Dinge\" }\n")},
				"ui.en.toml": {Data: []byte("items = { one = \"{{.Count}} thing\", other = \"{{.Count}} things\" }\n")},
				"ui.ru.toml": {Data: []byte("items = { one = \"{{.Count}} вещь\", other = \"{{.Count}} вещи\" }\n")},
				"ui.fr.toml": {Data: []byte("items = \"{{.Count}} choses\"\n")},
			},
			want: []string{
				"ui.fr.toml: items: no \"many\" form, which fr uses for 1000000",
				"ui.fr.toml: items: no \"one\" form, which fr uses for 0, 1",
				"ui.ru.toml: items: no \"few\" form, which ru uses for 2, 22",
				"ui.ru.toml: items: no \"many\" form, which ru uses for 0, 5, 25, 1000000",
			},
		},
		{
			name: "a one form that writes 1",
			files: fstest.MapFS{
				"ui.de.toml": {Data: []byte("items = { one = \"1 Ding\", other = \"{{.Count}} Dinge\" }\n")},
			},
			want: []string{"ui.de.toml: items (one): writes the number 1; write {{.Count}}"},
		},
		{
			name: "every problem at once",
			files: fstest.MapFS{
				"ui.de.toml": {Data: []byte("greeting = \"Hallo {{.Name\"\nbye = \"Tschüss\"\nitems = { one = \"ein Ding\" }\n")},
				"ui.en.toml": {Data: []byte("greeting = \"Hello {{.Name}}\"\nitems = \"things\"\nextra = \"x\"\n")},
				"ui.toml":    {Data: []byte("bye = \"Bye\"\n")},
			},
			want: []string{
				"ui.de.toml: greeting (other): template: greeting:1: unclosed action",
				"ui.de.toml: items: has no \"other\" text",
				"ui.en.toml: extra: not a message German has (a typo?)",
				"ui.en.toml: items: no \"one\" form, which en uses for 1",
				"ui.en.toml: missing bye (defined in ui.de.toml)",
				"ui.toml: the file name must end in .<language>.toml",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Load(tt.files)
			if err == nil {
				t.Fatalf("Load: got languages %q and no error, want\n%s", s.Langs, strings.Join(tt.want, "\n"))
			}
			if s != nil {
				t.Errorf("Load: got a set along with the error, want nil")
			}
			got := strings.Split(err.Error(), "\n")
			ok := len(got) == len(tt.want)
			for i := range min(len(got), len(tt.want)) {
				ok = ok && strings.HasPrefix(got[i], tt.want[i])
			}
			if !ok {
				t.Errorf("Load: got\n%s\nwant (line prefixes)\n%s", err, strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestWellFormedVariants(t *testing.T) {
	const de = "greeting = \"Hallo {{.Name}}\"\n"
	tests := []struct {
		name      string
		files     fstest.MapFS
		wantLangs []string
	}{
		{"German only", fstest.MapFS{"ui.de.toml": {Data: []byte(de)}}, []string{"de"}},
		{"languages sorted after German", fstest.MapFS{
			"ui.de.toml": {Data: []byte(de)},
			"ui.fr.toml": {Data: []byte("greeting = \"Bonjour {{.Name}}\"\n")},
			"ui.en.toml": {Data: []byte("greeting = \"Hello {{.Name}}\"\n")},
		}, []string{"de", "en", "fr"}},
		{"a language without a check's file", fstest.MapFS{
			"ui.de.toml":  {Data: []byte(de)},
			"ui.en.toml":  {Data: []byte("greeting = \"Hello {{.Name}}\"\n")},
			"ui.fr.toml":  {Data: []byte("greeting = \"Bonjour {{.Name}}\"\n")},
			"chk.de.toml": {Data: []byte("\"chk.a\" = \"A\"\n")},
			"chk.en.toml": {Data: []byte("\"chk.a\" = \"A\"\n")},
		}, []string{"de", "en", "fr"}},
		{"other files are ignored", fstest.MapFS{
			"ui.de.toml": {Data: []byte(de)},
			"README.md":  {Data: []byte("not a locale")},
		}, []string{"de"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Load(tt.files)
			if err != nil {
				t.Fatalf("Load: got error\n%v\nwant none", err)
			}
			if !slices.Equal(s.Langs, tt.wantLangs) {
				t.Errorf("Langs: got %q, want %q", s.Langs, tt.wantLangs)
			}
		})
	}
}

// TestNoLeftoverMarkers scans every value of every shipped locale for markers
// left over from the source documents (Word comments, "[IA…]" notes, "XXX").
func TestNoLeftoverMarkers(t *testing.T) {
	markers := []string{"Kommentar", "[IA", "XXX", "TODO", "FIXME"}
	n := 0
	for _, file := range shippedFiles(t) {
		walkStrings(t, file.name, file.data, func(key, value string) {
			n++
			for _, m := range markers {
				if strings.Contains(value, m) {
					t.Errorf("%s: %s: got %q, want no %q", file.name, key, value, m)
				}
			}
		})
	}
	if n < 200 {
		t.Errorf("values scanned: got %d, want every shipped text (at least 200)", n)
	}
}

type shippedFile struct {
	name string
	data map[string]any
}

// shippedFiles decodes every built-in locale file with the TOML parser alone.
func shippedFiles(t *testing.T) []shippedFile {
	t.Helper()
	names, err := fs.Glob(Builtin, "*.toml")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("built-in locale files: got none, want some")
	}
	var files []shippedFile
	for _, name := range names {
		b, err := fs.ReadFile(Builtin, name)
		if err != nil {
			t.Fatal(err)
		}
		var data map[string]any
		if err := toml.Unmarshal(b, &data); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		files = append(files, shippedFile{name, data})
	}
	return files
}

// pluralForms are the keys of a go-i18n message table.
var pluralForms = map[string]bool{"zero": true, "one": true, "two": true, "few": true, "many": true, "other": true, "description": true}

// walkStrings calls fn for every text in a decoded locale file, with the
// message ID (and plural form) it belongs to.
func walkStrings(t *testing.T, file string, data map[string]any, fn func(key, value string)) {
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case string:
			fn(prefix, v)
		case map[string]any:
			for k, sub := range v {
				if pluralForms[k] {
					walk(prefix+" ("+k+")", sub)
				} else {
					walk(strings.TrimPrefix(prefix+"."+k, "."), sub)
				}
			}
		default:
			t.Errorf("%s: %s: got a %T, want text", file, prefix, v)
		}
	}
	walk("", data)
}

// shippedIDs returns the message IDs of each language as read from the files'
// names and keys, independently of Load.
func shippedIDs(t *testing.T) map[string]map[string]bool {
	ids := map[string]map[string]bool{}
	for _, file := range shippedFiles(t) {
		parts := strings.Split(file.name, ".")
		if len(parts) < 3 {
			t.Fatalf("%s: got no language in the file name, want <name>.<language>.toml", file.name)
		}
		lang := parts[len(parts)-2]
		if ids[lang] == nil {
			ids[lang] = map[string]bool{}
		}
		walkStrings(t, file.name, file.data, func(key, _ string) {
			if i := strings.Index(key, " ("); i >= 0 {
				key = key[:i]
			}
			ids[lang][key] = true
		})
	}
	return ids
}

func ExampleLoad() {
	s, err := Load(fstest.MapFS{
		"ui.de.toml": {Data: []byte("bye = \"Tschüss\"\n")},
		"ui.en.toml": {Data: []byte("bye = \"Bye\"\n")},
	})
	fmt.Println(s.Langs, err)
	// Output: [de en] <nil>
}

// TestListLengths: a list the bot indexes with the wrong number of entries
// is refused at start, not found by a reminder on a Sunday.
func TestListLengths(t *testing.T) {
	fsys := fstest.MapFS{
		"ui.de.toml": {Data: []byte(`"date.weekdays" = "Mo|Di|Mi|Do|Fr|Sa"` + "\n")},
	}
	_, err := Load(fsys)
	if err == nil || !strings.Contains(err.Error(), "ui.de.toml: date.weekdays: has 6 entries separated by |, needs 7") {
		t.Errorf("got %v", err)
	}
}

// TestTemplatesOnlyInsertAndChoose: a text may insert values and choose a
// wording; anything that could make rendering cost more than the text's
// length ({{range 3000000000}} grew to 2 GB when run), call a template or
// print without bound is refused, with the file, the message, the form and
// the place in the text. Nothing is run while checking.
func TestTemplatesOnlyInsertAndChoose(t *testing.T) {
	ok := []string{
		"Hallo {{.Name}}",
		"{{if .Late}}spät{{else if eq .N 1}}eins{{else}}{{.N}}{{end}}",
		"{{with .Name}}Hallo {{.}}{{end}}",
		"{{if and (gt .N 1) (not .Late)}}viele{{end}} {{len .Name}}",
		"{{/* ein Kommentar */}}Text",
	}
	for _, src := range ok {
		if _, err := Load(fstest.MapFS{"ui.de.toml": {Data: []byte(fmt.Sprintf("greeting = %q\n", src))}}); err != nil {
			t.Errorf("%s: got %v, want it accepted", src, err)
		}
	}
	refused := []struct{ src, want string }{
		{"{{range 3000000000}}x{{end}}", "greeting (other): {{range}} at character 1 is not allowed"},
		{"ab{{range .List}}{{.}}{{end}}", "greeting (other): {{range}} at character 3 is not allowed"},
		{"{{define \"x\"}}y{{end}}{{template \"x\"}}", "greeting (other): {{define}} and {{block}} are not allowed"},
		{"{{block \"x\" .}}y{{end}}", "greeting (other): {{define}} and {{block}} are not allowed"},
		{"{{template \"x\"}}", "greeting (other): {{template}} at character 1 is not allowed"},
		{"{{printf \"%999999d\" 1}}", "greeting (other): the function printf at character 1 is not allowed"},
		{"{{$x := .Name}}{{$x}}", "greeting (other): a variable at character 1"},
		{"{{call .F}}", "greeting (other): the function call"},
		{strings.Repeat("{{if .A}}", 9) + "x" + strings.Repeat("{{end}}", 9), "greeting (other): nesting deeper than 8"},
		{strings.Repeat("{{.N}}", 65), "greeting (other): more than 64 {{…}}"},
		{strings.Repeat("x", 9000), "greeting (other): 9000 bytes; a message has at most 8192"},
	}
	for _, tt := range refused {
		_, err := Load(fstest.MapFS{"ui.de.toml": {Data: []byte(fmt.Sprintf("greeting = %q\n", tt.src))}})
		if err == nil || !strings.Contains(err.Error(), "ui.de.toml: "+tt.want) {
			t.Errorf("%.60s: got %v, want an error with %q", tt.src, err, "ui.de.toml: "+tt.want)
		}
	}
}

// TestHostileFilesRefused: a named pipe, a link to /dev/zero, a file over
// the size limit and 40 KB of dotted keys are each refused at once with the
// file and, for the nesting, the line.
func TestHostileFilesRefused(t *testing.T) {
	dir := t.TempDir()
	want := contentfiletest.Hostile(t, dir, ".de.toml")
	files := map[string]string{
		"ui.de.toml":   "bye = \"Tschüss\"\n",
		"deep.de.toml": "bye2 = \"x\"\n" + "a" + strings.Repeat(".a", 20000) + " = \"x\"\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want = append(want, "deep.de.toml: line 2: nested more than 8 deep")
	err := contentfiletest.Quick(t, func() error {
		_, err := Load(os.DirFS(dir))
		return err
	})
	contentfiletest.Refused(t, err, want)
}
