package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/adapters/console"
)

// wholeCheck is a check with a plan of two measures, typed as a newcomer
// would in German.
var wholeCheck = []string{
	"/start", "/help", "/check zo-kmu", "1", "2", "1", "3", "3", "3", "3", "1",
	"Workshop mit zwei Betrieben", "1", "ich", "in 2 Wochen", "in 3 Monaten",
	"Weiter", "Kontaktliste der Freiwilligenagentur", "2", "Anna", "nächsten Montag", "15.12.2030",
	"/plan", "/reminders",
}

// TestConsoleWrapsAtColumns: with $COLUMNS at 40 every line the bot writes
// in a whole check fits in 40 columns and no word is broken (the words are
// those of the same session unwrapped); piped without $COLUMNS, the
// transcript is not wrapped.
func TestConsoleWrapsAtColumns(t *testing.T) {
	for _, lang := range []string{"de_DE.UTF-8", "en_GB.UTF-8"} {
		args := []string{"--clock-start", "2027-03-15T10:00:00+01:00"}
		wrapped := runAmpel(t, env("LANG", lang, "COLUMNS", "40"), lines(wholeCheck...), append(args, "--db", tempDB(t))...)
		plain := runAmpel(t, env("LANG", lang), lines(wholeCheck...), append(args, "--db", tempDB(t))...)
		if wrapped.err != nil || plain.err != nil {
			t.Fatalf("%s: run() = %v, %v", lang, wrapped.err, plain.err)
		}
		// A file's path is printed whole, unwrapped, to be copied; the two
		// runs write beside their own databases.
		wrapped.out, plain.out = withoutPaths(wrapped.out), withoutPaths(plain.out)
		for _, l := range strings.Split(wrapped.out, "\n") {
			if w := console.Width(l); w > 40 && !strings.HasPrefix(l, "> ") {
				t.Errorf("%s: line %q is %d columns wide, want at most 40", lang, l, w)
			}
		}
		if w, p := strings.Fields(wrapped.out), strings.Fields(plain.out); strings.Join(w, " ") != strings.Join(p, " ") {
			t.Errorf("%s: the words at 40 columns differ from those unwrapped (a word was broken):\n%s", lang, tail(wrapped.out, 2000))
		}
		long := 0
		for _, l := range strings.Split(plain.out, "\n") {
			if console.Width(l) > 40 {
				long++
			}
		}
		if long == 0 {
			t.Errorf("%s: piped without $COLUMNS no line is over 40 columns; want the transcript unwrapped", lang)
		}
	}
}

// TestConsoleLongLineThenCheck: a line of 2 MB (a pasted file) does not end
// the console: it gets the answer that it is too long, and the /check after
// it is answered. The console asks for numbers, as it has nothing to tap.
func TestConsoleLongLineThenCheck(t *testing.T) {
	r := runAmpel(t, german, lines(strings.Repeat("x", 2<<20), "/check zo-kmu", "keine Ahnung"), "--db", tempDB(t))
	if r.err != nil {
		t.Fatalf("run() = %v, want nil; stderr:\n%s", r.err, r.errOut)
	}
	for _, want := range []string{
		"Diese Nachricht ist viel zu lang",
		"1/7 · Strategischer Nutzen",
		"Bitte schreiben Sie die Nummer Ihrer Wahl (1 bis ",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q; got:\n%s", want, tail(r.out, 3000))
		}
	}
	if strings.Contains(r.out, "tippen Sie auf eine Schaltfläche") {
		t.Errorf("the console asks to tap a button:\n%s", tail(r.out, 3000))
	}
	if len(r.out) > 64<<10 {
		t.Errorf("the transcript has %d bytes, want the long line echoed cut", len(r.out))
	}
}

// withoutPaths is a transcript without the lines of files written.
func withoutPaths(out string) string {
	var kept []string
	for _, l := range strings.Split(out, "\n") {
		if !strings.HasPrefix(l, "  ["+string(filepath.Separator)) {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, "\n")
}

// TestConsoleWritesFilesBesideDatabase: the result of a check piped into
// the console comes with its picture, written beside the database under
// its name, and the console prints where; /export plan pdf writes the
// plan's PDF there too.
func TestConsoleWritesFilesBesideDatabase(t *testing.T) {
	db := tempDB(t)
	r := runAmpel(t, german, lines(append(wholeCheck, "/export plan pdf")...), "--db", db, "--clock-start", "2027-03-15T10:00:00+01:00")
	if r.err != nil {
		t.Fatalf("run() = %v; stderr:\n%s", r.err, r.errOut)
	}
	dir := filepath.Dir(db)
	for _, name := range []string{"ampel-ergebnis-2027-03-15.png", "ampel-massnahmenplan-2027-03-15.pdf"} {
		path := filepath.Join(dir, name)
		if !strings.Contains(r.out, "\n  ["+path+"]\n") {
			t.Errorf("output lacks the path %s:\n%s", path, tail(r.out, 2000))
		}
		data, err := os.ReadFile(path)
		if err != nil || len(data) < 1000 {
			t.Errorf("%s: %d bytes, %v; want the file", path, len(data), err)
		}
	}
}
