// Package check is the self-check: choosing a check, rating its
// checkpoints (progress, examples, later, back), the result with its
// summary and picture (bot/export), changing an answer and repeating a
// finished check, whose result says what changed since the last run. When the
// result's "build the plan" is pressed, it announces PlanWanted.
package check

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/flows"
)

// The check's questions, stored in Dialog.Mode.
const (
	ModeRate    = "rate"    // rating checkpoint Cursor during the check
	ModeEdit    = "edit"    // changing the rating of Cursor from the summary
	ModeSummary = "summary" // result shown, plan offered
	ModeChange  = "change"  // picking the answer to change
	ModeRepeat  = "repeat"  // confirming a new run of a finished check
)

// PlanWanted is announced (Turn.Fire) when the result's "build the plan"
// button is pressed.
const PlanWanted = "check.plan"

// Feature is the self-check.
func Feature() bot.Feature {
	rate := bot.Mode{Name: ModeRate, Cancel: "cancel.check",
		Ask:   func(t *bot.Turn) (bot.Message, bool) { return sheet(t).Ask(t) },
		Typed: func(t *bot.Turn, text string) (string, bool) { return sheet(t).Typed(t, text) },
		Press: func(t *bot.Turn, verb, arg string) {
			if t.Flow() == nil {
				cmdCheck(t, "")
				return
			}
			sheet(t).Press(t, verb, arg)
		},
	}
	edit := rate
	edit.Name = ModeEdit
	return bot.Feature{
		Name: "check",
		Modes: []bot.Mode{rate, edit,
			{Name: ModeSummary, Ask: askSummary, Press: pressSummary, Calm: true, Lull: true},
			{Name: ModeChange, Back: bot.BackTo(ModeSummary),
				Ask:   func(t *bot.Turn) (bot.Message, bool) { return sheet(t).Change(t) },
				Press: func(t *bot.Turn, verb, arg string) { sheet(t).PressChange(t, verb, arg) }},
			{Name: ModeRepeat, Ask: askRepeat, Press: func(t *bot.Turn, _, _ string) { startRun(t, t.Flow()) }, Back: bot.BackTo(ModeSummary)},
		},
		Commands: []bot.Cmd{{Name: "check", Args: true, Main: true, Run: func(t *bot.Turn, args []string) {
			id := ""
			if len(args) > 0 {
				id = strings.ToLower(args[0])
			}
			cmdCheck(t, id)
		}}},
		Makers: map[string]bot.Maker{MakePicture: drawPicture},
	}
}

func cmdCheck(t *bot.Turn, id string) {
	all := t.Flows().All()
	var f *flows.Flow
	if id != "" {
		var ok bool
		if f, ok = t.Flows().Get(id); !ok {
			t.Note(t.T("check.unknown", "ID", id))
		}
	}
	r := t.Conv().Run
	if r != nil && !r.Finished() && (f == nil || f.ID == r.Flow) {
		if fl := t.Flow(); fl != nil {
			t.Note(t.T("check.resume", "Rated", len(r.Ratings), "Total", len(fl.Checkpoints)))
			sheet(t).Resume(t)
			t.To(ModeRate)
			t.Ask()
			return
		}
	}
	if r != nil && !r.Finished() && f != nil && f.ID != r.Flow {
		t.Note(t.T("check.busy", "Title", t.T(r.Flow+".title")))
		t.To(ModeRate)
		t.Ask()
		return
	}
	if r.Finished() && t.Flow() != nil && (f == nil || f.ID == r.Flow) {
		// A finished check: its result, with the offer to repeat it; from
		// the reminder's button, that offer at once.
		t.Dialog().Op = "again"
		t.To(ModeSummary)
		if f != nil {
			t.To(ModeRepeat)
			t.Ask()
			return
		}
		ShowResult(t)
		return
	}
	if f == nil {
		if len(all) > 1 {
			chooseCheck(t)
			return
		}
		f = all[0]
	}
	startRun(t, f)
}

