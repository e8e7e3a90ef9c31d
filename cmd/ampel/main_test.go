package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/store"
)

// TestMain lets the crash test start this binary as the real ampel command:
// with AMPEL_TEST_MAIN=1 it runs main() on the arguments that are not the
// test framework's own.
func TestMain(m *testing.M) {
	if os.Getenv("AMPEL_TEST_MAIN") == "1" {
		args := []string{os.Args[0]}
		for _, a := range os.Args[1:] {
			if !strings.HasPrefix(a, "-test.") {
				args = append(args, a)
			}
		}
		os.Args = args
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// env builds a getenv from key/value pairs; nothing else is set, so the
// tests do not depend on the environment they run in.
func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// german is the environment of a German terminal.
var german = env("LANG", "de_DE.UTF-8")

type result struct {
	out, errOut string
	err         error
}

// runAmpel calls run in-process with stdin as input and a deadline, so a hang
// fails the test instead of the whole run.
func runAmpel(t *testing.T, getenv func(string) string, stdin io.Reader, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, getenv, stdin, &out, &errOut) }()
	select {
	case err := <-done:
		return result{out.String(), errOut.String(), err}
	case <-time.After(25 * time.Second):
		t.Fatalf("run(%q) did not return within 25s", args)
		return result{}
	}
}

func lines(ls ...string) io.Reader { return strings.NewReader(strings.Join(ls, "\n") + "\n") }

func tempDB(t *testing.T) string { return filepath.Join(t.TempDir(), "ampel.db") }

// A whole check with three red or yellow points and a plan of three measures
// typed in own words, then a second start on the same file shows the plan.
func TestConsoleSessionBuildsPlanThatSurvivesRestart(t *testing.T) {
	db := tempDB(t)
	script := lines(
		"/check zo-kmu",
		"1", // 1/7 red
		"2", // 2/7 yellow
		"1", // 3/7 red
		"3", "3", "3", "3",
		"1", // Maßnahmenplan erstellen
		"Workshop mit zwei Betrieben", "1", "ich", "in 2 Wochen", "in 3 Monaten",
		"Weiter", "Kontaktliste der Freiwilligenagentur", "2", "Anna", "nächsten Montag", "15.12.2030",
		"Weiter", "Kooperationsvereinbarung entwerfen", "3", "Ben", "morgen", "15.12.2030",
	)
	r := runAmpel(t, german, script, "--db", db)
	if r.err != nil {
		t.Fatalf("run() = %v, want nil; stderr:\n%s", r.err, r.errOut)
	}
	for _, want := range []string{
		"> /check zo-kmu", // the transcript echoes the input
		"1/7 · Strategischer Nutzen",
		"7/7 · Interne Organisation der Zusammenarbeit",
		"🔴 2 · 🟡 1 · 🟢 4",
		"Maßnahmenplan erstellen",
		"Los geht's: 3 Punkte brauchen Maßnahmen.",
		"Gespeichert: Workshop mit zwei Betrieben",
		"Gespeichert: Kontaktliste der Freiwilligenagentur",
		"Gespeichert: Kooperationsvereinbarung entwerfen",
		"Ihr Maßnahmenplan steht: 3 offene Maßnahmen",
		"Maßnahmenplan · 3 offene Maßnahmen",
		"Priorität: mittel · Verantwortlich: Anna",
		"Priorität: niedrig · Verantwortlich: Ben",
		"Kontrolle: So, 15.12.2030",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q; got:\n%s", want, tail(r.out, 3000))
		}
	}
	if r.errOut != "" {
		t.Errorf("stderr = %q, want nothing at the default log level", r.errOut)
	}

	r2 := runAmpel(t, german, lines("/plan"), "--db", db)
	if r2.err != nil {
		t.Fatalf("second run() = %v, want nil; stderr:\n%s", r2.err, r2.errOut)
	}
	for _, want := range []string{
		"Maßnahmenplan · 3 offene Maßnahmen",
		"1. Workshop mit zwei Betrieben",
		"2. Kontaktliste der Freiwilligenagentur",
		"3. Kooperationsvereinbarung entwerfen",
		"Verantwortlich: ich",
	} {
		if !strings.Contains(r2.out, want) {
			t.Errorf("/plan after restart lacks %q; got:\n%s", want, r2.out)
		}
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// rateFirst rates the first checkpoint and leaves, so a later run can tell
// which database it opened by the number of rated points.
func rateFirst(t *testing.T, getenv func(string) string, args ...string) {
	t.Helper()
	r := runAmpel(t, getenv, lines("/check zo-kmu", "1"), args...)
	if r.err != nil {
		t.Fatalf("run(%q) = %v, want nil", args, r.err)
	}
}

func resumed(t *testing.T, getenv func(string) string, args ...string) string {
	t.Helper()
	r := runAmpel(t, getenv, lines("/check"), args...)
	if r.err != nil {
		t.Fatalf("run(%q) = %v, want nil", args, r.err)
	}
	return r.out
}

func TestDBFromEnvironment(t *testing.T) {
	db := tempDB(t)
	rateFirst(t, env("LANG", "de_DE.UTF-8", "AMPEL_DB", db))
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("AMPEL_DB=%s: got %v, want the database created there", db, err)
	}
	if out := resumed(t, german, "--db", db); !strings.Contains(out, "1 von 7 Punkten sind bewertet") {
		t.Errorf("reopening AMPEL_DB's file: got\n%s\nwant the check resumed with 1 von 7 rated", out)
	}
}

