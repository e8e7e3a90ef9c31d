package network

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ampel-bot/ampel/bot"
)

// The network's rules (seed 003) as far as the records show them, and its
// yearly activity report.

// meetingsIn counts the meetings of year (in the network's time zone) not
// cancelled: held before now, and planned after it.
func (n *Network) meetingsIn(t *bot.Turn, year int) (held, planned int) {
	for _, m := range n.Meetings {
		if m.Cancelled || m.Start.In(n.zone(t)).Year() != year {
			continue
		}
		if m.Start.After(t.Now()) {
			planned++
		} else {
			held++
		}
	}
	return held, planned
}

// MeetingKind is the kind of package meeting's records, whose "yes"
// count the report reads: the counts change with every answer, so the
// network's own summary (MeetingRef) does not keep them.
const MeetingKind = "meeting"

// yesIn adds up the yes answers of the meetings of year held so far, as
// their records count them; false when the step runs again (bot.ErrBusy).
func (n *Network) yesIn(t *bot.Turn, year int) (int, bool) {
	yes := 0
	for _, m := range n.Meetings {
		if m.Cancelled || m.Start.In(n.zone(t)).Year() != year || m.Start.After(t.Now()) {
			continue
		}
		var rec struct {
			Yes int `json:"yes"`
		}
		if _, err := t.Tx().Get(MeetingKind, m.ID, &rec); err != nil {
			fail(err)
			return 0, false
		}
		yes += rec.Yes
	}
	return yes, true
}

// contacts reports the seed's two named contacts: a coordinator and a
// moderator, and whether one of them is of an intermediary organisation.
func (n *Network) contacts() (coord, mod, intermediary bool) {
	for _, m := range n.Members {
		if m.Role != Coordinator && m.Role != Moderator {
			continue
		}
		coord = coord || m.Role == Coordinator
		mod = mod || m.Role == Moderator
		if o := n.Org(m.Org); o != nil && o.Kind == Intermediary {
			intermediary = true
		}
	}
	return coord, mod, intermediary
}

// rules is the panel of the rules the bot can check, each met or not.
func rules(t *bot.Turn, n *Network) bot.Message {
	year := n.localNow(t).Year()
	mark := func(ok bool) string {
		if ok {
			return "✅ "
		}
		return "❌ "
	}
	inter := n.orgsOf(Intermediary)
	coord, mod, im := n.contacts()
	held, planned := n.meetingsIn(t, year)
	reported := slices.Contains(n.Reports, year)
	lines := []string{t.T("network.rules.title", "Name", n.Name),
		mark(inter >= minIntermediaries) + t.T("network.rules.orgs", "Count", inter, "Min", minIntermediaries),
		mark(coord && mod && im) + t.T("network.rules.contacts", "Coordinator", yesNo(t, coord), "Moderator", yesNo(t, mod), "Intermediary", yesNo(t, im)),
		mark(held+planned >= minMeetings) + t.T("network.rules.meetings", "Year", year, "Held", held, "Planned", planned, "Min", minMeetings),
		mark(reported) + t.T("network.rules.report", "Year", year, "Done", yesNo(t, reported)),
	}
	return bot.Message{Text: strings.Join(lines, "\n")}
}

func yesNo(t *bot.Turn, ok bool) string {
	if ok {
		return t.T("network.yes")
	}
	return t.T("network.no")
}

// ChoreRules is the kind of the monthly check of the network's rules in
// each coordinator's private chat (bot.Feature.Chores).
const ChoreRules = "network-rules"

// rulesID is the ID of the check of network id in a conversation.
func rulesID(id string) string { return "nw-" + id + "-rules" }

// checkRules sets the monthly check of the rules for every coordinator who
// has none yet (the next day at warnHour in the network's zone), and
// forgets it for one who is no coordinator any more (their check ends
// when it next comes). false: the step runs again.
func checkRules(t *bot.Turn, n *Network) bool {
	for i := range n.Members {
		m := &n.Members[i]
		if m.Role != Coordinator {
			m.Checked = false
			continue
		}
		if m.Checked {
			continue
		}
		c, ok := conv(t, m.private())
		if !ok {
			return false
		}
		d := n.localNow(t).AddDate(0, 0, 1)
		setRules(c, n.ID, time.Date(d.Year(), d.Month(), d.Day(), warnHour, 0, 0, 0, d.Location()))
		m.Checked = true
	}
	return true
}

