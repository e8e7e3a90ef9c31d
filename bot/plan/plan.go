// Package plan is the action plan: building it from a check's result
// (a measure for each checkpoint that needs one, the most urgent first),
// entering a measure (a suggestion or own text, priority, responsible
// person, start and review date, or all of it in one form), and the plan
// view with its operations (done, move the review, drop, add; "Export…"
// announces ExportWanted).
package plan

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/check"
	"github.com/ampel-bot/ampel/flows"
)

// The plan's questions, stored in Dialog.Mode.
const (
	ModeText     = "m-text" // measure: suggestion or own text
	ModeConfirm  = "m-confirm"
	ModePriority = "m-prio"
	ModeResp     = "m-resp"
	ModeStart    = "m-start"
	ModeReview   = "m-review"
	ModeSaved    = "m-saved"   // a measure was saved: another one, or on
	ModeDiscard  = "discard"   // confirming that the draft measure goes
	ModePlan     = "plan"      // the plan shown
	ModePick     = "plan-pick" // picking the measure for Op
	ModeMove     = "plan-move" // new review date for Target
	ModeAdd      = "plan-add"  // picking the checkpoint of a new measure
	ModeDrop     = "plan-drop" // confirming that Target is dropped
)

const (
	maxMeasureLen = 300
	maxNameLen    = 80
)

// ExportWanted is announced (Turn.Fire) when the plan view's "Export…"
// button is pressed.
const ExportWanted = "plan.export"

// Feature is the action plan.
func Feature() bot.Feature {
	// The questions of entering a measure need its draft, and keep it
	// from being thrown away by a command.
	measure := func(m bot.Mode) bot.Mode {
		m.Draft, m.Command = true, drafting
		return m
	}
	return bot.Feature{
		Name: "plan",
		Modes: []bot.Mode{
			measure(bot.Mode{Name: ModeText, Ask: askMeasure, Press: pressText, Text: measureText, Typed: typedMeasure, Words: true, Form: true, Back: backFromText}),
			measure(bot.Mode{Name: ModeConfirm, Ask: askConfirm, Press: func(t *bot.Turn, _, _ string) { t.To(ModePriority); t.Ask() }, Text: measureText, Words: true, Back: bot.BackTo(ModeText)}),
			measure(bot.Mode{Name: ModePriority, Ask: askPriority, Press: pressPriority, Back: bot.BackTo(ModeText)}),
			measure(bot.Mode{Name: ModeResp, Ask: askResp, Press: pressMe, Text: responsibleText, Words: true, Back: bot.BackTo(ModePriority)}),
			measure(bot.Mode{Name: ModeStart, Ask: askStart, Press: pressDate, Text: typedDate, Back: bot.BackTo(ModeResp)}),
			measure(bot.Mode{Name: ModeReview, Ask: askReview, Press: pressDate, Text: typedDate, Back: bot.BackTo(ModeStart)}),
			{Name: ModeSaved, Ask: askSaved, Press: pressSaved, Calm: true},
			{Name: ModeDiscard, Ask: askDiscard, Press: func(t *bot.Turn, _, _ string) { t.Dialog().Resume = ""; t.Cancel() }, Back: backFromDiscard},
			{Name: ModePlan, Ask: func(t *bot.Turn) (bot.Message, bool) { return View(t), true }, Press: pressPlan, Calm: true, Lull: true},
			{Name: ModePick, Ask: askPick, Press: func(t *bot.Turn, _, arg string) { id, _ := strconv.Atoi(arg); pickMeasure(t, id) }, Back: bot.BackTo(ModePlan)},
			{Name: ModeMove, Ask: askMove, Press: pressDate, Text: typedDate, SideTrip: true, Back: func(t *bot.Turn) bool {
				if !t.EndSideTrip() {
					t.To(ModePlan)
					t.Reask()
				}
				return true
			}},
			{Name: ModeAdd, Ask: askAdd, Press: pressAdd, Back: bot.BackTo(ModePlan)},
			{Name: ModeDrop, Ask: askDrop, Press: pressDrop, Back: bot.BackTo(ModePlan)},
		},
		Commands: []bot.Cmd{{Name: "plan", Main: true, Run: func(t *bot.Turn, _ []string) {
			d := t.Dialog()
			d.Draft, d.Queue, d.Return = nil, nil, ""
			t.To(ModePlan)
			t.Ask()
		}}},
		On: map[string]func(t *bot.Turn) bool{check.PlanWanted: buildPlan},
	}
}

