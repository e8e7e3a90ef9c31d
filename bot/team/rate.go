package team

import (
	"strings"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/check"
	"github.com/ampel-bot/ampel/flows"
)

// A member's rating, in their private chat: the dialogue of a single check
// (bot/check's Sheet) over the member's ratings in the run's record.

// sheet is member i's ratings as a check's sheet: finished or changed,
// the member sees their ratings.
func (r *Run) sheet(t *bot.Turn, i int) check.Sheet {
	mine := func(t *bot.Turn) {
		t.To(ModeMine)
		t.Show(mine(t, r, i, nil))
	}
	return check.Sheet{Flow: r.flow(t), Run: &r.Members[i].Run, Rate: ModeRate, Edit: ModeEdit, Last: "team.rate.last", Finished: mine, Changed: mine}
}

// ours reports whether the turn's user may rate as member i now; if not,
// a note says why.
func (r *Run) ours(t *bot.Turn, i int) bool {
	switch {
	case r.State != Rating:
		t.Note(t.T("team.closed.rate"))
		return false
	case r.Members[i].ID != t.Event().Addr.User:
		t.Refuse(t.T("team.notyours"))
		return false
	case r.Members[i].Left:
		t.Note(t.T("team.left.you"))
		return false
	}
	return true
}

// privatePress handles a button of a question sent to member i's private
// chat from elsewhere (see anywhere): the chat goes into rating the run,
// at checkpoint cur, and the button is answered there.
func privatePress(t *bot.Turn, r *Run, i, cur int, verb, arg string) {
	if !r.ours(t, i) {
		return
	}
	enter(t, r, i, cur, verb, arg)
}

// enter puts the private chat into rating run r as member i at
// checkpoint cur and answers verb there: "go" asks the question to go on
// with, "change" which answer to change, the rest are the rating
// question's.
func enter(t *bot.Turn, r *Run, i, cur int, verb, arg string) {
	f := r.flow(t)
	if f == nil {
		t.Note(t.T("team.gone"))
		return
	}
	c, d := t.Conv(), t.Dialog()
	if c.Records == nil {
		c.Records = map[string]string{}
	}
	c.Records[Kind] = r.Code
	d.Ref, d.Target, d.Cursor = r.Code, i, min(cur, len(f.Checkpoints)-1)
	t.To(ModeRate)
	s := r.sheet(t, i)
	switch {
	case verb == "change":
		t.To(ModeChange)
		q, _ := s.Change(t)
		t.Show(q)
	case verb == "go" && r.Members[i].Run.Finished():
		t.To(ModeMine)
		t.Show(mine(t, r, i, nil))
	case verb == "go":
		s.Resume(t)
		q, _ := s.Ask(t)
		t.Show(q)
	default:
		rate(t, r, i, func(s check.Sheet) { s.Press(t, verb, arg) })
	}
}

// rate runs a press of member i's sheet and takes what it changed: the
// ratings into the run; a member who finished into the channel's
// progress, and when everyone has, the rating closes.
func rate(t *bot.Turn, r *Run, i int, press func(check.Sheet)) {
	m := &r.Members[i]
	was := m.Run.Finished()
	press(r.sheet(t, i))
	m.Cursor = t.Dialog().Cursor
	save(t, r)
	if !was && m.Run.Finished() {
		full := r.full()
		if full {
			r.State = Settling // the progress says it is closed
		}
		ch := r.channel(t)
		ch.Say(progress(ch, r))
		if full {
			closeRating(t, r)
		}
	}
}

// at is the run and member the private chat rates as, if the turn's user
// may; false: a note said why, and the chat leaves the run when it is
// over.
func at(t *bot.Turn, auth bool) (*Run, int, bool) {
	d := t.Dialog()
	r, ok := load(t, d.Ref)
	if !ok {
		d.Ref = ""
		t.To(bot.ModeIdle)
		t.Reask()
		return nil, 0, false
	}
	if d.Target < 0 || d.Target >= len(r.Members) {
		t.To(bot.ModeIdle)
		t.Reask()
		return nil, 0, false
	}
	if auth && !r.ours(t, d.Target) {
		if r.State != Rating {
			d.Ref = ""
			t.To(bot.ModeIdle)
			t.Reask()
		}
		return nil, 0, false
	}
	return r, d.Target, true
}

// atQuiet is the run and member of the private chat's question, to ask it.
func atQuiet(t *bot.Turn) (*Run, int, bool) {
	d := t.Dialog()
	r, ok := get(t, d.Ref)
	if !ok || d.Target < 0 || d.Target >= len(r.Members) || r.State != Rating {
		return nil, 0, false
	}
	return r, d.Target, true
}

func askRate(t *bot.Turn) (bot.Message, bool) {
	if r, i, ok := atQuiet(t); ok {
		return r.sheet(t, i).Ask(t)
	}
	return bot.Message{}, false
}

func typedRate(t *bot.Turn, text string) (string, bool) {
	if r, i, ok := atQuiet(t); ok {
		return r.sheet(t, i).Typed(t, text)
	}
	return "", false
}

func pressRate(t *bot.Turn, verb, arg string) {
	if r, i, ok := at(t, true); ok {
		rate(t, r, i, func(s check.Sheet) { s.Press(t, verb, arg) })
	}
}

func askMine(t *bot.Turn) (bot.Message, bool) {
	if r, i, ok := atQuiet(t); ok {
		return mine(t, r, i, nil), true
	}
	return bot.Message{}, false
}

func pressMine(t *bot.Turn, verb, _ string) {
	r, i, ok := at(t, true)
	if !ok {
		return
	}
	if verb != "change" {
		t.Reask()
		return
	}
	t.To(ModeChange)
	q, _ := r.sheet(t, i).Change(t)
	t.Show(q)
}

func askChange(t *bot.Turn) (bot.Message, bool) {
	if r, i, ok := atQuiet(t); ok {
		return r.sheet(t, i).Change(t)
	}
	return bot.Message{}, false
}

func pressChange(t *bot.Turn, verb, arg string) {
	if r, i, ok := at(t, true); ok {
		r.sheet(t, i).PressChange(t, verb, arg)
	}
}

var backToMine = bot.BackTo(ModeMine)

// mine is member i's ratings, all given, with the button to change one
// (its action made by act; nil: the open question's).
func mine(t *bot.Turn, r *Run, i int, act func(t *bot.Turn, verb string, args ...string) string) bot.Message {
	f := r.flow(t)
	m := &r.Members[i]
	lines := []string{t.T("team.mine", "Title", t.T(f.TitleID())), ""}
	for _, cp := range f.Checkpoints {
		if v, ok := m.Run.Ratings[cp.ID]; ok {
			lines = append(lines, t.T(flows.SymbolID(f.Scale, v))+" "+t.T(f.CheckpointTitleID(cp)))
		}
	}
	done, all := r.finished()
	if r.full() { // the last to finish: the rating closes
		lines = append(lines, "", t.T("team.mine.closing"))
		return bot.Message{Text: strings.Join(lines, "\n")}
	}
	lines = append(lines, "", t.T("team.mine.after")+" "+t.T("team.progress.finished", "Count", done, "Total", all))
	change := t.Action("change")
	if act != nil {
		change = act(t, "change")
	}
	return bot.Message{Text: strings.Join(lines, "\n"), Buttons: [][]bot.Button{{{Label: t.T("button.change"), Action: change}}}}
}