// private is the private chat the member's own events come from, where
// their settings (quiet hours, pause) are; else the one the bot writes to.
func (m *Member) private() bot.Address {
	if m.DM.Chat != "" {
		return m.DM
	}
	return m.Chat
}

// setRules puts the check of network id into c, due at due (the one
// before it goes).
func setRules(c *bot.Conversation, id string, due time.Time) {
	rid := rulesID(id)
	c.Reminders = slices.DeleteFunc(c.Reminders, func(r bot.Reminder) bool { return r.ID == rid })
	day := due.UTC().Format(bot.DayLayout)
	c.Reminders = append(c.Reminders, bot.Reminder{ID: rid, Kind: ChoreRules, Ref: id, For: day, Day: day, Zone: "UTC", Due: due.UTC(), Chore: true})
}

// rulesDue is the chore of a coordinator's check: it warns them, in their
// chat, when fewer than two meetings are held or planned this calendar
// year, and sets the next check a month later; in their pause or quiet
// hours it waits for their end. It ends when they are no coordinator of
// the network any more, or it is gone.
func rulesDue(t *bot.Turn, r bot.Reminder) []bot.Outgoing {
	var n Network
	if found, err := t.ReadRecord(Kind, r.Ref, &n); err != nil || !found {
		return nil
	}
	c := t.Conv()
	var me *Member
	for i := range n.Members {
		if n.Members[i].private().Key() == c.Addr.Key() {
			me = &n.Members[i]
		}
	}
	if me == nil || me.Role != Coordinator {
		return nil
	}
	if at, held := t.Held(t.Now()); held {
		setRules(c, n.ID, at)
		return nil
	}
	setRules(c, n.ID, r.Due.In(n.zone(t)).AddDate(0, 1, 0))
	year := n.localNow(t).Year()
	held, planned := n.meetingsIn(t, year)
	if held+planned >= minMeetings {
		return nil
	}
	text := t.T("network.warn.head", "Name", n.Name) + "\n" + t.T("network.warn.meetings", "Year", year, "Count", held+planned, "Min", minMeetings)
	return []bot.Outgoing{{To: c.Addr, Msg: bot.Message{Text: text}, Push: true}}
}

// report is the yearly activity summary for the plenum: meetings held and
// planned, attendance, members by role, organisations by kind, and the
// checks members finished that year, all counts, never anyone's answers.
// The year is recorded as reported.
func report(t *bot.Turn, n *Network, me *Member, year int) {
	if me.Role != Coordinator && me.Role != Moderator {
		t.Note(t.T("network.leads.only"))
		return
	}
	held, planned := n.meetingsIn(t, year)
	yes, ok := n.yesIn(t, year)
	if !ok {
		return
	}
	roles := map[string]int{}
	for _, m := range n.Members {
		roles[m.Role]++
	}
	checks, checkers := 0, 0
	for _, m := range n.Members {
		at := m.DM
		if at.Chat == "" {
			at = m.Chat
		}
		c, ok := conv(t, at)
		if !ok {
			return
		}
		k := finishedIn(c, year, n.zone(t))
		checks += k
		if k > 0 {
			checkers++
		}
	}
	lines := []string{t.T("network.report.title", "Year", year, "Name", n.Name),
		t.T("network.report.meetings", "Held", held, "Planned", planned),
		t.T("network.report.yes", "Count", yes),
		t.T("network.report.members", "Count", len(n.Members), "Coordinators", roles[Coordinator], "Moderators", roles[Moderator], "Members", roles[Plain]),
		t.T("network.report.orgs", "Count", len(n.Orgs))}
	for _, k := range OrgKinds {
		if c := n.orgsOf(k); c > 0 {
			lines = append(lines, "  · "+t.T("network.kind."+k)+": "+strconv.Itoa(c))
		}
	}
	lines = append(lines, t.T("network.report.checks", "Count", checks, "Members", checkers))
	if !slices.Contains(n.Reports, year) {
		n.Reports = append(n.Reports, year)
		slices.Sort(n.Reports)
		if !save(t, n) {
			return
		}
	}
	t.Say(bot.Message{Text: strings.Join(lines, "\n")})
}

// finishedIn counts the checks of a chat finished in year.
func finishedIn(c *bot.Conversation, year int, loc *time.Location) int {
	k := 0
	runs := append([]bot.Run{}, c.History...)
	if c.Run != nil {
		runs = append(runs, *c.Run)
	}
	for _, r := range runs {
		if r.Finished() && r.Done.In(loc).Year() == year {
			k++
		}
	}
	return k
}
