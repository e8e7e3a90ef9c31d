package bot

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ampel-bot/ampel/flows"
)

// planFlow is the check whose checkpoints new measures attach to: the current
// run's, or the first flow when no check was done yet.
func (t *turn) planFlow() *flows.Flow {
	if f := t.flow(); f != nil {
		return f
	}
	return t.e.flows.All()[0]
}

func (t *turn) beginMeasure(cp string) {
	f := t.planFlow()
	t.c.Dialog.Draft = &Measure{Flow: f.ID, Checkpoint: cp, Status: StatusOpen}
	t.to(modeText)
	t.ask()
}

func (t *turn) checkpoint(f *flows.Flow, id string) (flows.Checkpoint, bool) {
	if i := f.Index(id); i >= 0 {
		return f.Checkpoints[i], true
	}
	return flows.Checkpoint{}, false
}

func (t *turn) pressText(verb, arg string) {
	d := &t.c.Dialog
	f, _ := t.e.flows.Get(d.Draft.Flow)
	cp, _ := t.checkpoint(f, d.Draft.Checkpoint)
	switch verb {
	case "sg":
		i, ok := t.index(arg, len(cp.Suggestions))
		if !ok {
			t.reask()
			return
		}
		d.Draft.Text = t.T(f.SuggestionID(cp, cp.Suggestions[i]))
		t.to(modeConfirm)
		t.ask()
	case "skip":
		d.Queue = remove(d.Queue, cp.ID)
		if r := t.c.Run; r != nil && r.Flow == f.ID && !contains(r.NoMeasure, cp.ID) {
			r.NoMeasure = append(r.NoMeasure, cp.ID) // the next plan remembers it
		}
		t.nextMeasure()
	case "back":
		d.Draft = nil
		t.to(modePlan)
		t.ask()
	case "form":
		t.submitForm(f, cp)
	default:
		t.reask()
	}
}

// submitForm takes a whole measure from a form. Anything wrong is said and
// the question asked again; the draft keeps what was valid.
func (t *turn) submitForm(f *flows.Flow, cp flows.Checkpoint) {
	d := &t.c.Dialog
	in := t.ev.Form
	text := cleanInput(in["text"])
	if text == "" {
		if i, ok := t.index(in["suggestion"], len(cp.Suggestions)); ok {
			text = t.T(f.SuggestionID(cp, cp.Suggestions[i]))
		}
	}
	switch n := runeLen(text); {
	case n == 0:
		t.note(t.T("form.notext"))
		t.ask()
		return
	case n > maxMeasureLen:
		t.note(t.T("hint.toolong", "Len", n, "Max", maxMeasureLen))
		t.ask()
		return
	}
	prio := in["priority"]
	if !contains(Priorities, prio) {
		prio = "medium"
	}
	resp := cleanInput(in["responsible"])
	if runeLen(resp) > maxNameLen {
		t.note(t.T("hint.toolong", "Len", runeLen(resp), "Max", maxNameLen))
		t.ask()
		return
	}
	start, ok1 := t.formDate(in["start"])
	review, ok2 := t.formDate(in["review"])
	switch {
	case !ok1 || !ok2:
		t.note(t.T("date.unreadable"))
		t.ask()
		return
	case start.Before(t.today):
		t.note(t.T("date.past", "Date", t.e.texts.formatDate(t.lang, start)))
		t.ask()
		return
	case review.After(t.today.AddDate(maxYearsAhead, 0, 0)):
		t.note(t.T("date.toofar", "Date", t.e.texts.formatDate(t.lang, review), "Years", maxYearsAhead))
		t.ask()
		return
	case review.Before(start):
		t.note(t.T("date.review.early", "Date", t.e.texts.formatDate(t.lang, review), "Start", t.e.texts.formatDate(t.lang, start)))
		t.ask()
		return
	}
	d.Draft.Text, d.Draft.Priority = text, prio
	d.Draft.Responsible, d.Draft.Me = resp, resp == ""
	d.Draft.ResponsibleUser = ""
	if u := in["responsible_user"]; platformUserID.MatchString(u) {
		d.Draft.ResponsibleUser = u
	}
	t.meInGroup(d.Draft)
	d.Draft.Start, d.Draft.Review = start.Format(dateLayout), review.Format(dateLayout)
	t.note(t.T("date.start.ok", "Date", t.e.texts.formatDate(t.lang, start)))
	t.saveMeasure(t.e.texts.formatDate(t.lang, review))
}

