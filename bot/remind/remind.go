// Package remind is what reminders say and what their answers do: the
// start and review reminders of a measure, the offer to repeat a check,
// the review reminder's lasting buttons (done, in progress, dropped) and
// the /reminders view (switching them off, weekends). When they fire is
// the engine's (bot.Engine.RunReminders).
package remind

import (
	"strconv"
	"strings"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/plan"
	"github.com/ampel-bot/ampel/bot/settings"
)

// ModeReminders is the /reminders view; ModeQuiet asks for quiet hours.
const (
	ModeReminders = "reminders"
	ModeQuiet     = "quiet"
	ModePause     = "pause"
	// ModeSnoozeDay asks for the day a reminder is snoozed to;
	// ModeSnoozeReview whether the review date moves with it.
	ModeSnoozeDay    = "snooze"
	ModeSnoozeReview = "snooze-review"
)

// Feature is what reminders say and what their answers do, and the
// /reminders view; when they fire is the engine's (see bot.Engine.RunReminders).
func Feature() bot.Feature {
	show := func(t *bot.Turn) {
		t.To(ModeReminders)
		t.Ask()
	}
	return bot.Feature{
		Name: "remind",
		Modes: []bot.Mode{{Name: ModeReminders, Ask: func(t *bot.Turn) (bot.Message, bool) { return remindersView(t), true },
			Press: pressReminders, Back: (*bot.Turn).BackFromSideTrip, Calm: true},
			{Name: ModeQuiet, Ask: askQuiet, Press: pressQuiet, Text: setQuiet, Claim: quietTyped, Back: backToReminders, Calm: true},
			{Name: ModePause, Ask: askPause, Press: pressPause, Text: typedPause, Back: (*bot.Turn).BackFromSideTrip, Calm: true, SideTrip: true},
			{Name: ModeSnoozeDay, Ask: askSnoozeDay, Text: typedSnoozeDay, Back: (*bot.Turn).BackFromSideTrip, Calm: true, SideTrip: true},
			{Name: ModeSnoozeReview, Ask: askSnoozeReview, Press: pressSnoozeReview, Back: (*bot.Turn).BackFromSideTrip, Calm: true, SideTrip: true},
			{Name: ModeRegion, Ask: askRegion, Press: pressRegion, Back: backToReminders, Calm: true},
			{Name: ModeRegionStates, Ask: askRegionStates, Press: pressRegion, Back: backToReminders, Calm: true}},
		// /reminders in the middle of an answer being entered (a rating,
		// a measure) is a side trip, as /timezone is: back comes back to
		// it. From a view (the plan, the menu) it is not: /pause from the
		// reminders view then comes back to that view.
		Commands: []bot.Cmd{{Name: "reminders", Main: true, Run: func(t *bot.Turn, _ []string) {
			if !t.Mode().Calm {
				t.SideTrip()
			}
			show(t)
		}},
			{Name: "pause", Args: true, Run: cmdPause}, {Name: "resume", Run: cmdResume}},
		Lasting: map[string]func(*bot.Turn, string){"rv": reviewAnswer, "sz": snoozeAnswer},
		// A time zone set outside any question is shown where it matters.
		On:       map[string]func(*bot.Turn) bool{settings.ZoneSet: func(t *bot.Turn) bool { show(t); return true }},
		Reminder: reminderMessage,
	}
}

