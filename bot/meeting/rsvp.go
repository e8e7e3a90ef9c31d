package meeting

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/network"
)

// pressRSVP is an answer, "mt:<meeting>:<y|m|n>", pressed in a member's
// private chat or in a linked channel, or typed where /meeting offered it;
// or a choice on a meeting's reminder, "mt:<meeting>:<soon|quiet>".
func pressRSVP(t *bot.Turn, action string) {
	parts := strings.Split(action, ":")
	choice := len(parts) == 3 && (parts[2] == soon || parts[2] == quiet)
	if len(parts) != 3 || parts[2] != Yes && parts[2] != Maybe && parts[2] != No && !choice {
		t.Reask()
		return
	}
	var m Meeting
	if !get(t, Kind, parts[1], &m) {
		if t.Tx() != nil {
			t.Note(t.T("meeting.gone"))
		}
		return
	}
	if !m.upcoming(t.Now()) {
		t.Note(t.T("meeting.over"))
		return
	}
	n, err := network.Get(t.Tx(), m.Network)
	if busy(t, err) {
		return
	}
	mem := n.Member(t.Event().Addr)
	if mem == nil {
		t.Note(t.T("meeting.notmember"))
		return
	}
	if choice {
		reminderChoice(t, &m, mem, parts[2])
		return
	}
	answer(t, n, &m, mem, parts[2])
}

// The choices on a meeting's reminder: one more reminder a quarter of an
// hour before it starts, or none more for this meeting. Not "tomorrow" or
// "next week" as on a plan's reminders: a meeting does not wait; what a
// member wants of its reminder is a nudge just before they leave, or
// quiet.
const (
	soon       = "soon"
	quiet      = "quiet"
	soonBefore = 15 * time.Minute
)

// reminderRow is the row of a meeting's reminder: remind me 15 minutes
// before, not for this one.
func reminderRow(t *bot.Turn, m *Meeting) []bot.Button {
	return []bot.Button{{Label: t.T("button.meeting.soon"), Action: "mt:" + m.ID + ":" + soon},
		{Label: t.T("button.meeting.quiet"), Action: "mt:" + m.ID + ":" + quiet}}
}

// reminderChoice sets the reminder a quarter of an hour before m (soon),
// or takes away the member's reminders of m and keeps them off (quiet).
func reminderChoice(t *bot.Turn, m *Meeting, mem *network.Member, choice string) {
	key := memberKey(mem.Chat)
	var r RSVP
	had := get(t, KindRSVP, m.ID+"|"+key, &r)
	if t.Tx() == nil {
		return
	}
	if !had || r.Answer == No || r.Wait {
		t.Note(t.T("meeting.gone"))
		return
	}
	if choice == quiet {
		r.Quiet = true
		if !remind(t, m, r.Conv, false) {
			return
		}
		put(t, KindRSVP, m.ID+"|"+key, &r)
		t.Note(t.T("meeting.quiet.set", "Title", m.Title))
		return
	}
	due := m.Start.Add(-soonBefore)
	if !due.After(t.Now()) {
		t.Note(t.T("meeting.soon.passed", "Title", m.Title))
		return
	}
	c, err := t.Tx().Conversation(r.Conv)
	if !must(err) {
		return
	}
	if r.Quiet {
		r.Quiet = false // asked for one again
		if !remind(t, m, r.Conv, true) {
			return
		}
		put(t, KindRSVP, m.ID+"|"+key, &r)
	}
	zone := t.Elsewhere(c).Zone()
	id := "mt-" + m.ID + "-" + soon
	c.Reminders = slices.DeleteFunc(c.Reminders, func(x bot.Reminder) bool { return x.ID == id && x.Status == bot.ReminderPending })
	day := due.In(zone).Format(bot.DayLayout)
	c.Reminders = append(c.Reminders, bot.Reminder{ID: id, Kind: ReminderKind, Ref: m.ID, For: day, Day: day,
		Hour: due.In(zone).Hour(), Zone: zone.String(), Due: due.UTC()})
	sort.SliceStable(c.Reminders, func(i, j int) bool { return c.Reminders[i].Due.Before(c.Reminders[j].Due) })
	t.Note(t.T("meeting.soon.set", "Title", m.Title, "Time", due.In(zone).Format("15:04")))
}

