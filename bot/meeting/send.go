package meeting

import (
	"strings"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/network"
)

// live is the key of a meeting's announcement in a chat.
func live(m *Meeting) string { return "meet:" + m.ID }

// when is the meeting's day and hours in loc: "Di, 16.03.2027, 18:00–20:00".
func when(t *bot.Turn, m *Meeting, loc *time.Location) string {
	s, e := m.Start.In(loc), m.End.In(loc)
	day := time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, time.UTC)
	return t.Date(day) + ", " + s.Format("15:04") + "–" + e.Format("15:04")
}

// summary is what the meeting is: title, when (with the zone), where,
// the agenda and the limit.
func summary(t *bot.Turn, m *Meeting, loc *time.Location) string {
	lines := []string{"📅 " + m.Title, t.T("meeting.when", "When", when(t, m, loc), "Zone", bot.ZoneLabel(loc))}
	if m.Place != "" {
		lines = append(lines, t.T("meeting.where", "Place", m.Place))
	}
	if m.Agenda != "" {
		lines = append(lines, t.T("meeting.agenda")+"\n"+m.Agenda)
	}
	if m.Limit > 0 {
		lines = append(lines, t.T("meeting.limit", "Limit", m.Limit))
	}
	if m.Repeat != Once {
		lines = append(lines, t.T("meeting.repeat."+m.Repeat))
	}
	return strings.Join(lines, "\n")
}

// counts is "12 yes · 3 maybe · 2 no", and who waits.
func counts(t *bot.Turn, m *Meeting) string {
	s := t.T("meeting.counts", "Yes", m.Yes, "Maybe", m.Maybe, "No", m.No)
	if len(m.Waiting) > 0 {
		s += " · " + t.T("meeting.counts.waiting", "Count", len(m.Waiting))
	}
	return s
}

// announcement is the meeting's live message in a chat: what it is, the
// counts, the answer of the member whose chat it is (own), and the
// buttons; a cancelled meeting's has none.
func announcement(t *bot.Turn, n *network.Network, m *Meeting, own *RSVP) bot.Message {
	head := t.T("meeting.head", "Network", n.Name)
	if m.Cancelled {
		return bot.Message{Text: t.T("meeting.cancelled.head") + "\n\n" + summary(t, m, m.zone()), Live: live(m)}
	}
	text := head + "\n\n" + summary(t, m, m.zone()) + "\n\n" + counts(t, m)
	if own != nil {
		id := "meeting.yours." + own.Answer
		if own.Wait {
			id = "meeting.yours.wait"
		}
		text += "\n" + t.T(id)
	}
	act := func(a string) string { return "mt:" + m.ID + ":" + a }
	return bot.Message{Text: text, Live: live(m), Buttons: [][]bot.Button{{
		{Label: t.T("button.meeting.yes"), Action: act(Yes)},
		{Label: t.T("button.meeting.maybe"), Action: act(Maybe)},
		{Label: t.T("button.meeting.no"), Action: act(No)},
	}}}
}

// calendarMessage carries the meeting's calendar file, alone: a text of
// its own would be a third message to every member of a broadcast.
func calendarMessage(t *bot.Turn, n *network.Network, m *Meeting) bot.Message {
	f, err := Calendar(t, n, m)
	if err != nil {
		panic(err)
	}
	return bot.Message{Files: []bot.File{f}}
}

// recipients are the chats of the network in their languages.
func recipients(n *network.Network) []recipient {
	to := make([]recipient, 0, len(n.Members)+len(n.Channels))
	for _, mem := range n.Members {
		lang := mem.Lang
		if lang == "" {
			lang = n.Lang
		}
		to = append(to, recipient{To: mem.Chat, Lang: lang, Member: memberKey(mem.Chat)})
	}
	for _, c := range n.Channels {
		to = append(to, recipient{To: c.Chat, Lang: n.Lang})
	}
	return to
}

