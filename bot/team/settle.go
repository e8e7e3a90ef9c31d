package team

import (
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/check"
	"github.com/ampel-bot/ampel/flows"
)

// Closing the rating, the spread of the ratings, settling the team's
// rating of each checkpoint, and handing the result to the channel.

// full reports whether every member still in the channel has finished:
// two at least, since one member's finish is no team's. The rating then
// closes by itself.
func (r *Run) full() bool {
	done, all := r.finished()
	return all >= 2 && done == all
}

// maybeClose closes the rating when it is full.
func maybeClose(t *bot.Turn, r *Run) {
	if r.full() {
		closeRating(t, r)
	}
}

// closeCmd is the facilitator's "close the rating"; while settling, it
// asks the checkpoint to settle next.
func closeCmd(t *bot.Turn, r *Run) {
	if !r.lead(t) {
		return
	}
	if r.State == Settling {
		resumeSettling(t, r)
		return
	}
	for _, m := range r.Members {
		if !m.Removed && len(m.Run.Ratings) > 0 {
			closeRating(t, r)
			return
		}
	}
	t.Note(t.T("team.close.empty"))
}

// closeRating ends the rating: the channel sees the spread of the
// ratings, disagreements first, and the first checkpoint to settle.
func closeRating(t *bot.Turn, r *Run) {
	f := r.flow(t)
	if f == nil {
		return
	}
	ct := t
	if !inChannel(t, r) {
		c, err := t.Tx().Conversation(r.Chat)
		if errors.Is(err, bot.ErrBusy) {
			return
		}
		if err != nil {
			panic(err)
		}
		ct = t.Elsewhere(c)
	}
	r.State = Settling
	r.Settled = map[string]string{}
	apart, agree := r.spread(f)
	r.Order = append(slices.Clone(apart), agree...)
	save(t, r)
	done, all := r.finished()
	lines := []string{ct.T("team.closed", "Done", done, "Total", all)}
	for _, part := range []struct {
		id  string
		cps []string
	}{{"team.spread.apart", apart}, {"team.spread.agree", agree}} {
		if len(part.cps) == 0 {
			continue
		}
		lines = append(lines, "", ct.T(part.id))
		for _, id := range part.cps {
			cp := f.Checkpoints[f.Index(id)]
			lines = append(lines, r.symbols(ct, f, id)+" "+ct.T(f.CheckpointTitleID(cp)))
		}
	}
	ct.Note(strings.Join(lines, "\n"))
	settleAt(ct, r, 0)
}

// counts are the ratings of checkpoint id by level, in the scale's order,
// of the members whose ratings count.
func (r *Run) counts(f *flows.Flow, id string) []int {
	levels := f.Levels()
	n := make([]int, len(levels))
	for _, m := range r.Members {
		if m.Removed {
			continue
		}
		if v, ok := m.Run.Ratings[id]; ok {
			for k, l := range levels {
				if l.ID == v {
					n[k]++
				}
			}
		}
	}
	return n
}

// symbols is the spread of checkpoint id: a symbol per rating, in the
// scale's order, never saying who gave which.
func (r *Run) symbols(t *bot.Turn, f *flows.Flow, id string) string {
	var b strings.Builder
	for k, n := range r.counts(f, id) {
		b.WriteString(strings.Repeat(t.T(flows.SymbolID(f.Scale, f.Levels()[k].ID)), n))
	}
	if b.Len() == 0 {
		return t.T("team.spread.none")
	}
	return b.String()
}

// spread sorts the checkpoints into those the team disagrees on (ratings
// two levels apart, or no level rated by more than half) and the rest,
// each in the check's order.
func (r *Run) spread(f *flows.Flow) (apart, agree []string) {
	for _, cp := range f.Checkpoints {
		n := r.counts(f, cp.ID)
		lo, hi, total, top := -1, -1, 0, 0
		for k, c := range n {
			if c == 0 {
				continue
			}
			if lo < 0 {
				lo = k
			}
			hi, total, top = k, total+c, max(top, c)
		}
		if total > 0 && (hi-lo >= 2 || 2*top <= total) {
			apart = append(apart, cp.ID)
		} else {
			agree = append(agree, cp.ID)
		}
	}
	return apart, agree
}

// settleAt asks the facilitator to settle checkpoint Order[k].
func settleAt(t *bot.Turn, r *Run, k int) {
	d := t.Dialog()
	d.Ref, d.Cursor = r.Code, k
	t.To(ModeSettle)
	t.Show(settleQuestion(t, r))
}

// resumeSettling asks the first checkpoint not settled yet.
func resumeSettling(t *bot.Turn, r *Run) {
	for k, id := range r.Order {
		if _, ok := r.Settled[id]; !ok {
			settleAt(t, r, k)
			return
		}
	}
	settleAt(t, r, 0)
}

