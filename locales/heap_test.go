package locales_test

import (
	"runtime"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ampel-bot/ampel/locales"
)

// liveHeap returns how much more heap is live after make than before it,
// with what make returned still reachable.
func liveHeap(make func() any) int64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := make()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc)
}

// A server keeps the loaded Set (its message IDs and what Loader reads) for
// as long as it runs: it must not keep the shipped files' bytes, which the
// binary holds anyway, nor, through the IDs, the strings the TOML parser
// made of whole files. Keeping them cost 1.2 MB of the live heap; the IDs
// alone are about 0.26 MB.
func TestLoadedSetKeepsNoFileText(t *testing.T) {
	n := liveHeap(func() any {
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
		load := set.Loader(prefixes...)
		n := liveHeap(func() any {
			b, err := load("en")
			if err != nil {
				t.Fatal(err)
			}
			return b
		})
		if n > 100<<10 {
			t.Errorf("Loader(%q)(en) keeps %d KB live, want at most 100 KB (a file is 200 KB)", prefixes, n>>10)
		}
	}
}
