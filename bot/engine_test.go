package bot_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
)

// TestBadInput tries what a new user types where the bot expects something
// else. Every time there is a clear reply, the question comes again, and
// nothing already answered is lost.
func TestBadInput(t *testing.T) {
	h := newHarness(t, 0)
	h.Say("/check zo-kmu")
	h.Say("1")                                              // 1/7 red
	h.Say("2")                                              // 2/7 yellow
	long := strings.Repeat("Das ist sehr viel Text. ", 430) // ~10 KB
	tests := []struct {
		name, in, want string
	}{
		{"free text", "keine Ahnung", "Bitte tippen Sie auf eine Schaltfläche"},
		{"number too big", "7", "Diese Nummer gibt es hier nicht"},
		{"zero", "0", "Diese Nummer gibt es hier nicht"},
		{"negative", "-1", "Diese Nummer gibt es hier nicht"},
		{"empty line", "", "Ihre Nachricht war leer"},
		{"only spaces", "   \t ", "Ihre Nachricht war leer"},
		{"10 KB of text", long, "Bitte tippen Sie auf eine Schaltfläche"},
		{"emoji", "👍🚦", "Bitte tippen Sie auf eine Schaltfläche"},
		{"a date", "15.03.2027", "Bitte tippen Sie auf eine Schaltfläche"},
		{"invalid UTF-8", "\xff\xfe\xfd", "Ihre Nachricht war leer"},
		{"control characters", "\x00\x07\x1b[31m", "Bitte tippen Sie auf eine Schaltfläche"},
		{"unknown command", "/löschen", "Den Befehl /löschen kenne ich nicht"},
		{"forged button", "", "früheren Frage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			if tt.name == "forged button" {
				for _, s := range h.Send(bot.Event{Action: "999:r:red"}) {
					got += s.Msg.Text
				}
			} else {
				got = h.Say(tt.in)
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("reply to %.40q: got %q, want it to contain %q", tt.in, got, tt.want)
			}
			if !strings.Contains(got, "3/7") {
				t.Errorf("reply to %.40q does not repeat the question 3/7: %q", tt.in, got)
			}
			if n := len(h.Conv().Run.Ratings); n != 2 {
				t.Errorf("after %.40q: got %d ratings kept, want 2", tt.in, n)
			}
		})
	}
}

// TestBadDates tries wrong dates where a date is expected: each gets its own
// explanation and the date question again, and the measure is not lost.
func TestBadDates(t *testing.T) {
	h := newHarness(t, 0)
	for _, in := range []string{"/check zo-kmu", "1", "3", "3", "3", "3", "3", "3", "1", "Eigene Maßnahme", "1", "ich"} {
		h.Say(in)
	}
	tests := []struct{ in, want string }{
		{"31.02.2027", "Dieses Datum gibt es nicht"},
		{"32.13.", "Dieses Datum gibt es nicht"},
		{"gestern", "Di, 09.03.2027 liegt in der Vergangenheit"},
		{"1.1.2020", "liegt in der Vergangenheit"},
		{"3/4/2027", "Meinen Sie"},
		{"next Friday in two weeks", "Dieses Datum kann ich nicht lesen"},
		{strings.Repeat("9", 10000), "Dieses Datum kann ich nicht lesen"},
	}
	for _, tt := range tests {
		got := h.Say(tt.in)
		if !strings.Contains(got, tt.want) || !strings.Contains(got, "Wann beginnt die Umsetzung?") {
			t.Errorf("start date %.30q: got %q, want %q and the question again", tt.in, got, tt.want)
		}
	}
	if d := h.Conv().Dialog.Draft; d == nil || d.Text != "Eigene Maßnahme" || !d.Me || d.Priority != "high" {
		t.Errorf("the measure being entered was lost: %+v", d)
	}
	h.Say("15.3.")
	if got := h.Say("14.3.2027"); !strings.Contains(got, "liegt vor dem Start (Mo, 15.03.2027)") {
		t.Errorf("review before start: got %q", got)
	}
	if got := h.Say("15.3.2027"); !strings.Contains(got, "Gespeichert: Eigene Maßnahme") {
		t.Errorf("review on the start day must be accepted: got %q", got)
	}
}