func TestDBFlagWinsOverEnvironment(t *testing.T) {
	dir := t.TempDir()
	flagDB, envDB := filepath.Join(dir, "flag.db"), filepath.Join(dir, "env.db")
	rateFirst(t, german, "--db", flagDB)
	out := resumed(t, env("LANG", "de_DE.UTF-8", "AMPEL_DB", envDB), "--db", flagDB)
	if !strings.Contains(out, "1 von 7 Punkten sind bewertet") {
		t.Errorf("--db %s with AMPEL_DB=%s: got\n%s\nwant the --db file's check resumed", flagDB, envDB, out)
	}
	if _, err := os.Stat(envDB); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("AMPEL_DB file: got stat error %v, want it never created when --db is given", err)
	}
}

func TestHelpListsEveryVariable(t *testing.T) {
	r := runAmpel(t, env(), strings.NewReader(""), "--help")
	if !errors.Is(r.err, flag.ErrHelp) {
		t.Fatalf("run(--help) = %v, want flag.ErrHelp (main exits 0 on it)", r.err)
	}
	if len(settings) == 0 {
		t.Fatal("settings table is empty")
	}
	for _, s := range settings {
		if !strings.Contains(r.errOut, s.env) {
			t.Errorf("--help output lacks %s; got:\n%s", s.env, r.errOut)
		}
		if !strings.Contains(r.errOut, "--"+s.flag) {
			t.Errorf("--help output lacks --%s; got:\n%s", s.flag, r.errOut)
		}
	}
	if strings.Contains(r.errOut, "flag provided but not defined") {
		t.Errorf("--help output reports an error: %s", r.errOut)
	}

	// "ampel help" prints the same table on stdout.
	h := runAmpel(t, env(), strings.NewReader(""), "help")
	if h.err != nil {
		t.Fatalf("run(help) = %v, want nil", h.err)
	}
	for _, s := range settings {
		if !strings.Contains(h.out, s.env) {
			t.Errorf("help output lacks %s; got:\n%s", s.env, h.out)
		}
	}
}

// The real command exits 0 on --help and 1 on a bad flag.
func TestMainExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"--help"}, 0},
		{[]string{"--no-such-flag"}, 1},
	} {
		cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$"}, tc.args...)...)
		cmd.Env = append(cleanEnv(), "AMPEL_TEST_MAIN=1")
		cmd.Dir = t.TempDir()
		out, err := cmd.CombinedOutput()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("ampel %q: %v", tc.args, err)
		}
		if code != tc.code {
			t.Errorf("ampel %q: got exit code %d, want %d; output:\n%s", tc.args, code, tc.code, out)
		}
	}
}