// broadcast sends the meeting (an announcement, a change or a
// cancellation, with note in front) to every recipient in their language,
// through the outbox: the live message with the counts, then the calendar
// file; a member's copy shows their answer (own, by member key). They go
// as pushes (bot.Tx.Push): each send's attempt is recorded before it is
// made (the store writes the attempts of the runners in one commit), so
// that after a crash only the sends under way then, attempted and not
// yet marked delivered, count as possible duplicates. As replies they
// were all counted: a reply an earlier process left has no attempt
// record, so every unsent one might have been sent (TestBroadcastKill:
// 5,008 counted, 6 real; now about a hundred, those under way).
func broadcast(t *bot.Turn, n *network.Network, m *Meeting, to []recipient, note string, own map[string]*RSVP) {
	for _, r := range to {
		p := t.Elsewhere(&bot.Conversation{Addr: r.To, Lang: r.Lang})
		if note != "" {
			t.Tx().Push(r.To, bot.Message{Text: p.T(note, "Network", n.Name, "Title", m.Title)})
		}
		t.Tx().Push(r.To, announcement(p, n, m, own[r.Member]))
		t.Tx().Push(r.To, calendarMessage(p, n, m))
	}
}

// announce stores the new meeting m, adds it to the network, and sends it
// to every member and linked channel.
func announce(t *bot.Turn, n *network.Network, m *Meeting, prev string) {
	m.ID = newID()
	m.By = memberKey(t.Event().Addr)
	m.Created = t.Now().UTC()
	if prev != "" {
		var p Meeting
		if get(t, Kind, prev, &p) {
			p.Next = m.ID
			put(t, Kind, p.ID, &p)
		} else if t.Tx() == nil {
			return
		}
	}
	n.Meetings = append(n.Meetings, network.MeetingRef{ID: m.ID, Start: m.Start, Title: m.Title})
	to := recipients(n)
	put(t, Kind, m.ID, m)
	put(t, KindTo, m.ID, to)
	must(network.Put(t.Tx(), n))
	broadcast(t, n, m, to, "", nil)
	t.Note(t.N("meeting.announced", len(to)))
	t.Reask()
}

// change stores the draft's changes to its meeting and sends the changed
// meeting to everyone the announcement reached (and members who joined
// since). Answers stay; the reminders of those who answered yes or maybe
// move with the meeting.
func change(t *bot.Turn, n *network.Network, d *draft, nm *Meeting) {
	var m Meeting
	if !get(t, Kind, d.Ref, &m) {
		return
	}
	moved := !m.Start.Equal(nm.Start) || !m.End.Equal(nm.End)
	m.Title, m.Start, m.End, m.Place, m.Agenda = nm.Title, nm.Start, nm.End, nm.Place, nm.Agenda
	m.Seq++
	to := reached(t, n, &m)
	if to == nil {
		return
	}
	own, ok := answers(t, n, &m, moved)
	if !ok {
		return
	}
	for i := range n.Meetings {
		if n.Meetings[i].ID == m.ID {
			n.Meetings[i].Start, n.Meetings[i].Title = m.Start, m.Title
		}
	}
	put(t, Kind, m.ID, &m)
	put(t, KindTo, m.ID, to)
	must(network.Put(t.Tx(), n))
	broadcast(t, n, &m, to, "meeting.changed", own)
	t.Note(t.N("meeting.change.sent", len(to)))
	t.Reask()
}

// reached is whom the meeting's messages reached, with members and
// channels that came since; nil: the step runs again.
func reached(t *bot.Turn, n *network.Network, m *Meeting) []recipient {
	var to []recipient
	found, err := t.Tx().Get(KindTo, m.ID, &to)
	if !must(err) {
		return nil
	}
	_ = found
	seen := map[string]bool{}
	for _, r := range to {
		seen[r.To.Key()] = true
	}
	for _, r := range recipients(n) {
		if !seen[r.To.Key()] {
			to = append(to, r)
		}
	}
	return to
}

// cancelMeeting cancels m: everyone it reached gets the cancellation with
// a calendar file that removes it; the reminders go.
func cancelMeeting(t *bot.Turn, n *network.Network, m *Meeting) {
	if m.Cancelled {
		t.Note(t.T("meeting.cancelled.already"))
		t.Reask()
		return
	}
	m.Cancelled = true
	m.Seq++
	to := reached(t, n, m)
	if to == nil {
		return
	}
	own, ok := answers(t, n, m, true)
	if !ok {
		return
	}
	for i := range n.Meetings {
		if n.Meetings[i].ID == m.ID {
			n.Meetings[i].Cancelled = true
		}
	}
	put(t, Kind, m.ID, m)
	put(t, KindTo, m.ID, to)
	must(network.Put(t.Tx(), n))
	broadcast(t, n, m, to, "meeting.cancelled", own)
	t.Dialog().Ref = n.ID
	t.To(ModePick)
	t.Note(t.N("meeting.cancel.sent", len(to)))
	t.Ask()
}