// reminderMessage writes a reminder in the owner's language. A review
// reminder asks for the outcome with buttons that stay valid whatever else
// the dialogue is doing.
func reminderMessage(t *bot.Turn, r bot.Reminder, late bool) (bot.Message, bool) {
	c := t.Conv()
	var b strings.Builder
	if late {
		d, _ := bot.ParseDay(r.Day)
		b.WriteString(t.T("reminder.late", "Date", t.Date(d)))
		b.WriteString("\n")
	}
	if r.Postponed {
		d, _ := bot.ParseDay(r.For)
		b.WriteString(t.T("reminder.postponed", "Date", t.Date(d)))
		b.WriteString("\n")
	} else if d, name, ok := t.MovedBy(r); ok {
		b.WriteString(t.T("reminder.holiday", "Date", t.Date(d), "Holiday", name))
		b.WriteString("\n")
	}
	if r.Kind == bot.KindRepeat {
		f := plan.Flow(t)
		b.WriteString(t.N("reminder.repeat", t.RepeatAfter(), "Title", t.T(f.TitleID())))
		m := bot.Message{Text: b.String(), Buttons: [][]bot.Button{{{Label: t.T("button.repeat"), Action: "/check " + f.ID}}, snoozeRow(t, r)}}
		t.Offer(m)
		return m, true
	}
	m := c.Plan.Find(r.Measure)
	if m == nil {
		return bot.Message{}, false
	}
	resp := m.Responsible
	if m.Me || resp == "" {
		resp = t.T("measure.me")
	}
	var mentions []string
	if m.ResponsibleUser != "" {
		mentions = []string{m.ResponsibleUser}
	}
	cp := m.Checkpoint
	if f, ok := t.Flows().Get(m.Flow); ok {
		if c, ok := plan.Checkpoint(f, m.Checkpoint); ok {
			cp = t.T(f.CheckpointTitleID(c))
		}
	}
	start, _ := bot.ParseDay(m.Start)
	if r.Kind == bot.KindStart {
		b.WriteString(t.T("reminder.start", "Text", m.Text, "Checkpoint", cp, "Responsible", resp, "Date", t.Date(start)))
		msg := bot.Message{Text: b.String(), Buttons: [][]bot.Button{{{Label: t.T("button.plan"), Action: "/plan"}}, snoozeRow(t, r)}, Mentions: mentions}
		t.Offer(msg)
		return msg, true
	}
	b.WriteString(t.T("reminder.review", "Text", m.Text, "Checkpoint", cp, "Responsible", resp))
	id := strconv.Itoa(m.ID)
	msg := bot.Message{Text: b.String(), Mentions: mentions, Buttons: [][]bot.Button{
		{{Label: t.T("button.review.done"), Action: "rv:" + id + ":done"}},
		{{Label: t.T("button.review.progress"), Action: "rv:" + id + ":prog"}},
		{{Label: t.T("button.review.dropped"), Action: "rv:" + id + ":drop"}},
		snoozeRow(t, r),
	}}
	t.Offer(msg)
	return msg, true
}

// reviewAnswer handles a review reminder's buttons: "rv:<measure>:<verb>".
func reviewAnswer(t *bot.Turn, action string) {
	c := t.Conv()
	parts := strings.Split(action, ":")
	var m *bot.Measure
	archived := false
	if len(parts) == 3 {
		id, _ := strconv.Atoi(parts[1])
		m = c.Plan.Find(id)
		// A measure the plan no longer has was settled and archived.
		archived = m == nil && id > 0 && id <= c.Plan.NextID
	}
	if (m == nil && !archived) || (parts[2] != "done" && parts[2] != "drop" && parts[2] != "prog") {
		t.Note(t.T("hint.stale"))
		t.Reask()
		return
	}
	if archived || m.Status != bot.StatusOpen {
		t.Note(t.T("reminder.settled"))
		t.Reask()
		return
	}
	switch parts[2] {
	case "done", "drop":
		plan.Settle(t, m, parts[2])
	case "prog":
		// A new review date; whatever was being entered comes back after it.
		t.SideTrip()
		t.Dialog().Target = m.ID
		t.To(plan.ModeMove)
		t.Ask()
		return
	}
	if !t.Mode().Calm {
		t.Reask() // in the middle of something: carry on with it
		return
	}
	if len(c.Plan.Open()) == 0 && c.Run.Finished() {
		t.Note(t.T("plan.settled"))
		t.To(bot.ModeIdle)
		m := bot.Message{Buttons: [][]bot.Button{{{Label: t.T("button.repeat"), Action: "/check " + c.Run.Flow}}, {{Label: t.T("button.plan"), Action: "/plan"}}}}
		t.Dialog().Options = m.Flat()
		t.Say(m)
		return
	}
	t.To(plan.ModePlan)
	t.Ask()
}

