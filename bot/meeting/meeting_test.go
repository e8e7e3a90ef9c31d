package meeting_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/dialogtest"
	"github.com/ampel-bot/ampel/bot/meeting"
	"github.com/ampel-bot/ampel/bot/network"
)

// announceLines are what a lead types and presses to announce the
// meeting of 16 March 2027, 18:00–20:00 in Berlin, with limit places
// ("" for none).
func announceLines(who, limit string) string {
	lines := []string{"> /meeting", "~ press 1", "> Netzwerktreffen", "> 16.03.2027", "> 18:00-20:00", "> IHK Cottbus", "> Begrüßung"}
	if limit == "" {
		lines = append(lines, "~ press 1")
	} else {
		lines = append(lines, "> "+limit)
	}
	lines = append(lines, "~ press 1", "~ press 1")
	for i := range lines {
		lines[i] = "[@" + who + "] " + lines[i]
	}
	return strings.Join(lines, "\n")
}

// record is the stored record kind/id ("" when there is none).
func record(t *testing.T, g *dialogtest.Group, kind, id string) string {
	t.Helper()
	return recordIn(t, g.Store, kind, id)
}

// recordIn is the record kind/id in store ("" when there is none).
func recordIn(t *testing.T, store *bottest.MemStore, kind, id string) string {
	t.Helper()
	b, err := store.Record(context.Background(), bot.RecordRef{Kind: kind, ID: id})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func storedMeeting(t *testing.T, g *dialogtest.Group, id string) meeting.Meeting {
	t.Helper()
	var m meeting.Meeting
	if err := json.Unmarshal([]byte(record(t, g, meeting.Kind, id)), &m); err != nil {
		t.Fatalf("meeting %s: %v", id, err)
	}
	return m
}

// TestOnlyLeadsAnnounce: a plain member can neither announce, nor change
// or cancel a meeting, nor finish an announcement begun while they were a
// moderator; each refusal says who can, sends nothing to anyone else and
// changes no record.
func TestOnlyLeadsAnnounce(t *testing.T) {
	g := newGroup(t, "de", "anna", "moni", "bert")
	g.Play(announceLines("anna", ""))
	net0, meet0 := record(t, g, network.Kind, "net1"), record(t, g, meeting.Kind, "meet0001")
	if meet0 == "" {
		t.Fatal("anna's meeting was not stored")
	}
	refused := func(what string, sent []bottest.Sent) {
		t.Helper()
		said := false
		for _, s := range sent {
			if s.To.User != "bert" && s.To.Chat != "bert" {
				t.Errorf("%s: a message to %+v, want none but to bert", what, s.To)
			}
			said = said || strings.Contains(s.Msg.Text, "nur Koordination und Moderation")
		}
		if !said {
			t.Errorf("%s: bert was not told who may", what)
		}
		if got := record(t, g, network.Kind, "net1"); got != net0 {
			t.Errorf("%s: the network changed", what)
		}
		if got := record(t, g, meeting.Kind, "meet0001"); got != meet0 {
			t.Errorf("%s: the meeting changed", what)
		}
		if got := record(t, g, meeting.Kind, "meet0002"); got != "" {
			t.Errorf("%s: a meeting was made", what)
		}
	}
	refused("/meeting new", g.Event("bert", true, bot.Event{Text: "/meeting neu"}))
	refused("/meeting new in the channel", g.Event("bert", false, bot.Event{Text: "/meeting neu"}))
	// Anna's menu's buttons, forged into bert's chat: stale there.
	sent := g.Event("bert", true, bot.Event{Text: "/meeting"})
	for _, s := range sent {
		if strings.Contains(s.Msg.Text, "Absagen") || strings.Contains(console(s), "Neues Treffen") {
			t.Errorf("bert was offered what only leads may: %q", console(s))
		}
	}
	if got := record(t, g, network.Kind, "net1"); got != net0 {
		t.Error("bert's /meeting changed the network")
	}
	// Moni begins an announcement as moderator and is made a plain member
	// before she sends it.
	g.Play(strings.Join(strings.Split(announceLines("moni", ""), "\n")[:10], "\n"))
	setRole(t, g, "moni", network.Plain)
	net1 := record(t, g, network.Kind, "net1")
	sent = g.Event("moni", true, bot.Event{Action: g.Button("moni", 1)})
	for _, s := range sent {
		if s.To.User != "moni" && s.To.Chat != "moni" {
			t.Errorf("demoted moni's send: a message to %+v", s.To)
		}
	}
	if got := record(t, g, network.Kind, "net1"); got != net1 {
		t.Error("demoted moni's send changed the network")
	}
	if got := record(t, g, meeting.Kind, "meet0002"); got != "" {
		t.Error("demoted moni's send made a meeting")
	}
	// Anna opens her meeting's menu and is made a plain member before she
	// presses "change the place" or "cancel": both refused, nothing sent.
	for _, press := range []int{2, 5} {
		g.Play("[@anna] > /meeting\n[@anna] ~ press 1")
		setRole(t, g, "anna", network.Plain)
		net2 := record(t, g, network.Kind, "net1")
		sent := g.Event("anna", true, bot.Event{Action: g.Button("anna", press)})
		told := false
		for _, s := range sent {
			if s.To.User != "anna" && s.To.Chat != "anna" {
				t.Errorf("demoted anna's button %d: a message to %+v", press, s.To)
			}
			told = told || strings.Contains(s.Msg.Text, "nur Koordination und Moderation")
		}
		if !told {
			t.Errorf("demoted anna's button %d: she was not told who may", press)
		}
		if record(t, g, network.Kind, "net1") != net2 || record(t, g, meeting.Kind, "meet0001") != meet0 {
			t.Errorf("demoted anna's button %d changed the network or the meeting", press)
		}
		setRole(t, g, "anna", network.Coordinator)
	}
}

func console(s bottest.Sent) string {
	var b strings.Builder
	b.WriteString(s.Msg.Text)
	for _, row := range s.Msg.Buttons {
		for _, x := range row {
			b.WriteString(" " + x.Label)
		}
	}
	return b.String()
}

// setRole gives user the role in net1.
func setRole(t *testing.T, g *dialogtest.Group, user, role string) {
	t.Helper()
	err := g.Engine.Do(context.Background(), "role-"+user+g.Clock.Now().String(), func(tx *bot.Tx) error {
		n, err := network.Get(tx, "net1")
		if err != nil {
			return err
		}
		for i := range n.Members {
			if n.Members[i].ID == user {
				n.Members[i].Role = role
			}
		}
		return network.Put(tx, n)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// readICS is what python3-icalendar reads from a meeting's file; start
// and end are also given in the zone of argv[2].
const readICS = `
import json, sys, icalendar
from zoneinfo import ZoneInfo
cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())
z = ZoneInfo(sys.argv[2])
evs = []
for ev in cal.walk('VEVENT'):
    evs.append({'uid': str(ev['UID']), 'seq': int(ev['SEQUENCE']), 'status': str(ev['STATUS']),
        'start': ev.decoded('DTSTART').astimezone(z).isoformat(), 'end': ev.decoded('DTEND').astimezone(z).isoformat(),
        'summary': str(ev['SUMMARY']), 'location': str(ev['LOCATION']), 'description': str(ev['DESCRIPTION'])})
print(json.dumps({'method': str(cal['METHOD']), 'events': evs}))
`

type icsRead struct {
	Method string
	Events []struct {
		UID, Status, Start, End, Summary, Location, Description string
		Seq                                                     int
	}
}

func parseICS(t *testing.T, data []byte, zone string) icsRead {
	t.Helper()
	py := bottest.ICalendarPython(t)
	file := filepath.Join(t.TempDir(), "meeting.ics")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", readICS, file, zone).CombinedOutput()
	if err != nil {
		t.Fatalf("python3-icalendar: %v\n%s", err, out)
	}
	var got icsRead
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return got
}

// lastICS is the newest calendar file sent to user.
func lastICS(t *testing.T, g *dialogtest.Group, user string) []byte {
	t.Helper()
	for i := len(g.Sent) - 1; i >= 0; i-- {
		s := g.Sent[i]
		if (s.To.User == user && s.To.Chat == "") && len(s.Msg.Files) == 1 && strings.HasSuffix(s.Msg.Files[0].Name, ".ics") {
			return s.Msg.Files[0].Data
		}
	}
	t.Fatalf("%s got no calendar file", user)
	return nil
}

// checkWire: CRLF line ends only, no line longer than 75 octets.
func checkWire(t *testing.T, data []byte) {
	t.Helper()
	if bytes.Count(data, []byte("\n")) != bytes.Count(data, []byte("\r\n")) || !bytes.HasSuffix(data, []byte("\r\n")) {
		t.Error("not every line ends in CRLF")
	}
	for _, l := range bytes.Split(data, []byte("\r\n")) {
		if len(l) > 75 {
			t.Errorf("a line of %d octets, want at most 75: %q", len(l), l)
		}
	}
}

// TestCalendarFiles: the announcement's, the change's and the
// cancellation's calendar files parse with an independent parser (Debian's
// python3-icalendar): one event with the meeting's UID throughout, its
// SEQUENCE raised with each change, METHOD:REQUEST and then CANCEL, and
// the instant right, so that a member in New York sees 12:00 for 18:00 in
// Berlin; a long agenda is folded at 75 octets.
func TestCalendarFiles(t *testing.T) {
	g := newGroup(t, "de", "anna", "bert")
	long := strings.Repeat("Berichte aus den Organisationen, Jahresplanung und Verschiedenes; ", 4)
	script := strings.Replace(announceLines("anna", "12"), "> Begrüßung", "> "+long, 1)
	g.Play(script)
	ics := lastICS(t, g, "bert")
	checkWire(t, ics)
	got := parseICS(t, ics, "America/New_York")
	if got.Method != "REQUEST" || len(got.Events) != 1 {
		t.Fatalf("announcement: method %q, %d events; want REQUEST and 1", got.Method, len(got.Events))
	}
	ev := got.Events[0]
	if ev.UID != "ampel-meeting-meet0001@ampel" || ev.Seq != 0 || ev.Status != "CONFIRMED" || ev.Summary != "Netzwerktreffen" || ev.Location != "IHK Cottbus" {
		t.Errorf("announcement: got %+v", ev)
	}
	if ev.Start != "2027-03-16T13:00:00-04:00" || ev.End != "2027-03-16T15:00:00-04:00" {
		t.Errorf("in New York: got %s – %s, want 13:00 – 15:00 (18:00 – 20:00 in Berlin; New York is on summer time already)", ev.Start, ev.End)
	}
	if !strings.Contains(ev.Description, strings.TrimSpace(long)) {
		t.Errorf("the agenda did not survive folding: %q", ev.Description)
	}
	berlin := parseICS(t, ics, "Europe/Berlin").Events[0]
	if berlin.Start != "2027-03-16T18:00:00+01:00" {
		t.Errorf("in Berlin: got %s, want 18:00", berlin.Start)
	}

	// Anna moves it to 17 March, 17–19.
	g.Play(strings.Join([]string{"[@anna] > /meeting", "[@anna] ~ press 1", "[@anna] ~ press 1", "[@anna] > 17.03.2027", "[@anna] > 17-19", "[@anna] ~ press 1"}, "\n"))
	ics = lastICS(t, g, "bert")
	checkWire(t, ics)
	got = parseICS(t, ics, "Europe/Berlin")
	if ev := got.Events[0]; got.Method != "REQUEST" || ev.UID != "ampel-meeting-meet0001@ampel" || ev.Seq != 1 || ev.Start != "2027-03-17T17:00:00+01:00" {
		t.Errorf("change: got %s %+v, want REQUEST, the same UID, SEQUENCE 1, 17:00 on 17 March", got.Method, ev)
	}

	// And cancels it.
	g.Play(strings.Join([]string{"[@anna] > /meeting", "[@anna] ~ press 1", "[@anna] ~ press 5"}, "\n"))
	ics = lastICS(t, g, "bert")
	checkWire(t, ics)
	got = parseICS(t, ics, "Europe/Berlin")
	if ev := got.Events[0]; got.Method != "CANCEL" || ev.UID != "ampel-meeting-meet0001@ampel" || ev.Seq != 2 || ev.Status != "CANCELLED" {
		t.Errorf("cancellation: got %s %+v, want CANCEL, the same UID, SEQUENCE 2, CANCELLED", got.Method, ev)
	}
}

// TestRemindersInMembersZone: a member who set New York as their zone is
// reminded the day before and an hour before at the instants the meeting
// sets, told the time in their zone, in their language; the reminders are
// not moved off a weekend as a plan's are; one who said no gets none.
func TestRemindersInMembersZone(t *testing.T) {
	g := newGroup(t, "de", "anna", "bert", "carl")
	// A meeting on Sunday 14 March 2027, 18:00–20:00 in Berlin (the day
	// New York goes on summer time).
	g.Play(strings.Replace(announceLines("anna", ""), "16.03.2027", "14.03.2027", 1))
	// Bert's private chat is in English; he says yes, and then sets his
	// zone to New York (which derives his plan's reminders anew: the
	// meeting's must stay).
	g.Lang = "en"
	g.Event("bert", true, bot.Event{Action: g.Button("bert", 1)})
	g.Event("bert", true, bot.Event{Text: "/timezone"})
	g.Event("bert", true, bot.Event{Text: "America/New_York"})
	g.Lang = "de"
	g.Event("carl", true, bot.Event{Action: g.Button("carl", 3)})
	start := storedMeeting(t, g, "meet0001").Start
	var got []string
	for _, at := range []time.Time{start.Add(-24 * time.Hour), start.Add(-time.Hour)} {
		g.Clock.Set(at)
		if _, err := g.Engine.RunDue(context.Background(), at); err != nil {
			t.Fatal(err)
		}
		for _, s := range g.Take() {
			if s.Msg.Live != "" {
				continue // a copy of the announcement shown anew, not a reminder
			}
			if s.To.User == "carl" || s.To.Chat == "carl" {
				t.Errorf("carl, who said no, got %q", s.Msg.Text)
			}
			got = append(got, s.Msg.Text)
		}
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], "Tomorrow: “Netzwerktreffen” at 13:00 (") || !strings.HasPrefix(got[1], "In one hour: “Netzwerktreffen” at 13:00 (") {
		t.Errorf("bert's reminders: got %q, want tomorrow and in one hour, at 13:00 New York time, in English", got)
	}
}

// TestTypedAnswerAndNextOccurrence: a member who asks with /meeting gets
// the meeting again and answers by typing; a monthly meeting's next
// occurrence ("every second Tuesday") is a meeting of its own with its own
// answers, announced by the lead, and the first stays in the history.
func TestTypedAnswerAndNextOccurrence(t *testing.T) {
	g := newGroup(t, "de", "anna", "bert")
	g.Play(strings.Replace(announceLines("anna", "30"), "> 30\n[@anna] ~ press 1", "> 30\n[@anna] ~ press 3", 1))
	first := storedMeeting(t, g, "meet0001")
	if first.Repeat != meeting.Monthly {
		t.Fatalf("repeat: got %q, want monthly", first.Repeat)
	}
	g.Play("[@bert] > /meeting\n[@bert] ~ press 1\n[@bert] > ja")
	if m := storedMeeting(t, g, "meet0001"); m.Yes != 1 {
		t.Errorf("bert typed ja: got %d yes, want 1", m.Yes)
	}
	// Anna announces the next occurrence: 16 March 2027 is the third
	// Tuesday, so the next is 20 April.
	g.Play("[@anna] > /meeting\n[@anna] ~ press 1\n[@anna] ~ press 6\n[@anna] ~ press 1")
	next := storedMeeting(t, g, "meet0002")
	loc := bottest.Zone("Europe/Berlin")
	if s := next.Start.In(loc); s.Format("2006-01-02 15:04") != "2027-04-20 18:00" || next.Yes != 0 || next.Series != "meet0001" {
		t.Errorf("next occurrence: got %s, %d yes, series %q; want 20 April 18:00, no answers, series meet0001", s, next.Yes, next.Series)
	}
	if m := storedMeeting(t, g, "meet0001"); m.Next != "meet0002" || m.Yes != 1 {
		t.Errorf("the first occurrence: next %q, %d yes; want meet0002 and bert's yes kept", m.Next, m.Yes)
	}
	var n network.Network
	if err := json.Unmarshal([]byte(record(t, g, network.Kind, "net1")), &n); err != nil || len(n.Meetings) != 2 {
		t.Errorf("the network's meetings: got %+v (%v), want both", n.Meetings, err)
	}
}

// TestMeetingReminderChoices: a meeting's reminder offers "remind me 15
// min before" and "not for this one" (a plan's "tomorrow" would come after
// the meeting): Bert asks for the first and is reminded an hour and a
// quarter of an hour before; Carl for the second and hears nothing more;
// Dora, whose reminders are off, is told so when she says yes, gets none,
// and /reminders says that her meeting reminders are off too.
func TestMeetingReminderChoices(t *testing.T) {
	g := newGroup(t, "de", "anna", "bert", "carl", "dora")
	g.Play(announceLines("anna", ""))
	err := g.Engine.Do(context.Background(), "dora-off", func(tx *bot.Tx) error {
		c, err := tx.Conversation(g.Private("dora"))
		c.RemindersOff = true
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"bert", "carl", "dora"} {
		got := said(g.Event(u, true, bot.Event{Action: g.Button(u, 1)}))
		if off := strings.Contains(got, "Ihre Erinnerungen sind ausgeschaltet (/reminders)"); off != (u == "dora") {
			t.Errorf("%s says yes: %q; want the note that reminders are off only for Dora", u, got)
		}
	}
	if got := said(g.Event("dora", true, bot.Event{Text: "/reminders"})); !strings.Contains(got, "auch für die Erinnerungen an Treffen, zu denen Sie zugesagt haben (2)") {
		t.Errorf("Dora's /reminders: %q; want her two meeting reminders said to be off too", got)
	}
	// Bert's list names the meeting each reminder is for, not only that
	// it is one: a member may have said yes to several.
	if got := said(g.Event("bert", true, bot.Event{Text: "/reminders"})); strings.Count(got, "· Treffen: Netzwerktreffen") != 2 {
		t.Errorf("Bert's /reminders: %q; want his two reminders of the meeting named by its title", got)
	}
	start := storedMeeting(t, g, "meet0001").Start
	got := map[string][]string{}
	var row []bot.Button // Bert's reminder's
	due := func(at time.Time) {
		t.Helper()
		g.Clock.Set(at)
		if _, err := g.Engine.RunDue(context.Background(), at); err != nil {
			t.Fatal(err)
		}
		for _, s := range g.Take() {
			if strings.HasPrefix(s.Msg.Text, "Morgen: „Netzwerktreffen“") && (s.To.User == "bert" || s.To.Chat == g.PrivateChat("bert")) {
				row = s.Msg.Flat()
			}
			if s.Msg.Live == "" {
				u := s.To.User
				if u == "" {
					u = s.To.Chat // a private chat here is the user's ID
				}
				got[u] = append(got[u], s.Msg.Text)
			}
		}
	}
	due(start.Add(-24 * time.Hour))
	if len(row) != 2 || row[0].Label != "⏰ 15 Min. vorher erinnern" || row[1].Label != "🔕 Nicht für dieses Treffen" {
		t.Fatalf("the reminder's buttons: %+v, want 15 min before and not for this one", row)
	}
	if r := said(g.Event("bert", true, bot.Event{Action: row[0].Action})); !strings.Contains(r, "Ich erinnere Sie um 17:45 Uhr") {
		t.Errorf("Bert asks for 15 minutes before: %q", r)
	}
	if r := said(g.Event("carl", true, bot.Event{Action: row[1].Action})); !strings.Contains(r, "An „Netzwerktreffen“ erinnere ich Sie nicht mehr") {
		t.Errorf("Carl asks for no more: %q", r)
	}
	got = map[string][]string{}
	due(start.Add(-time.Hour))
	due(start.Add(-soonBefore()))
	if b := got["bert"]; len(b) != 2 || !strings.HasPrefix(b[0], "In einer Stunde:") || !strings.HasPrefix(b[1], "In 15 Minuten: „Netzwerktreffen“ um 18:00") {
		t.Errorf("Bert got %q, want the hour's reminder and the quarter's", b)
	}
	if len(got["carl"])+len(got["dora"]) > 0 {
		t.Errorf("Carl got %q, Dora %q; want nothing", got["carl"], got["dora"])
	}
}

func soonBefore() time.Duration { return 15 * time.Minute }

// said is the text of everything sent for one event.
func said(sent []bottest.Sent) string {
	var b strings.Builder
	for _, s := range sent {
		b.WriteString(s.Msg.Text + "\n")
	}
	return b.String()
}

// TestMeetingDayTypedAsAnywhere: the meeting's day is read as every typed
// date is: a day without its year is the next one (on 10 March 2027,
// "1.3." is 1 March 2028, and the note says next year); a past day, one
// that does not exist and one that reads two ways are each said so, not
// "cannot read".
func TestMeetingDayTypedAsAnywhere(t *testing.T) {
	g := newGroup(t, "de", "anna")
	g.Play("[@anna] > /meeting\n[@anna] ~ press 1\n[@anna] > Netzwerktreffen")
	for typed, want := range map[string]string{
		"gestern":    "Dieser Tag ist schon vorbei.",
		"31.2.":      "Dieses Datum gibt es nicht.",
		"3/4/2028":   "Meinen Sie",
		"irgendwann": "Dieses Datum kann ich nicht lesen.",
	} {
		if got := g.Play("[@anna] > " + typed); !strings.Contains(got, want) || !strings.Contains(got, "An welchem Tag?") {
			t.Errorf("typed %q: %q; want %q and the question again", typed, got, want)
		}
	}
	if got := g.Play("[@anna] > 1.3."); !strings.Contains(got, "Mi, 01.03.2028 (nächstes Jahr)") || !strings.Contains(got, "Von wann bis wann?") {
		t.Errorf("typed 1.3. on 10 March 2027: %q; want 1 March 2028, said to be next year, and the next question", got)
	}
}

// TestAnnouncedToOneChat: the count of chats an announcement went to
// agrees with its number ("1 Chat", not "1 Chats").
func TestAnnouncedToOneChat(t *testing.T) {
	g := newGroup(t, "de", "anna")
	// A network of one, with no linked channel: one chat to send to.
	err := g.Engine.Do(context.Background(), "unlink", func(tx *bot.Tx) error {
		n, err := network.Get(tx, "net1")
		if err != nil {
			return err
		}
		n.Channels = nil
		return network.Put(tx, n)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := g.Play(announceLines("anna", "")); !strings.Contains(got, "Angekündigt: an 1 Chat verschickt.") {
		t.Errorf("announced in a network of one: %q; want \"an 1 Chat verschickt\"", got)
	}
}
