// Package privacy is a person's own data (GDPR Art. 15, 17, 20): /export
// (with no argument, or "data") sends the person, in their private chat,
// one JSON file with everything Ampel holds about them (bot.PersonalData;
// the format is versioned, see bot.PersonalExport); /delete asks, with a
// button and its typed twin, and then erases all of it in one
// transaction (bot.ErasePerson), and says so last. /export plan stays the
// plan's files (bot/takeaway), which hands the data export over here.
package privacy

import (
	"errors"
	"time"

	"github.com/ampel-bot/ampel/bot"
)

// ModeDelete is the question whether to delete everything.
const ModeDelete = "delete"

// ExportData is announced (bot.Turn.Fire) by /export with no argument or
// "data": the person's data export.
const ExportData = "privacy.export"

// Feature is /delete and the data export.
func Feature() bot.Feature {
	return bot.Feature{
		Name: "privacy",
		Modes: []bot.Mode{{Name: ModeDelete, Ask: askDelete, Press: pressDelete,
			Back: (*bot.Turn).BackFromSideTrip, Calm: true, SideTrip: true, Cancel: "delete.kept"}},
		Commands: []bot.Cmd{{Name: "delete", Run: cmdDelete}},
		On:       map[string]func(*bot.Turn) bool{ExportData: func(t *bot.Turn) bool { exportData(t); return true }},
	}
}

// IsDataWord reports whether an argument of /export names one's data:
// "data" or the locales' export.data.word in any language.
func IsDataWord(t *bot.Turn, arg string) bool {
	if bot.Normalize(arg) == "data" {
		return true
	}
	for _, l := range t.Texts().Langs() {
		if bot.Normalize(arg) == bot.Normalize(t.Texts().T(l, "export.data.word")) {
			return true
		}
	}
	return false
}

// exportData sends the person's data as a JSON file, in private only.
func exportData(t *bot.Turn) {
	if t.Event().Group {
		t.Note(t.T("export.data.private"))
		t.Reask()
		return
	}
	data, err := t.PersonalData()
	if errors.Is(err, bot.ErrBusy) {
		return // the step runs again
	}
	if err != nil {
		panic(err) // the engine answers and logs; nothing is committed
	}
	name := t.T("export.file.data") + "-" + t.Now().In(t.Zone()).Format(time.DateOnly) + ".json"
	t.Say(bot.Message{Text: t.T("export.data.sent"), Files: []bot.File{{Name: name, MIME: "application/json", Data: data}}})
	if t.Dialog().Mode != bot.ModeIdle {
		t.Reask() // what the file interrupted goes on
	}
}

// cmdDelete asks whether to delete everything, in private only.
func cmdDelete(t *bot.Turn, _ []string) {
	if t.Event().Group {
		t.Note(t.T("delete.private"))
		t.Reask()
		return
	}
	t.SideTrip()
	t.To(ModeDelete)
	t.Ask()
}

func askDelete(t *bot.Turn) (bot.Message, bool) {
	return bot.Message{Text: t.T("delete.ask"), Buttons: [][]bot.Button{
		{{Label: t.T("button.delete.yes"), Action: t.Action("yes")}},
		{{Label: t.T("button.delete.no"), Action: t.Action("no")}},
	}}, true
}

// pressDelete erases everything of the person, or keeps it and goes back
// to what the question interrupted.
func pressDelete(t *bot.Turn, verb, _ string) {
	if verb != "yes" {
		t.Note(t.T("delete.kept"))
		t.BackFromSideTrip()
		return
	}
	err := t.ErasePerson()
	if errors.Is(err, bot.ErrBusy) {
		return // the step runs again
	}
	if err != nil {
		panic(err) // the engine answers and logs; nothing is erased
	}
	t.Say(bot.Message{Text: t.T("delete.done")})
}
