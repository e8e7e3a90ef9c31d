package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// TestLongConversationStaysSmall: 32,000 events of one user (over two
// thousand checks, each with a measure planned and done) leave the
// conversation no larger than its first checks did, so that a turn, which
// encodes it whole, costs the same in its fifth year as in its first
// month. What left it is in its archive, oldest first. (Under the race
// detector a tenth of the events, which the old code failed as well.)
func TestLongConversationStaysSmall(t *testing.T) {
	t.Parallel()
	events := 32005 // 16 events a cycle: the last cycle stops amid its check
	if raceEnabled {
		events = 3205
	}
	st := bottest.NewMemStore()
	u := bottest.NewLongUser(t, st)
	ctx := context.Background()
	load := func() *bot.Conversation {
		c, err := st.Load(ctx, u.Addr.Key())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// The stored conversation after 20 cycles, where the plan has filled
	// its window of settled measures, is the bound.
	const maxJSON = 8 << 10
	var early int
	for u.Events < events {
		u.Turn(t)
		if u.Events%1600 != 0 {
			continue
		}
		b, err := json.Marshal(load())
		if err != nil {
			t.Fatal(err)
		}
		if early == 0 {
			early = len(b)
		}
		if len(b) > maxJSON {
			t.Fatalf("after %d events the conversation is %d bytes of JSON, want at most %d (%d after 1,600 events)", u.Events, len(b), maxJSON, early)
		}
	}
	c := load()
	// The events end in the middle of a check, right after a measure was settled.
	if len(c.History) != 1 || c.Run == nil || c.Run.Finished() {
		t.Errorf("the conversation keeps %d earlier runs and the run %+v; want the last finished one and one in progress", len(c.History), c.Run)
	}
	open := len(c.Plan.Open())
	if settled := len(c.Plan.Measures) - open; settled != 20 || open != 0 {
		t.Errorf("the plan keeps %d settled and %d open measures; want the newest 20 and none", settled, open)
	}
	archived, err := st.Archive(ctx, u.Addr.Key())
	if err != nil {
		t.Fatal(err)
	}
	var runs, measures int
	for i, a := range archived {
		if a.Seq != i+1 {
			t.Fatalf("archived item %d has number %d, want %d", i, a.Seq, i+1)
		}
		switch {
		case a.Run != nil && a.Run.Finished():
			runs++
		case a.Measure != nil && a.Measure.Status == bot.StatusDone:
			measures++
		default:
			t.Fatalf("archived item %d is %+v, want a finished run or a done measure", i, a)
		}
	}
	// Every cycle finished a run and settled a measure.
	if runs != u.Cycles-1 || measures != u.Cycles-20 {
		t.Errorf("the archive holds %d runs and %d measures after %d cycles; want %d and %d", runs, measures, u.Cycles, u.Cycles-1, u.Cycles-20)
	}
}

// TestTidyKeepsWhatTheDialogueShows: a plan keeps its open measures and the
// 20 settled most recently (a measure added long ago and done today stays
// in view), History the newest run of each check (a repeated check shows
// the change since then), all in their order; the rest is archived in its
// order, numbered on from the last number.
func TestTidyKeepsWhatTheDialogueShows(t *testing.T) {
	day := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	c := &bot.Conversation{ArchiveSeq: 7}
	for i, f := range []string{"a", "b", "a", "a", "b"} {
		c.History = append(c.History, bot.Run{Flow: f, Version: i, Done: day.AddDate(0, 0, i)})
	}
	for id := 1; id <= 26; id++ {
		m := bot.Measure{ID: id, Status: bot.StatusDone, Settled: day.AddDate(0, 0, id)}
		switch id {
		case 1:
			m.Settled = day.AddDate(1, 0, 0) // settled last
		case 2:
			m.Status, m.Settled = bot.StatusOpen, time.Time{}
		case 3:
			m.Status = bot.StatusDropped
		}
		c.Plan.Measures = append(c.Plan.Measures, m)
	}
	c.Tidy()
	var runs []int
	for _, r := range c.History {
		runs = append(runs, r.Version)
	}
	var kept []int
	for _, m := range c.Plan.Measures {
		kept = append(kept, m.ID)
	}
	var archived []string
	for _, a := range c.Archive {
		if a.Run != nil {
			archived = append(archived, fmt.Sprintf("%d:run%d", a.Seq, a.Run.Version))
		} else {
			archived = append(archived, fmt.Sprintf("%d:m%d", a.Seq, a.Measure.ID))
		}
	}
	want := struct{ runs, kept, archived string }{"[3 4]", "[1 2 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26]", "[8:run0 9:run1 10:run2 11:m3 12:m4 13:m5 14:m6 15:m7]"}
	if got := fmt.Sprint(runs); got != want.runs {
		t.Errorf("history keeps runs %s, want %s", got, want.runs)
	}
	if got := fmt.Sprint(kept); got != want.kept {
		t.Errorf("plan keeps measures %s, want %s", got, want.kept)
	}
	if got := fmt.Sprint(archived); got != want.archived || c.ArchiveSeq != 15 {
		t.Errorf("archive gets %s (last number %d), want %s (15)", got, c.ArchiveSeq, want.archived)
	}
	// Tidy again: nothing more to move, and what was moved is not moved twice.
	c.Tidy()
	if len(c.Archive) != 0 || c.ArchiveSeq != 15 {
		t.Errorf("a second Tidy archived %d items, want none", len(c.Archive))
	}
}

// TestReviewOfArchivedMeasure: an old review reminder's button for a
// measure settled and archived since says so, as for one still in the plan;
// a button for a measure that never was is stale.
func TestReviewOfArchivedMeasure(t *testing.T) {
	h := newHarness(t, 0)
	seed := &bot.Conversation{Plan: bot.Plan{NextID: 3, Measures: []bot.Measure{{ID: 3, Flow: "zo-kmu", Checkpoint: "x", Text: "Neu", Status: bot.StatusOpen}}}}
	if _, err := h.Store.Commit(context.Background(), "seed", h.Addr.Key(), seed, nil); err != nil {
		t.Fatal(err)
	}
	for action, want := range map[string]string{"rv:1:done": "bereits abgeschlossen", "rv:9:done": "früheren Frage"} {
		var got string
		for _, s := range h.Send(bot.Event{Action: action}) {
			got += s.Msg.Text
		}
		if !strings.Contains(got, want) {
			t.Errorf("%s: got %q, want it to say %q", action, got, want)
		}
	}
}
