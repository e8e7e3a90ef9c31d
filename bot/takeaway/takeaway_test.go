package takeaway_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/dialogtest"
	"github.com/ampel-bot/ampel/flows"
)

// withPlan is a chat in lang whose plan has one measure: zo-kmu with its
// first checkpoint red, its first suggestion planned from 24 March to 21
// April 2027, high priority, the user responsible.
func withPlan(t *testing.T, lang string) *dialogtest.Chat {
	t.Helper()
	h := dialogtest.New(t, 0)
	h.Lang = lang
	for _, s := range []string{"/check zo-kmu", "1", "3", "3", "3", "3", "3", "3", "1", "1", "1", "1", "1", "3", "1"} {
		h.Say(s)
	}
	if n := len(h.Conv().Plan.Open()); n != 1 {
		t.Fatalf("%s: the plan has %d open measures, want 1", lang, n)
	}
	return h
}

// button returns the action of the button labelled label in m.
func button(t *testing.T, m bot.Message, label string) string {
	t.Helper()
	for _, b := range m.Flat() {
		if b.Label == label {
			return b.Action
		}
	}
	t.Fatalf("no button %q in %+v", label, m.Buttons)
	return ""
}

// file returns the one file of the last message sent.
func file(t *testing.T, what string, sent []bottest.Sent) bot.File {
	t.Helper()
	if len(sent) == 0 || len(sent[len(sent)-1].Msg.Files) != 1 {
		t.Fatalf("%s: got %+v, want a message with one file", what, sent)
	}
	return sent[len(sent)-1].Msg.Files[0]
}

// TestPlanExports: under the plan, "Export…" offers PDF, table and
// calendar; each, pressed or typed, sends its file in the user's language
// through the outbox, with the choice asked again; "back" returns to the
// plan. The files read back: the PDF is one, the CSV parses with the
// language's separator into the plan's row, the calendar has the measure's
// start and review as all-day events.
func TestPlanExports(t *testing.T) {
	_, texts := bottest.Content(t)
	measure := "Im Leitungsteam den Nutzen für uns besprechen und beschreiben"
	for _, tt := range []struct {
		lang   string
		sep    rune
		header string
		name   string
	}{
		{"de", ';', "Maßnahme", "ampel-massnahmenplan-2027-03-10"},
		{"en", ',', "Measure", "ampel-action-plan-2027-03-10"},
	} {
		h := withPlan(t, tt.lang)
		if tt.lang == "en" {
			measure = "As a leadership team, discuss and describe what we gain"
		}
		view := h.Send(bot.Event{Text: "/plan"})[0].Msg
		offer := h.Send(bot.Event{Action: button(t, view, texts.T(tt.lang, "button.plan.export"))})
		if len(offer) != 1 || offer[0].Msg.Text != texts.T(tt.lang, "export.ask") {
			t.Fatalf("%s: Export…: got %+v, want the choice of format", tt.lang, offer)
		}
		ask := offer[0].Msg

		pdf := file(t, tt.lang+" PDF", h.Send(bot.Event{Action: button(t, ask, texts.T(tt.lang, "button.export.pdf"))}))
		if pdf.Name != tt.name+".pdf" || pdf.MIME != "application/pdf" || !bytes.HasPrefix(pdf.Data, []byte("%PDF-")) {
			t.Errorf("%s: PDF: got %s (%s, %q…), want %s.pdf, a PDF", tt.lang, pdf.Name, pdf.MIME, pdf.Data[:min(8, len(pdf.Data))], tt.name)
		}

		sent := h.Send(bot.Event{Text: "csv"}) // typed twin
		if m := sent[len(sent)-1].Msg; !strings.HasPrefix(m.Text, texts.T(tt.lang, "export.sent.csv")) || len(m.Flat()) != 4 {
			t.Errorf("%s: after the CSV: got %q with %d buttons, want it said and the choice again", tt.lang, m.Text, len(m.Flat()))
		}
		table := file(t, tt.lang+" CSV", sent)
		r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(table.Data, []byte("\ufeff"))))
		r.Comma = tt.sep
		rows, err := r.ReadAll()
		if err != nil || len(rows) != 2 || rows[0][2] != tt.header || rows[1][2] != measure || rows[1][5] != "2027-03-24" || rows[1][6] != "2027-04-21" {
			t.Errorf("%s: CSV %s read with %q: %q, %v; want the header and the measure from 2027-03-24 to 2027-04-21", tt.lang, table.Name, tt.sep, rows, err)
		}

		cal := file(t, tt.lang+" calendar", h.Send(bot.Event{Text: texts.T(tt.lang, "button.export.ics")}))
		ics := string(cal.Data)
		if !strings.HasSuffix(cal.Name, ".ics") || !strings.Contains(ics, "METHOD:PUBLISH\r\n") ||
			!strings.Contains(ics, "DTSTART;VALUE=DATE:20270324\r\n") || !strings.Contains(ics, "DTSTART;VALUE=DATE:20270421\r\n") {
			t.Errorf("%s: calendar %s:\n%s\nwant the start and review as all-day events", tt.lang, cal.Name, ics)
		}

		back := h.Send(bot.Event{Text: texts.T(tt.lang, "button.back")})
		if len(back) != 1 || back[0].Msg.Text != view.Text || len(back[0].Msg.Files) != 0 {
			t.Errorf("%s: back: got %+v, want the plan view", tt.lang, back)
		}
	}
}

