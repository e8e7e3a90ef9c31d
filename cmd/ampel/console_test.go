package main

import (
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