// answer records mem's answer a to m: the counts and the waitlist in the
// meeting, the answer in the member's own record, the reminders in their
// conversation; a place freed goes to the first waiting, who is told.
func answer(t *bot.Turn, n *network.Network, m *Meeting, mem *network.Member, a string) {
	key := memberKey(mem.Chat)
	var r RSVP
	had := get(t, KindRSVP, m.ID+"|"+key, &r)
	if t.Tx() == nil {
		return
	}
	if had && r.Answer == a {
		t.Note(t.T("meeting.same"))
		refresh(t, n, m, mem, &r)
		return
	}
	freed := had && m.takeOut(&r, key)
	// Where the member's reminders live: the private chat they answered
	// in, else the private chat the bot writes to.
	conv := mem.Chat
	if ev := t.Event(); !ev.Group {
		conv = bot.Address{Platform: ev.Addr.Platform, Workspace: ev.Addr.Workspace, Chat: ev.Addr.Chat}
	} else if had {
		conv = r.Conv
	}
	lang := mem.Lang
	if !t.Event().Group {
		lang = t.Lang()
	}
	if lang == "" {
		lang = n.Lang
	}
	r = RSVP{Member: key, Answer: a, Conv: conv, Lang: lang, Name: mem.Name, At: t.Now().UTC(), Quiet: r.Quiet}
	switch a {
	case Yes:
		if m.Limit > 0 && m.Yes >= m.Limit {
			r.Wait = true
			m.Waiting = append(m.Waiting, key)
		} else {
			m.Yes++
		}
	case Maybe:
		m.Maybe++
	case No:
		m.No++
	}
	if !remind(t, m, conv, !r.Wait && a != No && !r.Quiet) {
		return
	}
	if freed && !promote(t, n, m) {
		return
	}
	copiesLater(t, m)
	put(t, KindRSVP, m.ID+"|"+key, &r)
	put(t, Kind, m.ID, m)
	id := "meeting.answered." + a
	if r.Wait {
		id = "meeting.answered.wait"
	}
	t.Note(t.T(id, "Title", m.Title))
	if c, err := t.Tx().Conversation(conv); must(err) && c.RemindersOff && a != No && !r.Quiet {
		t.Note(t.T("meeting.reminders.off")) // not silently
	}
	refresh(t, n, m, mem, &r)
}

// takeOut takes the answer r of the member key out of m's counts and
// waiting list; true when it held a place, now free.
func (m *Meeting) takeOut(r *RSVP, key string) bool {
	switch {
	case r.Wait:
		m.Waiting = bot.Remove(m.Waiting, key)
	case r.Answer == Yes:
		m.Yes--
		return true
	case r.Answer == Maybe:
		m.Maybe--
	case r.Answer == No:
		m.No--
	}
	return false
}

// refresh sends the meeting's new counts to every linked channel and to
// the private chat of mem (with their answer r).
func refresh(t *bot.Turn, n *network.Network, m *Meeting, mem *network.Member, r *RSVP) {
	if mem != nil {
		p := t.Elsewhere(&bot.Conversation{Addr: mem.Chat, Lang: r.Lang})
		p.Say(announcement(p, n, m, r))
	}
	for _, c := range n.Channels {
		p := t.Elsewhere(&bot.Conversation{Addr: c.Chat, Lang: n.Lang})
		p.Say(announcement(p, n, m, nil))
	}
}

