package bot

import (
	"strconv"
	"strings"

	"github.com/ampel-bot/ampel/flows"
)

// question renders the open question of the dialogue from stored state alone,
// so that it can be repeated at any time, on any device.
func (t *turn) question() Message {
	d := &t.c.Dialog
	f := t.flow()
	switch d.Mode {
	case modeRate, modeRateEdit:
		if f == nil {
			break
		}
		return t.rateQuestion(f)
	case modeSummary:
		if f == nil {
			break
		}
		return t.summary(f)
	case modeChange:
		if f == nil {
			break
		}
		var rows [][]Button
		for i, cp := range f.Checkpoints {
			label := t.T(f.CheckpointTitleID(cp)) + " " + t.T(flows.SymbolID(f.Scale, t.c.Run.Ratings[cp.ID]))
			rows = append(rows, []Button{{Label: label, Action: t.action("cp", strconv.Itoa(i))}})
		}
		return Message{Text: t.T("change.ask"), Buttons: append(rows, t.back())}
	case modeText:
		return t.measureQuestion()
	case modeConfirm:
		return Message{Text: t.T("measure.confirm", "Text", d.Draft.Text),
			Buttons: [][]Button{{{Label: t.T("button.keep"), Action: t.action("keep")}, t.back()[0]}}}
	case modePriority:
		var row []Button
		for _, p := range Priorities {
			row = append(row, Button{Label: t.T("priority." + p), Action: t.action("p", p)})
		}
		return Message{Text: t.T("measure.priority", "Text", d.Draft.Text), Buttons: [][]Button{row, t.back()}}
	case modeResp:
		return Message{Text: t.tapT("measure.responsible"),
			Buttons: [][]Button{{{Label: t.T("button.me"), Action: t.action("me")}, t.back()[0]}}}
	case modeStart:
		return Message{Text: t.T("measure.start"), Buttons: [][]Button{{
			{Label: t.T("button.today"), Action: t.action("d", "0")},
			{Label: t.T("button.nextmonday"), Action: t.action("d", "mon")},
			{Label: t.T("button.in2weeks"), Action: t.action("d", "14")},
		}, t.back()}}
	case modeReview:
		start, _ := parseCivil(d.Draft.Start)
		return Message{Text: t.T("measure.review", "Start", t.e.texts.formatDate(t.lang, start)), Buttons: [][]Button{{
			{Label: t.T("button.review.4w"), Action: t.action("d", "s28")},
			{Label: t.T("button.review.3m"), Action: t.action("d", "sm3")},
			{Label: t.T("button.review.6m"), Action: t.action("d", "sm6")},
		}, t.back()}}
	case modePlan:
		return t.planView()
	case modePick:
		var rows [][]Button
		// Only the open measures: a done one can be neither done nor moved again.
		for _, m := range t.c.Plan.Open() {
			rows = append(rows, []Button{{Label: short(m.Text, 40), Action: t.action("m", strconv.Itoa(m.ID))}})
		}
		return Message{Text: t.T("plan.pick." + d.Op), Buttons: append(rows, t.back())}
	case modeMove:
		m := t.c.Plan.Find(d.Target)
		if m == nil {
			break
		}
		review, _ := parseCivil(m.Review)
		base := t.e.texts.formatDate(t.lang, t.moveBase())
		return Message{Text: t.T("plan.move.ask", "Text", m.Text, "Date", t.e.texts.formatDate(t.lang, review), "Base", base), Buttons: [][]Button{{
			{Label: t.T("button.later2weeks"), Action: t.action("d", "14")},
			{Label: t.T("button.later1month"), Action: t.action("d", "m1")},
			{Label: t.T("button.later3months"), Action: t.action("d", "m3")},
		}, t.back()}}
	case modeRepeat:
		if f == nil {
			break
		}
		return Message{Text: t.T("repeat.ask", "Title", t.T(f.TitleID())), Buttons: [][]Button{{
			{Label: t.T("button.repeat.yes"), Action: t.action("yes")}, t.back()[0]}}}
	case modeDiscard:
		if d.Draft == nil {
			break
		}
		return Message{Text: t.T("measure.discard"), Buttons: [][]Button{{
			{Label: t.T("button.discard.yes"), Action: t.action("yes")}, t.back()[0]}}}
	case modeDrop:
		m := t.c.Plan.Find(d.Target)
		if m == nil {
			break
		}
		return Message{Text: t.T("plan.drop.ask", "Text", m.Text), Buttons: [][]Button{{
			{Label: t.T("button.drop.yes"), Action: t.action("yes")}, t.back()[0]}}}
	case modeSaved:
		f := t.planFlow()
		title := func(id string) string {
			if cp, ok := t.checkpoint(f, id); ok {
				return t.T(f.CheckpointTitleID(cp))
			}
			return id
		}
		more := Button{Label: t.T("button.more"), Action: t.action("more")}
		if len(d.Queue) == 0 {
			break
		}
		return Message{Text: t.T("measure.more", "Title", title(d.Prev), "Next", title(d.Queue[0])),
			Buttons: [][]Button{{{Label: t.T("button.next"), Action: t.action("next")}, more}}}
	case modeAddCP:
		pf := t.planFlow()
		var rows [][]Button
		for i, cp := range pf.Checkpoints {
			rows = append(rows, []Button{{Label: t.T(pf.CheckpointTitleID(cp)), Action: t.action("cp", strconv.Itoa(i))}})
		}
		return Message{Text: t.T("plan.add.ask"), Buttons: append(rows, t.back())}
	case modeReminders:
		return t.remindersView()
	case modeZone:
		return t.zoneQuestion()
	case modeLanguage:
		// Each language by its own name, two to a row: six fit a phone.
		var rows [][]Button
		for i, l := range t.e.texts.Langs() {
			if i%2 == 0 {
				rows = append(rows, nil)
			}
			rows[len(rows)-1] = append(rows[len(rows)-1], Button{Label: t.e.texts.T(l, "language.name"), Action: t.action("l", l)})
		}
		return Message{Text: t.T("language.ask"), Buttons: append(rows, t.back())}
	}
	// A mode whose data is gone (e.g. a flow removed) falls back to the menu.
	d.Mode = modeIdle
	return t.menu(t.T("hint.idle"))
}