func TestBadFlagsFail(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want []string // in the error or on stderr
	}{
		{"unknown flag", []string{"--colour", "blue"}, []string{"colour"}},
		{"stray argument", []string{"extra"}, []string{"extra"}},
		{"unknown time zone", []string{"--tz", "Mars/Base"}, []string{"time zone", "Mars/Base"}},
		{"unknown log level", []string{"--log-level", "loud"}, []string{"loud", "debug, info, warn or error"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"--db", filepath.Join(dir, "a.db")}, tc.args...)
			in := &untouchable{}
			r := runAmpel(t, german, in, args...)
			if r.err == nil {
				t.Fatalf("run(%q) = nil, want an error", args)
			}
			if errors.Is(r.err, flag.ErrHelp) {
				t.Fatalf("run(%q) = ErrHelp, want a real error (main would exit 0)", args)
			}
			msg := r.err.Error() + "\n" + r.errOut
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("run(%q): got error %q (stderr %q), want it to mention %q", args, r.err, r.errOut, w)
				}
			}
			if in.read.Load() {
				t.Errorf("run(%q) read input, want refusal before reading any", args)
			}
			if _, err := os.Stat(filepath.Join(dir, "a.db")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("run(%q): database created (stat err %v), want refusal before opening it", args, err)
			}
		})
	}
}

// untouchable is an input that records whether anything read it.
type untouchable struct {
	read atomic.Bool
}

func (u *untouchable) Read([]byte) (int, error) {
	u.read.Store(true)
	return 0, io.EOF
}

func TestLanguageFromLANG(t *testing.T) {
	r := runAmpel(t, env("LANG", "en_GB.UTF-8"), lines("/start", "/check zo-kmu"), "--db", tempDB(t))
	if r.err != nil {
		t.Fatalf("run() = %v, want nil", r.err)
	}
	for _, want := range []string{"Welcome to Ampel", "1/7 · Strategic benefit"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("LANG=en_GB.UTF-8: output lacks %q; got:\n%s", want, r.out)
		}
	}
	if strings.Contains(r.out, "Willkommen") {
		t.Errorf("LANG=en_GB.UTF-8: got German output, want English:\n%s", r.out)
	}

	// AMPEL_LANG wins over LANG.
	r = runAmpel(t, env("LANG", "en_GB.UTF-8", "AMPEL_LANG", "de"), lines("/start"), "--db", tempDB(t))
	if r.err != nil {
		t.Fatalf("run() = %v, want nil", r.err)
	}
	if !strings.Contains(r.out, "Willkommen bei Ampel") {
		t.Errorf("AMPEL_LANG=de with LANG=en_GB.UTF-8: got\n%s\nwant German", r.out)
	}
}

func TestSecondProcessOnSameDatabaseFails(t *testing.T) {
	path := tempDB(t)
	held, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatalf("store.Open = %v", err)
	}
	defer held.Close()
	start := time.Now()
	r := runAmpel(t, german, lines("/check"), "--db", path)
	elapsed := time.Since(start)
	if r.err == nil {
		t.Fatalf("run() on a held database = nil, want an error; output:\n%s", r.out)
	}
	if !strings.Contains(r.err.Error(), "in use") {
		t.Errorf("run() = %q, want it to say the database is in use", r.err)
	}
	if !errors.Is(r.err, store.ErrLocked) {
		t.Errorf("run() = %v, want it to wrap store.ErrLocked", r.err)
	}
	// The store gives up on the lock after a second or two; this bound only
	// catches waiting for it for good (5 s failed on a loaded 2-core machine).
	if elapsed > 30*time.Second {
		t.Errorf("run() took %s to give up, want it to give up soon", elapsed)
	}
	if strings.Contains(r.out, "1/7") {
		t.Errorf("run() answered input on a database it could not open:\n%s", r.out)
	}
}