// promote gives freed places to the first waiting, who are told; false:
// the step runs again.
func promote(t *bot.Turn, n *network.Network, m *Meeting) bool {
	for len(m.Waiting) > 0 && (m.Limit == 0 || m.Yes < m.Limit) {
		key := m.Waiting[0]
		var r RSVP
		if !get(t, KindRSVP, m.ID+"|"+key, &r) {
			if t.Tx() == nil {
				return false
			}
			m.Waiting = m.Waiting[1:] // lost: skip
			continue
		}
		m.Waiting = m.Waiting[1:]
		m.Yes++
		r.Wait = false
		if !remind(t, m, r.Conv, !r.Quiet) {
			return false
		}
		put(t, KindRSVP, m.ID+"|"+key, &r)
		var mem *network.Member
		for i := range n.Members {
			if memberKey(n.Members[i].Chat) == key {
				mem = &n.Members[i]
			}
		}
		if mem == nil {
			continue
		}
		p := t.Elsewhere(&bot.Conversation{Addr: mem.Chat, Lang: r.Lang})
		p.Say(bot.Message{Text: p.T("meeting.promoted", "Title", m.Title, "When", when(p, m, m.zone()))})
		p.Say(announcement(p, n, m, &r))
	}
	return true
}

// The reminders before a meeting.
var reminderLeads = []struct {
	suffix string
	before time.Duration
}{{"day", 24 * time.Hour}, {"hour", time.Hour}}

// remind sets (on) or takes away the meeting's reminders in the
// conversation of addr; false: the step runs again.
func remind(t *bot.Turn, m *Meeting, addr bot.Address, on bool) bool {
	c, err := t.Tx().Conversation(addr)
	if !must(err) {
		return false
	}
	var kept []bot.Reminder
	for _, r := range c.Reminders {
		if r.Kind == ReminderKind && r.Ref == m.ID && r.Status == bot.ReminderPending {
			continue
		}
		kept = append(kept, r)
	}
	if on && !m.Cancelled {
		zone := t.Elsewhere(c).Zone()
		now := t.Now()
		for _, l := range reminderLeads {
			due := m.Start.Add(-l.before)
			if !due.After(now) {
				continue
			}
			day := due.In(zone).Format(bot.DayLayout)
			kept = append(kept, bot.Reminder{ID: "mt-" + m.ID + "-" + l.suffix, Kind: ReminderKind, Ref: m.ID,
				For: day, Day: day, Hour: due.In(zone).Hour(), Zone: zone.String(), Due: due.UTC()})
		}
	}
	sort.SliceStable(kept, func(i, j int) bool { return kept[i].Due.Before(kept[j].Due) })
	c.Reminders = kept
	return true
}

// answers reads the members' answers to m, by member key, and with move
// (m moved or was cancelled) sets the reminders of everyone who answered
// yes or maybe anew; false: the step runs again.
func answers(t *bot.Turn, n *network.Network, m *Meeting, move bool) (map[string]*RSVP, bool) {
	own := map[string]*RSVP{}
	for _, mem := range n.Members {
		key := memberKey(mem.Chat)
		var r RSVP
		if !get(t, KindRSVP, m.ID+"|"+key, &r) {
			if t.Tx() == nil {
				return nil, false
			}
			continue
		}
		own[key] = &r
		if !move || r.Answer == No || r.Wait || r.Quiet {
			continue
		}
		if !remind(t, m, r.Conv, true) {
			return nil, false
		}
	}
	return own, true
}

// about is a meeting reminder's line in /reminders: the meeting's title.
func about(t *bot.Turn, r bot.Reminder) string {
	var m Meeting
	if found, err := t.ReadRecord(Kind, r.Ref, &m); err != nil || !found {
		return ""
	}
	return m.Title
}