// TestDateNextYearConfirmed: a day and month typed that has just passed
// this year ("3.12." on 4 December 2026) is taken as next year's, and the
// confirmation says so; the dates of this year and the review question do not.
func TestDateNextYearConfirmed(t *testing.T) {
	tests := []struct{ lang, resp, in, want string }{
		{"de", "ich", "3.12.", "Start: Fr, 03.12.2027 (nächstes Jahr)\n"},
		{"en", "me", "3.12.", "Start: Fri 3 Dec 2027 (next year)\n"},
		{"en", "me", "December 3rd", "Start: Fri 3 Dec 2027 (next year)\n"},
		{"de", "ich", "5.12.", "Start: Sa, 05.12.2026\n"},
		{"de", "ich", "3.12.2027", "Start: Fr, 03.12.2027\n"}, // the year was typed
	}
	for _, tt := range tests {
		t.Run(tt.lang+" "+tt.in, func(t *testing.T) {
			h := newHarness(t, 0)
			h.Lang = tt.lang
			h.Clock.Set(time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC))
			for _, in := range []string{"/check zo-kmu", "1", "3", "3", "3", "3", "3", "3", "1", "Workshop", "1", tt.resp} {
				h.Say(in)
			}
			got := h.Say(tt.in)
			if first := got[:strings.IndexByte(got, '\n')+1]; first != tt.want {
				t.Errorf("start %q on 4 Dec 2026: got first line %q, want %q (whole reply %q)", tt.in, first, tt.want, got)
			}
			if strings.Count(got, "nächstes Jahr")+strings.Count(got, "next year") > 1 {
				t.Errorf("start %q: only the confirmation says next year, got %q", tt.in, got)
			}
		})
	}
}

// TestLanguageTyped: /language takes the language's names in every shipped
// language, as the picker offers them, not only its code.
func TestLanguageTyped(t *testing.T) {
	tests := []struct{ from, in, want, says string }{
		{"en", "/language deutsch", "de", "Ich schreibe Ihnen ab jetzt auf Deutsch."},
		{"en", "/language German", "de", "Ich schreibe Ihnen ab jetzt auf Deutsch."},
		{"en", "/language Deutsch", "de", "Ich schreibe Ihnen ab jetzt auf Deutsch."},
		{"de", "/language englisch", "en", "From now on I'll write to you in English."},
		{"de", "/language English", "en", "From now on I'll write to you in English."},
		{"de", "/language en", "en", "From now on I'll write to you in English."},
	}
	for _, tt := range tests {
		h := newHarness(t, 0)
		h.Lang = tt.from
		h.Say("/start")
		out := h.Say(tt.in)
		if got := h.Conv().Lang; got != tt.want || !strings.Contains(out, tt.says) {
			t.Errorf("%s (platform %s): got language %q and %q, want %q saying %q", tt.in, tt.from, got, out, tt.want, tt.says)
		}
	}
	h := newHarness(t, 0)
	if out := h.Say("/language klingonisch"); !strings.Contains(out, "Die Sprache „klingonisch“ spreche ich nicht") || h.Conv().Lang != "" {
		t.Errorf("/language klingonisch: got %q, language %q; want it refused", out, h.Conv().Lang)
	}
}

// TestNumberIsNotAName shows that a number with no button behind it is
// neither taken as a measure nor as the responsible person: the user gets
// a hint and the same question, and nothing odd lands in the plan.
func TestNumberIsNotAName(t *testing.T) {
	h := newHarness(t, 0)
	for _, in := range []string{"/check zo-kmu", "1", "3", "3", "3", "3", "3", "3", "1"} {
		h.Say(in)
	}
	if got := h.Say("99"); !strings.Contains(got, "Diese Nummer gibt es hier nicht") || !strings.Contains(got, "in Worten") || !strings.Contains(got, "Maßnahme für") {
		t.Errorf("99 as a measure: got %q, want the hint and the question again", got)
	}
	h.Say("Eigene Maßnahme")
	h.Say("1")
	if got := h.Say("7"); !strings.Contains(got, "Diese Nummer gibt es hier nicht") || !strings.Contains(got, "Wer ist verantwortlich?") {
		t.Errorf("7 as the responsible person: got %q, want the hint and the question again", got)
	}
	h.Say("Anna")
	if d := h.Conv().Dialog.Draft; d == nil || d.Text != "Eigene Maßnahme" || d.Responsible != "Anna" {
		t.Errorf("draft after the slips: %+v, want text %q and responsible Anna", d, "Eigene Maßnahme")
	}
}

