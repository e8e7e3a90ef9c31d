package flows

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ampel-bot/ampel/flows/contentfile/contentfiletest"
)

var update = flag.Bool("update", false, "rewrite testdata/invalid/*/want.txt with the problems Load reports now (review every change by eye)")

func TestBuiltinLoads(t *testing.T) {
	c, err := Load(Builtin)
	if err != nil {
		t.Fatalf("Load(Builtin): got error\n%v\nwant none", err)
	}
	f, ok := c.Get("zo-kmu")
	if !ok {
		t.Fatalf("Get(%q): got not found, want the built-in check", "zo-kmu")
	}
	if got, want := f.Scale, "traffic-light"; got != want {
		t.Errorf("zo-kmu scale: got %q, want %q", got, want)
	}
	if got, want := f.File, "zo-kmu.toml"; got != want {
		t.Errorf("zo-kmu file: got %q, want %q", got, want)
	}
	if f.Version < 1 {
		t.Errorf("zo-kmu version: got %d, want at least 1", f.Version)
	}
	wantIDs := []string{"nutzen", "moeglichkeiten", "planen", "denkwelten", "kontakte", "vereinbarungen", "organisation"}
	var gotIDs []string
	for _, cp := range f.Checkpoints {
		gotIDs = append(gotIDs, cp.ID)
	}
	if !slices.Equal(gotIDs, wantIDs) {
		t.Errorf("zo-kmu checkpoints: got %d %q, want %d %q", len(gotIDs), gotIDs, len(wantIDs), wantIDs)
	}
	for i, cp := range f.Checkpoints {
		if len(cp.Suggestions) == 0 {
			t.Errorf("zo-kmu checkpoints[%d] (%s): got no suggestions, want at least one for the action plan", i, cp.ID)
		}
		if got := f.Index(cp.ID); got != i {
			t.Errorf("Index(%q): got %d, want %d", cp.ID, got, i)
		}
	}
	if got := f.Index("gibt-es-nicht"); got != -1 {
		t.Errorf("Index(%q): got %d, want -1", "gibt-es-nicht", got)
	}
	if n := countIn(c.All(), f); n != 1 {
		t.Errorf("All(): got zo-kmu %d times, want once", n)
	}
}

// countIn counts how often f is among all.
func countIn(all []*Flow, f *Flow) int {
	n := 0
	for _, g := range all {
		if g == f {
			n++
		}
	}
	return n
}

// TestBuiltinBMOAdvocacy: the advocacy check for chambers and business
// associations ships, on the traffic-light scale, with its eight checkpoints
// in order and enough suggestions for each to build a plan from.
func TestBuiltinBMOAdvocacy(t *testing.T) {
	c, err := Load(Builtin)
	if err != nil {
		t.Fatalf("Load(Builtin): got error\n%v\nwant none", err)
	}
	f, ok := c.Get("bmo-advocacy")
	if !ok {
		t.Fatalf("Get(%q): got not found, want the built-in check", "bmo-advocacy")
	}
	if f.Scale != "traffic-light" || f.Version < 1 {
		t.Errorf("bmo-advocacy: got scale %q version %d, want traffic-light, version at least 1", f.Scale, f.Version)
	}
	wantIDs := []string{"mandate", "issues", "evidence", "strategy", "dialogue", "communication", "capacity", "results"}
	var gotIDs []string
	for _, cp := range f.Checkpoints {
		gotIDs = append(gotIDs, cp.ID)
		if n := len(cp.Suggestions); n < 4 || n > 12 {
			t.Errorf("bmo-advocacy %s: got %d suggestions, want 4 to 12", cp.ID, n)
		}
	}
	if !slices.Equal(gotIDs, wantIDs) {
		t.Errorf("bmo-advocacy checkpoints: got %q, want %q", gotIDs, wantIDs)
	}
	if n := countIn(c.All(), f); n != 1 {
		t.Errorf("All(): got bmo-advocacy %d times, want once", n)
	}
}

