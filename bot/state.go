package bot

import (
	"encoding/json"
	"slices"
	"time"
)

// Conversation is everything Ampel keeps about one chat: its settings, the
// check in progress, the checks done, the action plan and where the dialogue
// stands. It is stored whole after every event, so the next step is always
// computed from stored state, never from memory.
type Conversation struct {
	// Lang is the language the user picked; empty means "follow the platform".
	Lang string `json:"lang,omitempty"`
	// Hint is the language the platform last reported.
	Hint string `json:"hint,omitempty"`
	// TZ is the IANA time zone the user set; empty means the platform's
	// (ZoneHint) or else the configured default.
	TZ       string `json:"tz,omitempty"`
	ZoneHint string `json:"tzhint,omitempty"`
	// Addr is where messages the bot sends on its own (reminders) go.
	Addr Address `json:"addr"`

	// Run is the check in progress or the last one done.
	Run *Run `json:"run,omitempty"`
	// History holds earlier completed runs, oldest first, to show change
	// over time: the newest of each check (see Tidy).
	History []Run `json:"history,omitempty"`

	Plan   Plan   `json:"plan"`
	Dialog Dialog `json:"dialog"`

	// Records names, by kind, the record the chat has open with a
	// feature (its team run: "team" → the run's code), for the feature to
	// find it from the chat.
	Records map[string]string `json:"recs,omitempty"`

	// Reminders are the plan's start and review reminders and the offer to
	// repeat the check, derived from the plan after every change.
	Reminders []Reminder `json:"rem,omitempty"`
	// RemindersOff pauses every reminder; they are kept and shown.
	RemindersOff bool `json:"remoff,omitempty"`
	// Weekends lets reminders fall on Saturday and Sunday.
	Weekends bool `json:"weekends,omitempty"`
	// Quiet are the quiet hours ("20:00–08:00", see QuietHours): nothing is
	// sent on the bot's own initiative inside them. Empty: none.
	Quiet string `json:"quiet,omitempty"`
	// Pause is the last day of a pause (/pause): what falls due until then
	// comes once on the first working morning after it. A past day is a
	// pause that is over.
	Pause string `json:"pause,omitempty"`
	// Region is where the public holidays reminders avoid are those of
	// ("DE-BY", "FR"; see Holidays). Empty: none.
	Region string `json:"region,omitempty"`
	// Snoozed maps a reminder's ID to the day it was snoozed to: it comes
	// again then, as a reminder of its own (ID + SnoozeSuffix).
	Snoozed map[string]string `json:"snz,omitempty"`
	// Snoozing is the snooze being asked about: the reminder's ID, and
	// after "@" the day picked. It is kept outside Dialog, whose fields
	// belong to the question the snooze interrupted.
	Snoozing string `json:"snzq,omitempty"`

	// LastEventAt is the newest Event.At committed: a replayed event from
	// before it was handled already (see Event.Replayed).
	LastEventAt time.Time `json:"evat,omitzero"`

	// ArchiveSeq is the number of the last item moved to the
	// conversation's archive (see Archived.Seq).
	ArchiveSeq int `json:"aseq,omitempty"`
	// Linked are every chat of the person, this one among them, when
	// chats on other platforms are linked to this conversation (/link):
	// their events run on it (see links.go). Empty: not linked.
	Linked []Address `json:"linked,omitempty"`
	// RemindTo is the chat, one of Linked, that reminders go to; zero:
	// the chat the person wrote from last (Addr).
	RemindTo Address `json:"remto,omitzero"`
	// Archive holds what Tidy moved out of the conversation, on its way to
	// records of its own: the next Commit stores it beside the conversation,
	// in the same transaction, where Store.Archive reads it back. It is not
	// part of the stored conversation.
	Archive []Archived `json:"-"`

	// synced fingerprints what the reminders were last derived from, so the many
	// turns that change no date skip deriving them again. Not stored.
	synced uint64
}

// Reminder kinds.
const (
	KindStart  = "start"
	KindReview = "review"
	KindRepeat = "repeat"
)

// SnoozeSuffix ends the ID of a snoozed reminder's second coming.
const SnoozeSuffix = "~"

// Reminder statuses; the empty status is pending.
const (
	ReminderPending = ""
	ReminderSent    = "sent"
	ReminderMissed  = "missed"  // fell due so long ago that sending it would confuse
	ReminderSkipped = "skipped" // its moment had passed when it was set
)