// TestDuplicateEvent delivers the same event three times: one effect, one reply.
func TestDuplicateEvent(t *testing.T) {
	h := newHarness(t, 0)
	h.Say("/check zo-kmu")
	ev := bot.Event{ID: "same", Text: "1"}
	var replies int
	for i := 0; i < 3; i++ {
		replies += len(h.Send(ev))
	}
	if replies != 1 {
		t.Errorf("got %d replies to one event delivered three times, want 1", replies)
	}
	c := h.Conv()
	if len(c.Run.Ratings) != 1 || c.Dialog.Cursor != 1 {
		t.Errorf("got %d ratings at cursor %d, want 1 rating at checkpoint 2", len(c.Run.Ratings), c.Dialog.Cursor)
	}
}

// TestSendFailureKeepsReply checks that a reply the platform did not take
// stays in the outbox and is sent by Flush, in order, once.
func TestSendFailureKeepsReply(t *testing.T) {
	h := newHarness(t, 0)
	fail := true
	h.Rec.SendFn = func(bot.Address, bot.Message) error {
		if fail {
			return errors.New("network down")
		}
		return nil
	}
	if got := h.Send(bot.Event{Text: "/check zo-kmu"}); len(got) != 0 {
		t.Fatalf("got %d messages through a failing platform, want 0", len(got))
	}
	if c := h.Conv(); c.Dialog.Mode != "rate" {
		t.Errorf("the state change must be kept although sending failed: mode %q", c.Dialog.Mode)
	}
	fail = false
	// The dispatcher backs off after a failure: nothing is retried at once.
	if err := h.Engine.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := h.Take(); len(got) != 0 {
		t.Fatalf("Flush right after the failure: got %d messages, want 0 (backoff)", len(got))
	}
	h.Clock.Add(2 * time.Second)
	if err := h.Engine.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := h.Take()
	if len(got) != 1 || !strings.Contains(got[0].Msg.Text, "1/7") {
		t.Fatalf("Flush: got %d messages, want the kept question 1/7", len(got))
	}
	if err := h.Engine.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if again := h.Take(); len(again) != 0 {
		t.Errorf("second Flush sent %d messages again, want 0", len(again))
	}
}

// TestButtonsFitEveryPlatform walks a whole check and plan and checks every
// button's action against the 64-byte limit and its label against emptiness.
func TestButtonsFitEveryPlatform(t *testing.T) {
	h := newHarness(t, 0)
	for _, in := range []string{"/start", "/check zo-kmu", "4", "1", "2", "1", "1", "1", "1", "1", "2", "1", "1", "1", "1", "1", "1", "14", "x", "2", "1", "2", "2", "/plan", "4", "1", "/language"} {
		for _, s := range h.Send(bot.Event{Text: in}) {
			if err := s.Msg.Validate(); err != nil {
				t.Errorf("after %q: %v", in, err)
			}
			for _, b := range s.Msg.Flat() {
				if len(b.Action) > bot.MaxActionLen {
					t.Errorf("after %q: action %q is %d bytes", in, b.Action, len(b.Action))
				}
			}
		}
	}
}