// The demo flow: two checkpoints on the traffic-light scale.
const demoFlow = `# A test check.
id = "demo"
version = 1
scale = "traffic-light"

[[checkpoints]]
id = "eins"
suggestions = ["plan-a", "team-b"]

[[checkpoints]]
id = "zwei"
suggestions = ["geld"]
`

var demoTexts = map[string]map[string]string{
	"de": {
		"demo.title":          "Demo-Check Vereinsarbeit",
		"demo.goal":           "Wir prüfen unsere Vereinsarbeit.",
		"demo.intro":          "Zwei kurze Punkte.",
		"demo.summary":        "Für Vereine, die es eilig haben. 2 Punkte, 2 Min.",
		"demo.eins.title":     "Erster Punkt",
		"demo.eins.statement": "Wir haben einen Plan.",
		"demo.eins.plan-a":    "Einen Plan schreiben",
		"demo.eins.team-b":    "Ein Team bilden",
		"demo.zwei.title":     "Zweiter Punkt",
		"demo.zwei.statement": "Wir haben Geld.",
		"demo.zwei.geld":      "Fördermittel beantragen",
	},
	"en": {
		"demo.title":          "Demo check club work",
		"demo.goal":           "We check our club work.",
		"demo.intro":          "Two short points.",
		"demo.summary":        "For clubs in a hurry. 2 checkpoints, 2 min.",
		"demo.eins.title":     "First point",
		"demo.eins.statement": "We have a plan.",
		"demo.eins.plan-a":    "Write a plan",
		"demo.eins.team-b":    "Form a team",
		"demo.zwei.title":     "Second point",
		"demo.zwei.statement": "We have money.",
		"demo.zwei.geld":      "Apply for funding",
	},
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// demoDirs writes the demo flow and its locales, leaving out the message IDs
// listed per language in omit.
func demoDirs(t *testing.T, flow string, omit map[string]string) (flowsDir, localesDir string) {
	t.Helper()
	flowsDir, localesDir = t.TempDir(), t.TempDir()
	writeFile(t, flowsDir, "demo.toml", flow)
	for lang, texts := range demoTexts {
		var b strings.Builder
		for _, id := range slices.Sorted(maps.Keys(texts)) {
			if omit[lang] == id {
				continue
			}
			b.WriteString(`"` + id + `" = "` + texts[id] + "\"\n")
		}
		writeFile(t, localesDir, "demo."+lang+".toml", b.String())
	}
	return flowsDir, localesDir
}

func TestFlowsCheckValid(t *testing.T) {
	flowsDir, localesDir := demoDirs(t, demoFlow, nil)
	r := runAmpel(t, env(), strings.NewReader(""), "flows", "check", flowsDir, "--locales", localesDir)
	if r.err != nil {
		t.Fatalf("flows check = %v, want nil", r.err)
	}
	if !strings.Contains(r.out, "flows OK") || !strings.Contains(r.out, "demo (2 checkpoints)") {
		t.Errorf("flows check printed %q, want \"flows OK\" naming demo with 2 checkpoints", r.out)
	}
	if !strings.Contains(r.out, "zo-kmu (7 checkpoints)") {
		t.Errorf("flows check printed %q, want the built-in zo-kmu checked alongside", r.out)
	}
}

// TestFlowsCheckShippedDirectory: checking the repository's own flows and
// locales (a network starting from a copy of them) passes; a copy that
// changes a shipped check is still refused, not silently taken.
func TestFlowsCheckShippedDirectory(t *testing.T) {
	r := runAmpel(t, env(), strings.NewReader(""), "flows", "check", "../../flows", "--locales", "../../locales")
	files, _ := filepath.Glob("../../flows/*.toml")
	if r.err != nil || !strings.Contains(r.out, fmt.Sprintf("%d flows OK:", len(files))) {
		t.Fatalf("flows check of the shipped directories = %v, %q; want %d flows OK", r.err, r.out, len(files))
	}
	for _, f := range files {
		if id := strings.TrimSuffix(filepath.Base(f), ".toml"); !strings.Contains(r.out, " "+id+" (") {
			t.Errorf("flows check of the shipped directories: %q does not name the shipped check %s", r.out, id)
		}
	}
	shipped, err := os.ReadFile("../../flows/zo-kmu.toml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, dir, "zo-kmu.toml", string(shipped)+"\n# changed\n")
	r = runAmpel(t, env(), strings.NewReader(""), "flows", "check", dir)
	if r.err == nil || !strings.Contains(r.err.Error(), `"zo-kmu" is already defined`) {
		t.Errorf("flows check of a changed copy of zo-kmu = %v; want it refused as already defined", r.err)
	}
}

func TestFlowsCheckInvalid(t *testing.T) {
	bad := strings.Replace(demoFlow, `scale = "traffic-light"`, "scale = \"traffic-light\"\ncolour = \"blue\"", 1)
	bad = strings.Replace(bad, `id = "zwei"`, `id = "eins"`, 1)
	flowsDir, localesDir := demoDirs(t, bad, nil)
	r := runAmpel(t, env(), strings.NewReader(""), "flows", "check", flowsDir, "--locales", localesDir)
	if r.err == nil {
		t.Fatalf("flows check of an invalid flow = nil, want an error; output %q", r.out)
	}
	msg := r.err.Error()
	for _, want := range []string{
		"demo.toml: colour: unknown key",
		`demo.toml: checkpoints[1].id: "eins" is also the id of checkpoints[0]`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("flows check error lacks %q; got:\n%s", want, msg)
		}
	}
	if strings.Contains(r.out, "flows OK") {
		t.Errorf("flows check printed %q for an invalid flow, want no OK", r.out)
	}
}

func TestFlowsCheckSyntaxError(t *testing.T) {
	flowsDir, localesDir := demoDirs(t, "id = \"demo\"\nversion = 1\nscale = \"traffic-light\n", nil)
	r := runAmpel(t, env(), strings.NewReader(""), "flows", "check", flowsDir, "--locales", localesDir)
	if r.err == nil || !strings.Contains(r.err.Error(), "demo.toml: line 3") {
		t.Errorf("flows check of an unterminated string on line 3 = %v, want an error naming demo.toml: line 3", r.err)
	}
}

func TestFlowsCheckMissingTexts(t *testing.T) {
	t.Run("missing in every locale", func(t *testing.T) {
		flowsDir, localesDir := demoDirs(t, demoFlow, map[string]string{"de": "demo.zwei.statement", "en": "demo.zwei.statement"})
		r := runAmpel(t, env(), strings.NewReader(""), "flows", "check", flowsDir, "--locales", localesDir)
		if r.err == nil {
			t.Fatalf("flows check = nil with demo.zwei.statement missing, want an error; output %q", r.out)
		}
		for _, want := range []string{
			`demo.toml: checkpoints[1] (zwei): no text "demo.zwei.statement" in locale de`,
			`demo.toml: checkpoints[1] (zwei): no text "demo.zwei.statement" in locale en`,
		} {
			if !strings.Contains(r.err.Error(), want) {
				t.Errorf("flows check error lacks %q; got:\n%s", want, r.err)
			}
		}
	})
	t.Run("missing in English only", func(t *testing.T) {
		flowsDir, localesDir := demoDirs(t, demoFlow, map[string]string{"en": "demo.eins.team-b"})
		r := runAmpel(t, env(), strings.NewReader(""), "flows", "check", flowsDir, "--locales", localesDir)
		if r.err == nil {
			t.Fatalf("flows check = nil with demo.eins.team-b missing in en, want an error; output %q", r.out)
		}
		if msg := r.err.Error(); !strings.Contains(msg, "demo.eins.team-b") || !strings.Contains(msg, "en") {
			t.Errorf("flows check error = %q, want it to name demo.eins.team-b and locale en", msg)
		}
	})
	t.Run("no line for the list of checks", func(t *testing.T) {
		flowsDir, localesDir := demoDirs(t, demoFlow, map[string]string{"de": "demo.summary", "en": "demo.summary"})
		r := runAmpel(t, env(), strings.NewReader(""), "flows", "check", flowsDir, "--locales", localesDir)
		if r.err == nil {
			t.Fatalf("flows check = nil with demo.summary missing, want an error; output %q", r.out)
		}
		for _, want := range []string{
			`demo.toml: id: no text "demo.summary" in locale de`,
			`demo.toml: id: no text "demo.summary" in locale en`,
		} {
			if !strings.Contains(r.err.Error(), want) {
				t.Errorf("flows check error lacks %q; got:\n%s", want, r.err)
			}
		}
	})
	t.Run("no locales given", func(t *testing.T) {
		flowsDir, _ := demoDirs(t, demoFlow, nil)
		r := runAmpel(t, env(), strings.NewReader(""), "flows", "check", flowsDir)
		if r.err == nil || !strings.Contains(r.err.Error(), `no text "demo.title" in locale de`) {
			t.Errorf("flows check without --locales = %v, want an error naming demo.title and locale de", r.err)
		}
	})
}

// A typo in the directory must not pass as a successful check.
func TestFlowsCheckMissingDir(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-dir")
	r := runAmpel(t, env(), strings.NewReader(""), "flows", "check", missing)
	if r.err == nil || !strings.Contains(r.err.Error(), "no-such-dir") {
		t.Errorf("flows check of a missing directory = %v, output %q; want an error naming the directory", r.err, r.out)
	}
	db := tempDB(t)
	r = runAmpel(t, german, &untouchable{}, "--db", db, "--flows", missing)
	if r.err == nil || !strings.Contains(r.err.Error(), "no-such-dir") {
		t.Errorf("run(--flows missing) = %v; want an error naming the directory", r.err)
	}
	r = runAmpel(t, german, &untouchable{}, "--db", db, "--locales", missing)
	if r.err == nil || !strings.Contains(r.err.Error(), "no-such-dir") {
		t.Errorf("run(--locales missing) = %v; want an error naming the directory", r.err)
	}
}

func TestFlowsCheckUsage(t *testing.T) {
	r := runAmpel(t, env(), strings.NewReader(""), "flows")
	if r.err == nil || !strings.Contains(r.err.Error(), "usage") {
		t.Errorf("run(flows) = %v, want a usage error", r.err)
	}
}

func TestExtraFlowCanBeStarted(t *testing.T) {
	flowsDir, localesDir := demoDirs(t, demoFlow, nil)
	r := runAmpel(t, german, lines("/check demo", "1"), "--db", tempDB(t), "--flows", flowsDir, "--locales", localesDir)
	if r.err != nil {
		t.Fatalf("run() = %v, want nil; stderr:\n%s", r.err, r.errOut)
	}
	for _, want := range []string{"Demo-Check Vereinsarbeit", "Zwei kurze Punkte.", "1/2 · Erster Punkt", "2/2 · Zweiter Punkt"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("/check demo: output lacks %q; got:\n%s", want, r.out)
		}
	}

	// With several checks, a bare /check asks which one, each with its
	// line; the network's check, typed by its title, starts.
	r = runAmpel(t, german, lines("/check", "Demo-Check Vereinsarbeit"), "--db", tempDB(t), "--flows", flowsDir, "--locales", localesDir)
	if r.err != nil {
		t.Fatalf("run() = %v, want nil", r.err)
	}
	for _, want := range []string{
		"Welchen Check möchten Sie machen?",
		"Demo-Check Vereinsarbeit\nFür Vereine, die es eilig haben. 2 Punkte, 2 Min.",
		"Zusammenarbeit mit KMU in der Region\nFür gemeinnützige Organisationen",
		"1/2 · Erster Punkt",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("/check with several flows, then the demo's title: output lacks %q; got:\n%s", want, r.out)
		}
	}
}

