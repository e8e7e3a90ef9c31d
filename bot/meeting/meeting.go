// Package meeting is a network's meetings: a coordinator or moderator
// announces one (title, day, start and end in the network's time zone,
// place or link, agenda, an optional attendee limit, once or repeated),
// and every member's private chat and every linked channel gets it in its
// language, with RSVP buttons yes / maybe / no, the count of answers, and
// the meeting as a calendar file (.ics, METHOD:REQUEST). A change sends
// the changed meeting with a new calendar file (its SEQUENCE one higher),
// a cancellation one with METHOD:CANCEL, to everyone the announcement
// reached. Those who answered yes or maybe are reminded the day before and
// an hour before, in their own time zone and language.
//
// Records: the meeting (kind "meeting", its ID) holds what it is, the
// counts and the waitlist, never one member's answer; each member's answer
// is a small record of its own (kind "rsvp", "<meeting>|<member key>"), so
// that a press rewrites two small records, whatever the size of the
// network; whom the announcement reached is a record written once per
// announcement, change or cancellation (kind "meetto").
//
// What is edited in place: the announcement is a live message
// (bot.Message.Live, one per chat). An answer edits the counts in every
// linked channel (the outbox coalesces them to at most one edit a second
// per channel) and in the private chat of the one who answered. The other
// members' copies are not edited on every press (5,000 edits per press
// would take minutes within Telegram's 30 messages a second, and a
// thousand presses would write millions of outbox records): the first
// answer after the copies were last shown anew sets a chore (bot.Feature.
// Chores) for later (refreshAfter, longer in a large network), which
// shows the counts of then in every copy the announcement reached, each
// of low priority (bot.Outgoing.Low): new messages go first. A burst of
// a thousand presses thus costs one edit per copy once it has settled,
// and every copy ends on the final counts. A repeated meeting ("every first Tuesday")
// is announced occurrence by occurrence: the lead's /meeting offers the
// next one, which is a meeting of its own, with its own answers; the past
// ones stay in the network's history.
package meeting

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/network"
)

// Record kinds.
const (
	Kind      = network.MeetingKind // a meeting, by its ID ("meeting")
	KindRSVP  = "rsvp"              // one member's answer: "<meeting>|<member key>"
	KindTo    = "meetto"            // whom a meeting's messages reached, by its ID
	KindDraft = "meetdraft"
)

// ReminderKind is the kind of a meeting's reminders (bot.Reminder.Kind);
// ChoreCopies that of the chore that shows the counts in every copy anew.
const (
	ReminderKind = "meeting"
	ChoreCopies  = "meeting-copies"
)

// Answers.
const (
	Yes   = "y"
	Maybe = "m"
	No    = "n"
)

// Repeat rules.
const (
	Once    = ""
	Weekly  = "weekly"
	Monthly = "monthly" // the same weekday, the same nth of the month
)

// Modes.
const (
	ModeNew  = "meeting-new"  // a lead enters a meeting step by step
	ModePick = "meeting-pick" // the upcoming meetings
	ModeMenu = "meeting-menu" // what to do with one (Dialog.Ref)
)

// Meeting is a meeting, stored as the record Kind/ID.
type Meeting struct {
	ID      string    `json:"id"`
	Network string    `json:"net"`
	Title   string    `json:"title"`
	Start   time.Time `json:"start"` // UTC
	End     time.Time `json:"end"`   // UTC
	Zone    string    `json:"tz"`    // the network's, as entered
	Place   string    `json:"place,omitempty"`
	Agenda  string    `json:"agenda,omitempty"`
	Limit   int       `json:"limit,omitempty"`
	Repeat  string    `json:"repeat,omitempty"`
	// Series is the ID of a repeated meeting's first occurrence; Next is
	// set once the next occurrence was announced.
	Series string `json:"series,omitempty"`
	Next   string `json:"next,omitempty"`
	// Seq is the calendar file's SEQUENCE: raised on every change.
	Seq       int  `json:"seq"`
	Cancelled bool `json:"cancelled,omitempty"`
	// Counts of the answers; Yes counts those with a place.
	Yes   int `json:"yes"`
	Maybe int `json:"maybe"`
	No    int `json:"no"`
	// Waiting are the member keys of those who answered yes with no place
	// left, first come first.
	Waiting []string  `json:"waiting,omitempty"`
	By      string    `json:"by"`
	Created time.Time `json:"created"`
	// Copies is when the members' copies are next shown anew (a chore
	// set by an answer; see copies).
	Copies time.Time `json:"copies,omitzero"`
}