// drafting keeps a half-entered measure from being thrown away by a
// command: the side trips come back to it, the rest asks to finish it first.
func drafting(t *bot.Turn, name string) bool {
	d := t.Dialog()
	if d.Draft == nil {
		return false
	}
	switch name {
	case "check", "plan", "start":
		t.Note(t.T("measure.unfinished"))
		t.Ask()
		return true
	case "reminders":
		t.SideTrip()
		return t.Call("reminders")
	case "cancel":
		d.Resume = d.Mode
		t.To(ModeDiscard)
		t.Ask()
		return true
	}
	return false
}

// buildPlan starts the plan from the check's result: a measure for each
// checkpoint that needs one, the most urgent first.
func buildPlan(t *bot.Turn) bool {
	f, r, d := t.Flow(), t.Conv().Run, t.Dialog()
	queue := check.Needy(t.Conv(), f)
	d.Queue = queue
	d.Prev = ""
	d.Return = ""
	if len(queue) == 0 {
		t.Note(t.T("plan.nothing"))
		t.To(ModePlan)
		t.Ask()
		return true
	}
	// "The urgent ones first" only where the queue has an order of
	// urgency: not on a two-state scale, nor when all are yellow.
	first, _ := f.Level(r.Ratings[queue[0]])
	last, _ := f.Level(r.Ratings[queue[len(queue)-1]])
	if first.Need > last.Need {
		t.Note(t.T("plan.begin.urgent", "Count", len(queue)))
	} else {
		t.Note(t.N("plan.begin", len(queue)))
	}
	beginMeasure(t, queue[0])
	return true
}

// Flow is the check whose checkpoints new measures attach to: the
// current run's, or the first flow when no check was done yet.
func Flow(t *bot.Turn) *flows.Flow {
	if f := t.Flow(); f != nil {
		return f
	}
	return t.Flows().All()[0]
}

// Checkpoint returns the checkpoint of f with the given ID.
func Checkpoint(f *flows.Flow, id string) (flows.Checkpoint, bool) {
	if i := f.Index(id); i >= 0 {
		return f.Checkpoints[i], true
	}
	return flows.Checkpoint{}, false
}

func beginMeasure(t *bot.Turn, cp string) {
	f := Flow(t)
	t.Dialog().Draft = &bot.Measure{Flow: f.ID, Checkpoint: cp, Status: bot.StatusOpen}
	t.To(ModeText)
	t.Ask()
}

// draftCheckpoint is the check and checkpoint of the measure being entered.
func draftCheckpoint(t *bot.Turn) (*flows.Flow, flows.Checkpoint) {
	d := t.Dialog()
	f, _ := t.Flows().Get(d.Draft.Flow)
	cp, _ := Checkpoint(f, d.Draft.Checkpoint)
	return f, cp
}

func askMeasure(t *bot.Turn) (bot.Message, bool) {
	d := t.Dialog()
	f, cp := draftCheckpoint(t)
	level := ""
	if r := t.Conv().Run; r != nil && r.Flow == f.ID {
		if v, ok := r.Ratings[cp.ID]; ok {
			level = t.T(flows.SymbolID(f.Scale, v)) + " "
		}
	}
	title := level + t.T(f.CheckpointTitleID(cp))
	var text string
	var rows [][]bot.Button
	if t.TypedButtons() {
		// Typed buttons are a numbered list already: the suggestions are it.
		text = t.T("measure.ask", "Title", title)
		for i, s := range cp.Suggestions {
			rows = append(rows, []bot.Button{{Label: t.T(f.SuggestionID(cp, s)), Action: t.Action("sg", strconv.Itoa(i))}})
		}
	} else {
		// A suggestion is too long for a button (a phone cuts it): the
		// text numbers them, the buttons are the numbers.
		var list strings.Builder
		for i, s := range cp.Suggestions {
			if i > 0 {
				list.WriteByte('\n')
			}
			list.WriteString(strconv.Itoa(i+1) + ". " + t.T(f.SuggestionID(cp, s)))
		}
		text = t.T("measure.ask.list", "Title", title, "List", list.String())
		rows = bot.NumberRows(len(cp.Suggestions), func(i int) string { return t.Action("sg", strconv.Itoa(i)) })
	}
	var form *bot.Form
	if t.Forms() {
		form = measureForm(t, f, cp)
	}
	if d.Return == ModePlan {
		rows = append(rows, []bot.Button{{Label: t.T("button.plan.back"), Action: t.Action("back")}})
		return bot.Message{Text: text, Buttons: rows, Form: form}, true
	}
	var last []bot.Button
	if slices.Contains(d.Queue, cp.ID) {
		last = append(last, bot.Button{Label: t.T("button.skip"), Action: t.Action("skip")})
	}
	last = append(last, t.BackRow()...)
	if len(last) > 0 {
		rows = append(rows, last)
	}
	return bot.Message{Text: text, Buttons: rows, Form: form}, true
}