func TestCorruptLocaleRefusedAtStart(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "demo.de.toml", "\"demo.title\" = \"Titel\"\n\n\"demo.goal\" = \"nicht geschlossen\n\"demo.intro\" = \"x\"\n")
	db := filepath.Join(t.TempDir(), "a.db")
	in := &untouchable{}
	r := runAmpel(t, german, in, "--db", db, "--locales", dir)
	if r.err == nil {
		t.Fatalf("run() with a broken locale = nil, want an error; output:\n%s", r.out)
	}
	if msg := r.err.Error(); !strings.Contains(msg, "demo.de.toml") || !strings.Contains(msg, "line 3") {
		t.Errorf("run() = %q, want it to name demo.de.toml and line 3", msg)
	}
	if in.read.Load() {
		t.Error("run() read input before refusing a broken locale, want refusal first")
	}
	if r.out != "" {
		t.Errorf("run() printed %q, want nothing on stdout", r.out)
	}
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("database stat = %v, want it not created when content is refused", err)
	}
}

func TestCorruptLocaleUnclosedTableLine(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "demo.de.toml", "\"demo.title\" = \"Titel\"\n\n[demo\n\"x\" = \"y\"\n")
	r := runAmpel(t, german, &untouchable{}, "--db", tempDB(t), "--locales", dir)
	if r.err == nil {
		t.Fatal("run() with an unclosed table header = nil, want an error")
	}
	if msg := r.err.Error(); !strings.Contains(msg, "demo.de.toml: line 3") {
		t.Errorf("run() = %q, want it to name demo.de.toml: line 3 (where the header is)", msg)
	}
}