// remindersView lists upcoming, sent and missed reminders and offers to
// switch them off or on.
func remindersView(t *bot.Turn) bot.Message {
	c := t.Conv()
	var b strings.Builder
	if c.RemindersOff {
		b.WriteString(t.T("reminders.off"))
		// Not silently: those of meetings the person said they attend
		// (a feature's own kind) are off too.
		n := 0
		for _, r := range c.Reminders {
			if r.Status == bot.ReminderPending && !r.Chore && r.Kind != bot.KindStart && r.Kind != bot.KindReview && r.Kind != bot.KindRepeat {
				n++
			}
		}
		if n > 0 {
			b.WriteString(" " + t.T("reminders.off.meetings", "Count", n))
		}
	} else {
		b.WriteString(t.T("reminders.title"))
	}
	if last, ok := pausedUntil(t); ok {
		b.WriteString("\n" + t.T("pause.active", "Date", t.Date(last)))
	}
	zone := t.Zone()
	var upcoming, missed []string
	for _, r := range c.Reminders {
		if r.Chore {
			continue // the bot's own work, not a reminder
		}
		line := reminderLine(t, r, zone)
		switch r.Status {
		case bot.ReminderPending:
			upcoming = append(upcoming, line)
		case bot.ReminderMissed:
			missed = append(missed, line)
		}
	}
	if len(upcoming) == 0 && len(missed) == 0 {
		b.WriteString("\n\n" + t.T("reminders.none"))
	}
	if len(upcoming) > 0 {
		b.WriteString("\n\n" + t.T("reminders.upcoming") + "\n" + strings.Join(upcoming, "\n"))
	}
	if len(missed) > 0 {
		b.WriteString("\n\n" + t.T("reminders.missed") + "\n" + strings.Join(missed, "\n"))
	}
	b.WriteString("\n\n" + t.T("reminders.zone", "Zone", bot.ZoneLabel(zone), "Hour", bot.TwoDigits(t.ReminderHour())))
	if q := c.QuietHours(); !q.None() {
		b.WriteString("\n" + t.T("reminders.quiet", "Hours", q.String()))
	}
	if c.Region != "" {
		b.WriteString("\n" + t.T("reminders.region", "Region", regionName(t, c.Region)))
	}
	toggle := bot.Button{Label: t.T("button.reminders.off"), Action: t.Action("off")}
	if c.RemindersOff {
		toggle = bot.Button{Label: t.T("button.reminders.on"), Action: t.Action("on")}
	}
	weekends := bot.Button{Label: t.T("button.weekends.on"), Action: t.Action("we-on")}
	if c.Weekends {
		weekends = bot.Button{Label: t.T("button.weekends.off"), Action: t.Action("we-off")}
	}
	rows := [][]bot.Button{{toggle}, {weekends}, {{Label: t.T("button.timezone"), Action: "/timezone"}},
		{{Label: t.T("button.quiet"), Action: t.Action("quiet")}}, {{Label: t.T("button.region"), Action: t.Action("region")}}}
	if t.Linked() {
		b.WriteString("\n" + remindToLine(t))
		rows = append(rows, remindToRows(t)...)
	}
	return bot.Message{Text: b.String(), Buttons: append(rows, t.BackRow())}
}