func (t *turn) rateQuestion(f *flows.Flow) Message {
	d := &t.c.Dialog
	cp := f.Checkpoints[d.Cursor]
	// One concatenation, one allocation: this is the question asked most.
	current := ""
	if cur, ok := t.c.Run.Ratings[cp.ID]; ok {
		current = "\n\n" + t.T("rate.current", "Level", t.T(flows.LevelID(f.Scale, cur)))
	}
	text := t.T("rate.header", "N", d.Cursor+1, "Total", len(f.Checkpoints), "Title", t.T(f.CheckpointTitleID(cp))) +
		"\n\n" + t.T(f.StatementID(cp)) + current + "\n\n" + t.T("rate.ask")
	// The rows share one array of buttons, made at its size.
	levels := f.Levels()
	rows := make([][]Button, 0, len(levels)+1)
	all := make([]Button, len(levels), len(levels)+3)
	for i, l := range levels {
		all[i] = Button{Label: t.T(flows.LevelID(f.Scale, l.ID)), Action: t.action("r", l.ID)}
		rows = append(rows, all[i:i+1:i+1])
	}
	// The same number means the same kind of thing: after the examples,
	// "not now" (later, or keeping the answer when changing it), then back
	// where there is something before.
	last := append(all[len(all):], Button{Label: t.T("button.examples"), Action: t.action("ex")})
	if d.Mode == modeRate {
		last = append(last, Button{Label: t.T("button.later"), Action: t.action("later")})
		if d.Cursor > 0 {
			last = append(last, Button{Label: t.T("button.back"), Action: t.action("back")})
		}
	} else {
		last = append(last, Button{Label: t.T("button.unchanged"), Action: t.action("back")})
	}
	rows = append(rows, last)
	return Message{Text: text, Buttons: rows}
}