// cleanEnv is the test's environment without AMPEL_* and locale variables,
// so a child process behaves the same on every machine.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AMPEL_") || k == "LANG" || strings.HasPrefix(k, "LC_") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, "LANG=de_DE.UTF-8")
}

// A process killed with SIGKILL in the middle of a check loses nothing it
// has answered: the restarted bot resumes where the user was.
func TestKilledProcessResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "ampel.db")
	childEnv := append(cleanEnv(), "AMPEL_TEST_MAIN=1")

	cmd := exec.Command(os.Args[0], "-test.run=^$", "--db", db)
	cmd.Env = childEnv
	cmd.Dir = dir
	// exec copies the child's stderr in a goroutine that only Wait joins;
	// the failure messages below read it before that.
	var stderr syncBuffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	outLines := make(chan string, 1024)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer close(outLines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			outLines <- sc.Text()
		}
	}()
	if _, err := io.WriteString(stdin, "/check zo-kmu\n1\n2\n1\n"); err != nil {
		t.Fatal(err)
	}
	var seen strings.Builder
	deadline := time.After(10 * time.Second)
wait:
	for {
		select {
		case l, ok := <-outLines:
			if !ok {
				t.Fatalf("ampel ended before showing 4/7; stdout:\n%s\nstderr:\n%s", seen.String(), stderr.String())
			}
			seen.WriteString(l + "\n")
			if strings.HasPrefix(l, "4/7") {
				break wait
			}
		case <-deadline:
			t.Fatalf("no 4/7 within 10s; stdout so far:\n%s", seen.String())
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatalf("kill: %v", err)
	}
	killed = true
	for range outLines { // drain to EOF before Wait closes the pipe
	}
	<-readDone
	stdin.Close()
	cmd.Wait()

	s, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatalf("store.Open after kill -9 = %v, want nil", err)
	}
	if err := s.Check(); err != nil {
		t.Errorf("Check() after kill -9 = %v, want a consistent file", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	again := exec.CommandContext(ctx, os.Args[0], "-test.run=^$", "--db", db)
	again.Env = childEnv
	again.Dir = dir
	again.Stdin = strings.NewReader("/check\n")
	var errOut bytes.Buffer
	again.Stderr = &errOut
	out, err := again.Output()
	if err != nil {
		t.Fatalf("restart after kill -9: %v; stderr:\n%s", err, errOut.String())
	}
	for _, want := range []string{"3 von 7 Punkten sind bewertet", "4/7 · Unterschiedliche Denk- und Sprachwelten"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("restart after kill -9: output lacks %q; got:\n%s", want, out)
		}
	}
}

