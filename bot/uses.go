package bot

import (
	"context"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// What the features use of the core's reading and writing of words, dates,
// time zones and reminders.

// DayLayout is how a calendar day is stored: "2027-03-15".
const DayLayout = dateLayout

// ParseDay reads a stored calendar day.
func ParseDay(s string) (time.Time, bool) { return parseCivil(s) }

// AddMonths adds n months to a day, ending at the end of a shorter month.
func AddMonths(t time.Time, n int) time.Time { return addMonths(t, n) }

// TwoDigits writes n with at least two digits ("09").
func TwoDigits(n int) string { return two(n) }

// DateProblem says why a typed date was not taken, or what to say about it.
type DateProblem = dateProblem

// What ParseDate may find.
const (
	DateOK         = dateOK
	DateUnreadable = dateUnreadable
	DateImpossible = dateImpossible // "31.02.2027"
	DateAmbiguous  = dateAmbiguous  // "3/4/2027": 3 April or 4 March
	DateNextYear   = dateNextYear   // "3.12." typed on 4 December: next year's
)

// Read reports whether a day was read, whether or not it can be taken.
func (p dateProblem) Read() bool { return p.read() }

// ParseDate reads a date as people type it, in any language the bot
// speaks, relative to today; alt is the other reading of an ambiguous one.
func (t *Turn) ParseDate(text string) (day, alt time.Time, p DateProblem) {
	return t.e.vocab.parseDate(t.lang, text, t.today)
}

// TypedDate reads a typed date and hands it to take; a date that cannot
// be read, does not exist or reads two ways is said so and the question
// asked again.
func (t *Turn) TypedDate(text string, take func(day time.Time, p DateProblem)) {
	day, alt, p := t.ParseDate(text)
	switch p {
	case DateUnreadable:
		t.Note(t.T("date.unreadable"))
		t.Ask()
	case DateImpossible:
		t.Note(t.T("date.impossible"))
		t.Ask()
	case DateAmbiguous:
		t.Note(t.T("date.ambiguous", "A", t.Date(day), "B", t.Date(alt)))
		t.Ask()
	default:
		take(day, p)
	}
}

// Date writes a day unambiguously the local way ("Mo, 15.03.2027").
func (t *Turn) Date(d time.Time) string { return t.e.texts.formatDate(t.lang, d) }

// ShownDate is a day as confirmed back to the user: a day-month typed
// without a year that has passed this year says it means next year.
func (t *Turn) ShownDate(d time.Time, p DateProblem) string { return t.shownDate(d, p) }

// FindZone reads a time zone as people type it (see dateVocab.findZone).
func (t *Turn) FindZone(text string) (*time.Location, bool) { return t.e.vocab.findZone(text) }

// ZoneLabel names a zone for people ("UTC+3" for "Etc/GMT-3").
func ZoneLabel(loc *time.Location) string { return zoneLabel(loc) }

// LanguageNamed is the language a typed name or code means ("English", "de").
func (t *Turn) LanguageNamed(text string) (string, bool) { return t.e.vocab.language(text) }

// TypedLevel is the level of a scale that a typed word or symbol names
// ("rot", "🔴"), in any language the bot speaks.
func (t *Turn) TypedLevel(scale, text string) (string, bool) { return t.e.words.level(scale, text) }

// NoneWord reports whether text is a word for "no measure needed"
// ("keine", "none").
func (t *Turn) NoneWord(text string) bool { return t.e.words.none[Normalize(text)] }

// CleanInput makes typed input safe to work with (see cleanInput).
func CleanInput(s string) string { return cleanInput(s) }

// RuneLen is the length of s in characters.
func RuneLen(s string) int { return utf8.RuneCountInString(s) }

// Short cuts s to n runes for a button label.
func Short(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// Remove returns list without s.
func Remove(list []string, s string) []string {
	out := list[:0:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

// maxNumberRow is how many number buttons share a row: six fit a phone.
const maxNumberRow = 6

// NumberRows lays out n buttons labelled "1" to "n" in as few rows of at
// most maxNumberRow as possible, the rows about equally long (10 is 5 and
// 5, not 6 and 4).
func NumberRows(n int, action func(i int) string) [][]Button {
	if n == 0 {
		return nil
	}
	nrows := (n + maxNumberRow - 1) / maxNumberRow
	per := (n + nrows - 1) / nrows
	// Sized at once: the rows go out with the message and wait in the
	// outbox with it, spare room and all.
	rows := make([][]Button, 0, nrows)
	for i := 0; i < n; i += per {
		row := make([]Button, 0, min(i+per, n)-i)
		for j := i; j < min(i+per, n); j++ {
			row = append(row, Button{Label: strconv.Itoa(j + 1), Action: action(j)})
		}
		rows = append(rows, row)
	}
	return rows
}

// BackRow is the row of a question's "back" button.
func (t *Turn) BackRow() []Button {
	return []Button{{Label: t.T("button.back"), Action: t.Action("back")}}
}

// ReminderHour is the local hour reminders are sent at.
func (t *Turn) ReminderHour() int { return t.e.rem.Hour }

// RepeatAfter is how many months after a check the bot offers to repeat it.
func (t *Turn) RepeatAfter() int { return t.e.rem.RepeatAfter }

// SyncReminders derives the conversation's reminders from its plan and
// settings now, before they are shown (the engine does after every turn).
func (t *Turn) SyncReminders() { t.e.syncReminders(t.c, t.e.clock.Now()) }

// ReminderAbout names what r, a feature's own reminder, is about (a
// meeting's title), or "".
func (t *Turn) ReminderAbout(r Reminder) string {
	if t.e.reg == nil || t.e.reg.about[r.Kind] == nil {
		return ""
	}
	return t.e.reg.about[r.Kind](t, r)
}

// ReadRecord reads the record kind/id into v (from JSON) and reports
// whether there is one: through the turn's transaction in an event, else
// (a reminder being written) as last committed, without changing it.
func (t *Turn) ReadRecord(kind, id string, v any) (bool, error) {
	if t.tx != nil {
		return t.tx.Get(kind, id, v)
	}
	ref := RecordRef{kind, id}
	if err := ref.Validate(); err != nil {
		return false, err
	}
	data, err := t.e.store.Record(context.Background(), ref)
	if err != nil || data == nil {
		return false, err
	}
	return true, json.Unmarshal(data, v)
}