// Reminder is one reminder of a conversation. It keeps the intent (local
// day, hour and time zone) beside the instant computed from it, so that a
// change of daylight-saving time never shifts it, and a change of time zone
// can compute it anew.
type Reminder struct {
	ID      string `json:"id"` // "m3-1start", "m3-2review", "repeat"
	Measure int    `json:"m,omitempty"`
	Kind    string `json:"k"`
	// For is the day the plan asks for; Day is the day it falls on after a
	// weekend moved it to Monday.
	For  string `json:"for"`
	Day  string `json:"day"`
	Hour int    `json:"h"`
	Zone string `json:"tz"`
	// Due is the instant, in UTC.
	Due    time.Time `json:"due"`
	Status string    `json:"st,omitempty"`
	// At is when it was sent or found missed.
	At time.Time `json:"at,omitzero"`
	// Ref names what a feature's own reminder is about (a meeting's ID).
	Ref string `json:"ref,omitempty"`
	// Postponed: it fell into a pause and comes after it (its message says so).
	Postponed bool `json:"pp,omitempty"`
	// Chore: work of a feature's (Feature.Chores), not a message to the
	// conversation's owner: it comes whatever their quiet hours, pause or
	// /reminders say, and is not shown to them.
	Chore bool `json:"chore,omitempty"`
}

// Pending returns the reminders waiting to be sent, unless they are switched off.
func (c *Conversation) Pending() []Reminder {
	var p []Reminder
	c.EachPending(func(r *Reminder) { p = append(p, *r) })
	return p
}

// EachPending calls fn for each reminder waiting to be sent, without
// copying; with reminders off, only the chores.
func (c *Conversation) EachPending(fn func(r *Reminder)) {
	for i := range c.Reminders {
		if r := &c.Reminders[i]; r.Status == ReminderPending && (!c.RemindersOff || r.Chore) {
			fn(r)
		}
	}
}

// Run is one pass through a check.
type Run struct {
	Flow    string    `json:"flow"`
	Version int       `json:"version"`
	Started time.Time `json:"started"`
	// Done is set when every checkpoint is rated.
	Done time.Time `json:"done,omitzero"`
	// Ratings maps checkpoint IDs to scale values ("red", "yes", …).
	Ratings map[string]string `json:"ratings,omitempty"`
	// Later lists checkpoints put off, in the order they were put off.
	Later []string `json:"later,omitempty"`
	// NoMeasure lists checkpoints that need action but were found to need
	// no measure while the plan was built: the next plan leaves them out.
	NoMeasure []string `json:"nomeasure,omitempty"`
	// Spread, for a team's run, holds per checkpoint how many members
	// gave each level, in the scale's order: the result picture shows it.
	Spread map[string][]int `json:"spread,omitempty"`
}

// Finished reports whether every checkpoint has been rated.
func (r *Run) Finished() bool { return r != nil && !r.Done.IsZero() }

// Plan is the action plan ("Maßnahmenplan") of a conversation.
type Plan struct {
	Measures []Measure `json:"measures,omitempty"`
	NextID   int       `json:"next,omitempty"`
	// People are whom a measure can be given to with a button: the
	// members of the team check the plan came from.
	People []Person `json:"people,omitempty"`
}

// snapshot copies the plan as it is, for same to compare a later state
// with. Measures and people hold nothing shared but strings, which never
// change: copying the slices is enough.
func (p *Plan) snapshot() *Plan {
	return &Plan{Measures: slices.Clone(p.Measures), NextID: p.NextID, People: slices.Clone(p.People)}
}

// same reports whether p and q say the same: what the stored plan would
// show alike (a measure settled at the same instant in another zone is
// the same).
func (p *Plan) same(q *Plan) bool {
	return p.NextID == q.NextID && slices.Equal(p.People, q.People) &&
		slices.EqualFunc(p.Measures, q.Measures, func(a, b Measure) bool {
			as, bs := a.Settled, b.Settled
			a.Settled, b.Settled = time.Time{}, time.Time{}
			return a == b && as.Equal(bs)
		})
}

// Person is someone on a platform: their user ID and how they are named.
type Person struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Priorities of a measure, highest first.
var Priorities = []string{"high", "medium", "low"}