func TestLevels(t *testing.T) {
	tests := []struct {
		scale string
		want  []Level
	}{
		{"traffic-light", []Level{{"red", 2}, {"yellow", 1}, {"green", 0}}},
		{"fulfilled", []Level{{"no", 1}, {"yes", 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.scale, func(t *testing.T) {
			f := &Flow{Scale: tt.scale}
			if got := f.Levels(); !slices.Equal(got, tt.want) {
				t.Errorf("Levels(): got %v, want %v (most urgent first)", got, tt.want)
			}
			for _, l := range tt.want {
				got, ok := f.Level(l.ID)
				if !ok || got != l {
					t.Errorf("Level(%q): got %v, %v, want %v, true", l.ID, got, ok, l)
				}
			}
			if got, ok := f.Level("purple"); ok {
				t.Errorf("Level(%q): got %v, true, want not found", "purple", got)
			}
		})
	}
}

// TestInvalid loads each directory under testdata/invalid and compares the
// problems reported to the directory's want.txt. A directory holding flow files
// is one fsys; a directory holding subdirectories loads each of them as one
// fsys, in name order (for problems across fsys). Run with -update to rewrite
// want.txt, then review the diff by eye.
func TestInvalid(t *testing.T) {
	cases, err := os.ReadDir(filepath.Join("testdata", "invalid"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("got no cases under testdata/invalid, want some")
	}
	for _, c := range cases {
		if !c.IsDir() {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			dir := filepath.Join("testdata", "invalid", c.Name())
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var fsyss []fs.FS
			for _, e := range entries {
				if e.IsDir() {
					fsyss = append(fsyss, os.DirFS(filepath.Join(dir, e.Name())))
				}
			}
			if len(fsyss) == 0 {
				fsyss = []fs.FS{os.DirFS(dir)}
			}
			cat, err := Load(fsyss...)
			if err == nil {
				t.Fatalf("Load: got a catalog of %d flows and no error, want problems", len(cat.All()))
			}
			if cat != nil {
				t.Errorf("Load: got a catalog along with the error, want nil")
			}
			var ps Problems
			if !errors.As(err, &ps) {
				t.Errorf("Load: got error of type %T, want Problems", err)
			}
			got := err.Error() + "\n"
			wantFile := filepath.Join(dir, "want.txt")
			// bug.txt marks a case whose want.txt states the right output
			// that the code does not give yet: it is skipped with the
			// reason, and -update leaves its want.txt alone.
			bug, _ := os.ReadFile(filepath.Join(dir, "bug.txt"))
			if *update && bug == nil {
				if err := os.WriteFile(wantFile, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			switch {
			case got != string(want) && bug != nil:
				t.Skipf("%s\ngot\n%s\nwant\n%s", strings.TrimSpace(string(bug)), got, want)
			case got != string(want):
				t.Errorf("Load(%s): got\n%s\nwant\n%s", dir, got, want)
			case bug != nil:
				t.Errorf("Load(%s): got the output want.txt asks for, want bug.txt deleted now that the bug is fixed", dir)
			}
		})
	}
}

// TestUnknownKeyInCheckpoint checks that a typo inside a checkpoint is refused
// (the exact place is pinned by testdata/invalid/unknown-key-checkpoint).
func TestUnknownKeyInCheckpoint(t *testing.T) {
	src := "id = \"x\"\nversion = 1\nscale = \"fulfilled\"\n[[checkpoints]]\nid = \"a\"\nsugestions = [\"b\"]\n"
	f, ps := Parse("x.toml", []byte(src))
	if f == nil {
		t.Fatal("Parse: got no flow, want one (with problems)")
	}
	if len(ps) != 1 {
		t.Fatalf("Parse: got %d problems %q, want 1", len(ps), ps.Error())
	}
	if got := ps[0]; got.File != "x.toml" || !strings.HasPrefix(got.Place, "checkpoints") || !strings.HasSuffix(got.Place, ".sugestions") || got.Reason != "unknown key" {
		t.Errorf("Parse: got %q, want %q", got.String(), "x.toml: checkpoints[0].sugestions: unknown key")
	}
	if got := len(f.Checkpoints[0].Suggestions); got != 0 {
		t.Errorf("suggestions under the misspelt key: got %d, want 0", got)
	}
}

// TestSyntaxErrorLine guards what want.txt cannot say by itself: a TOML
// syntax error names the line, for every place an author may break a file.
func TestSyntaxErrorLine(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // prefix of the one problem
		bug  string // why the code does not give want yet
	}{
		{"unclosed string", "id = \"x\"\nversion = 1\nscale = \"traffic-light\n", "x.toml: line 3", ""},
		{"missing value", "id = \"x\"\nversion =\n", "x.toml: line 2", ""},
		{"unclosed table", "id = \"x\"\nversion = 1\n\n[[checkpoints]\nid = \"a\"\n", "x.toml: line 4", ""},
		{"duplicate key", "id = \"x\"\nid = \"y\"\n", "x.toml: line 2", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ps := Parse("x.toml", []byte(tt.src))
			if f != nil {
				t.Errorf("Parse: got a flow, want nil")
			}
			if len(ps) != 1 {
				t.Fatalf("Parse: got %d problems %q, want 1", len(ps), ps.Error())
			}
			if got := ps[0].String(); !strings.HasPrefix(got, tt.want) {
				if tt.bug != "" {
					t.Skipf("BUG: %s: got %q, want it to start with %q", tt.bug, got, tt.want)
				}
				t.Errorf("Parse: got %q, want it to start with %q", got, tt.want)
			}
		})
	}
}

// TestLimits checks that the largest flow the limits allow loads, so that the
// invalid cases above fail for the reason they name and not for another.
func TestLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString("id = \"gross\"\nversion = 3\nscale = \"fulfilled\"\n")
	for i := range maxCheckpoints {
		fmt.Fprintf(&b, "\n[[checkpoints]]\nid = \"punkt-%d\"\nsuggestions = [", i+1)
		for j := range maxSuggestions {
			fmt.Fprintf(&b, "%q, ", fmt.Sprintf("s%d", j+1))
		}
		b.WriteString("]\n")
	}
	fsys := fstest.MapFS{
		"gross.toml":                    {Data: []byte(b.String())},
		"abcdefghijklmnopqrstuvwx.toml": {Data: []byte("id = \"abcdefghijklmnopqrstuvwx\"\nversion = 1\nscale = \"traffic-light\"\n[[checkpoints]]\nid = \"a1-b2-c3\"\n")},
		"README.md":                     {Data: []byte("not a flow")},
	}
	c, err := Load(fsys)
	if err != nil {
		t.Fatalf("Load: got error\n%v\nwant none", err)
	}
	f, ok := c.Get("gross")
	if !ok {
		t.Fatalf("Get(%q): got not found, want the flow", "gross")
	}
	if got := len(f.Checkpoints); got != maxCheckpoints {
		t.Errorf("checkpoints: got %d, want %d", got, maxCheckpoints)
	}
	if got := len(f.Checkpoints[maxCheckpoints-1].Suggestions); got != maxSuggestions {
		t.Errorf("suggestions of the last checkpoint: got %d, want %d", got, maxSuggestions)
	}
	var order []string
	for _, f := range c.All() {
		order = append(order, f.ID)
	}
	if want := []string{"abcdefghijklmnopqrstuvwx", "gross"}; !slices.Equal(order, want) {
		t.Errorf("All(): got %q, want %q (file name order)", order, want)
	}
}

func TestLoadNothing(t *testing.T) {
	tests := []struct {
		name string
		fsys fs.FS
	}{
		{"empty", fstest.MapFS{}},
		{"no toml", fstest.MapFS{"zo-kmu.txt": {Data: []byte("id = \"zo-kmu\"")}}},
		{"toml only in a subdirectory", fstest.MapFS{"sub/zo-kmu.toml": {Data: []byte("id = \"zo-kmu\"")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.fsys)
			if err == nil {
				t.Fatalf("Load: got %d flows and no error, want %q", len(c.All()), "no flow files found")
			}
			if got, want := err.Error(), "no flow files found"; got != want {
				t.Errorf("Load: got %q, want %q", got, want)
			}
		})
	}
}

// TestBuiltinKmuZo: the companies' counterpart of zo-kmu ships with the
// same seven checkpoints, on the traffic light.
func TestBuiltinKmuZo(t *testing.T) {
	c, err := Load(Builtin)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := c.Get("kmu-zo")
	if !ok || !slices.Contains(c.All(), g) {
		t.Fatalf("Get(%q): got not found, want the built-in check among All()", "kmu-zo")
	}
	var gotIDs []string
	for _, cp := range g.Checkpoints {
		gotIDs = append(gotIDs, cp.ID)
	}
	wantIDs := []string{"nutzen", "moeglichkeiten", "planen", "denkwelten", "kontakte", "vereinbarungen", "organisation"}
	if !slices.Equal(gotIDs, wantIDs) || g.Scale != "traffic-light" || g.File != "kmu-zo.toml" {
		t.Errorf("kmu-zo: got %s %s checkpoints %q, want kmu-zo.toml traffic-light %q", g.File, g.Scale, gotIDs, wantIDs)
	}
}

func TestTextRefs(t *testing.T) {
	c, err := Load(Builtin)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := c.Get("zo-kmu")
	refs := f.TextRefs()

	want := []TextRef{
		{"zo-kmu.title", "id"},
		{"zo-kmu.goal", "id"},
		{"zo-kmu.intro", "id"},
		{"zo-kmu.summary", "id"},
		{"scale.traffic-light.red", "scale"},
		{"scale.traffic-light.red.symbol", "scale"},
		{"scale.traffic-light.yellow", "scale"},
		{"scale.traffic-light.yellow.symbol", "scale"},
		{"scale.traffic-light.green", "scale"},
		{"scale.traffic-light.green.symbol", "scale"},
	}
	for i, cp := range f.Checkpoints {
		place := fmt.Sprintf("checkpoints[%d] (%s)", i, cp.ID)
		want = append(want,
			TextRef{"zo-kmu." + cp.ID + ".title", place},
			TextRef{"zo-kmu." + cp.ID + ".statement", place})
		for j, s := range cp.Suggestions {
			want = append(want, TextRef{"zo-kmu." + cp.ID + "." + s, fmt.Sprintf("%s.suggestions[%d] (%s)", place, j, s)})
		}
	}
	if len(refs) != len(want) {
		t.Errorf("TextRefs: got %d refs, want %d", len(refs), len(want))
	}
	for i := range min(len(refs), len(want)) {
		if refs[i] != want[i] {
			t.Errorf("TextRefs[%d]: got %+v, want %+v", i, refs[i], want[i])
		}
	}

	// Spot checks written out by hand, so that the test does not only repeat
	// the code's own construction.
	spots := []TextRef{
		{"zo-kmu.nutzen.title", "checkpoints[0] (nutzen)"},
		{"zo-kmu.nutzen.statement", "checkpoints[0] (nutzen)"},
		{"zo-kmu.nutzen.mitstreiter", "checkpoints[0] (nutzen).suggestions[1] (mitstreiter)"},
		{"zo-kmu.planen.service-learning", "checkpoints[2] (planen).suggestions[6] (service-learning)"},
		{"zo-kmu.organisation.oeffentlichkeit", "checkpoints[6] (organisation).suggestions[10] (oeffentlichkeit)"},
		{"zo-kmu.vereinbarungen.auswertung", "checkpoints[5] (vereinbarungen).suggestions[7] (auswertung)"},
		{"zo-kmu.organisation.auswertung", "checkpoints[6] (organisation).suggestions[7] (auswertung)"},
	}
	for _, s := range spots {
		if !slices.Contains(refs, s) {
			t.Errorf("TextRefs: got no %+v, want it", s)
		}
	}

	seen := map[string]string{}
	for _, r := range refs {
		if prev, dup := seen[r.ID]; dup {
			t.Errorf("TextRefs: got %q twice (%s and %s), want every message ID once", r.ID, prev, r.Place)
		}
		seen[r.ID] = r.Place
	}
}

func TestTextIDs(t *testing.T) {
	f := &Flow{ID: "zo-kmu", Scale: "fulfilled"}
	cp := Checkpoint{ID: "planen"}
	tests := []struct {
		name, got, want string
	}{
		{"TitleID", f.TitleID(), "zo-kmu.title"},
		{"GoalID", f.GoalID(), "zo-kmu.goal"},
		{"IntroID", f.IntroID(), "zo-kmu.intro"},
		{"SummaryID", f.SummaryID(), "zo-kmu.summary"},
		{"CheckpointTitleID", f.CheckpointTitleID(cp), "zo-kmu.planen.title"},
		{"StatementID", f.StatementID(cp), "zo-kmu.planen.statement"},
		{"SuggestionID", f.SuggestionID(cp, "ziele"), "zo-kmu.planen.ziele"},
		{"LevelID", LevelID("fulfilled", "no"), "scale.fulfilled.no"},
		{"SymbolID", SymbolID("fulfilled", "no"), "scale.fulfilled.no.symbol"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

// TestHostileFilesRefused: files a network brings cannot hang or exhaust
// validation. A named pipe and a link to /dev/zero are refused without
// being read, a file over the size limit after reading just past it, and
// 40 KB of nested inline tables (90 s and 2 GB in the TOML parser) before
// parsing, each with its file and, where there is one, its place.
func TestHostileFilesRefused(t *testing.T) {
	dir := t.TempDir()
	want := contentfiletest.Hostile(t, dir, ".toml")
	deep := "id = \"deep\"\nversion = 1\nx = " + strings.Repeat("{a=", 13000) + "1" + strings.Repeat("}", 13000) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "deep.toml"), []byte(deep), 0o644); err != nil {
		t.Fatal(err)
	}
	want = append(want, "deep.toml: line 3, column 29: nested more than 8 deep")
	err := contentfiletest.Quick(t, func() error {
		_, err := Load(Builtin, os.DirFS(dir))
		return err
	})
	contentfiletest.Refused(t, err, want)
}