// TestExportCommand: /export plan pdf sends the file at once and goes on
// with the question it interrupted (here a rating of a repeated check), or
// at the menu is the answer alone; with an empty plan, /export plan says
// there is nothing to export.
func TestExportCommand(t *testing.T) {
	_, texts := bottest.Content(t)
	h := dialogtest.New(t, 0)
	if got := h.Say("/export plan"); !strings.Contains(got, texts.T("de", "export.plan.none")) || strings.Contains(got, "[") {
		t.Errorf("/export plan with an empty plan: got %q, want it said that there is nothing, no file", got)
	}
	h = withPlan(t, "de")
	h.Say("/start")
	if sent := h.Send(bot.Event{Text: "/export plan ics"}); len(sent) != 1 || len(sent[0].Msg.Files) != 1 || sent[0].Msg.Text != texts.T("de", "export.sent.ics") {
		t.Errorf("/export plan ics at the menu: got %+v, want the calendar alone", sent)
	}
	h.Say("/check")
	h.Say(texts.T("de", "button.repeat"))
	h.Say(texts.T("de", "button.repeat.yes"))
	sent := h.Send(bot.Event{Text: "/export plan pdf"})
	if len(sent) != 2 || len(sent[0].Msg.Files) != 1 || !strings.HasSuffix(sent[0].Msg.Files[0].Name, ".pdf") || !strings.HasPrefix(sent[1].Msg.Text, "1/7") {
		t.Fatalf("/export plan pdf mid-check: got %+v, want the PDF, then the rating asked again", sent)
	}
}

// TestExportButtonOnlyWithMeasures: the empty plan offers no export.
func TestExportButtonOnlyWithMeasures(t *testing.T) {
	_, texts := bottest.Content(t)
	h := dialogtest.New(t, 0)
	m := h.Send(bot.Event{Text: "/plan"})[0].Msg
	for _, b := range m.Flat() {
		if b.Label == texts.T("de", "button.plan.export") {
			t.Errorf("the empty plan offers %q", b.Label)
		}
	}
}

// TestFullPlanFilesStaySmall: the largest plan the dialogue allows (100
// open measures of 300 characters, names of 80) on the check with the
// most checkpoints makes files of a size the outbox and its store carry
// well: what one message with its file puts into a bbolt record.
func TestFullPlanFilesStaySmall(t *testing.T) {
	catalog, _ := bottest.Content(t)
	var f *flows.Flow
	for _, g := range catalog.All() {
		if f == nil || len(g.Checkpoints) > len(f.Checkpoints) {
			f = g
		}
	}
	h := dialogtest.New(t, 0)
	c := &bot.Conversation{Addr: h.Addr, Run: &bot.Run{Flow: f.ID, Version: f.Version, Started: dialogtest.Start.UTC(), Done: dialogtest.Start.UTC(), Ratings: map[string]string{}}}
	levels := f.Levels()
	for i, cp := range f.Checkpoints {
		c.Run.Ratings[cp.ID] = levels[i%len(levels)].ID
	}
	for i := range 100 {
		cp := f.Checkpoints[i%len(f.Checkpoints)]
		c.Plan.Measures = append(c.Plan.Measures, bot.Measure{ID: i + 1, Flow: f.ID, Checkpoint: cp.ID,
			Text: strings.Repeat("Maßnahme mit Übung ", 16)[:300], Priority: "high", Responsible: strings.Repeat("Ö", 80),
			Start: "2027-03-24", Review: "2027-06-30", Status: bot.StatusOpen})
	}
	c.Plan.NextID = 100
	if _, err := h.Store.Commit(context.Background(), "seed", h.Addr.Key(), c, nil); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"pdf", "csv", "ics"} {
		file := file(t, format, h.Send(bot.Event{Text: "/export plan " + format}))
		t.Logf("%s: %d KB", file.Name, len(file.Data)>>10)
		if len(file.Data) > 1<<20 {
			t.Errorf("%s: %d KB, want at most 1 MB", file.Name, len(file.Data)>>10)
		}
	}
	pic := file(t, "result", h.Send(bot.Event{Text: "/check"}))
	t.Logf("%s: %d KB", pic.Name, len(pic.Data)>>10)
	if len(pic.Data) > 256<<10 {
		t.Errorf("%s: %d KB, want at most 256 KB", pic.Name, len(pic.Data)>>10)
	}
}
