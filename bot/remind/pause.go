package remind

import (
	"strings"
	"time"

	"github.com/ampel-bot/ampel/bot"
)

// maxPause is how far ahead a pause may end.
const maxPause = 1 // year

// pausedUntil returns the last day of the pause, if one is on today.
func pausedUntil(t *bot.Turn) (time.Time, bool) {
	last, ok := bot.ParseDay(t.Conv().Pause)
	return last, ok && !last.Before(t.Today())
}

// cmdPause: "/pause until 15.8." (any word before the date is read past),
// or without a date a question with a few spans.
func cmdPause(t *bot.Turn, args []string) {
	if len(args) > 0 {
		text := strings.Join(args, " ")
		if _, _, p := t.ParseDate(text); !p.Read() && len(args) > 1 {
			text = strings.Join(args[1:], " ") // "until 15.8.", "bis 15.8."
		}
		t.SideTrip()
		t.To(ModePause)
		typedPause(t, text)
		return
	}
	t.SideTrip()
	t.To(ModePause)
	t.Ask()
}

// Spans offered as buttons, in weeks.
var pauseWeeks = []int{1, 2, 4}

func askPause(t *bot.Turn) (bot.Message, bool) {
	text := t.T("pause.ask")
	if last, ok := pausedUntil(t); ok {
		text = t.T("pause.active", "Date", t.Date(last)) + "\n\n" + text
	}
	var row []bot.Button
	for _, w := range pauseWeeks {
		row = append(row, bot.Button{Label: t.N("button.pause.weeks", w), Action: t.Action("w", bot.TwoDigits(w))})
	}
	return bot.Message{Text: text, Buttons: [][]bot.Button{row, t.BackRow()}}, true
}

func pressPause(t *bot.Turn, _, arg string) {
	for _, w := range pauseWeeks {
		if arg == bot.TwoDigits(w) {
			// A pause of n weeks ends the day before the same weekday.
			setPause(t, t.Today().AddDate(0, 0, 7*w-1), bot.DateOK)
			return
		}
	}
	t.Reask()
}

func typedPause(t *bot.Turn, text string) {
	t.TypedDate(text, func(day time.Time, p bot.DateProblem) { setPause(t, day, p) })
}

// setPause pauses reminders up to and including last: what falls due
// meanwhile comes once, marked, on the first working morning after.
func setPause(t *bot.Turn, last time.Time, p bot.DateProblem) {
	today := t.Today()
	shown := t.ShownDate(last, p)
	switch {
	case last.Before(today):
		t.Note(t.T("date.past", "Date", shown))
		t.Ask()
		return
	case last.After(today.AddDate(maxPause, 0, 0)):
		t.Note(t.T("date.toofar", "Date", shown, "Years", maxPause))
		t.Ask()
		return
	}
	c := t.Conv()
	c.Pause = last.Format(bot.DayLayout)
	t.SyncReminders()
	n := 0
	var back, at string
	for _, r := range c.Reminders {
		if r.Status == bot.ReminderPending && r.Postponed {
			n++
			// When it really comes: after quiet hours if they hold it.
			due := r.Due.In(t.Zone())
			back = t.Date(time.Date(due.Year(), due.Month(), due.Day(), 0, 0, 0, 0, time.UTC))
			at = due.Format("15:04")
		}
	}
	t.Note(t.T("pause.set", "Date", shown))
	if n > 0 {
		t.Note(t.N("pause.held", n, "Date", back, "Time", at))
	}
	if t.EndSideTrip() {
		return
	}
	t.To(bot.ModeIdle)
	t.Reask()
}

// cmdResume ends a pause early: what it held comes at once (or after quiet
// hours), marked as postponed, and nothing is lost.
func cmdResume(t *bot.Turn, _ []string) {
	if _, ok := pausedUntil(t); !ok {
		t.Note(t.T("pause.none"))
		t.Reask()
		return
	}
	t.Conv().Pause = t.Today().AddDate(0, 0, -1).Format(bot.DayLayout)
	t.SyncReminders()
	// Not "what fell into it comes now" when nothing came due in it.
	id := "pause.resumed.none"
	for _, r := range t.Conv().Reminders {
		if r.Status == bot.ReminderPending && r.Postponed && !r.Chore {
			id = "pause.resumed"
		}
	}
	t.Note(t.T(id))
	t.Reask()
}