// measureForm offers the whole measure as one form: a suggestion or own
// text, priority, responsible person, start and review date.
func measureForm(t *bot.Turn, f *flows.Flow, cp flows.Checkpoint) *bot.Form {
	var sugg []bot.FormOption
	for i, s := range cp.Suggestions {
		sugg = append(sugg, bot.FormOption{Label: bot.Short(t.T(f.SuggestionID(cp, s)), 75), Value: strconv.Itoa(i)})
	}
	var prio []bot.FormOption
	for _, p := range bot.Priorities {
		prio = append(prio, bot.FormOption{Label: t.T("priority." + p), Value: p})
	}
	today := t.Today()
	return &bot.Form{
		Action: t.Action("form"),
		Title:  bot.Short(t.T("form.title"), 24),
		Open:   t.T("form.open"),
		Intro:  t.T("form.intro", "Title", t.T(f.CheckpointTitleID(cp))),
		Submit: t.T("form.submit"),
		Fields: []bot.FormField{
			{Name: "suggestion", Label: t.T("form.suggestion"), Kind: bot.FieldSelect, Options: sugg, Optional: true},
			{Name: "text", Label: t.T("form.text"), Kind: bot.FieldText, Hint: t.T("form.text.hint"), Optional: true, MaxLen: maxMeasureLen},
			{Name: "priority", Label: t.T("form.priority"), Kind: bot.FieldSelect, Options: prio, Value: "medium"},
			{Name: "responsible", Label: t.T("form.responsible"), Kind: bot.FieldText, Hint: t.T("form.responsible.hint"), Optional: true, MaxLen: maxNameLen},
			{Name: "start", Label: t.T("form.start"), Kind: bot.FieldDate, Value: today.Format(bot.DayLayout)},
			{Name: "review", Label: t.T("form.review"), Kind: bot.FieldDate, Value: today.AddDate(0, 0, 28).Format(bot.DayLayout)},
		},
	}
}

// typedMeasure finds the suggestion whose whole text was typed (or
// pasted): where the buttons are its number, the label no longer matches;
// and "keine", no measure's text, skips the checkpoint.
func typedMeasure(t *bot.Turn, text string) (string, bool) {
	d := t.Dialog()
	if d.Draft != nil {
		if f, ok := t.Flows().Get(d.Draft.Flow); ok {
			cp, _ := Checkpoint(f, d.Draft.Checkpoint)
			norm := bot.Normalize(text)
			for i, s := range cp.Suggestions {
				if bot.Normalize(t.T(f.SuggestionID(cp, s))) == norm {
					if a := t.Action("sg", strconv.Itoa(i)); t.Offered(a) {
						return a, true
					}
				}
			}
		}
	}
	if t.NoneWord(text) {
		return t.OptionWith("skip")
	}
	return "", false
}

func pressText(t *bot.Turn, verb, arg string) {
	d := t.Dialog()
	f, cp := draftCheckpoint(t)
	switch verb {
	case "sg":
		i, ok := bot.Index(arg, len(cp.Suggestions))
		if !ok {
			t.Reask()
			return
		}
		d.Draft.Text = t.T(f.SuggestionID(cp, cp.Suggestions[i]))
		t.To(ModeConfirm)
		t.Ask()
	case "skip":
		d.Queue = bot.Remove(d.Queue, cp.ID)
		if r := t.Conv().Run; r != nil && r.Flow == f.ID && !slices.Contains(r.NoMeasure, cp.ID) {
			r.NoMeasure = append(r.NoMeasure, cp.ID) // the next plan remembers it
		}
		nextMeasure(t)
	case "back":
		d.Draft = nil
		t.To(ModePlan)
		t.Ask()
	case "form":
		submitForm(t, f, cp)
	default:
		t.Reask()
	}
}

