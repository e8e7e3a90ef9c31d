package flows

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"testing/fstest"

	"github.com/BurntSushi/toml"
)

// FuzzParse: any flow file is refused with problems that name the file
// and say what is wrong, or taken as a flow that keeps every rule (an ID
// as file names and text IDs need it, 1 to 30 checkpoints with unique IDs,
// at most 20 unique suggestions each, a known scale), which written as TOML
// again parses to the same flow; Load takes or refuses it the same way.
// Nothing panics.
func FuzzParse(f *testing.F) {
	builtin, err := Builtin.ReadFile("zo-kmu.toml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(builtin)
	invalid, _ := filepath.Glob("testdata/invalid/*/*.toml")
	for _, p := range invalid {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("id = \"x\"\nversion = 1\nscale = \"fulfilled\"\n[[checkpoints]]\nid = \"a\"\n"))
	f.Add([]byte("id = \"x\"\n" + string(bytes.Repeat([]byte("["), 200))))
	f.Fuzz(func(t *testing.T, data []byte) {
		fl, ps := Parse("x.toml", data)
		for _, p := range ps {
			if p.File != "x.toml" || p.Reason == "" {
				t.Fatalf("problem %+v", p)
			}
		}
		_, loadErr := Load(fstest.MapFS{"x.toml": {Data: data}})
		if len(ps) > 0 {
			if loadErr == nil {
				t.Fatalf("Parse found %v, Load took it", ps)
			}
			return
		}
		if fl == nil || loadErr != nil {
			t.Fatalf("no problems, but flow %v, Load: %v", fl, loadErr)
		}
		if !idPattern.MatchString(fl.ID) || len(fl.ID) > maxIDLen || fl.Version < 1 || scales[fl.Scale] == nil ||
			len(fl.Checkpoints) == 0 || len(fl.Checkpoints) > maxCheckpoints {
			t.Fatalf("flow taken against the rules: %+v", fl)
		}
		ids := map[string]bool{}
		for _, c := range fl.Checkpoints {
			if !idPattern.MatchString(c.ID) || ids[c.ID] || len(c.Suggestions) > maxSuggestions {
				t.Fatalf("checkpoint taken against the rules: %+v", c)
			}
			ids[c.ID] = true
			seen := map[string]bool{}
			for _, s := range c.Suggestions {
				if !idPattern.MatchString(s) || seen[s] || s == "title" || s == "statement" {
					t.Fatalf("suggestion %q of %s taken against the rules", s, c.ID)
				}
				seen[s] = true
			}
		}
		var b bytes.Buffer
		if err := toml.NewEncoder(&b).Encode(fl); err != nil {
			t.Fatal(err)
		}
		again, ps := Parse("x.toml", b.Bytes())
		if len(ps) > 0 || !reflect.DeepEqual(again, fl) {
			t.Fatalf("written again as\n%s\nit parses to %+v, %v; want %+v", b.Bytes(), again, ps, fl)
		}
	})
}