// Measure statuses.
const (
	StatusOpen    = "open"
	StatusDone    = "done"
	StatusDropped = "dropped"
)

// Measure is one row of the action plan.
type Measure struct {
	ID         int    `json:"id"`
	Flow       string `json:"flow"`
	Checkpoint string `json:"cp"`
	Text       string `json:"text"`
	Priority   string `json:"prio,omitempty"`
	// Responsible is a name; empty with Me set means the plan's owner.
	Responsible string `json:"resp,omitempty"`
	Me          bool   `json:"me,omitempty"`
	// ResponsibleUser is the platform's ID of the responsible person, when
	// known (picked in a form, or "me" in a group): reminders in a group
	// mention them.
	ResponsibleUser string `json:"ruser,omitempty"`
	// Start and Review are calendar dates ("2027-03-15") in the owner's time zone.
	Start  string `json:"start,omitempty"`
	Review string `json:"review,omitempty"`
	Status string `json:"status"`
	// Settled is when it was marked done or dropped.
	Settled time.Time `json:"settled,omitzero"`
}

// Open returns the measures not done or dropped.
func (p *Plan) Open() []*Measure {
	var open []*Measure
	for i := range p.Measures {
		if p.Measures[i].Status == StatusOpen {
			open = append(open, &p.Measures[i])
		}
	}
	return open
}

// Visible returns the measures a plan view shows: open and done ones.
func (p *Plan) Visible() []*Measure {
	var v []*Measure
	for i := range p.Measures {
		if p.Measures[i].Status != StatusDropped {
			v = append(v, &p.Measures[i])
		}
	}
	return v
}

// Find returns the measure with the given ID.
func (p *Plan) Find(id int) *Measure {
	for i := range p.Measures {
		if p.Measures[i].ID == id {
			return &p.Measures[i]
		}
	}
	return nil
}

// Dialog is where the conversation stands: which question is open and the
// buttons it offered, so that a typed number or label finds its button and an
// old button can be told apart from a current one.
type Dialog struct {
	Mode string `json:"mode,omitempty"`
	// Seq numbers the questions; a button carries the Seq of its question.
	Seq int `json:"seq,omitempty"`
	// Cursor is the checkpoint index being rated or changed.
	Cursor int `json:"cursor,omitempty"`
	// Options are the buttons of the open question, in reading order. Only
	// their actions are stored (see MarshalJSON); their labels can be
	// rendered again from the state when typed text must be matched to them.
	Options []Button `json:"opts,omitempty"`
	// Draft is the measure being entered.
	Draft *Measure `json:"draft,omitempty"`
	// Queue lists checkpoints still to get a measure while the plan is built.
	Queue []string `json:"queue,omitempty"`
	// Prev is the checkpoint that got the last measure, for "another one".
	Prev string `json:"prev,omitempty"`
	// Return is the mode to go back to when the current sub-dialogue ends.
	Return string `json:"ret,omitempty"`
	// Op and Target are the plan operation and measure being worked on.
	Op     string `json:"op,omitempty"`
	Target int    `json:"target,omitempty"`
	// Resume is the question to come back to after a side trip (choosing a
	// language or time zone, answering a review reminder mid-dialogue).
	Resume string `json:"resume,omitempty"`
	// Ref is the record the open question is about, a team run's code.
	Ref string `json:"ref,omitempty"`
}

// dialogJSON is how a Dialog is stored.
type dialogJSON struct {
	dialogAlias
	Acts []string `json:"acts,omitempty"`
}

type dialogAlias Dialog

// MarshalJSON stores the open question's buttons by action only, except in
// the idle menu, whose buttons (a reminder's, say) cannot be rendered again
// from the state. Labels are most of a stored conversation otherwise, and
// it is written after every answer.
func (d Dialog) MarshalJSON() ([]byte, error) {
	if d.Mode == "" {
		return json.Marshal(dialogAlias(d))
	}
	j := dialogJSON{dialogAlias: dialogAlias(d)}
	j.Options = nil
	j.Acts = make([]string, len(d.Options))
	for i, o := range d.Options {
		j.Acts[i] = o.Action
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (d *Dialog) UnmarshalJSON(b []byte) error {
	var j dialogJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*d = Dialog(j.dialogAlias)
	for _, a := range j.Acts {
		d.Options = append(d.Options, Button{Action: a})
	}
	return nil
}