// backFromText goes back from the first measure of the plan being built
// to the result; from a measure added to the plan, "back" is pressText's.
func backFromText(t *bot.Turn) bool {
	d := t.Dialog()
	if d.Return == ModePlan {
		return false
	}
	d.Draft, d.Queue = nil, nil
	t.To(check.ModeSummary)
	if t.Flow() == nil {
		t.To(ModePlan)
	}
	t.Reask()
	return true
}

func backFromDiscard(t *bot.Turn) bool {
	if r := t.Dialog().Resume; r != "" {
		t.To(r)
		t.Reask()
		return true
	}
	return false
}

func measureText(t *bot.Turn, text string) {
	if n := bot.RuneLen(text); n > maxMeasureLen {
		t.Note(t.T("hint.toolong", "Len", n, "Max", maxMeasureLen))
		t.Ask()
		return
	}
	t.Dialog().Draft.Text = text
	t.To(ModePriority)
	t.Ask()
}

func responsibleText(t *bot.Turn, text string) {
	if n := bot.RuneLen(text); n > maxNameLen {
		t.Note(t.T("hint.toolong", "Len", n, "Max", maxNameLen))
		t.Ask()
		return
	}
	d := t.Dialog()
	d.Draft.Responsible, d.Draft.Me, d.Draft.ResponsibleUser = text, false, ""
	t.To(ModeStart)
	t.Ask()
}

func askConfirm(t *bot.Turn) (bot.Message, bool) {
	return bot.Message{Text: t.T("measure.confirm", "Text", t.Dialog().Draft.Text),
		Buttons: [][]bot.Button{{{Label: t.T("button.keep"), Action: t.Action("keep")}, t.BackRow()[0]}}}, true
}

func askPriority(t *bot.Turn) (bot.Message, bool) {
	var row []bot.Button
	for _, p := range bot.Priorities {
		row = append(row, bot.Button{Label: t.T("priority." + p), Action: t.Action("p", p)})
	}
	return bot.Message{Text: t.T("measure.priority", "Text", t.Dialog().Draft.Text), Buttons: [][]bot.Button{row, t.BackRow()}}, true
}

func pressPriority(t *bot.Turn, _, arg string) {
	if !slices.Contains(bot.Priorities, arg) {
		t.Reask()
		return
	}
	t.Dialog().Draft.Priority = arg
	t.To(ModeResp)
	t.Ask()
}

func askResp(t *bot.Turn) (bot.Message, bool) {
	people := t.Conv().Plan.People
	if len(people) == 0 {
		return bot.Message{Text: t.TapT("measure.responsible"),
			Buttons: [][]bot.Button{{{Label: t.T("button.me"), Action: t.Action("me")}, t.BackRow()[0]}}}, true
	}
	// A team's plan: its members as buttons, a few to a row.
	var rows [][]bot.Button
	for i, p := range people {
		if i%3 == 0 {
			rows = append(rows, nil)
		}
		rows[len(rows)-1] = append(rows[len(rows)-1], bot.Button{Label: p.Name, Action: t.Action("who", strconv.Itoa(i))})
	}
	return bot.Message{Text: t.TapT("measure.responsible.team"), Buttons: append(rows, t.BackRow())}, true
}

func pressMe(t *bot.Turn, verb, arg string) {
	d := t.Dialog()
	if people := t.Conv().Plan.People; verb == "who" {
		i, ok := bot.Index(arg, len(people))
		if !ok {
			t.Reask()
			return
		}
		d.Draft.Me, d.Draft.Responsible, d.Draft.ResponsibleUser = false, people[i].Name, people[i].ID
		t.To(ModeStart)
		t.Ask()
		return
	}
	d.Draft.Me, d.Draft.Responsible = true, ""
	meInGroup(t, d.Draft)
	t.To(ModeStart)
	t.Ask()
}

// meInGroup turns "me" in a group into the person who said it: "me" would
// read as the bot, or as whoever reads the reminder.
func meInGroup(t *bot.Turn, m *bot.Measure) {
	ev := t.Event()
	if !ev.Group || !m.Me {
		return
	}
	m.ResponsibleUser = ev.Addr.User
	if name := bot.CleanInput(ev.UserName); name != "" && bot.RuneLen(name) <= maxNameLen {
		m.Me, m.Responsible = false, name
	}
}