// platformUserID is what a platform's user ID may look like; anything else
// from a form is ignored.
var platformUserID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// formDate reads a date picker's value ("2027-03-15"), or a typed date.
func (t *turn) formDate(s string) (time.Time, bool) {
	if d, ok := parseCivil(strings.TrimSpace(s)); ok {
		return d, true
	}
	d, _, p := t.e.vocab.parseDate(t.lang, s, t.today)
	return d, p.read()
}

// nextMeasure goes on after a measure was saved or a checkpoint skipped.
func (t *turn) nextMeasure() {
	d := &t.c.Dialog
	d.Draft = nil
	if d.Return == modePlan {
		d.Return = ""
		t.to(modePlan)
		t.ask()
		return
	}
	if len(d.Queue) > 0 {
		t.beginMeasure(d.Queue[0])
		return
	}
	t.planReady()
}

func (t *turn) planReady() {
	t.note(t.N("plan.ready", len(t.c.Plan.Open())))
	t.to(modePlan)
	t.ask()
}

func (t *turn) pressDate(arg string) {
	d := &t.c.Dialog
	var base time.Time
	switch {
	case d.Mode == modeReview && len(arg) > 1 && arg[0] == 's': // relative to the start
		base, _ = parseCivil(d.Draft.Start)
		arg = arg[1:]
	case d.Mode == modeMove:
		base = t.moveBase()
	default:
		base = t.today
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
		day = addMonths(base, n)
	default:
		n, err := strconv.Atoi(arg)
		if err != nil {
			t.reask()
			return
		}
		day = base.AddDate(0, 0, n)
	}
	t.takeDate(day, dateOK)
}

func (t *turn) typedDate(text string) {
	day, alt, p := t.e.vocab.parseDate(t.lang, text, t.today)
	switch p {
	case dateUnreadable:
		t.note(t.T("date.unreadable"))
		t.ask()
	case dateImpossible:
		t.note(t.T("date.impossible"))
		t.ask()
	case dateAmbiguous:
		t.note(t.T("date.ambiguous", "A", t.e.texts.formatDate(t.lang, day), "B", t.e.texts.formatDate(t.lang, alt)))
		t.ask()
	default:
		t.takeDate(day, p)
	}
}

// takeDate checks a date against today and the start, confirms it back
// unambiguously (saying when a day typed without a year is next year's)
// and moves on.
func (t *turn) takeDate(day time.Time, p dateProblem) {
	d := &t.c.Dialog
	shown := t.shownDate(day, p)
	if day.Before(t.today) {
		t.note(t.T("date.past", "Date", shown))
		t.ask()
		return
	}
	if day.After(t.today.AddDate(maxYearsAhead, 0, 0)) {
		t.note(t.T("date.toofar", "Date", shown, "Years", maxYearsAhead))
		t.ask()
		return
	}
	switch d.Mode {
	case modeStart:
		d.Draft.Start = day.Format(dateLayout)
		t.note(t.T("date.start.ok", "Date", shown))
		t.to(modeReview)
		t.ask()
	case modeReview:
		start, _ := parseCivil(d.Draft.Start)
		if day.Before(start) {
			t.note(t.T("date.review.early", "Date", shown, "Start", t.e.texts.formatDate(t.lang, start)))
			t.ask()
			return
		}
		d.Draft.Review = day.Format(dateLayout)
		t.saveMeasure(shown)
	case modeMove:
		m := t.c.Plan.Find(d.Target)
		if m == nil {
			t.to(modePlan)
			t.ask()
			return
		}
		if start, ok := parseCivil(m.Start); ok && day.Before(start) {
			t.note(t.T("date.review.early", "Date", shown, "Start", t.e.texts.formatDate(t.lang, start)))
			t.ask()
			return
		}
		m.Review = day.Format(dateLayout)
		t.note(t.T("plan.moved", "Text", m.Text, "Date", shown))
		t.reminderNotes(m)
		if t.endSideTrip() {
			return
		}
		t.to(modePlan)
		t.ask()
	}
}

