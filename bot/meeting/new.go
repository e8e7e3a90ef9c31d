package meeting

import (
	"strconv"
	"strings"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/network"
)

// The steps of entering a meeting (Dialog.Cursor).
const (
	stepTitle = iota
	stepDate
	stepTime
	stepPlace
	stepAgenda
	stepLimit
	stepRepeat
	stepConfirm
	stepConfirmNext // the next occurrence of a repeated meeting
)

// Bounds of what is typed.
const (
	maxTitle  = 120
	maxPlace  = 300
	maxAgenda = 1500
	maxLimit  = 100000
)

// draft is a meeting being entered or changed, stored as the record
// KindDraft/<the lead's member key>.
type draft struct {
	Network string `json:"net"`
	// Ref is the meeting being changed ("" for a new one); Only is the
	// step being changed (-1: all).
	Ref    string `json:"ref,omitempty"`
	Only   int    `json:"only"`
	Title  string `json:"title,omitempty"`
	Day    string `json:"day,omitempty"`
	From   string `json:"from,omitempty"` // "18:00"
	To     string `json:"to,omitempty"`
	Place  string `json:"place,omitempty"`
	Agenda string `json:"agenda,omitempty"`
	Limit  int    `json:"limit,omitempty"`
	Repeat string `json:"repeat,omitempty"`
	Series string `json:"series,omitempty"`
	Prev   string `json:"prev,omitempty"` // the occurrence before
}

func draftKey(t *bot.Turn) string { return memberKey(t.Event().Addr) }

// startNew opens the entry of a meeting: a new one (m nil), a change of
// one step of m, or the next occurrence of a repeated m.
func startNew(t *bot.Turn, n *network.Network, m *Meeting, only int) {
	d := draft{Network: n.ID, Only: -1}
	step := stepTitle
	if m != nil {
		loc := m.zone()
		s, e := m.Start.In(loc), m.End.In(loc)
		d = draft{Network: n.ID, Ref: m.ID, Only: only, Title: m.Title, Day: s.Format(bot.DayLayout), From: s.Format("15:04"), To: e.Format("15:04"),
			Place: m.Place, Agenda: m.Agenda, Limit: m.Limit, Repeat: m.Repeat, Series: m.Series}
		step = only
		if only == stepConfirmNext {
			d.Ref, d.Prev, d.Only = "", m.ID, -1
			if d.Series == "" {
				d.Series = m.ID
			}
		}
	}
	put(t, KindDraft, draftKey(t), &d)
	t.SideTrip()
	t.Dialog().Cursor = step
	t.To(ModeNew)
	t.Ask()
}

func loadDraft(t *bot.Turn) (*draft, bool) {
	var d draft
	return &d, get(t, KindDraft, draftKey(t), &d)
}

// openDraft is the draft an answer is for; without one (it was sent or
// discarded elsewhere) the menu is shown.
func openDraft(t *bot.Turn) (*draft, bool) {
	d, ok := loadDraft(t)
	if !ok && t.Tx() != nil {
		t.To(bot.ModeIdle)
		t.Reask()
	}
	return d, ok
}

func askNew(t *bot.Turn) (bot.Message, bool) {
	d, ok := loadDraft(t)
	if !ok {
		return bot.Message{}, false
	}
	skip := func(id string) [][]bot.Button {
		return [][]bot.Button{{{Label: t.T(id), Action: t.Action("skip")}}}
	}
	switch t.Dialog().Cursor {
	case stepTitle:
		return bot.Message{Text: t.T("meeting.ask.title")}, true
	case stepDate:
		return bot.Message{Text: t.T("meeting.ask.date")}, true
	case stepTime:
		return bot.Message{Text: t.T("meeting.ask.time")}, true
	case stepPlace:
		return bot.Message{Text: t.T("meeting.ask.place")}, true
	case stepAgenda:
		return bot.Message{Text: t.T("meeting.ask.agenda"), Buttons: skip("button.meeting.noagenda")}, true
	case stepLimit:
		return bot.Message{Text: t.T("meeting.ask.limit"), Buttons: skip("button.meeting.nolimit")}, true
	case stepRepeat:
		return bot.Message{Text: t.T("meeting.ask.repeat"), Buttons: [][]bot.Button{
			{{Label: t.T("button.meeting.once"), Action: t.Action("repeat", "once")}},
			{{Label: t.T("button.meeting.weekly"), Action: t.Action("repeat", Weekly)}},
			{{Label: t.T("button.meeting.monthly"), Action: t.Action("repeat", Monthly)}},
		}}, true
	}
	m, err := d.meeting(t)
	if err != nil {
		return bot.Message{}, false
	}
	id := "meeting.ask.confirm"
	if d.Ref != "" {
		id = "meeting.ask.confirm.change"
	}
	return bot.Message{Text: t.T(id) + "\n\n" + summary(t, m, m.zone()), Buttons: [][]bot.Button{
		{{Label: t.T("button.meeting.send"), Action: t.Action("send")}},
		{{Label: t.T("button.meeting.discard"), Action: t.Action("discard")}},
	}}, true
}

