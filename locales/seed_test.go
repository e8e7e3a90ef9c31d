package locales

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode"
)

// seedDir holds the source documents the checks are written from; it lies
// beside the repository (../shared/seeds from its root), in CI as well.
const seedDir = "../../shared/seeds"

// seeds maps a check's German locale file to the document it is written from.
var seeds = map[string]string{
	"bmo-advocacy.de.toml":   "000_b6352e0d97204a20.txt",
	"zo-kmu.de.toml":         "002_238046fd1819344f.txt",
	"netz-qualitaet.de.toml": "003_972e3aa833220ad1.txt",
	"kmu-zo.de.toml":         "001_c1185280d9b1781b.txt",
}

// maxSharedRun is the longest run of consecutive words a text may share with
// its seed: enough for a fixed term ("mit kleinen und mittleren Unternehmen"),
// too little for a sentence pasted and trimmed.
const maxSharedRun = 5

// TestTextsNotCopiedFromSeeds: the goal, the introduction, every statement and
// every suggestion are written anew, faithful in meaning, not pasted from the
// source document. Checkpoint titles are the document's own names and exempt.
func TestTextsNotCopiedFromSeeds(t *testing.T) {
	files := map[string]shippedFile{}
	for _, f := range shippedFiles(t) {
		files[f.name] = f
	}
	names := make([]string, 0, len(seeds))
	for name := range seeds {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		file, ok := files[name]
		if !ok {
			t.Errorf("%s: no such locale file, want the texts written from %s", name, seeds[name])
			continue
		}
		raw, err := os.ReadFile(filepath.Join(seedDir, seeds[name]))
		if errors.Is(err, fs.ErrNotExist) {
			t.Skipf("seed %s not found in %s (the shared folder lies beside the repository): %v", seeds[name], seedDir, err)
		}
		if err != nil {
			t.Fatal(err)
		}
		seed := words(string(raw))
		n := 0
		walkStrings(t, name, file.data, func(key, value string) {
			if strings.HasSuffix(key, ".title") {
				return
			}
			n++
			w := words(value)
			if run, at := longestSharedRun(w, seed); run > maxSharedRun {
				t.Errorf("%s: %s shares %d consecutive words with %s, want at most %d: %q",
					name, key, run, seeds[name], maxSharedRun, strings.Join(w[at:at+run], " "))
			}
		})
		if n < 20 {
			t.Errorf("%s: texts compared: got %d, want every statement and suggestion (at least 20)", name, n)
		}
	}
}

// words splits a text into lower-case words, ignoring punctuation, so that
// "BBE/OM-Praxishilfe" is three words and a line break changes nothing.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// longestSharedRun returns the length of the longest run of consecutive words
// of text that also occurs in seed, and where in text it starts.
func longestSharedRun(text, seed []string) (run, at int) {
	prev := make([]int, len(seed)+1)
	cur := make([]int, len(seed)+1)
	for i := range text {
		for j := range seed {
			if text[i] == seed[j] {
				cur[j+1] = prev[j] + 1
				if cur[j+1] > run {
					run, at = cur[j+1], i+1-cur[j+1]
				}
			} else {
				cur[j+1] = 0
			}
		}
		prev, cur = cur, prev
	}
	return run, at
}

// TestLongestSharedRun: the measure counts a trimmed sentence as copied and
// words merely in common as not.
func TestLongestSharedRun(t *testing.T) {
	seed := words("Kooperation mit KMU als festen Punkt in den Besprechungen aufnehmen.")
	for _, tt := range []struct {
		text string
		run  int
		from string
	}{
		{"Kooperation mit KMU als festen Punkt in Besprechungen aufnehmen", 7, "kooperation"},
		{"Die KMU-Kooperation regelmäßig auf die Tagesordnung setzen", 1, "kmu"},
		{"Nichts davon", 0, ""},
	} {
		w := words(tt.text)
		run, at := longestSharedRun(w, seed)
		if run != tt.run || (run > 0 && w[at] != tt.from) {
			t.Errorf("longestSharedRun(%q): got %d from %d, want %d from %q", tt.text, run, at, tt.run, tt.from)
		}
	}
}