// settleQuestion asks the team's rating of checkpoint Order[Cursor]: its
// spread, and the levels as buttons, the most rated first.
func settleQuestion(t *bot.Turn, r *Run) bot.Message {
	f := r.flow(t)
	k := t.Dialog().Cursor
	id := r.Order[k]
	cp := f.Checkpoints[f.Index(id)]
	text := t.T("team.settle", "N", k+1, "Total", len(r.Order), "Title", t.T(f.CheckpointTitleID(cp)),
		"Spread", r.symbols(t, f, id), "Lead", r.Lead.Name)
	n := r.counts(f, id)
	levels := f.Levels()
	idx := make([]int, len(levels))
	for k := range idx {
		idx[k] = k
	}
	slices.SortStableFunc(idx, func(a, b int) int { return n[b] - n[a] })
	var rows [][]bot.Button
	for _, k := range idx {
		label := t.T(flows.LevelID(f.Scale, levels[k].ID))
		if n[k] > 0 {
			label = t.T("team.settle.votes", "Count", n[k], "Level", label)
		}
		rows = append(rows, []bot.Button{{Label: label, Action: t.Action("s", levels[k].ID)}})
	}
	if k > 0 {
		rows = append(rows, t.BackRow())
	}
	return bot.Message{Text: text, Buttons: rows}
}

func askSettle(t *bot.Turn) (bot.Message, bool) {
	r, ok := get(t, t.Dialog().Ref)
	if !ok || r.State != Settling || r.flow(t) == nil || t.Dialog().Cursor >= len(r.Order) {
		return bot.Message{}, false
	}
	return settleQuestion(t, r), true
}

// typedSettle reads a level typed for the checkpoint being settled.
func typedSettle(t *bot.Turn, text string) (string, bool) {
	r, ok := get(t, t.Dialog().Ref)
	if !ok || r.flow(t) == nil {
		return "", false
	}
	if l, ok := t.TypedLevel(r.flow(t).Scale, text); ok {
		if a := t.Action("s", l); t.Offered(a) {
			return a, true
		}
	}
	return "", false
}

// pressSettle takes the facilitator's team rating of a checkpoint, said
// in the channel as it is made; after the last, the result is the
// channel's.
func pressSettle(t *bot.Turn, verb, arg string) {
	d := t.Dialog()
	r, ok := load(t, d.Ref)
	if ok && r.State != Settling {
		t.Note(t.T("team.over"))
		ok = false
	}
	f := (*flows.Flow)(nil)
	if ok {
		f = r.flow(t)
	}
	if f == nil || d.Cursor >= len(r.Order) {
		d.Ref = ""
		t.To(bot.ModeIdle)
		t.Reask()
		return
	}
	if !r.lead(t) {
		return
	}
	switch verb {
	case "s":
		if _, ok := f.Level(arg); !ok {
			t.Reask()
			return
		}
		id := r.Order[d.Cursor]
		if r.Settled == nil {
			r.Settled = map[string]string{}
		}
		r.Settled[id] = arg
		cp := f.Checkpoints[f.Index(id)]
		t.Note(t.T("team.settled", "Title", t.T(f.CheckpointTitleID(cp)), "Level", t.T(flows.LevelID(f.Scale, arg))))
		for step := 1; step <= len(r.Order); step++ {
			k := (d.Cursor + step) % len(r.Order)
			if _, done := r.Settled[r.Order[k]]; !done {
				save(t, r)
				settleAt(t, r, k)
				return
			}
		}
		handOver(t, r, f)
	case "back":
		settleAt(t, r, max(d.Cursor-1, 0))
	default:
		t.Reask()
	}
}

// settleCommand keeps the settling from being cancelled by anyone but
// the facilitator.
func settleCommand(t *bot.Turn, name string) bool {
	if name != "cancel" {
		return false
	}
	r, ok := get(t, t.Dialog().Ref)
	return ok && r.State == Settling && !r.lead(t)
}

// handOver makes the settled ratings the channel's finished check: its
// result and the offer of a plan follow, the members the people a
// measure can be given to.
func handOver(t *bot.Turn, r *Run, f *flows.Flow) {
	c := t.Conv()
	if c.Run.Finished() {
		c.History = append(c.History, *c.Run)
	}
	c.Run = &bot.Run{Flow: f.ID, Version: r.Version, Started: r.Started, Done: t.Now().UTC(), Ratings: maps.Clone(r.Settled), Spread: map[string][]int{}}
	for _, cp := range f.Checkpoints {
		c.Run.Spread[cp.ID] = r.counts(f, cp.ID)
	}
	c.Plan.People = nil
	for _, m := range r.active() {
		c.Plan.People = append(c.Plan.People, m.Person)
	}
	r.State = Planning
	save(t, r)
	d := t.Dialog()
	d.Ref, d.Op = "", ""
	t.Note(t.T("team.result", "Count", strconv.Itoa(len(r.Settled))))
	t.To(check.ModeSummary)
	check.ShowResult(t) // with its picture, the members' spread in it
}