// maxYearsAhead bounds the dates of a plan: a measure's start or review
// further ahead helps nobody, and reminders need an instant that fits.
const maxYearsAhead = 10

// maxMeasures bounds a plan's open measures: it is stored and shown whole
// (settled measures beyond a few move to the archive, see Tidy).
const maxMeasures = 100

func (t *turn) saveMeasure(review string) {
	d := &t.c.Dialog
	p := &t.c.Plan
	if len(p.Open()) >= maxMeasures {
		d.Draft = nil
		t.note(t.T("plan.full", "Max", maxMeasures))
		t.to(modePlan)
		t.ask()
		return
	}
	p.NextID++
	m := *d.Draft
	m.ID = p.NextID
	p.Measures = append(p.Measures, m)
	d.Queue = remove(d.Queue, m.Checkpoint)
	d.Prev = m.Checkpoint
	t.note(t.T("date.review.ok", "Date", review))
	t.note(t.T("measure.saved", "Text", m.Text))
	t.reminderNotes(&p.Measures[len(p.Measures)-1])
	if d.Return != modePlan && len(d.Queue) > 0 {
		// Right after saving, and only then: another measure for the
		// same checkpoint, or on to the next.
		d.Draft = nil
		t.to(modeSaved)
		t.ask()
		return
	}
	t.nextMeasure()
}

func (t *turn) pressSaved(verb string) {
	d := &t.c.Dialog
	switch {
	case verb == "more" && d.Prev != "":
		t.beginMeasure(d.Prev)
	case verb == "next" && len(d.Queue) > 0:
		t.beginMeasure(d.Queue[0])
	case verb == "next":
		d.Draft = nil
		t.planReady()
	default:
		t.reask()
	}
}

func (t *turn) pressPlan(verb string) {
	d := &t.c.Dialog
	switch verb {
	case "done", "move", "drop":
		if len(t.c.Plan.Open()) == 0 {
			t.note(t.T("plan.none.open"))
			t.ask()
			return
		}
		d.Op = verb
		t.to(modePick)
		t.ask()
	case "add":
		t.to(modeAddCP)
		t.ask()
	default:
		t.reask()
	}
}

func (t *turn) pickMeasure(id int) {
	d := &t.c.Dialog
	m := t.c.Plan.Find(id)
	if m == nil || m.Status == StatusDropped {
		t.to(modePlan)
		t.ask()
		return
	}
	if m.Status != StatusOpen {
		t.note(t.T("plan.notopen", "Text", m.Text))
		t.ask()
		return
	}
	switch d.Op {
	case "done":
		t.settle(m, d.Op)
	case "drop":
		d.Target = m.ID
		t.to(modeDrop)
		t.ask()
		return
	case "move":
		d.Target = m.ID
		t.to(modeMove)
		t.ask()
		return
	}
	t.to(modePlan)
	t.ask()
}

// settle marks a measure done or dropped ("done", "drop"); its reminders
// go with the next sync.
func (t *turn) settle(m *Measure, how string) {
	m.Settled = t.e.clock.Now().UTC()
	if how == "done" {
		m.Status = StatusDone
		t.note(t.T("plan.done", "Text", m.Text))
		return
	}
	m.Status = StatusDropped
	t.note(t.T("plan.dropped", "Text", m.Text))
}

// moveBase is the day the "move review" buttons count from: the latest of
// today, the measure's start and its current review.
func (t *turn) moveBase() time.Time {
	base := t.today
	if m := t.c.Plan.Find(t.c.Dialog.Target); m != nil {
		for _, s := range []string{m.Start, m.Review} {
			if day, ok := parseCivil(s); ok && day.After(base) {
				base = day
			}
		}
	}
	return base
}