// chooseCheck asks which check to start: each with its title and its line
// on whom it is for and how long it takes, the titles as buttons (typed:
// the number or the title). A button starts its check through /check <id>.
func chooseCheck(t *bot.Turn) { Choose(t, "check") }

// Choose asks which check to start, as /check does; a button gives the
// command cmd with the check's ID ("/team zo-kmu").
func Choose(t *bot.Turn, cmd string) {
	var b strings.Builder
	b.WriteString(t.T("check.choose"))
	var rows [][]bot.Button
	for _, g := range t.Flows().All() {
		title := t.T(g.TitleID())
		b.WriteString("\n\n" + title + "\n" + t.T(g.SummaryID()))
		rows = append(rows, []bot.Button{{Label: title, Action: "/" + cmd + " " + g.ID}})
	}
	m := bot.Message{Text: b.String(), Buttons: rows}
	t.To(bot.ModeIdle)
	t.Dialog().Options = m.Flat()
	t.Say(m)
}

func startRun(t *bot.Turn, f *flows.Flow) {
	c := t.Conv()
	if c.Run != nil && c.Run.Finished() {
		c.History = append(c.History, *c.Run)
	}
	c.Run = &bot.Run{Flow: f.ID, Version: f.Version, Started: t.Now().UTC(), Ratings: map[string]string{}}
	t.OtherLangNote(f)
	t.Note(t.T("check.intro", "Title", t.T(f.TitleID()), "Goal", t.T(f.GoalID()), "Intro", t.T(f.IntroID())))
	t.Dialog().Cursor = 0
	t.To(ModeRate)
	t.Ask()
}

// ShowResult asks the result with its picture (export.Picture) beside the
// text, where the platform shows files (bot.FileAdapter); the text stays:
// screen readers and the console read it. The picture
// comes when the result is new or changed (the check just finished, an
// answer changed) or looked at again with /check; asked again on the way
// (a hint, "back", the end of a side trip), the result comes as text
// alone, the picture above it in the chat being still the same.
func ShowResult(t *bot.Turn) {
	m, ok := askSummary(t)
	if !ok {
		t.Ask()
		return
	}
	if t.ShowsFiles() {
		c, f := t.Conv(), t.Flow()
		pic, err := resultPicture(t, f, c.Run, Previous(c, f))
		if err == nil { // without it, the text says it all
			m.Files = append(m.Files, pic)
		}
	}
	t.Dialog().Options = m.Flat()
	t.Say(m)
}

// Previous is the newest earlier finished run of f, which a repeated
// check's result is compared with, or nil.
func Previous(c *bot.Conversation, f *flows.Flow) *bot.Run {
	for i := len(c.History) - 1; i >= 0; i-- {
		if c.History[i].Flow == f.ID && c.History[i].Finished() {
			return &c.History[i]
		}
	}
	return nil
}

// change is how a checkpoint's rating moved since the previous run: by
// the need for action of the two levels, as the picture's arrows show it.
func change(f *flows.Flow, before, now string) int {
	b, ok1 := f.Level(before)
	n, ok2 := f.Level(now)
	if !ok1 || !ok2 {
		return 0
	}
	return b.Need - n.Need // > 0: better
}