func askStart(t *bot.Turn) (bot.Message, bool) {
	return bot.Message{Text: t.T("measure.start"), Buttons: [][]bot.Button{{
		{Label: t.T("button.today"), Action: t.Action("d", "0")},
		{Label: t.T("button.nextmonday"), Action: t.Action("d", "mon")},
		{Label: t.T("button.in2weeks"), Action: t.Action("d", "14")},
	}, t.BackRow()}}, true
}

func askReview(t *bot.Turn) (bot.Message, bool) {
	start, _ := bot.ParseDay(t.Dialog().Draft.Start)
	return bot.Message{Text: t.T("measure.review", "Start", t.Date(start)), Buttons: [][]bot.Button{{
		{Label: t.T("button.review.4w"), Action: t.Action("d", "s28")},
		{Label: t.T("button.review.3m"), Action: t.Action("d", "sm3")},
		{Label: t.T("button.review.6m"), Action: t.Action("d", "sm6")},
	}, t.BackRow()}}, true
}

func askSaved(t *bot.Turn) (bot.Message, bool) {
	d := t.Dialog()
	f := Flow(t)
	title := func(id string) string {
		if cp, ok := Checkpoint(f, id); ok {
			return t.T(f.CheckpointTitleID(cp))
		}
		return id
	}
	more := bot.Button{Label: t.T("button.more"), Action: t.Action("more")}
	if len(d.Queue) == 0 {
		return bot.Message{}, false
	}
	return bot.Message{Text: t.T("measure.more", "Title", title(d.Prev), "Next", title(d.Queue[0])),
		Buttons: [][]bot.Button{{{Label: t.T("button.next"), Action: t.Action("next")}, more}}}, true
}

func askDiscard(t *bot.Turn) (bot.Message, bool) {
	if t.Dialog().Draft == nil {
		return bot.Message{}, false
	}
	return bot.Message{Text: t.T("measure.discard"), Buttons: [][]bot.Button{{
		{Label: t.T("button.discard.yes"), Action: t.Action("yes")}, t.BackRow()[0]}}}, true
}

// View is the action plan as a message with its buttons.
func View(t *bot.Turn) bot.Message {
	p := &t.Conv().Plan
	visible := p.Visible()
	var b strings.Builder
	if len(visible) == 0 {
		b.WriteString(t.T("plan.empty"))
		rows := [][]bot.Button{{{Label: t.T("button.plan.add"), Action: t.Action("add")}}}
		return bot.Message{Text: b.String(), Buttons: rows}
	}
	b.WriteString(t.N("plan.header", len(p.Open())))
	for i, m := range visible {
		f, ok := t.Flows().Get(m.Flow)
		cpTitle := m.Checkpoint
		if ok {
			if cp, ok := Checkpoint(f, m.Checkpoint); ok {
				cpTitle = t.T(f.CheckpointTitleID(cp))
			}
		}
		resp := m.Responsible
		if m.Me {
			resp = t.T("measure.me")
		}
		start, _ := bot.ParseDay(m.Start)
		review, _ := bot.ParseDay(m.Review)
		status := ""
		if m.Status == bot.StatusDone {
			status = t.T("plan.status.done") + " "
		}
		prio := "" // a record written before priorities were checked may hold anything
		if slices.Contains(bot.Priorities, m.Priority) {
			prio = t.T("priority." + m.Priority)
		}
		b.WriteString("\n\n")
		b.WriteString(t.T("plan.item",
			"N", i+1, "Status", status, "Text", m.Text, "Checkpoint", cpTitle,
			"Priority", prio, "Responsible", resp,
			"Start", t.Date(start), "Review", t.Date(review)))
	}
	rows := [][]bot.Button{
		{{Label: t.T("button.plan.done"), Action: t.Action("done")}, {Label: t.T("button.plan.move"), Action: t.Action("move")}},
		{{Label: t.T("button.plan.drop"), Action: t.Action("drop")}, {Label: t.T("button.plan.add"), Action: t.Action("add")}},
		{{Label: t.T("button.plan.export"), Action: t.Action("export")}},
	}
	return bot.Message{Text: b.String(), Buttons: rows}
}

func askPick(t *bot.Turn) (bot.Message, bool) {
	var rows [][]bot.Button
	// Only the open measures: a done one can be neither done nor moved again.
	for _, m := range t.Conv().Plan.Open() {
		rows = append(rows, []bot.Button{{Label: bot.Short(m.Text, 40), Action: t.Action("m", strconv.Itoa(m.ID))}})
	}
	return bot.Message{Text: t.T("plan.pick." + t.Dialog().Op), Buttons: append(rows, t.BackRow())}, true
}

