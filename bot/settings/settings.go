// Package settings is the conversation's settings: its language (/language)
// and its time zone (/timezone), each a side trip that comes back to the
// question it interrupted.
package settings

import (
	"slices"
	"strconv"
	"strings"

	"github.com/ampel-bot/ampel/bot"
)

// The settings' questions, stored in Dialog.Mode.
const (
	ModeLanguage = "lang"
	ModeZone     = "tz"
)

// ZoneSet is announced (Turn.Fire) when a time zone was set outside any
// question: where is it shown?
const ZoneSet = "settings.zone"

// Feature is the settings.
func Feature() bot.Feature {
	return bot.Feature{
		Name: "settings",
		Modes: []bot.Mode{
			{Name: ModeLanguage, Ask: askLanguage, Press: func(t *bot.Turn, _, arg string) { setLanguage(t, arg) },
				Typed: typedLanguage, Back: (*bot.Turn).BackFromSideTrip, Calm: true, SideTrip: true},
			{Name: ModeZone, Ask: askZone, Press: pressZone, Text: setZone, Claim: zoneTyped,
				Back: (*bot.Turn).BackFromSideTrip, Calm: true, SideTrip: true},
		},
		// Time zone before language, as in the command menu.
		Commands: []bot.Cmd{
			{Name: "timezone", Args: true, Run: cmdTimezone},
			{Name: "language", Args: true, Run: cmdLanguage},
		},
	}
}

func cmdLanguage(t *bot.Turn, args []string) {
	if refusedInGroup(t) {
		t.Reask()
		return
	}
	if len(args) > 0 {
		want := strings.Join(args, " ")
		if l, ok := t.LanguageNamed(want); ok {
			setLanguage(t, l)
			return
		}
		t.Note(t.T("language.unknown", "Lang", bot.Short(want, 40), "Known", strings.Join(t.Texts().Langs(), ", ")))
	}
	t.SideTrip()
	t.To(ModeLanguage)
	t.Ask()
}

func setLanguage(t *bot.Turn, l string) {
	if !slices.Contains(t.Texts().Langs(), l) || refusedInGroup(t) { // a forged button; not theirs to change
		t.Reask()
		return
	}
	t.SetLang(l)
	t.Note(t.T("language.set"))
	if t.Dialog().Mode == ModeLanguage {
		if t.EndSideTrip() {
			return
		}
		t.To(bot.ModeIdle)
	}
	t.Reask()
}

// typedLanguage takes a language typed by a name the buttons do not show
// ("Russian", "russisch", "ru"), as /language NAME does: the buttons name
// each language in itself.
func typedLanguage(t *bot.Turn, text string) (string, bool) {
	l, ok := t.LanguageNamed(text)
	if !ok {
		return "", false
	}
	return t.Action("l", l), true
}

func askLanguage(t *bot.Turn) (bot.Message, bool) {
	return bot.Message{Text: t.T("language.ask"), Buttons: append(LanguageRows(t), t.BackRow())}, true
}

// LanguageRows are the buttons of a question that asks for a language:
// each by its own name, two to a row (six fit a phone), the action "l"
// with the language.
func LanguageRows(t *bot.Turn) [][]bot.Button {
	var rows [][]bot.Button
	for i, l := range t.Texts().Langs() {
		if i%2 == 0 {
			rows = append(rows, nil)
		}
		rows[len(rows)-1] = append(rows[len(rows)-1], bot.Button{Label: t.Texts().T(l, "language.name"), Action: t.Action("l", l)})
	}
	return rows
}

// Time zones offered as buttons; any IANA name, a city of one, or an
// offset can be typed.
var zoneSuggestions = []string{"Europe/Berlin", "Europe/Vienna", "Europe/Zurich", "Europe/London", "America/New_York", "Asia/Kolkata", "Asia/Ho_Chi_Minh", "Asia/Almaty"}

// zoneTyped reports whether text, typed at the time-zone question, names a
// zone rather than picks a button: "+3" is three hours ahead of UTC, not the
// third button. Only a bare number is a button's.
func zoneTyped(t *bot.Turn, text string) bool {
	if strings.TrimLeft(text, "0123456789") == "" {
		return false
	}
	_, ok := t.FindZone(text)
	return ok
}

func cmdTimezone(t *bot.Turn, args []string) {
	if len(args) > 0 {
		setZone(t, strings.Join(args, " "))
		return
	}
	t.SideTrip()
	t.To(ModeZone)
	t.Ask()
}

func pressZone(t *bot.Turn, _, arg string) {
	if i, ok := bot.Index(arg, len(zoneSuggestions)); ok {
		setZone(t, zoneSuggestions[i])
		return
	}
	t.Reask()
}

func setZone(t *bot.Turn, text string) {
	loc, ok := t.FindZone(text)
	if !ok {
		t.Note(t.T("timezone.unknown", "Text", bot.Short(text, 40)))
		if t.Dialog().Mode != ModeZone {
			t.SideTrip()
			t.To(ModeZone)
		}
		t.Ask()
		return
	}
	t.Conv().TZ = loc.String()
	t.SyncReminders()
	now := t.Now().In(loc)
	t.Note(t.T("timezone.set", "Zone", bot.ZoneLabel(loc), "Time", bot.TwoDigits(now.Hour())+":"+bot.TwoDigits(now.Minute())))
	if t.Dialog().Mode == ModeZone && t.EndSideTrip() {
		return
	}
	if !t.Mode().Calm || !t.Fire(ZoneSet) {
		t.Reask()
	}
}

func askZone(t *bot.Turn) (bot.Message, bool) {
	var rows [][]bot.Button
	for i := 0; i < len(zoneSuggestions); i += 2 {
		row := []bot.Button{{Label: zoneSuggestions[i], Action: t.Action("z", strconv.Itoa(i))}}
		if i+1 < len(zoneSuggestions) {
			row = append(row, bot.Button{Label: zoneSuggestions[i+1], Action: t.Action("z", strconv.Itoa(i+1))})
		}
		rows = append(rows, row)
	}
	return bot.Message{Text: t.T("timezone.ask", "Zone", bot.ZoneLabel(t.Zone())), Buttons: append(rows, t.BackRow())}, true
}

// refusedInGroup asks the other features whether the user may change a
// group's language (a team's facilitator only, while the team check runs).
func refusedInGroup(t *bot.Turn) bool {
	return t.Event().Group && t.Fire(bot.GroupLanguage)
}