func (t *turn) summary(f *flows.Flow) Message {
	r := t.c.Run
	var prev *Run
	for i := len(t.c.History) - 1; i >= 0; i-- {
		if t.c.History[i].Flow == f.ID {
			prev = &t.c.History[i]
			break
		}
	}
	var b strings.Builder
	b.WriteString(t.T("summary.title", "Title", t.T(f.TitleID())))
	b.WriteString("\n")
	var counts []string
	needy := 0
	for _, l := range f.Levels() {
		n := 0
		for _, v := range r.Ratings {
			if v == l.ID {
				n++
			}
		}
		if l.Need > 0 {
			needy += n
		}
		counts = append(counts, t.T(flows.SymbolID(f.Scale, l.ID))+" "+strconv.Itoa(n))
	}
	b.WriteString(strings.Join(counts, " · "))
	for _, l := range f.Levels() {
		var lines []string
		for _, cp := range f.Checkpoints {
			if r.Ratings[cp.ID] != l.ID {
				continue
			}
			line := "• " + t.T(f.CheckpointTitleID(cp))
			if prev != nil {
				if before, ok := prev.Ratings[cp.ID]; ok && before != l.ID {
					line += " " + t.T("summary.before", "Symbol", t.T(flows.SymbolID(f.Scale, before)))
				}
			}
			lines = append(lines, line)
		}
		if len(lines) > 0 {
			b.WriteString("\n\n" + t.T(flows.LevelID(f.Scale, l.ID)) + "\n" + strings.Join(lines, "\n"))
		}
	}
	b.WriteString("\n\n")
	var rows [][]Button
	switch {
	case len(t.needy(f, r)) > 0:
		b.WriteString(t.T("summary.offer"))
		rows = append(rows, []Button{{Label: t.T("button.plan.build"), Action: t.action("plan")}})
	case needy > 0:
		b.WriteString(t.T("summary.planned"))
		rows = append(rows, []Button{{Label: t.T("button.plan"), Action: "/plan"}})
	default:
		b.WriteString(t.T("summary.allgood"))
	}
	last := []Button{{Label: t.T("button.change"), Action: t.action("change")}}
	if t.c.Dialog.Op == "again" { // come back to with /check: a new run makes sense
		last = append(last, Button{Label: t.T("button.repeat"), Action: t.action("repeat")})
	}
	rows = append(rows, last)
	if t.c.Dialog.Op == "again" && len(t.e.flows.All()) > 1 {
		// Back at a finished check: /check shows it, so the other checks
		// are a tap away here.
		rows = append(rows, []Button{{Label: t.T("button.check.other"), Action: t.action("other")}})
	}
	return Message{Text: b.String(), Buttons: rows}
}

