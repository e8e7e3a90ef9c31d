package check

import (
	"slices"
	"strconv"
	"strings"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/flows"
)

// Sheet is a run being rated by one person, one checkpoint at a time
// (progress i/n, examples, later, back, changing an answer): the
// conversation's own check, or a team member's ratings, which bot/team
// keeps in the team's record. The rating question's Ask, Press and Typed
// are its methods; the cursor is the conversation's Dialog.Cursor.
type Sheet struct {
	Flow *flows.Flow
	Run  *bot.Run
	// Rate and Edit are the modes of rating the checkpoints in turn and of
	// changing one answer.
	Rate, Edit string
	// Act makes a button's action; nil: Turn.Action. A question sent
	// where it is not the open one (a team member's first, in a private
	// chat the bot has not talked in) needs actions valid anywhere.
	Act func(t *bot.Turn, verb string, args ...string) string
	// Last is the text ID that says the checkpoint put off is the last
	// one open; "" is the check's.
	Last string
	// Finished goes on when the last checkpoint is rated (Run.Done is
	// set), Changed when an answer was changed in Edit, Kept when it was
	// left as it was (nil: Changed).
	Finished, Changed, Kept func(t *bot.Turn)
}

// sheet is the check's own: the conversation's run.
func sheet(t *bot.Turn) Sheet {
	return Sheet{Flow: t.Flow(), Run: t.Conv().Run, Rate: ModeRate, Edit: ModeEdit,
		Finished: func(t *bot.Turn) {
			t.Dialog().Op = "" // just finished: no offer to repeat it
			t.To(ModeSummary)
			ShowResult(t)
		},
		Changed: func(t *bot.Turn) {
			t.To(ModeSummary)
			ShowResult(t)
		},
		Kept: func(t *bot.Turn) {
			t.To(ModeSummary)
			t.Ask()
		},
	}
}

func (s Sheet) act(t *bot.Turn, verb string, args ...string) string {
	if s.Act != nil {
		return s.Act(t, verb, args...)
	}
	return t.Action(verb, args...)
}

// Ask is the rating question of the checkpoint at the cursor.
func (s Sheet) Ask(t *bot.Turn) (bot.Message, bool) {
	f := s.Flow
	if f == nil || s.Run == nil {
		return bot.Message{}, false
	}
	d := t.Dialog()
	cp := f.Checkpoints[d.Cursor]
	// One concatenation, one allocation: this is the question asked most.
	current := ""
	if cur, ok := s.Run.Ratings[cp.ID]; ok {
		current = "\n\n" + t.T("rate.current", "Level", t.T(flows.LevelID(f.Scale, cur)))
	}
	text := t.T("rate.header", "N", d.Cursor+1, "Total", len(f.Checkpoints), "Title", t.T(f.CheckpointTitleID(cp))) +
		"\n\n" + t.T(f.StatementID(cp)) + current + "\n\n" + t.T("rate.ask")
	// The rows share one array of buttons, made at its size.
	levels := f.Levels()
	rows := make([][]bot.Button, 0, len(levels)+1)
	all := make([]bot.Button, len(levels), len(levels)+3)
	for i, l := range levels {
		all[i] = bot.Button{Label: t.T(flows.LevelID(f.Scale, l.ID)), Action: s.act(t, "r", l.ID)}
		rows = append(rows, all[i:i+1:i+1])
	}
	// The same number means the same kind of thing: after the examples,
	// "not now" (later, or keeping the answer when changing it), then back
	// where there is something before.
	last := append(all[len(all):], bot.Button{Label: t.T("button.examples"), Action: s.act(t, "ex")})
	if d.Mode != s.Edit {
		last = append(last, bot.Button{Label: t.T("button.later"), Action: s.act(t, "later")})
		if d.Cursor > 0 {
			last = append(last, bot.Button{Label: t.T("button.back"), Action: s.act(t, "back")})
		}
	} else {
		last = append(last, bot.Button{Label: t.T("button.unchanged"), Action: s.act(t, "back")})
	}
	rows = append(rows, last)
	return bot.Message{Text: text, Buttons: rows}, true
}

// ask asks the rating question, or what the open mode asks without one.
func (s Sheet) ask(t *bot.Turn) {
	if m, ok := s.Ask(t); ok {
		t.Show(m)
		return
	}
	t.Reask()
}

// Typed reads a colour or its emoji typed while rating.
func (s Sheet) Typed(t *bot.Turn, text string) (string, bool) {
	if f := s.Flow; f != nil {
		if l, ok := t.TypedLevel(f.Scale, text); ok {
			if a := s.act(t, "r", l); t.Offered(a) {
				return a, true
			}
		}
	}
	return "", false
}