var benchLine = regexp.MustCompile(`^engine=ampel store=bbolt users=3 turns=81 turns_per_s=\d+ p50_ms=[\d.]+ p99_ms=[\d.]+ rss_mb=[\d.]+\n$`)

func TestBenchCommand(t *testing.T) {
	r := runAmpel(t, env(), strings.NewReader(""), "bench", "--users", "3")
	if r.err != nil {
		t.Fatalf("bench --users 3 = %v, want nil; stderr:\n%s", r.err, r.errOut)
	}
	if !benchLine.MatchString(r.out) {
		t.Errorf("bench printed %q, want one line matching %s", r.out, benchLine)
	}

	// --memory says what the peak was made of: someone chasing the RSS
	// figure needs the split, not just the sum.
	r = runAmpel(t, env(), strings.NewReader(""), "bench", "--users", "3", "--memory", "--db", filepath.Join(t.TempDir(), "b.db"))
	if r.err != nil {
		t.Fatalf("bench --memory = %v; stderr:\n%s", r.err, r.errOut)
	}
	if !benchLine.MatchString(r.out) {
		t.Errorf("bench --memory printed %q on stdout, want only the figures", r.out)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`memory at the sampled peak: [\d.]+ MB resident = [\d.]+ anonymous \+ [\d.]+ file-backed`),
		regexp.MustCompile(`heap objects [\d.]+ \(live at the last GC [\d.]+, next GC at [\d.]+\), goroutine stacks [\d.]+`),
		regexp.MustCompile(`file-backed at the end: program [1-9][\d.]*, database [\d.]+`),
	} {
		if !want.MatchString(r.errOut) {
			t.Errorf("bench --memory: stderr lacks %s; got:\n%s", want, r.errOut)
		}
	}

	r = runAmpel(t, env(), strings.NewReader(""), "bench", "--users", "0")
	if r.err == nil {
		t.Errorf("bench --users 0 = nil, want an error; output %q", r.out)
	} else if !strings.Contains(r.err.Error(), "--users") {
		t.Errorf("bench --users 0 = %q, want it to name --users", r.err)
	}
	if r.out != "" {
		t.Errorf("bench --users 0 printed %q, want nothing", r.out)
	}
}

// Without GOGC the collector runs at defaultGOGC; an operator's GOGC wins.
// Allocations are not sampled for heap profiles unless the operator asks.
func TestGCDefault(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
	runtime.MemProfileRate = 512 * 1024
	gcDefault(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != defaultGOGC {
		t.Errorf("GC percent without GOGC: got %d, want %d", got, defaultGOGC)
	}
	if runtime.MemProfileRate != 0 {
		t.Errorf("heap profile sampling without GODEBUG: every %d bytes, want off (its records cost ~1.5 MB under load)", runtime.MemProfileRate)
	}
	runtime.MemProfileRate = 4096
	gcDefault(func(k string) string {
		if k == "GODEBUG" {
			return "madvdontneed=1,memprofilerate=4096"
		}
		return ""
	})
	if runtime.MemProfileRate != 4096 {
		t.Errorf("heap profile sampling with GODEBUG=memprofilerate=4096: every %d bytes, want the operator's rate left alone", runtime.MemProfileRate)
	}
	debug.SetGCPercent(100)
	gcDefault(func(k string) string {
		if k == "GOGC" {
			return "200"
		}
		return ""
	})
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GC percent with GOGC=200 set by the operator: got %d, want it left alone (100 here)", got)
	}
}
