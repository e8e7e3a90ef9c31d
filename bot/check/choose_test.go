package check_test

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/dialogtest"
	"github.com/ampel-bot/ampel/flows"
)

// onlyCheck gives the harness a catalog of the one built-in check id, as
// where a network installs a single check.
func onlyCheck(t testing.TB, id string) func(*bot.Config) {
	data, err := fs.ReadFile(flows.Builtin, id+".toml")
	if err != nil {
		t.Fatal(err)
	}
	catalog, err := flows.Load(fstest.MapFS{id + ".toml": {Data: data}})
	if err != nil {
		t.Fatal(err)
	}
	return func(c *bot.Config) { c.Flows = catalog }
}

// TestCheckListsTheChecks: with several checks, /check asks which one, in
// the user's language (in all six; a check not written in it is listed in
// English): every check with its title and its line on whom it
// is for and how long it takes, the titles as buttons. Each of the typed
// twins – the number, the title, the title in other case – starts the
// check it names.
func TestCheckListsTheChecks(t *testing.T) {
	catalog, texts := bottest.Content(t)
	all := catalog.All()
	if len(all) < 2 {
		t.Fatalf("built-in checks: got %d, want several", len(all))
	}
	for _, lang := range texts.Langs() { // a check the language lacks is listed in English
		h := dialogtest.New(t, 0)
		h.Lang = lang
		sent := h.Send(bot.Event{Text: "/check"})
		if len(sent) != 1 {
			t.Fatalf("%s: /check sent %d messages, want the one question", lang, len(sent))
		}
		m := sent[0].Msg
		if ask := texts.T(lang, "check.choose"); !strings.HasPrefix(m.Text, ask) {
			t.Errorf("%s: /check: got %q, want it to begin with %q", lang, m.Text, ask)
		}
		buttons := m.Flat()
		if len(buttons) != len(all) {
			t.Fatalf("%s: /check: got %d buttons, want one per check (%d)", lang, len(buttons), len(all))
		}
		for i, f := range all {
			title, summary := texts.T(lang, f.TitleID()), texts.T(lang, f.SummaryID())
			if !strings.Contains(m.Text, title+"\n"+summary) {
				t.Errorf("%s: the list lacks %s with its line %q:\n%s", lang, f.ID, summary, m.Text)
			}
			if buttons[i].Label != title || buttons[i].Action != "/check "+f.ID {
				t.Errorf("%s: button %d: got %q → %q, want %q → /check %s", lang, i+1, buttons[i].Label, buttons[i].Action, title, f.ID)
			}
		}
		if c := h.Conv(); c.Run != nil {
			t.Errorf("%s: the list started %q, want nothing started before a choice", lang, c.Run.Flow)
		}
	}

	last := all[len(all)-1]
	for _, tt := range []struct{ typed, want string }{
		{"2", all[1].ID},
		{texts.T("de", all[0].TitleID()), all[0].ID},
		{strings.ToUpper(texts.T("de", last.TitleID())), last.ID},
	} {
		h := dialogtest.New(t, 0)
		h.Say("/check")
		got := h.Say(tt.typed)
		c := h.Conv()
		if c.Run == nil || c.Run.Flow != tt.want {
			t.Errorf("typed %q after the list: got %q, want %s started", tt.typed, got, tt.want)
			continue
		}
		f, _ := catalog.Get(tt.want)
		if goal := texts.T("de", f.GoalID()); !strings.Contains(got, goal) || !strings.Contains(got, "1/") {
			t.Errorf("typed %q: got %q, want the opening of %s", tt.typed, got, f.ID)
		}
	}
}

// TestCheckWithOneCheckStartsIt: where only one check is installed, /check
// starts it at once, as before there were several; a check in progress is
// resumed, not listed.
func TestCheckWithOneCheckStartsIt(t *testing.T) {
	h := dialogtest.New(t, 0, onlyCheck(t, "zo-kmu"))
	if got := h.Say("/check"); !strings.Contains(got, "1/7 · Strategischer Nutzen") || strings.Contains(got, "Welchen Check") {
		t.Errorf("/check with one check: got %q, want its first checkpoint", got)
	}

	h = dialogtest.New(t, 0)
	h.Say("/check kmu-zo")
	h.Say("1")
	got := h.Say("/check")
	if !strings.Contains(got, "Willkommen zurück! 1 von 7") || !strings.Contains(got, "2/7") || strings.Contains(got, "Welchen Check") {
		t.Errorf("/check with kmu-zo in progress: got %q, want it resumed at 2/7", got)
	}
}

// TestFinishedCheckOffersTheOthers: back at a finished check, /check shows
// its result; with other checks installed, one button leads to the list,
// and the list starts another check, keeping the finished one for
// comparison.
func TestFinishedCheckOffersTheOthers(t *testing.T) {
	h := dialogtest.New(t, 0)
	h.Say("/check kmu-zo")
	for range 7 {
		h.Say("3")
	}
	got := h.Say("/check")
	if !strings.Contains(got, "Ergebnis · Zusammenarbeit mit gemeinnützigen Organisationen") || !strings.Contains(got, "Anderen Check wählen") {
		t.Fatalf("/check on the finished check: got %q, want its result with „Anderen Check wählen“", got)
	}
	got = h.Say("Anderen Check wählen")
	if !strings.HasPrefix(got, "Welchen Check möchten Sie machen?") || !strings.Contains(got, "Zusammenarbeit mit KMU in der Region") {
		t.Fatalf("„Anderen Check wählen“: got %q, want the list of checks", got)
	}
	got = h.Say("Zusammenarbeit mit KMU in der Region")
	c := h.Conv()
	if c.Run == nil || c.Run.Flow != "zo-kmu" || !strings.Contains(got, "1/7") {
		t.Fatalf("picked zo-kmu from the list: got %q, want zo-kmu started", got)
	}
	if len(c.History) != 1 || c.History[0].Flow != "kmu-zo" {
		t.Errorf("history after starting zo-kmu: got %d runs, want the finished kmu-zo kept", len(c.History))
	}

	// With one check, the result has no such button.
	h = dialogtest.New(t, 0, onlyCheck(t, "zo-kmu"))
	h.Say("/check")
	for range 7 {
		h.Say("3")
	}
	if got := h.Say("/check"); strings.Contains(got, "Anderen Check") {
		t.Errorf("/check on the finished check, no other installed: got %q, want no „Anderen Check wählen“", got)
	}
}