func askMove(t *bot.Turn) (bot.Message, bool) {
	m := t.Conv().Plan.Find(t.Dialog().Target)
	if m == nil {
		return bot.Message{}, false
	}
	review, _ := bot.ParseDay(m.Review)
	base := t.Date(moveBase(t))
	return bot.Message{Text: t.T("plan.move.ask", "Text", m.Text, "Date", t.Date(review), "Base", base), Buttons: [][]bot.Button{{
		{Label: t.T("button.later2weeks"), Action: t.Action("d", "14")},
		{Label: t.T("button.later1month"), Action: t.Action("d", "m1")},
		{Label: t.T("button.later3months"), Action: t.Action("d", "m3")},
	}, t.BackRow()}}, true
}

func askDrop(t *bot.Turn) (bot.Message, bool) {
	m := t.Conv().Plan.Find(t.Dialog().Target)
	if m == nil {
		return bot.Message{}, false
	}
	return bot.Message{Text: t.T("plan.drop.ask", "Text", m.Text), Buttons: [][]bot.Button{{
		{Label: t.T("button.drop.yes"), Action: t.Action("yes")}, t.BackRow()[0]}}}, true
}

func pressDrop(t *bot.Turn, verb, _ string) {
	if m := t.Conv().Plan.Find(t.Dialog().Target); m != nil && m.Status == bot.StatusOpen && verb == "yes" {
		Settle(t, m, "drop")
	}
	t.To(ModePlan)
	t.Ask()
}

func askAdd(t *bot.Turn) (bot.Message, bool) {
	pf := Flow(t)
	var rows [][]bot.Button
	for i, cp := range pf.Checkpoints {
		rows = append(rows, []bot.Button{{Label: t.T(pf.CheckpointTitleID(cp)), Action: t.Action("cp", strconv.Itoa(i))}})
	}
	return bot.Message{Text: t.T("plan.add.ask"), Buttons: append(rows, t.BackRow())}, true
}

func pressAdd(t *bot.Turn, _, arg string) {
	f := Flow(t)
	if i, ok := bot.Index(arg, len(f.Checkpoints)); ok {
		t.Dialog().Return = ModePlan
		beginMeasure(t, f.Checkpoints[i].ID)
		return
	}
	t.Reask()
}

// submitForm takes a whole measure from a form. Anything wrong is said and
// the question asked again; the draft keeps what was valid.
func submitForm(t *bot.Turn, f *flows.Flow, cp flows.Checkpoint) {
	d := t.Dialog()
	in := t.Event().Form
	today := t.Today()
	text := bot.CleanInput(in["text"])
	if text == "" {
		if i, ok := bot.Index(in["suggestion"], len(cp.Suggestions)); ok {
			text = t.T(f.SuggestionID(cp, cp.Suggestions[i]))
		}
	}
	switch n := bot.RuneLen(text); {
	case n == 0:
		t.Note(t.T("form.notext"))
		t.Ask()
		return
	case n > maxMeasureLen:
		t.Note(t.T("hint.toolong", "Len", n, "Max", maxMeasureLen))
		t.Ask()
		return
	}
	prio := in["priority"]
	if !slices.Contains(bot.Priorities, prio) {
		prio = "medium"
	}
	resp := bot.CleanInput(in["responsible"])
	if bot.RuneLen(resp) > maxNameLen {
		t.Note(t.T("hint.toolong", "Len", bot.RuneLen(resp), "Max", maxNameLen))
		t.Ask()
		return
	}
	start, ok1 := formDate(t, in["start"])
	review, ok2 := formDate(t, in["review"])
	switch {
	case !ok1 || !ok2:
		t.Note(t.T("date.unreadable"))
		t.Ask()
		return
	case start.Before(today):
		t.Note(t.T("date.past", "Date", t.Date(start)))
		t.Ask()
		return
	case review.After(today.AddDate(maxYearsAhead, 0, 0)):
		t.Note(t.T("date.toofar", "Date", t.Date(review), "Years", maxYearsAhead))
		t.Ask()
		return
	case review.Before(start):
		t.Note(t.T("date.review.early", "Date", t.Date(review), "Start", t.Date(start)))
		t.Ask()
		return
	}
	d.Draft.Text, d.Draft.Priority = text, prio
	d.Draft.Responsible, d.Draft.Me = resp, resp == ""
	d.Draft.ResponsibleUser = ""
	if u := in["responsible_user"]; isUserID(u) {
		d.Draft.ResponsibleUser = u
	}
	meInGroup(t, d.Draft)
	d.Draft.Start, d.Draft.Review = start.Format(bot.DayLayout), review.Format(bot.DayLayout)
	t.Note(t.T("date.start.ok", "Date", t.Date(start)))
	saveMeasure(t, t.Date(review))
}

