// Package takeaway is what a person takes away from Ampel as files: the
// action plan as a printable PDF, as a table (CSV) for spreadsheets and as
// a calendar (.ics) of its open measures' dates, offered by /export plan
// and by the plan view's "Export…" button (plan.ExportWanted). The files
// are made by bot/export, in the user's language and time zone, and go out
// as any message does, through the outbox.
//
// It is a feature of its own rather than part of bot/plan: the plan stays
// free of the file libraries, and /export is also the command a person's
// own data is exported with (bot/privacy), which is not the plan's.
package takeaway

import (
	"strings"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/check"
	"github.com/ampel-bot/ampel/bot/export"
	"github.com/ampel-bot/ampel/bot/plan"
	"github.com/ampel-bot/ampel/bot/privacy"
)

// The questions, stored in Dialog.Mode: which file to make, first asked
// and asked again after a file was sent.
const (
	ModeExport = "export"
	ModeMore   = "export-more"
)

// The formats, as buttons carry them and /export plan takes them.
var formats = []string{"pdf", "csv", "ics"}

// Feature is the plan's exports.
func Feature() bot.Feature {
	ask := bot.Mode{Name: ModeExport, Ask: askFormat, Press: pressFormat,
		Back: (*bot.Turn).BackFromSideTrip, Calm: true, Lull: true, SideTrip: true}
	more := ask
	more.Name = ModeMore
	return bot.Feature{
		Name:     "takeaway",
		Modes:    []bot.Mode{ask, more},
		Commands: []bot.Cmd{{Name: "export", Args: true, Run: cmdExport}},
		On:       map[string]func(*bot.Turn) bool{plan.ExportWanted: func(t *bot.Turn) bool { offer(t); return true }},
	}
}

// cmdExport is /export [data | plan [pdf|csv|ics]]: with no argument or
// "data" the person's own data (bot/privacy), with "plan" the choice of
// file, or with a format the file at once.
func cmdExport(t *bot.Turn, args []string) {
	if (len(args) == 0 || privacy.IsDataWord(t, args[0])) && t.Fire(privacy.ExportData) {
		return
	}
	if len(args) > 0 && !strings.EqualFold(args[0], "plan") && !strings.EqualFold(args[0], t.T("command.word.plan")) {
		t.Note(t.T("export.unknown", "What", bot.Short(args[0], 40)))
	}
	if len(args) > 1 {
		for _, f := range formats {
			if strings.EqualFold(strings.TrimPrefix(args[1], "."), f) {
				file, ok := makeFile(t, f)
				if !ok {
					t.Reask() // with why not
					return
				}
				t.Say(bot.Message{Text: t.T("export.sent." + f), Files: []bot.File{file}})
				if t.Dialog().Mode != bot.ModeIdle {
					t.Reask() // what the file interrupted goes on
				}
				return
			}
		}
	}
	offer(t)
}

// offer asks which file to make, as a side trip from whatever was asked;
// with no measure in the plan, there is nothing to make.
func offer(t *bot.Turn) {
	if len(t.Conv().Plan.Visible()) == 0 {
		t.Note(t.T("export.plan.none"))
		t.Reask()
		return
	}
	t.SideTrip()
	t.To(ModeExport)
	t.Ask()
}

func askFormat(t *bot.Turn) (bot.Message, bool) {
	id := "export.ask"
	if t.Dialog().Mode == ModeMore {
		id = "export.more"
	}
	var row []bot.Button
	for _, f := range formats {
		row = append(row, bot.Button{Label: t.T("button.export." + f), Action: t.Action("f", f)})
	}
	return bot.Message{Text: t.T(id), Buttons: [][]bot.Button{row, t.BackRow()}}, true
}

// pressFormat sends the file chosen with the question again, for another
// format or "back" to what the export interrupted.
func pressFormat(t *bot.Turn, _, format string) {
	file, ok := makeFile(t, format)
	if !ok {
		t.Ask()
		return
	}
	t.Note(t.T("export.sent." + format))
	t.To(ModeMore)
	m, _ := askFormat(t)
	m.Files = []bot.File{file}
	t.Dialog().Options = m.Flat()
	t.Say(m)
}

// makeFile makes the plan's file in a format; when it cannot, it says why.
func makeFile(t *bot.Turn, format string) (bot.File, bool) {
	c := t.Conv()
	if len(c.Plan.Visible()) == 0 {
		t.Note(t.T("export.plan.none"))
		return bot.File{}, false
	}
	f := plan.Flow(t)
	in := export.Input{
		Texts: t.Texts(), Lang: t.Lang(), Zone: t.Zone(), Now: t.Now(),
		Flow: f, Catalog: t.Flows(), Plan: &c.Plan, Ref: bot.KeyHash(c.Addr.Key()),
	}
	if r := c.Run; r.Finished() && r.Flow == f.ID {
		in.Run, in.Prev = r, check.Previous(c, f) // the PDF shows the result
		in.Spread, in.Owner = r.Spread, check.Owner(t, r)
	}
	var file bot.File
	var err error
	switch format {
	case "pdf":
		file, err = export.PDF(in)
	case "csv":
		file, err = export.CSV(in)
	case "ics":
		if len(c.Plan.Open()) == 0 {
			t.Note(t.T("export.ics.none"))
			return bot.File{}, false
		}
		file, err = export.Calendar(in)
	default:
		return bot.File{}, false
	}
	if err != nil {
		t.Note(t.T("export.failed"))
		return bot.File{}, false
	}
	return file, true
}