// RSVP is one member's answer, stored as KindRSVP/"<meeting>|<member>".
type RSVP struct {
	// Member is the member's key, as in the record's ID: where /export
	// and /delete find a person's answers.
	Member string `json:"m"`
	Answer string `json:"a"`
	Wait   bool   `json:"wait,omitempty"`
	// Conv is the conversation holding the member's reminders.
	Conv bot.Address `json:"conv"`
	Lang string      `json:"lang,omitempty"`
	Name string      `json:"name,omitempty"`
	At   time.Time   `json:"at"`
	// Quiet: the member asked for no reminders of this meeting ("not for
	// this one"); they stay off when the meeting moves or they answer anew.
	Quiet bool `json:"quiet,omitempty"`
}

// recipient is a chat a meeting's messages reached, in its language.
type recipient struct {
	To   bot.Address `json:"to"`
	Lang string      `json:"lang"`
	// Member is the member key of a member's private chat ("" for a
	// channel).
	Member string `json:"m,omitempty"`
}

// Feature is meetings.
func Feature() bot.Feature {
	return bot.Feature{
		Name: "meeting",
		Modes: []bot.Mode{
			{Name: ModeNew, Ask: askNew, Press: pressNew, Text: textNew, Claim: claimLimit, Words: true, Cancel: "meeting.new.cancelled"},
			{Name: ModePick, Ask: askPick, Press: pressPick, Calm: true, Lull: true},
			{Name: ModeMenu, Ask: askMenu, Press: pressMenu, Back: bot.BackTo(ModePick)},
		},
		Commands:      []bot.Cmd{{Name: "meeting", Args: true, Main: true, Run: cmdMeeting}},
		Lasting:       map[string]func(*bot.Turn, string){"mt": pressRSVP},
		Reminder:      writeReminder,
		About:         about,
		ReminderKinds: []string{ReminderKind},
		Chores:        map[string]func(*bot.Turn, bot.Reminder) []bot.Outgoing{ChoreCopies: copies},
		Personal:      Personal(),
	}
}

// newID makes a meeting's ID: 8 characters of base32 from 40 random bits.
var newID = func() string {
	var b [5]byte
	_, _ = rand.Read(b[:]) // never fails
	return strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))
}

// must panics on an error of the store other than bot.ErrBusy, and
// reports whether the step goes on (false: it runs again).
func must(err error) bool {
	if errors.Is(err, bot.ErrBusy) {
		return false
	}
	if err != nil {
		panic(err)
	}
	return true
}

// get reads the record kind/id into v; false: none, or the step runs again.
func get(t *bot.Turn, kind, id string, v any) bool {
	if t.Tx() == nil || id == "" {
		return false
	}
	found, err := t.Tx().Get(kind, id, v)
	return must(err) && found
}

func put(t *bot.Turn, kind, id string, v any) { must(t.Tx().Put(kind, id, v)) }

// busy reports whether the step must return: a Tx method wanted a key.
func busy(t *bot.Turn, err error) bool { return !must(err) }

// networkOf is the network of the turn's chat, or nil (a note says why).
func networkOf(t *bot.Turn) *network.Network {
	if t.Tx() == nil {
		return nil
	}
	n, err := network.Get(t.Tx(), t.Conv().Records[network.Kind])
	if errors.Is(err, network.ErrNone) {
		t.Note(t.T("meeting.nonetwork"))
		return nil
	}
	if !must(err) {
		return nil
	}
	return n
}

// lead reports whether the turn's user may announce, change and cancel
// the network's meetings, and says who may when not.
func lead(t *bot.Turn, n *network.Network) bool {
	if n.Leads(t.Event().Addr) {
		return true
	}
	t.Note(t.T("meeting.leads.only"))
	return false
}

// memberKey names a member in records: platform, workspace and user.
func memberKey(a bot.Address) string {
	return a.Platform + "/" + a.Workspace + "/@" + a.User
}