func TestMessageValidate(t *testing.T) {
	long := strings.Repeat("a", bot.MaxActionLen+1)
	tests := []struct {
		name string
		m    bot.Message
		ok   bool
	}{
		{"OK", bot.Message{Text: "x", Buttons: [][]bot.Button{{{Label: "a", Action: "1:r:red"}}}}, true},
		{"ErrEmpty", bot.Message{}, false},
		{"ErrLongAction", bot.Message{Text: "x", Buttons: [][]bot.Button{{{Label: "a", Action: long}}}}, false},
		{"ErrNoLabel", bot.Message{Text: "x", Buttons: [][]bot.Button{{{Action: "a"}}}}, false},
		{"ErrNoAction", bot.Message{Text: "x", Buttons: [][]bot.Button{{{Label: "a"}}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.m.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate: got %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestCommandsHaveDescriptions(t *testing.T) {
	h := newHarness(t, 0)
	for _, lang := range h.Engine.Langs() {
		for _, c := range h.Engine.Commands(lang) {
			if c.Description == "" || strings.HasPrefix(c.Description, "command.") {
				t.Errorf("%s /%s: no description", lang, c.Name)
			}
		}
	}
}

func TestHelpInGroupsExplainsPrivacyMode(t *testing.T) {
	h := newHarness(t, 0)
	var out string
	for _, s := range h.Send(bot.Event{Text: "/help", Group: true}) {
		out += s.Msg.Text
	}
	if !strings.Contains(out, "In einer Gruppe antworte ich nur, wenn Sie mich ansprechen") {
		t.Errorf("/help in a group: %q", out)
	}
	if out := h.Say("/help"); strings.Contains(out, "In einer Gruppe") {
		t.Errorf("/help in a private chat mentions groups: %q", out)
	}
}

// TestMeasureForm: platforms with forms get the measure question as one
// form too; a submission saves the measure, and a bad one keeps the question.
func TestMeasureForm(t *testing.T) {
	h := newHarness(t, 0)
	h.Rec.ShowsForms = true
	for _, in := range []string{"/check zo-kmu", "1", "3", "3", "3", "3", "3", "3"} {
		h.Say(in)
	}
	sent := h.Send(bot.Event{Text: "1"}) // build the plan
	form := sent[len(sent)-1].Msg.Form
	if form == nil || len(form.Fields) != 6 || form.Fields[0].Kind != bot.FieldSelect || len(form.Fields[0].Options) != 9 {
		t.Fatalf("measure question without the form: %+v", form)
	}
	submit := func(answers map[string]string) string {
		var out string
		for _, s := range h.Send(bot.Event{Action: form.Action, Form: answers}) {
			out += s.Msg.Text
		}
		return out
	}
	if out := submit(map[string]string{"priority": "high", "start": "2027-03-15", "review": "2027-03-01"}); !strings.Contains(out, "Bitte wählen Sie einen Vorschlag") {
		t.Errorf("no text and no suggestion: %q", out)
	}
	if out := submit(map[string]string{"suggestion": "2", "start": "2027-03-15", "review": "2027-03-01"}); !strings.Contains(out, "liegt vor dem Start") {
		t.Errorf("review before start: %q", out)
	}
	out := submit(map[string]string{"suggestion": "2", "priority": "high", "responsible": "Anna", "start": "2027-03-15", "review": "2027-04-12"})
	if !strings.Contains(out, "Gespeichert: Stärken finden, die auch Betriebe brauchen") {
		t.Fatalf("valid form: %q", out)
	}
	m := h.Conv().Plan.Measures[0]
	if m.Priority != "high" || m.Responsible != "Anna" || m.Start != "2027-03-15" || m.Review != "2027-04-12" {
		t.Errorf("saved measure: %+v", m)
	}
	if out := submit(map[string]string{"text": "x"}); !strings.Contains(out, "früheren Frage") {
		t.Errorf("the same form submitted again: %q", out)
	}

	// A platform that cannot show forms gets none.
	plain := newHarness(t, 0)
	for _, in := range []string{"/check zo-kmu", "1", "3", "3", "3", "3", "3", "3"} {
		plain.Say(in)
	}
	if sent := plain.Send(bot.Event{Text: "1"}); sent[len(sent)-1].Msg.Form != nil {
		t.Error("a form for a platform that cannot show one")
	}
}

func TestPlanView(t *testing.T) {
	h := newHarness(t, 0)
	planWith(t, h, "morgen", "22.3.2027")
	m, err := h.Engine.PlanView(context.Background(), h.Addr, "en")
	if err != nil || !strings.Contains(m.Text, "Action plan · 1 open measure") || len(m.Buttons) != 0 {
		t.Errorf("PlanView: %q, %d button rows, %v", m.Text, len(m.Buttons), err)
	}
	before := h.Conv().Dialog.Seq
	if _, err := h.Engine.PlanView(context.Background(), h.Addr, ""); err != nil || h.Conv().Dialog.Seq != before {
		t.Errorf("PlanView changed the conversation or failed: %v", err)
	}
}

// TestCommandsAsSubcommands: where commands are subcommands of /ampel,
// every text names them that way.
func TestCommandsAsSubcommands(t *testing.T) {
	h := newHarness(t, 0)
	h.Rec.Prefix = "/ampel"
	out := h.Say("/help")
	if !strings.Contains(out, "/ampel check – ") || strings.Contains(out, "\n/check") {
		t.Errorf("help with a prefix: %q", out)
	}
	h.Say("/check zo-kmu")
	if out := h.Say("/cancel"); !strings.Contains(out, "mit /ampel check geht es weiter") {
		t.Errorf("cancel with a prefix: %q", out)
	}
}