func reminderLine(t *bot.Turn, r bot.Reminder, zone *time.Location) string {
	// The day it comes, not the day it is for: quiet hours can carry it
	// into the next morning, or over a weekend.
	d, _ := bot.ParseDay(r.Day)
	if !r.Due.IsZero() {
		d, _ = bot.ParseDay(r.Due.In(zone).Format(bot.DayLayout))
	}
	what := t.T("reminders.kind." + r.Kind)
	if m := t.Conv().Plan.Find(r.Measure); m != nil {
		what += ": " + m.Text
	} else if r.Kind == bot.KindRepeat {
		what += ": " + t.T(plan.Flow(t).TitleID())
	} else if about := t.ReminderAbout(r); about != "" {
		what += ": " + about
	}
	due := r.Due.In(zone)
	return "• " + t.Date(d) + " " + bot.TwoDigits(due.Hour()) + ":" + bot.TwoDigits(due.Minute()) + " · " + what
}

func pressReminders(t *bot.Turn, verb, arg string) {
	c := t.Conv()
	switch verb {
	case "to":
		remindTo(t, arg)
	case "off":
		c.RemindersOff = true
	case "on":
		c.RemindersOff = false
		// What fell due while they were off is not sent late now: the user
		// chose not to hear it.
		now := t.Now()
		for i := range c.Reminders {
			if r := &c.Reminders[i]; r.Status == bot.ReminderPending && !r.Chore && !r.Due.After(now) {
				r.Status, r.At = bot.ReminderSkipped, now.UTC()
			}
		}
	case "we-on":
		c.Weekends = true
	case "we-off":
		c.Weekends = false
	case "quiet":
		t.To(ModeQuiet)
		t.Ask()
		return
	case "region":
		openRegion(t)
		return
	}
	// Switching on or changing the weekend rule recomputes the reminders
	// before they are shown.
	t.SyncReminders()
	t.Ask()
}

// Quiet hours offered as buttons; any span can be typed ("21-7").
var quietSuggestions = []string{"20:00–08:00", "22:00–07:00"}

// askQuiet asks for the quiet hours: nothing the bot sends on its own
// comes inside them.
func askQuiet(t *bot.Turn) (bot.Message, bool) {
	text := t.T("quiet.ask.none")
	if q := t.Conv().QuietHours(); !q.None() {
		text = t.T("quiet.ask", "Hours", q.String())
	}
	var rows [][]bot.Button
	for i, q := range quietSuggestions {
		rows = append(rows, []bot.Button{{Label: q, Action: t.Action("q", strconv.Itoa(i))}})
	}
	rows = append(rows, []bot.Button{{Label: t.T("button.quiet.none"), Action: t.Action("q", "none")}}, t.BackRow())
	return bot.Message{Text: text, Buttons: rows}, true
}

// quietTyped: "20-8" is quiet hours, not a button's number.
func quietTyped(_ *bot.Turn, text string) bool {
	_, ok := bot.ParseQuiet(text)
	return ok
}

func pressQuiet(t *bot.Turn, _, arg string) {
	if arg == "none" {
		saveQuiet(t, bot.QuietHours{})
		return
	}
	if i, ok := bot.Index(arg, len(quietSuggestions)); ok {
		q, _ := bot.ParseQuiet(quietSuggestions[i])
		saveQuiet(t, q)
		return
	}
	t.Reask()
}

func setQuiet(t *bot.Turn, text string) {
	q, ok := bot.ParseQuiet(text)
	if !ok {
		t.Note(t.T("quiet.unknown", "Text", bot.Short(text, 40)))
		t.Ask()
		return
	}
	saveQuiet(t, q)
}

// saveQuiet sets the quiet hours, moves the reminders that fall into them,
// and shows the reminders again.
func saveQuiet(t *bot.Turn, q bot.QuietHours) {
	t.Conv().Quiet = q.String()
	t.SyncReminders()
	if q.None() {
		t.Note(t.T("quiet.off"))
	} else {
		t.Note(t.T("quiet.set", "Hours", q.String()))
	}
	t.To(ModeReminders)
	t.Ask()
}

func backToReminders(t *bot.Turn) bool {
	t.To(ModeReminders)
	t.Ask()
	return true
}