// writeReminder writes a meeting's reminder in the member's language and
// zone; false when the meeting is gone, cancelled or moved.
func writeReminder(t *bot.Turn, r bot.Reminder, late bool) (bot.Message, bool) {
	var m Meeting
	found, err := t.ReadRecord(Kind, r.Ref, &m)
	if err != nil || !found || m.Cancelled {
		return bot.Message{}, false
	}
	id := "meeting.reminder.day"
	before := 24 * time.Hour
	switch {
	case strings.HasSuffix(r.ID, "-hour"):
		id, before = "meeting.reminder.hour", time.Hour
	case strings.HasSuffix(r.ID, "-"+soon):
		id, before = "meeting.reminder.soon", soonBefore
	}
	if !m.Start.Add(-before).Equal(r.Due) {
		return bot.Message{}, false // moved: its new reminder comes
	}
	zone := t.Zone()
	s := m.Start.In(zone)
	text := t.T(id, "Title", m.Title, "Time", s.Format("15:04"), "Zone", bot.ZoneLabel(zone))
	if m.Place != "" {
		text += "\n" + t.T("meeting.where", "Place", m.Place)
	}
	msg := bot.Message{Text: text}
	if before > soonBefore {
		msg.Buttons = [][]bot.Button{reminderRow(t, &m)}
	}
	return msg, true
}

// refreshAfter is how long after an answer the members' copies are shown
// anew, at the least; refreshShare the share of Telegram's 30 messages a
// second that showing them anew takes at most, which makes it longer in
// a large network (5,000 copies: every 5.5 minutes at most).
const (
	refreshAfter = time.Minute
	refreshShare = 2 // half
)

// copiesLater sets the chore that shows m's counts in every copy anew,
// unless one is due later than soon: set by an earlier answer, it reads
// this one's counts too. One due within a few seconds may be reading the
// counts already, so a new one is set (at most two in a while).
func copiesLater(t *bot.Turn, m *Meeting) {
	now := t.Now()
	if m.Copies.After(now.Add(5 * time.Second)) {
		return
	}
	var to []recipient
	if _, err := t.Tx().Get(KindTo, m.ID, &to); !must(err) {
		return
	}
	wait := max(refreshAfter, time.Duration(refreshShare*len(to))*time.Second/30)
	m.Copies = now.Add(wait).UTC()
	c := t.Conv()
	id := "mt-" + m.ID + "-copies"
	c.Reminders = slices.DeleteFunc(c.Reminders, func(r bot.Reminder) bool { return r.ID == id && r.Status != bot.ReminderPending })
	for i := range c.Reminders {
		if c.Reminders[i].ID == id {
			c.Reminders[i].Due = m.Copies
			return
		}
	}
	day := m.Copies.Format(bot.DayLayout)
	c.Reminders = append(c.Reminders, bot.Reminder{ID: id, Kind: ChoreCopies, Ref: m.ID, For: day, Day: day,
		Zone: "UTC", Due: m.Copies, Chore: true})
}

// copies is the chore copiesLater set: every member's copy of the meeting
// that the announcement reached shows its counts as they are now, with
// their answer, of low priority. The linked channels show every answer
// already (refresh).
func copies(t *bot.Turn, r bot.Reminder) []bot.Outgoing {
	var m Meeting
	var to []recipient
	if found, err := t.ReadRecord(Kind, r.Ref, &m); err != nil || !found || m.Cancelled {
		return nil
	}
	if found, err := t.ReadRecord(KindTo, m.ID, &to); err != nil || !found {
		return nil
	}
	var n network.Network
	if found, err := t.ReadRecord(network.Kind, m.Network, &n); err != nil || !found {
		return nil
	}
	outs := make([]bot.Outgoing, 0, len(to))
	for _, rc := range to {
		if rc.Member == "" {
			continue // a linked channel: every answer shows there (refresh)
		}
		var own *RSVP
		lang := rc.Lang
		{
			var a RSVP
			found, err := t.ReadRecord(KindRSVP, m.ID+"|"+rc.Member, &a)
			if err != nil {
				return nil // read again by the next answer's chore
			}
			if found {
				own = &a
				if a.Lang != "" {
					lang = a.Lang
				}
			}
		}
		p := t.Elsewhere(&bot.Conversation{Addr: rc.To, Lang: lang})
		outs = append(outs, bot.Outgoing{To: rc.To, Msg: announcement(p, &n, &m, own), Low: true})
	}
	return outs
}