// meeting is the meeting the draft describes, in the network's zone.
func (d *draft) meeting(t *bot.Turn) (*Meeting, error) {
	n, err := network.Get(t.Tx(), d.Network)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(n.Zone)
	if err != nil {
		loc = time.UTC
	}
	day, _ := bot.ParseDay(d.Day)
	at := func(hm string) time.Time {
		h, _ := strconv.Atoi(hm[:2])
		mi, _ := strconv.Atoi(hm[3:])
		return time.Date(day.Year(), day.Month(), day.Day(), h, mi, 0, 0, loc).UTC()
	}
	m := &Meeting{Network: n.ID, Title: d.Title, Zone: loc.String(), Place: d.Place, Agenda: d.Agenda, Limit: d.Limit, Repeat: d.Repeat, Series: d.Series}
	if len(d.From) == 5 && len(d.To) == 5 {
		m.Start, m.End = at(d.From), at(d.To)
		if !m.End.After(m.Start) { // ends after midnight
			m.End = m.End.Add(24 * time.Hour)
		}
	}
	return m, nil
}

// after moves on from step: to the next, or, changing one step, to the
// confirmation.
func after(t *bot.Turn, d *draft, step int) {
	next := step + 1
	if (d.Only >= 0 || d.Prev != "") && !(d.Only == stepDate && step == stepDate) {
		next = stepConfirm // a change of the day asks for the hours too
	}
	put(t, KindDraft, draftKey(t), d)
	t.Dialog().Cursor = next
	t.To(ModeNew)
	t.Ask()
}

func textNew(t *bot.Turn, text string) {
	d, ok := openDraft(t)
	if !ok {
		return
	}
	text = strings.TrimSpace(bot.CleanInput(text))
	step := t.Dialog().Cursor
	retry := func(id string, kv ...any) {
		t.Note(t.T(id, kv...))
		t.Ask()
	}
	switch step {
	case stepTitle:
		if text == "" || bot.RuneLen(text) > maxTitle {
			retry("meeting.bad.length", "Max", maxTitle)
			return
		}
		d.Title = text
	case stepDate:
		// Read as every typed date is: "15.1." in December is next
		// year's; an unreadable, impossible or ambiguous one is said so.
		ok := false
		t.TypedDate(text, func(day time.Time, p bot.DateProblem) {
			if day.Before(t.Today()) {
				retry("meeting.bad.past")
				return
			}
			if p == bot.DateNextYear { // not silently a year on: "3.12." on 5 December
				t.Note(t.ShownDate(day, p))
			}
			d.Day, ok = day.Format(bot.DayLayout), true
		})
		if !ok {
			return
		}
	case stepTime:
		from, to, ok := parseSpan(text)
		if !ok {
			retry("meeting.bad.time")
			return
		}
		d.From, d.To = from, to
	case stepPlace:
		if text == "" || bot.RuneLen(text) > maxPlace {
			retry("meeting.bad.length", "Max", maxPlace)
			return
		}
		d.Place = text
	case stepAgenda:
		if bot.RuneLen(text) > maxAgenda {
			retry("meeting.bad.length", "Max", maxAgenda)
			return
		}
		d.Agenda = text
	case stepLimit:
		n, err := strconv.Atoi(text)
		if err != nil || n < 1 || n > maxLimit {
			retry("meeting.bad.limit")
			return
		}
		d.Limit = n
	default:
		t.Note(t.TapT("hint.buttons", "Max", len(t.Dialog().Options)))
		t.Ask()
		return
	}
	after(t, d, step)
}

// claimLimit takes a typed number as the attendee limit, not as the
// number of the "no limit" button.
func claimLimit(t *bot.Turn, text string) bool {
	_, err := strconv.Atoi(strings.TrimSpace(text))
	return t.Dialog().Cursor == stepLimit && err == nil
}

// parseSpan reads "18:00-20:00", "18-20", "18.30 – 20.15".
func parseSpan(s string) (from, to string, ok bool) {
	s = strings.NewReplacer("–", "-", "—", "-", " ", "", "h", "", "Uhr", "").Replace(s)
	a, b, found := strings.Cut(s, "-")
	if !found {
		return "", "", false
	}
	from, ok1 := clock(a)
	to, ok2 := clock(b)
	return from, to, ok1 && ok2 && from != to
}

// clock reads "18", "18:30" or "18.30" as "18:30".
func clock(s string) (string, bool) {
	h, m, _ := strings.Cut(strings.ReplaceAll(s, ".", ":"), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := 0, error(nil)
	if m != "" {
		mm, err2 = strconv.Atoi(m)
	}
	if err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 || len(h) > 2 || len(m) > 2 {
		return "", false
	}
	return bot.TwoDigits(hh) + ":" + bot.TwoDigits(mm), true
}

func pressNew(t *bot.Turn, verb, arg string) {
	d, ok := openDraft(t)
	if !ok {
		return
	}
	step := t.Dialog().Cursor
	switch verb {
	case "skip":
		switch step {
		case stepAgenda:
			d.Agenda = ""
		case stepLimit:
			d.Limit = 0
		}
		after(t, d, step)
	case "repeat":
		d.Repeat = arg
		if arg == "once" {
			d.Repeat = Once
		}
		after(t, d, step)
	case "discard":
		must(t.Tx().Delete(KindDraft, draftKey(t)))
		t.Note(t.T("meeting.new.cancelled"))
		t.To(bot.ModeIdle)
		t.Reask()
	case "send":
		n, err := network.Get(t.Tx(), d.Network)
		if busy(t, err) {
			return
		}
		if !lead(t, n) {
			t.To(bot.ModeIdle)
			t.Reask()
			return
		}
		m, err := d.meeting(t)
		if busy(t, err) {
			return
		}
		must(t.Tx().Delete(KindDraft, draftKey(t)))
		t.To(bot.ModeIdle)
		if d.Ref != "" {
			change(t, n, d, m)
			return
		}
		announce(t, n, m, d.Prev)
	}
}