// platformUserID is what a platform's user ID may look like, of at most
// maxUserID characters; anything else from a form is ignored. The bound is
// not in the pattern: compiled, a {1,64} kept a program of 26 KB for the
// life of the process.
var platformUserID = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

const maxUserID = 64

func isUserID(s string) bool { return len(s) <= maxUserID && platformUserID.MatchString(s) }

// formDate reads a date picker's value ("2027-03-15"), or a typed date.
func formDate(t *bot.Turn, s string) (time.Time, bool) {
	if d, ok := bot.ParseDay(strings.TrimSpace(s)); ok {
		return d, true
	}
	d, _, p := t.ParseDate(s)
	return d, p.Read()
}

// nextMeasure goes on after a measure was saved or a checkpoint skipped.
func nextMeasure(t *bot.Turn) {
	d := t.Dialog()
	d.Draft = nil
	if d.Return == ModePlan {
		d.Return = ""
		t.To(ModePlan)
		t.Ask()
		return
	}
	if len(d.Queue) > 0 {
		beginMeasure(t, d.Queue[0])
		return
	}
	planReady(t)
}

func planReady(t *bot.Turn) {
	t.Note(t.N("plan.ready", len(t.Conv().Plan.Open())))
	t.To(ModePlan)
	t.Ask()
}

func pressDate(t *bot.Turn, _, arg string) {
	d := t.Dialog()
	var base time.Time
	switch {
	case d.Mode == ModeReview && len(arg) > 1 && arg[0] == 's': // relative to the start
		base, _ = bot.ParseDay(d.Draft.Start)
		arg = arg[1:]
	case d.Mode == ModeMove:
		base = moveBase(t)
	default:
		base = t.Today()
	}
	var day time.Time
	switch {
	case arg == "mon":
		day = base.AddDate(0, 0, (8-int(base.Weekday()))%7)
		if day.Equal(base) {
			day = base.AddDate(0, 0, 7)
		}
	case len(arg) > 1 && arg[0] == 'm':
		n, _ := strconv.Atoi(arg[1:])
		day = bot.AddMonths(base, n)
	default:
		n, err := strconv.Atoi(arg)
		if err != nil {
			t.Reask()
			return
		}
		day = base.AddDate(0, 0, n)
	}
	takeDate(t, day, bot.DateOK)
}

func typedDate(t *bot.Turn, text string) {
	t.TypedDate(text, func(day time.Time, p bot.DateProblem) { takeDate(t, day, p) })
}

// takeDate checks a date against today and the start, confirms it back
// unambiguously (saying when a day typed without a year is next year's)
// and moves on.
func takeDate(t *bot.Turn, day time.Time, p bot.DateProblem) {
	d := t.Dialog()
	today := t.Today()
	shown := t.ShownDate(day, p)
	if day.Before(today) {
		t.Note(t.T("date.past", "Date", shown))
		t.Ask()
		return
	}
	if day.After(today.AddDate(maxYearsAhead, 0, 0)) {
		t.Note(t.T("date.toofar", "Date", shown, "Years", maxYearsAhead))
		t.Ask()
		return
	}
	switch d.Mode {
	case ModeStart:
		d.Draft.Start = day.Format(bot.DayLayout)
		t.Note(t.T("date.start.ok", "Date", shown))
		t.To(ModeReview)
		t.Ask()
	case ModeReview:
		start, _ := bot.ParseDay(d.Draft.Start)
		if day.Before(start) {
			t.Note(t.T("date.review.early", "Date", shown, "Start", t.Date(start)))
			t.Ask()
			return
		}
		d.Draft.Review = day.Format(bot.DayLayout)
		saveMeasure(t, shown)
	case ModeMove:
		m := t.Conv().Plan.Find(d.Target)
		if m == nil {
			t.To(ModePlan)
			t.Ask()
			return
		}
		if start, ok := bot.ParseDay(m.Start); ok && day.Before(start) {
			t.Note(t.T("date.review.early", "Date", shown, "Start", t.Date(start)))
			t.Ask()
			return
		}
		m.Review = day.Format(bot.DayLayout)
		t.Note(t.T("plan.moved", "Text", m.Text, "Date", shown))
		t.ReminderNotes(m)
		if t.EndSideTrip() {
			return
		}
		t.To(ModePlan)
		t.Ask()
	}
}