// Press handles a button of the rating question.
func (s Sheet) Press(t *bot.Turn, verb, arg string) {
	f, r, d := s.Flow, s.Run, t.Dialog()
	if r.Ratings == nil {
		r.Ratings = map[string]string{}
	}
	cp := f.Checkpoints[d.Cursor]
	switch verb {
	case "r":
		if _, ok := f.Level(arg); !ok {
			s.ask(t)
			return
		}
		r.Ratings[cp.ID] = arg
		r.Later = bot.Remove(r.Later, cp.ID)
		if d.Mode == s.Edit {
			t.Note(t.T("rate.changed", "Title", t.T(f.CheckpointTitleID(cp)), "Level", t.T(flows.LevelID(f.Scale, arg))))
			s.Changed(t)
			return
		}
		s.advance(t)
	case "ex":
		var lines []string
		for _, sg := range cp.Suggestions {
			lines = append(lines, "• "+t.T(f.SuggestionID(cp, sg)))
		}
		t.Note(t.T("rate.examples", "Title", t.T(f.CheckpointTitleID(cp))) + "\n" + strings.Join(lines, "\n"))
		s.ask(t)
	case "later":
		r.Later = append(bot.Remove(r.Later, cp.ID), cp.ID)
		if len(r.Later) == 1 && s.nextOpen(d.Cursor) == -1 {
			last := s.Last
			if last == "" {
				last = "rate.last"
			}
			t.Note(t.T(last))
			s.ask(t)
			return
		}
		s.advance(t)
	case "back":
		if d.Mode == s.Edit {
			if s.Kept != nil {
				s.Kept(t)
			} else {
				s.Changed(t)
			}
			return
		}
		if d.Cursor == 0 {
			t.Note(t.T("rate.first"))
			s.ask(t)
			return
		}
		d.Cursor--
		t.To(s.Rate)
		s.ask(t)
	default:
		s.ask(t)
	}
}

// Resume points the cursor at the checkpoint to continue with: the
// current one if it is still open, else the next open one.
func (s Sheet) Resume(t *bot.Turn) {
	d, r, f := t.Dialog(), s.Run, s.Flow
	if d.Cursor < 0 || d.Cursor >= len(f.Checkpoints) {
		d.Cursor = 0
	}
	if _, rated := r.Ratings[f.Checkpoints[d.Cursor].ID]; !rated {
		return
	}
	if i := s.nextOpen(d.Cursor); i >= 0 {
		d.Cursor = i
	} else if len(r.Later) > 0 {
		d.Cursor = f.Index(r.Later[0])
	}
}

// nextOpen returns the next checkpoint after cursor (wrapping) that is
// neither rated nor put off, or -1.
func (s Sheet) nextOpen(cursor int) int {
	f, r := s.Flow, s.Run
	n := len(f.Checkpoints)
	for k := 1; k <= n; k++ {
		i := (cursor + k) % n
		id := f.Checkpoints[i].ID
		if _, rated := r.Ratings[id]; !rated && !slices.Contains(r.Later, id) {
			return i
		}
	}
	return -1
}

// advance asks the next open checkpoint: first those not put off, then those
// put off, in the order they were put off; when none is left, Finished.
func (s Sheet) advance(t *bot.Turn) {
	f, r, d := s.Flow, s.Run, t.Dialog()
	if i := s.nextOpen(d.Cursor); i >= 0 {
		d.Cursor = i
		t.To(s.Rate)
		s.ask(t)
		return
	}
	if len(r.Later) > 0 {
		if !slices.Contains(r.Later, f.Checkpoints[d.Cursor].ID) || d.Cursor != f.Index(r.Later[0]) {
			t.Note(t.N("rate.later", len(r.Later)))
		}
		d.Cursor = f.Index(r.Later[0])
		t.To(s.Rate)
		s.ask(t)
		return
	}
	r.Done = t.Now().UTC()
	s.Finished(t)
}

// Change asks which answer to change: every checkpoint with its rating.
func (s Sheet) Change(t *bot.Turn) (bot.Message, bool) {
	f := s.Flow
	if f == nil || s.Run == nil {
		return bot.Message{}, false
	}
	var rows [][]bot.Button
	for i, cp := range f.Checkpoints {
		label := t.T(f.CheckpointTitleID(cp)) + " " + t.T(flows.SymbolID(f.Scale, s.Run.Ratings[cp.ID]))
		rows = append(rows, []bot.Button{{Label: label, Action: s.act(t, "cp", strconv.Itoa(i))}})
	}
	return bot.Message{Text: t.T("change.ask"), Buttons: append(rows, t.BackRow())}, true
}

// PressChange takes the answer picked to change and asks it again.
func (s Sheet) PressChange(t *bot.Turn, verb, arg string) {
	if i, ok := bot.Index(arg, len(s.Flow.Checkpoints)); ok && verb == "cp" {
		t.Dialog().Cursor = i
		t.To(s.Edit)
		s.ask(t)
		return
	}
	t.Reask()
}
