package remind

import (
	"strings"
	"time"

	"github.com/ampel-bot/ampel/bot"
)

// snoozeRow is every reminder's last row: come again tomorrow, next week,
// or on a day to pick. Its buttons last ("sz:<reminder>:<when>"); their
// labels can be typed while the reminder is the last question.
func snoozeRow(t *bot.Turn, r bot.Reminder) []bot.Button {
	base := strings.TrimSuffix(r.ID, bot.SnoozeSuffix)
	return []bot.Button{
		{Label: t.T("button.snooze.tomorrow"), Action: "sz:" + base + ":1"},
		{Label: t.T("button.snooze.week"), Action: "sz:" + base + ":7"},
		{Label: t.T("button.snooze.pick"), Action: "sz:" + base + ":pick"},
	}
}

// snoozeAnswer handles a snooze button: "sz:<reminder>:<days>|pick".
func snoozeAnswer(t *bot.Turn, action string) {
	parts := strings.Split(action, ":")
	if len(parts) != 3 || !snoozable(t, parts[1]) {
		t.Note(t.T("snooze.gone"))
		t.Reask()
		return
	}
	t.SideTrip()
	t.Conv().Snoozing = parts[1]
	switch parts[2] {
	case "1", "7":
		days := 1
		if parts[2] == "7" {
			days = 7
		}
		snoozeTo(t, t.Today().AddDate(0, 0, days), bot.DateOK)
	case "pick":
		t.To(ModeSnoozeDay)
		t.Ask()
	default:
		t.EndSideTrip()
		t.Reask()
	}
}

// snoozable reports whether the reminder id still has something to remind
// of: an open measure, or the offer to repeat a finished check.
func snoozable(t *bot.Turn, id string) bool {
	for _, r := range t.Conv().Reminders {
		if r.ID != id {
			continue
		}
		if r.Kind == bot.KindRepeat {
			return t.Conv().Run.Finished()
		}
		m := t.Conv().Plan.Find(r.Measure)
		return m != nil && m.Status == bot.StatusOpen
	}
	return false
}

func askSnoozeDay(t *bot.Turn) (bot.Message, bool) {
	return bot.Message{Text: t.T("snooze.ask"), Buttons: [][]bot.Button{t.BackRow()}}, true
}

func typedSnoozeDay(t *bot.Turn, text string) {
	t.TypedDate(text, func(day time.Time, p bot.DateProblem) { snoozeTo(t, day, p) })
}

// snoozeTo snoozes the reminder being snoozed (Conversation.Snoozing) to day; a review reminder first
// asks whether the review date moves too.
func snoozeTo(t *bot.Turn, day time.Time, p bot.DateProblem) {
	today := t.Today()
	shown := t.ShownDate(day, p)
	switch {
	case !day.After(today):
		t.Note(t.T("snooze.early", "Date", shown))
		t.To(ModeSnoozeDay)
		t.Ask()
		return
	case day.After(today.AddDate(maxPause, 0, 0)):
		t.Note(t.T("date.toofar", "Date", shown, "Years", maxPause))
		t.To(ModeSnoozeDay)
		t.Ask()
		return
	}
	id, _, _ := strings.Cut(t.Conv().Snoozing, "@")
	if strings.HasSuffix(id, bot.KindReview) {
		t.Conv().Snoozing = id + "@" + day.Format(bot.DayLayout)
		t.To(ModeSnoozeReview)
		t.Ask()
		return
	}
	snooze(t, id, day.Format(bot.DayLayout))
}

func askSnoozeReview(t *bot.Turn) (bot.Message, bool) {
	_, when, _ := strings.Cut(t.Conv().Snoozing, "@")
	day, ok := bot.ParseDay(when)
	if !ok {
		return bot.Message{}, false
	}
	date := t.Date(day)
	return bot.Message{Text: t.T("snooze.review.ask", "Date", date), Buttons: [][]bot.Button{
		{{Label: t.T("button.snooze.move"), Action: t.Action("move")}},
		{{Label: t.T("button.snooze.only"), Action: t.Action("only")}},
		t.BackRow(),
	}}, true
}

// pressSnoozeReview: "move" moves the review date (the review reminder
// follows it); "only" snoozes the reminder and leaves the plan as it is.
func pressSnoozeReview(t *bot.Turn, verb, _ string) {
	id, day, _ := strings.Cut(t.Conv().Snoozing, "@")
	if day == "" || !snoozable(t, id) {
		t.Note(t.T("snooze.gone"))
		endSnooze(t)
		return
	}
	if verb != "move" {
		snooze(t, id, day)
		return
	}
	var m *bot.Measure
	for _, r := range t.Conv().Reminders {
		if r.ID == id {
			m = t.Conv().Plan.Find(r.Measure)
		}
	}
	if m == nil || m.Status != bot.StatusOpen {
		t.Note(t.T("snooze.gone"))
		endSnooze(t)
		return
	}
	m.Review = day
	delete(t.Conv().Snoozed, id)
	d2, _ := bot.ParseDay(day)
	t.Note(t.T("snooze.moved", "Text", m.Text, "Date", t.Date(d2)))
	t.ReminderNotes(m)
	endSnooze(t)
}

// snooze sets the reminder id to come again on day and says when it will.
func snooze(t *bot.Turn, id, day string) {
	c := t.Conv()
	if c.Snoozed == nil {
		c.Snoozed = map[string]string{}
	}
	c.Snoozed[id] = day
	t.SyncReminders()
	for _, r := range c.Reminders {
		if r.ID == id+bot.SnoozeSuffix && r.Status == bot.ReminderPending {
			at := r.Due.In(t.Zone())
			t.Note(t.T("snooze.set", "Date", t.Date(at), "Time", bot.TwoDigits(at.Hour())+":"+bot.TwoDigits(at.Minute())))
		}
	}
	endSnooze(t)
}

func endSnooze(t *bot.Turn) {
	t.Conv().Snoozing = ""
	if t.EndSideTrip() {
		return
	}
	t.To(bot.ModeIdle)
	t.Reask()
}