// maxYearsAhead bounds the dates of a plan: a measure's start or review
// further ahead helps nobody, and reminders need an instant that fits.
const maxYearsAhead = 10

// maxMeasures bounds a plan's open measures: it is stored and shown whole
// (settled measures beyond a few move to the archive, see Tidy).
const maxMeasures = 100

func saveMeasure(t *bot.Turn, review string) {
	d := t.Dialog()
	p := &t.Conv().Plan
	if len(p.Open()) >= maxMeasures {
		d.Draft = nil
		t.Note(t.T("plan.full", "Max", maxMeasures))
		t.To(ModePlan)
		t.Ask()
		return
	}
	p.NextID++
	m := *d.Draft
	m.ID = p.NextID
	p.Measures = append(p.Measures, m)
	d.Queue = bot.Remove(d.Queue, m.Checkpoint)
	d.Prev = m.Checkpoint
	t.Note(t.T("date.review.ok", "Date", review))
	t.Note(t.T("measure.saved", "Text", m.Text))
	t.ReminderNotes(&p.Measures[len(p.Measures)-1])
	if d.Return != ModePlan && len(d.Queue) > 0 {
		// Right after saving, and only then: another measure for the
		// same checkpoint, or on to the next.
		d.Draft = nil
		t.To(ModeSaved)
		t.Ask()
		return
	}
	nextMeasure(t)
}

func pressSaved(t *bot.Turn, verb, _ string) {
	d := t.Dialog()
	switch {
	case verb == "more" && d.Prev != "":
		beginMeasure(t, d.Prev)
	case verb == "next" && len(d.Queue) > 0:
		beginMeasure(t, d.Queue[0])
	case verb == "next":
		d.Draft = nil
		planReady(t)
	default:
		t.Reask()
	}
}

func pressPlan(t *bot.Turn, verb, _ string) {
	switch verb {
	case "done", "move", "drop":
		if len(t.Conv().Plan.Open()) == 0 {
			t.Note(t.T("plan.none.open"))
			t.Ask()
			return
		}
		t.Dialog().Op = verb
		t.To(ModePick)
		t.Ask()
	case "add":
		t.To(ModeAdd)
		t.Ask()
	case "export":
		if !t.Fire(ExportWanted) {
			t.Reask()
		}
	default:
		t.Reask()
	}
}

func pickMeasure(t *bot.Turn, id int) {
	d := t.Dialog()
	m := t.Conv().Plan.Find(id)
	if m == nil || m.Status == bot.StatusDropped {
		t.To(ModePlan)
		t.Ask()
		return
	}
	if m.Status != bot.StatusOpen {
		t.Note(t.T("plan.notopen", "Text", m.Text))
		t.Ask()
		return
	}
	switch d.Op {
	case "done":
		Settle(t, m, d.Op)
	case "drop":
		d.Target = m.ID
		t.To(ModeDrop)
		t.Ask()
		return
	case "move":
		d.Target = m.ID
		t.To(ModeMove)
		t.Ask()
		return
	}
	t.To(ModePlan)
	t.Ask()
}

// Settle marks a measure done or dropped ("done", "drop"); its reminders
// go with the next sync.
func Settle(t *bot.Turn, m *bot.Measure, how string) {
	m.Settled = t.Now().UTC()
	if how == "done" {
		m.Status = bot.StatusDone
		t.Note(t.T("plan.done", "Text", m.Text))
		return
	}
	m.Status = bot.StatusDropped
	t.Note(t.T("plan.dropped", "Text", m.Text))
}

// moveBase is the day the "move review" buttons count from: the latest of
// today, the measure's start and its current review.
func moveBase(t *bot.Turn) time.Time {
	base := t.Today()
	if m := t.Conv().Plan.Find(t.Dialog().Target); m != nil {
		for _, s := range []string{m.Start, m.Review} {
			if day, ok := bot.ParseDay(s); ok && day.After(base) {
				base = day
			}
		}
	}
	return base
}