func askSummary(t *bot.Turn) (bot.Message, bool) {
	f := t.Flow()
	if f == nil {
		return bot.Message{}, false
	}
	c := t.Conv()
	r := c.Run
	prev := Previous(c, f)
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
	if prev != nil {
		// What changed since the previous run, in words for those who do
		// not see the picture's arrows.
		better, worse, same := 0, 0, 0
		for _, cp := range f.Checkpoints {
			before, ok1 := prev.Ratings[cp.ID]
			now, ok2 := r.Ratings[cp.ID]
			switch d := change(f, before, now); {
			case !ok1 || !ok2:
			case d > 0:
				better++
			case d < 0:
				worse++
			default:
				same++
			}
		}
		y, m, d := prev.Done.In(t.Zone()).Date()
		b.WriteString("\n" + t.T("summary.since", "Date", t.Date(time.Date(y, m, d, 0, 0, 0, 0, time.UTC)),
			"Better", better, "Worse", worse, "Same", same))
	}
	for _, l := range f.Levels() {
		var lines []string
		for _, cp := range f.Checkpoints {
			if r.Ratings[cp.ID] != l.ID {
				continue
			}
			line := "• " + t.T(f.CheckpointTitleID(cp))
			if prev != nil {
				before := prev.Ratings[cp.ID]
				switch d := change(f, before, l.ID); {
				case d > 0:
					line += " " + t.T("summary.better", "Symbol", t.T(flows.SymbolID(f.Scale, before)))
				case d < 0:
					line += " " + t.T("summary.worse", "Symbol", t.T(flows.SymbolID(f.Scale, before)))
				}
			}
			lines = append(lines, line)
		}
		if len(lines) > 0 {
			b.WriteString("\n\n" + t.T(flows.LevelID(f.Scale, l.ID)) + "\n" + strings.Join(lines, "\n"))
		}
	}
	b.WriteString("\n\n")
	var rows [][]bot.Button
	switch {
	case len(Needy(c, f)) > 0:
		b.WriteString(t.T("summary.offer"))
		rows = append(rows, []bot.Button{{Label: t.T("button.plan.build"), Action: t.Action("plan")}})
	case needy > 0:
		b.WriteString(t.T("summary.planned"))
		rows = append(rows, []bot.Button{{Label: t.T("button.plan"), Action: "/plan"}})
	default:
		b.WriteString(t.T("summary.allgood"))
	}
	last := []bot.Button{{Label: t.T("button.change"), Action: t.Action("change")}}
	if t.Dialog().Op == "again" { // come back to with /check: a new run makes sense
		last = append(last, bot.Button{Label: t.T("button.repeat"), Action: t.Action("repeat")})
	}
	rows = append(rows, last)
	if t.Dialog().Op == "again" && len(t.Flows().All()) > 1 {
		// Back at a finished check: /check shows it, so the other checks
		// are a tap away here.
		rows = append(rows, []bot.Button{{Label: t.T("button.check.other"), Action: t.Action("other")}})
	}
	return bot.Message{Text: b.String(), Buttons: rows}, true
}

func pressSummary(t *bot.Turn, verb, _ string) {
	switch verb {
	case "plan":
		if !t.Fire(PlanWanted) {
			t.Reask()
		}
	case "change":
		t.To(ModeChange)
		t.Ask()
	case "repeat":
		t.To(ModeRepeat)
		t.Ask()
	case "other":
		chooseCheck(t)
	default:
		t.Reask()
	}
}

// Needy lists the checkpoints of the conversation's run of f that need
// action, most urgent first, then in the check's order, leaving out those
// that already have an open measure or were found to need none.
func Needy(c *bot.Conversation, f *flows.Flow) []string {
	r := c.Run
	has := map[string]bool{}
	for _, m := range c.Plan.Open() {
		if m.Flow == f.ID {
			has[m.Checkpoint] = true
		}
	}
	type item struct {
		id        string
		need, pos int
	}
	var items []item
	for i, cp := range f.Checkpoints {
		l, _ := f.Level(r.Ratings[cp.ID])
		if l.Need > 0 && !has[cp.ID] && !slices.Contains(r.NoMeasure, cp.ID) {
			items = append(items, item{cp.ID, l.Need, i})
		}
	}
	sort.SliceStable(items, func(a, b int) bool { return items[a].need > items[b].need })
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.id
	}
	return ids
}

func askRepeat(t *bot.Turn) (bot.Message, bool) {
	f := t.Flow()
	if f == nil {
		return bot.Message{}, false
	}
	return bot.Message{Text: t.T("repeat.ask", "Title", t.T(f.TitleID())), Buttons: [][]bot.Button{{
		{Label: t.T("button.repeat.yes"), Action: t.Action("yes")}, t.BackRow()[0]}}}, true
}