// zone is the meeting's time zone.
func (m *Meeting) zone() *time.Location {
	if loc, err := time.LoadLocation(m.Zone); err == nil {
		return loc
	}
	return time.UTC
}

// upcoming reports whether the meeting is still to come.
func (m *Meeting) upcoming(now time.Time) bool { return !m.Cancelled && m.End.After(now) }

// cmdMeeting is /meeting: for a lead a new meeting or the upcoming ones to
// change, for everyone the upcoming ones with their buttons.
func cmdMeeting(t *bot.Turn, args []string) {
	n := networkOf(t)
	if n == nil {
		if t.Tx() != nil {
			t.Reask()
		}
		return
	}
	if len(args) > 0 && strings.EqualFold(args[0], t.T("meeting.arg.new")) || len(args) > 0 && strings.EqualFold(args[0], "new") {
		if !lead(t, n) {
			return
		}
		startNew(t, n, nil, -1)
		return
	}
	if n.Member(t.Event().Addr) == nil && !n.Leads(t.Event().Addr) && !t.Event().Group {
		t.Note(t.T("meeting.notmember"))
		return
	}
	t.Dialog().Ref = n.ID
	t.To(ModePick)
	t.Ask()
}

// upcoming lists the network's upcoming meetings, soonest first.
func upcoming(t *bot.Turn, n *network.Network) []*Meeting {
	var out []*Meeting
	for _, ref := range n.Meetings {
		if ref.Cancelled {
			continue
		}
		var m Meeting
		if !get(t, Kind, ref.ID, &m) || !m.upcoming(t.Now()) {
			continue
		}
		out = append(out, &m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// askPick lists the upcoming meetings: a lead picks one to change, or
// adds one; a member picks one to see it again with its buttons.
func askPick(t *bot.Turn) (bot.Message, bool) {
	n := networkOf(t)
	if n == nil {
		return bot.Message{}, false
	}
	ms := upcoming(t, n)
	var lines []string
	var rows [][]bot.Button
	for i, m := range ms {
		lines = append(lines, strconv.Itoa(i+1)+". "+when(t, m, m.zone())+" · "+m.Title)
		rows = append(rows, []bot.Button{{Label: bot.Short(m.Title, 40), Action: t.Action("open", m.ID)}})
	}
	text := t.T("meeting.list.none")
	if len(ms) > 0 {
		text = t.T("meeting.list") + "\n" + strings.Join(lines, "\n")
	}
	if n.Leads(t.Event().Addr) {
		rows = append(rows, []bot.Button{{Label: t.T("button.meeting.new"), Action: t.Action("new")}})
	}
	return bot.Message{Text: text, Buttons: rows}, true
}

func pressPick(t *bot.Turn, verb, arg string) {
	n := networkOf(t)
	if n == nil {
		return
	}
	switch verb {
	case "new":
		if !lead(t, n) {
			t.Reask()
			return
		}
		startNew(t, n, nil, -1)
	case "open":
		var m Meeting
		if !get(t, Kind, arg, &m) {
			t.Reask()
			return
		}
		if n.Leads(t.Event().Addr) {
			t.Dialog().Ref = m.ID
			t.To(ModeMenu)
			t.Ask()
			return
		}
		showTo(t, n, &m)
	}
}

// showTo sends the meeting again to the turn's user: in their private
// chat, with the current counts and their own answer.
func showTo(t *bot.Turn, n *network.Network, m *Meeting) {
	mem := n.Member(t.Event().Addr)
	if mem == nil {
		t.Note(t.T("meeting.notmember"))
		t.Reask()
		return
	}
	var r RSVP
	have := get(t, KindRSVP, m.ID+"|"+memberKey(mem.Chat), &r)
	if t.Tx() == nil {
		return
	}
	p := t.Elsewhere(&bot.Conversation{Addr: mem.Chat, Lang: t.Lang()})
	var own *RSVP
	if have {
		own = &r
	}
	msg := announcement(p, n, m, own)
	p.Say(msg)
	p.Say(calendarMessage(p, n, m))
	// The answers' typed twins: "1" or "ja" here answers too.
	t.Offer(msg)
}

// askMenu is what a lead can do with the meeting Dialog.Ref.
func askMenu(t *bot.Turn) (bot.Message, bool) {
	var m Meeting
	if !get(t, Kind, t.Dialog().Ref, &m) {
		return bot.Message{}, false
	}
	text := summary(t, &m, m.zone()) + "\n\n" + counts(t, &m)
	rows := [][]bot.Button{
		{{Label: t.T("button.meeting.change.when"), Action: t.Action("when")}, {Label: t.T("button.meeting.change.place"), Action: t.Action("place")}},
		{{Label: t.T("button.meeting.change.agenda"), Action: t.Action("agenda")}, {Label: t.T("button.meeting.attendees"), Action: t.Action("who")}},
		{{Label: t.T("button.meeting.cancel"), Action: t.Action("cancel")}},
	}
	if m.Repeat != Once && m.Next == "" {
		rows = append(rows, []bot.Button{{Label: t.T("button.meeting.next"), Action: t.Action("next")}})
	}
	rows = append(rows, t.BackRow())
	return bot.Message{Text: text, Buttons: rows}, true
}

func pressMenu(t *bot.Turn, verb, _ string) {
	n := networkOf(t)
	if n == nil {
		return
	}
	var m Meeting
	if !get(t, Kind, t.Dialog().Ref, &m) {
		t.Reask()
		return
	}
	if !lead(t, n) {
		t.To(bot.ModeIdle)
		t.Reask()
		return
	}
	switch verb {
	case "when":
		startNew(t, n, &m, stepDate)
	case "place":
		startNew(t, n, &m, stepPlace)
	case "agenda":
		startNew(t, n, &m, stepAgenda)
	case "who":
		attendees(t, n, &m)
		t.Ask()
	case "cancel":
		cancelMeeting(t, n, &m)
	case "next":
		next := m
		next.Start, next.End = nextOccurrence(m.Start, m.zone(), m.Repeat), nextOccurrence(m.End, m.zone(), m.Repeat)
		startNew(t, n, &next, stepConfirmNext)
	}
}

// nextOccurrence is the occurrence after at by rule, at the same local
// time: a week later, or the same nth weekday of the next month (the
// last, where a month has no fifth).
func nextOccurrence(at time.Time, loc *time.Location, rule string) time.Time {
	l := at.In(loc)
	if rule == Weekly {
		return time.Date(l.Year(), l.Month(), l.Day()+7, l.Hour(), l.Minute(), 0, 0, loc).UTC()
	}
	nth := (l.Day() - 1) / 7
	first := time.Date(l.Year(), l.Month()+1, 1, l.Hour(), l.Minute(), 0, 0, loc)
	d := first.AddDate(0, 0, (int(l.Weekday())-int(first.Weekday())+7)%7+7*nth)
	if d.Month() != first.Month() {
		d = d.AddDate(0, 0, -7)
	}
	return d.UTC()
}

// attendees says who answered yes, maybe and waits, to a lead: names
// only to coordinators and moderators. Long lists are split by the
// adapters to fit each platform's message limit.
func attendees(t *bot.Turn, n *network.Network, m *Meeting) {
	var yes, maybe, wait []string
	for _, mem := range n.Members {
		var r RSVP
		if !get(t, KindRSVP, m.ID+"|"+memberKey(mem.Chat), &r) {
			if t.Tx() == nil {
				return
			}
			continue
		}
		name := mem.Name
		if name == "" {
			name = mem.Chat.User
		}
		switch {
		case r.Wait:
			wait = append(wait, name)
		case r.Answer == Yes:
			yes = append(yes, name)
		case r.Answer == Maybe:
			maybe = append(maybe, name)
		}
	}
	lines := []string{t.T("meeting.attendees", "Title", m.Title)}
	for _, g := range []struct {
		id    string
		names []string
	}{{"meeting.attendees.yes", yes}, {"meeting.attendees.maybe", maybe}, {"meeting.attendees.wait", wait}} {
		if len(g.names) > 0 {
			lines = append(lines, t.T(g.id, "Count", len(g.names))+"\n"+strings.Join(g.names, "\n"))
		}
	}
	t.Note(strings.Join(lines, "\n\n"))
}
