package bot

import "sort"

// A conversation is written whole after every event, so what it keeps must
// not grow with its age. It keeps what the dialogue needs: the run in
// progress or the last one, the newest earlier run of each check (a repeated
// check shows the change since then), every open measure and the newest
// settled ones. Older runs and settled measures move to the conversation's
// archive, records of their own that are written once and read only when
// asked for (Store.Archive).

// keepSettled is how many settled (done or dropped) measures a plan keeps;
// the plan view shows the done ones among them.
const keepSettled = 20

// Archived is a finished run or a settled measure that a conversation no
// longer keeps.
type Archived struct {
	// Seq numbers the conversation's archive from 1, oldest first; storing
	// the same item twice stores it once.
	Seq     int      `json:"seq"`
	Run     *Run     `json:"run,omitempty"`
	Measure *Measure `json:"measure,omitempty"`
}

// Tidy moves what the conversation no longer needs to c.Archive, replacing
// what was there: the engine tidies before every commit, after the last one
// stored the previous Archive. It is cheap when there is nothing to move.
func (c *Conversation) Tidy() {
	c.Archive = nil
	c.tidyHistory()
	c.tidyMeasures()
}

func (c *Conversation) archive(a Archived) {
	c.ArchiveSeq++
	a.Seq = c.ArchiveSeq
	c.Archive = append(c.Archive, a)
}

// tidyHistory keeps the newest run of each check.
func (c *Conversation) tidyHistory() {
	h := c.History
	if len(h) < 2 {
		return
	}
	newer := func(i int) bool { // a later run of the same check exists
		for j := i + 1; j < len(h); j++ {
			if h[j].Flow == h[i].Flow {
				return true
			}
		}
		return false
	}
	old := 0
	for i := range h {
		if newer(i) {
			old++
		}
	}
	if old == 0 {
		return
	}
	kept := make([]Run, 0, len(h)-old)
	for i := range h {
		if newer(i) {
			r := h[i]
			c.archive(Archived{Run: &r})
			continue
		}
		kept = append(kept, h[i])
	}
	c.History = kept
}

// tidyMeasures keeps the newest keepSettled settled measures, by when they
// were settled (measures settled before that was recorded count as oldest),
// and every open one, in their order.
func (c *Conversation) tidyMeasures() {
	ms := c.Plan.Measures
	n := 0
	for i := range ms {
		if ms[i].Status != StatusOpen {
			n++
		}
	}
	if n <= keepSettled {
		return
	}
	settled := make([]int, 0, n)
	for i := range ms {
		if ms[i].Status != StatusOpen {
			settled = append(settled, i)
		}
	}
	sort.SliceStable(settled, func(a, b int) bool {
		x, y := &ms[settled[a]], &ms[settled[b]]
		if !x.Settled.Equal(y.Settled) {
			return x.Settled.Before(y.Settled)
		}
		return x.ID < y.ID
	})
	drop := make(map[int]bool, len(settled)-keepSettled)
	for _, i := range settled[:len(settled)-keepSettled] {
		drop[i] = true
	}
	kept := make([]Measure, 0, len(ms)-len(drop))
	for i := range ms {
		if drop[i] {
			m := ms[i]
			c.archive(Archived{Measure: &m})
			continue
		}
		kept = append(kept, ms[i])
	}
	c.Plan.Measures = kept
}