func (t *turn) measureQuestion() Message {
	d := &t.c.Dialog
	f, _ := t.e.flows.Get(d.Draft.Flow)
	cp, _ := t.checkpoint(f, d.Draft.Checkpoint)
	level := ""
	if r := t.c.Run; r != nil && r.Flow == f.ID {
		if v, ok := r.Ratings[cp.ID]; ok {
			level = t.T(flows.SymbolID(f.Scale, v)) + " "
		}
	}
	title := level + t.T(f.CheckpointTitleID(cp))
	var text string
	var rows [][]Button
	if t.e.typed(t.c.Addr.Platform) {
		// Typed buttons are a numbered list already: the suggestions are it.
		text = t.T("measure.ask", "Title", title)
		for i, s := range cp.Suggestions {
			rows = append(rows, []Button{{Label: t.T(f.SuggestionID(cp, s)), Action: t.action("sg", strconv.Itoa(i))}})
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
		rows = numberRows(len(cp.Suggestions), func(i int) string { return t.action("sg", strconv.Itoa(i)) })
	}
	var form *Form
	if t.e.forms(t.c.Addr.Platform) {
		form = t.measureForm(f, cp)
	}
	if d.Return == modePlan {
		rows = append(rows, []Button{{Label: t.T("button.plan.back"), Action: t.action("back")}})
		return Message{Text: text, Buttons: rows, Form: form}
	}
	var last []Button
	if contains(d.Queue, cp.ID) {
		last = append(last, Button{Label: t.T("button.skip"), Action: t.action("skip")})
	}
	last = append(last, t.back()...)
	if len(last) > 0 {
		rows = append(rows, last)
	}
	return Message{Text: text, Buttons: rows, Form: form}
}

// measureForm offers the whole measure as one form: a suggestion or own
// text, priority, responsible person, start and review date.
func (t *turn) measureForm(f *flows.Flow, cp flows.Checkpoint) *Form {
	var sugg []FormOption
	for i, s := range cp.Suggestions {
		sugg = append(sugg, FormOption{Label: short(t.T(f.SuggestionID(cp, s)), 75), Value: strconv.Itoa(i)})
	}
	var prio []FormOption
	for _, p := range Priorities {
		prio = append(prio, FormOption{Label: t.T("priority." + p), Value: p})
	}
	return &Form{
		Action: t.action("form"),
		Title:  short(t.T("form.title"), 24),
		Open:   t.T("form.open"),
		Intro:  t.T("form.intro", "Title", t.T(f.CheckpointTitleID(cp))),
		Submit: t.T("form.submit"),
		Fields: []FormField{
			{Name: "suggestion", Label: t.T("form.suggestion"), Kind: FieldSelect, Options: sugg, Optional: true},
			{Name: "text", Label: t.T("form.text"), Kind: FieldText, Hint: t.T("form.text.hint"), Optional: true, MaxLen: maxMeasureLen},
			{Name: "priority", Label: t.T("form.priority"), Kind: FieldSelect, Options: prio, Value: "medium"},
			{Name: "responsible", Label: t.T("form.responsible"), Kind: FieldText, Hint: t.T("form.responsible.hint"), Optional: true, MaxLen: maxNameLen},
			{Name: "start", Label: t.T("form.start"), Kind: FieldDate, Value: t.today.Format(dateLayout)},
			{Name: "review", Label: t.T("form.review"), Kind: FieldDate, Value: t.today.AddDate(0, 0, 28).Format(dateLayout)},
		},
	}
}

func (t *turn) planView() Message {
	p := &t.c.Plan
	visible := p.Visible()
	var b strings.Builder
	if len(visible) == 0 {
		b.WriteString(t.T("plan.empty"))
		rows := [][]Button{{{Label: t.T("button.plan.add"), Action: t.action("add")}}}
		return Message{Text: b.String(), Buttons: rows}
	}
	b.WriteString(t.N("plan.header", len(p.Open())))
	for i, m := range visible {
		f, ok := t.e.flows.Get(m.Flow)
		cpTitle := m.Checkpoint
		if ok {
			if cp, ok := t.checkpoint(f, m.Checkpoint); ok {
				cpTitle = t.T(f.CheckpointTitleID(cp))
			}
		}
		resp := m.Responsible
		if m.Me {
			resp = t.T("measure.me")
		}
		start, _ := parseCivil(m.Start)
		review, _ := parseCivil(m.Review)
		status := ""
		if m.Status == StatusDone {
			status = t.T("plan.status.done") + " "
		}
		prio := "" // a record written before priorities were checked may hold anything
		if contains(Priorities, m.Priority) {
			prio = t.T("priority." + m.Priority)
		}
		b.WriteString("\n\n")
		b.WriteString(t.T("plan.item",
			"N", i+1, "Status", status, "Text", m.Text, "Checkpoint", cpTitle,
			"Priority", prio, "Responsible", resp,
			"Start", t.e.texts.formatDate(t.lang, start), "Review", t.e.texts.formatDate(t.lang, review)))
	}
	rows := [][]Button{
		{{Label: t.T("button.plan.done"), Action: t.action("done")}, {Label: t.T("button.plan.move"), Action: t.action("move")}},
		{{Label: t.T("button.plan.drop"), Action: t.action("drop")}, {Label: t.T("button.plan.add"), Action: t.action("add")}},
	}
	return Message{Text: b.String(), Buttons: rows}
}

// maxNumberRow is how many number buttons share a row: six fit a phone.
const maxNumberRow = 6

// numberRows lays out n buttons labelled "1" to "n" in as few rows of at
// most maxNumberRow as possible, the rows about equally long (10 is 5 and
// 5, not 6 and 4).
func numberRows(n int, action func(i int) string) [][]Button {
	if n == 0 {
		return nil
	}
	nrows := (n + maxNumberRow - 1) / maxNumberRow
	per := (n + nrows - 1) / nrows
	var rows [][]Button
	for i := 0; i < n; i += per {
		var row []Button
		for j := i; j < min(i+per, n); j++ {
			row = append(row, Button{Label: strconv.Itoa(j + 1), Action: action(j)})
		}
		rows = append(rows, row)
	}
	return rows
}

// back is the row of a question's "back" button.
func (t *turn) back() []Button {
	return []Button{{Label: t.T("button.back"), Action: t.action("back")}}
}

// short cuts s to n runes for a button label.
func short(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
