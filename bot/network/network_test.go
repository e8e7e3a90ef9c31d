package network_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/dialogtest"
	"github.com/ampel-bot/ampel/bot/features"
	"github.com/ampel-bot/ampel/bot/network"
)

// netRef is the first network a test creates (see network.CountCodes).
var netRef = bot.RecordRef{Kind: network.Kind, ID: "net00001"}

// setup plays, on Telegram in English: Anna creates a network, Bert and
// Carl join with its code, Anna makes Bert moderator, and Bert links the
// channel.
func setup(t *testing.T) *dialogtest.Group {
	t.Helper()
	network.CountCodes(t)
	g := dialogtest.NewGroup(t, &bottest.Recorder{Name: "telegram"})
	g.Lang = "en"
	g.Play(`[@anna] > /network
[@anna] ~ press 1
[@anna] > Net
[@anna] ~ press 1
[@anna] ~ press 2
[@anna] ~ press 1
[@bert] > /join join000001
[@carl] > /join join000001
[@anna] > /network
[@anna] ~ press 1
[@anna] ~ press 2
[@anna] ~ press 2
[#bert] > /link`)
	n := record(t, g)
	if len(n.Members) != 3 || n.Members[1].Role != network.Moderator || len(n.Channels) != 1 {
		t.Fatalf("setup: members %+v, channels %+v; want Anna, Bert (moderator), Carl and one channel", n.Members, n.Channels)
	}
	return g
}

// raw is the network's record as stored.
func raw(t *testing.T, g *dialogtest.Group) []byte {
	t.Helper()
	b, err := g.Store.Record(context.Background(), netRef)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func record(t *testing.T, g *dialogtest.Group) *network.Network {
	t.Helper()
	var n network.Network
	if b := raw(t, g); b == nil || json.Unmarshal(b, &n) != nil {
		t.Fatalf("no network record %s", netRef)
	}
	return &n
}

// said is the text of everything sent for one event.
func said(sent []bottest.Sent) string {
	var b strings.Builder
	for _, s := range sent {
		b.WriteString(s.Msg.Text + "\n")
	}
	return b.String()
}

// cardActions are the buttons of Carl's card as Anna, the coordinator,
// gets them: make coordinator, make moderator, organisation, remove.
func cardActions(t *testing.T, g *dialogtest.Group, place int) []string {
	t.Helper()
	g.Event("anna", true, bot.Event{Text: "/network"})
	g.Event("anna", true, bot.Event{Action: g.Button("anna", 1)})
	g.Event("anna", true, bot.Event{Action: g.Button("anna", place)})
	var acts []string
	for i := 1; i <= 4; i++ {
		acts = append(acts, g.Button("anna", i))
	}
	return acts
}

// TestRefusedWithoutChange: what only coordinators may do (change roles,
// remove, organisations of others, codes, unlink) is refused to a
// moderator and a member pressing the coordinator's buttons; what only
// coordinators and moderators may do (link, the report) is refused to a
// member. Each refusal says who may, and leaves the network's record
// byte for byte as it was.
func TestRefusedWithoutChange(t *testing.T) {
	g := setup(t)
	carl := cardActions(t, g, 3)
	anna := cardActions(t, g, 1)
	tries := []struct {
		who     string
		private bool
		ev      bot.Event
		want    string
	}{
		{"bert", true, bot.Event{Action: carl[0]}, "Only the network's coordinators"},
		{"bert", true, bot.Event{Action: carl[3]}, "Only the network's coordinators"},
		{"carl", true, bot.Event{Action: carl[1]}, "Only the network's coordinators"},
		{"carl", true, bot.Event{Action: anna[3]}, "Only the network's coordinators"},
		{"bert", true, bot.Event{Action: "nw:net00001:new:0"}, "Only the network's coordinators"},
		{"bert", true, bot.Event{Action: "nw:net00001:revoke"}, "Only the network's coordinators"},
		{"carl", true, bot.Event{Action: "nw:net00001:members"}, "Only the network's coordinators"},
		{"carl", true, bot.Event{Action: "nw:net00001:report"}, "Only the network's coordinators and moderators"},
		{"carl", true, bot.Event{Text: "/network report"}, "Only the network's coordinators and moderators"},
		{"carl", false, bot.Event{Text: "/link"}, "Only the network's coordinators and moderators"},
		{"bert", false, bot.Event{Text: "/network unlink"}, "Only the network's coordinators"},
		{"dora", true, bot.Event{Action: carl[3]}, "not a member"},
	}
	for _, try := range tries {
		before := raw(t, g)
		got := said(g.Event(try.who, try.private, try.ev))
		if !strings.Contains(got, try.want) {
			t.Errorf("%s: %+v: got %q, want %q", try.who, try.ev, got, try.want)
		}
		if after := raw(t, g); !bytes.Equal(before, after) {
			t.Errorf("%s: %+v refused, but the network changed:\n%s\nwas\n%s", try.who, try.ev, after, before)
		}
	}
	if c := g.Conv(g.Channel); c.Records[network.Kind] != "net00001" {
		t.Errorf("the channel's record: %q, want it still linked", c.Records[network.Kind])
	}
	if n := record(t, g); len(n.Reports) != 0 {
		t.Errorf("reports %v after a member's refused /network report, want none", n.Reports)
	}
}

// TestNamesOnlyToLeads: a member sees the network in counts, a
// coordinator and a moderator by name; in the group everyone sees counts.
func TestNamesOnlyToLeads(t *testing.T) {
	g := setup(t)
	for _, who := range []string{"anna", "bert"} {
		if got := said(g.Event(who, true, bot.Event{Text: "/network"})); !strings.Contains(got, "Anna") || !strings.Contains(got, "Carl") {
			t.Errorf("%s's /network: %q, want the names", who, got)
		}
	}
	for _, try := range []struct {
		who     string
		private bool
	}{{"carl", true}, {"anna", false}} {
		got := said(g.Event(try.who, try.private, bot.Event{Text: "/network"}))
		if strings.Contains(got, "Anna") || strings.Contains(got, "Bert") || !strings.Contains(got, "Members: 1") {
			t.Errorf("%s's /network (private %v): %q, want counts without names", try.who, try.private, got)
		}
	}
}

// TestLastCoordinator: the only coordinator can neither demote herself
// nor leave (with others left), and the network is unchanged; once she
// has made Bert coordinator, she can leave, and Bert coordinates.
func TestLastCoordinator(t *testing.T) {
	g := setup(t)
	self := cardActions(t, g, 1)
	for _, ev := range []bot.Event{{Action: self[0]}, {Action: self[1]}, {Action: "nw:net00001:leave:yes"}} {
		before := raw(t, g)
		if got := said(g.Event("anna", true, ev)); !strings.Contains(got, "only coordinator") {
			t.Errorf("anna %+v: %q, want the last coordinator refused", ev, got)
		}
		if !bytes.Equal(before, raw(t, g)) {
			t.Errorf("anna %+v: the network changed", ev)
		}
	}
	bert := cardActions(t, g, 2)
	g.Event("anna", true, bot.Event{Action: bert[0]}) // make coordinator
	if got := said(g.Event("anna", true, bot.Event{Action: "nw:net00001:leave:yes"})); !strings.Contains(got, "You have left") {
		t.Fatalf("anna leaves after naming Bert: %q", got)
	}
	n := record(t, g)
	if len(n.Members) != 2 || n.Coordinators() != 1 || n.Members[0].Name != "Bert" || n.Members[0].Role != network.Coordinator {
		t.Errorf("after Anna left: %+v, want Bert coordinating and Carl", n.Members)
	}
	if id := g.Conv(g.Private("anna")).Records[network.Kind]; id != "" {
		t.Errorf("Anna's chat still knows network %q", id)
	}
}

// TestOneNetworkAcrossPlatforms: a member on Slack joins the network a
// Telegram coordinator created, with its code; both see the same
// network (the same counts), and the coordinator sees the Slack member by
// name.
func TestOneNetworkAcrossPlatforms(t *testing.T) {
	g := setup(t)
	slack := &bottest.Recorder{Name: "slack", Prefix: "/ampel"}
	g.Engine.Register(slack)
	ctx := context.Background()
	ev := func(text string) string {
		t.Helper()
		err := g.Engine.Handle(ctx, bot.Event{ID: "s" + text, Text: text, UserName: "Sam", LangHint: "en",
			Addr: bot.Address{Platform: "slack", Workspace: "T1", Chat: "DSAM", User: "USAM"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Engine.Settle(ctx); err != nil {
			t.Fatal(err)
		}
		return said(slack.Take())
	}
	if got := ev("/join join000001"); !strings.Contains(got, "Welcome to “Net”") {
		t.Fatalf("Sam on Slack joins: %q", got)
	}
	sam := ev("/network")
	carl := said(g.Event("carl", true, bot.Event{Text: "/network"}))
	for _, want := range []string{"Coordination: 1", "Moderation: 1", "Members: 2", "Linked channels (1): Telegram group"} {
		if !strings.Contains(sam, want) || !strings.Contains(carl, want) {
			t.Errorf("want %q for both; Sam on Slack sees\n%s\nCarl on Telegram sees\n%s", want, sam, carl)
		}
	}
	if got := said(g.Event("anna", true, bot.Event{Text: "/network"})); !strings.Contains(got, "Members (2): Carl, Sam") {
		t.Errorf("Anna's page: %q, want Sam among the members", got)
	}
	n := record(t, g)
	if m := n.Members[len(n.Members)-1]; m.Chat != (bot.Address{Platform: "slack", Workspace: "T1", User: "USAM"}) || m.DM.Chat != "DSAM" {
		t.Errorf("Sam's member entry: %+v, want his Slack user and DM", m)
	}
}

// TestReportAndWarning: the report counts the meetings of its year (held,
// planned, not cancelled; the yes answers of those held), members by
// role, organisations by kind and the checks members finished that year,
// and records the year; the rules panel reflects the meetings.
func TestReportAndWarning(t *testing.T) {
	g := setup(t)
	// Carl finishes a check in his private chat.
	g.Event("carl", true, bot.Event{Text: "/check zo-kmu"})
	for i := 0; i < 40 && !g.Conv(g.Private("carl")).Run.Finished(); i++ {
		g.Event("carl", true, bot.Event{Text: "1"})
	}
	if !g.Conv(g.Private("carl")).Run.Finished() {
		t.Fatal("Carl's check did not finish")
	}
	// Meetings as package meeting keeps them: two held (one cancelled
	// besides), one planned, one the year before.
	now := g.Clock.Now()
	at := func(days int) time.Time { return now.Add(time.Duration(days) * 24 * time.Hour).UTC() }
	n := record(t, g)
	n.Meetings = []network.MeetingRef{{ID: "m0", Start: at(-400)}, {ID: "m1", Start: at(-20)}, {ID: "m2", Start: at(-10)},
		{ID: "m3", Start: at(-5), Cancelled: true}, {ID: "m4", Start: at(30)}}
	put(t, g, n)
	// Their answers, as the meetings' own records count them.
	for id, yes := range map[string]int{"m0": 9, "m1": 5, "m2": 7, "m3": 3, "m4": 4} {
		err := g.Engine.Do(context.Background(), "yes-"+id, func(tx *bot.Tx) error {
			return tx.Put(network.MeetingKind, id, map[string]any{"id": id, "yes": yes})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	got := said(g.Event("anna", true, bot.Event{Text: "/network report 2027"}))
	for _, want := range []string{"Activity report 2027 – Net", "Meetings: 2 held, 1 still planned", "Attendance: 12", "Members: 3 (coordination 1, moderation 1, members 1)", "Checks completed by members: 1 · members who completed one: 1"} {
		if !strings.Contains(got, want) {
			t.Errorf("report: want %q in\n%s", want, got)
		}
	}
	if n := record(t, g); len(n.Reports) != 1 || n.Reports[0] != 2027 {
		t.Errorf("reports %v, want [2027]", n.Reports)
	}
	rules := said(g.Event("bert", true, bot.Event{Text: "/network rules"}))
	if !strings.Contains(rules, "✅ At least 2 meetings in 2027: 2 held, 1 planned") || !strings.Contains(rules, "✅ Activity report for 2027: yes") || !strings.Contains(rules, "❌ At least 3 intermediary") {
		t.Errorf("rules: %s", rules)
	}
	if strings.Contains(rules+got, "🔴") || strings.Contains(rules+got, "Urgent") {
		t.Errorf("a member's answers show in the report or rules")
	}
}

// TestRulesWarningMonthly: a year on the clock, the bot itself warns the
// coordinator, in her private chat and never the moderator or a member,
// that fewer than two meetings are held or planned this year: once a
// month at most, 12 times at most, not during her pause (the warning comes
// the day after it); an engine started anew on the same records (a
// restart, firing again what was due) warns nobody twice; once two
// meetings are planned, no more.
func TestRulesWarningMonthly(t *testing.T) {
	g := setup(t)
	g.Take()
	ctx := context.Background()
	var at []time.Time // Anna's warnings
	// The clock goes on an hour at a time, firing what is due.
	run := func(e *bot.Engine, until time.Time) {
		t.Helper()
		for g.Clock.Now().Before(until) {
			g.Clock.Add(time.Hour)
			if _, err := e.RunDue(ctx, g.Clock.Now()); err != nil {
				t.Fatal(err)
			}
			bottest.Settle(t, e)
			for _, s := range g.Take() {
				if !strings.Contains(s.Msg.Text, "rules ask for at least 2") {
					continue
				}
				if s.To.Chat != g.PrivateChat("anna") || !strings.HasPrefix(s.Msg.Text, "🔔 Network Net\n") {
					t.Errorf("warning sent to %+v: %q; want Anna's private chat, with the network's name", s.To, s.Msg.Text)
				}
				at = append(at, g.Clock.Now())
			}
		}
	}
	start := g.Clock.Now()
	run(g.Engine, start.Add(40*24*time.Hour))
	if len(at) != 2 {
		t.Fatalf("%d warnings in 40 days, want 2 (the day after the network was made, a month later)", len(at))
	}
	// Anna pauses until day 75: the warning due on day 62 comes on day 76.
	err := g.Engine.Do(ctx, "pause-anna", func(tx *bot.Tx) error {
		c, err := tx.Conversation(g.Private("anna"))
		c.Pause = start.Add(75 * 24 * time.Hour).Format(bot.DayLayout)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	run(g.Engine, start.Add(80*24*time.Hour))
	if len(at) != 3 || at[2].Before(start.Add(76*24*time.Hour)) {
		t.Fatalf("warnings at %v; want the third the day after her pause", at)
	}
	// A restart: a second engine on the same records fires again what the
	// first had due, and goes on.
	g.Engine.Close()
	catalog, texts := bottest.Content(t)
	e2, err := bot.New(bot.Config{Store: g.Store, Flows: catalog, Texts: texts, Clock: g.Clock, Zone: bottest.Zone("Europe/Berlin"), Features: features.All()})
	if err != nil {
		t.Fatal(err)
	}
	e2.Register(g.Rec)
	t.Cleanup(e2.Close)
	if _, err := e2.RunDue(ctx, g.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	run(e2, start.Add(300*24*time.Hour))
	for i := 1; i < len(at); i++ {
		if at[i].Sub(at[i-1]) < 28*24*time.Hour {
			t.Errorf("warned at %s and again at %s", at[i-1].Sub(start), at[i].Sub(start))
		}
	}
	// Two meetings planned this year: no more warnings.
	n := record(t, g)
	year := g.Clock.Now().Year()
	n.Meetings = []network.MeetingRef{{ID: "m1", Start: time.Date(year, 12, 1, 17, 0, 0, 0, time.UTC)}, {ID: "m2", Start: time.Date(year, 12, 8, 17, 0, 0, 0, time.UTC)}}
	before := len(at)
	err = e2.Do(ctx, "two-meetings", func(tx *bot.Tx) error { return network.Put(tx, n) })
	if err != nil {
		t.Fatal(err)
	}
	run(e2, start.Add(365*24*time.Hour))
	if len(at) != before {
		t.Errorf("%d warnings with two meetings planned, want none", len(at)-before)
	}
	if len(at) > 12 {
		t.Errorf("%d warnings in a year, want at most 12", len(at))
	}
	t.Logf("warnings on days %v", func() (d []int) {
		for _, x := range at {
			d = append(d, int(x.Sub(start)/(24*time.Hour)))
		}
		return d
	}())
}

// put stores n as the network's record, as another feature would.
func put(t *testing.T, g *dialogtest.Group, n *network.Network) {
	t.Helper()
	err := g.Engine.Do(context.Background(), "put-"+g.Clock.Now().String(), func(tx *bot.Tx) error { return network.Put(tx, n) })
	if err != nil {
		t.Fatal(err)
	}
}

// TestOrganisations: a coordinator ties a member to an organisation (a
// new one, with its kind); the member sees it on their page, and the
// rules count intermediary organisations by kind.
func TestOrganisations(t *testing.T) {
	g := setup(t)
	carl := cardActions(t, g, 3)
	g.Event("anna", true, bot.Event{Action: carl[2]}) // organisation
	g.Event("anna", true, bot.Event{Action: g.Button("anna", 1)})
	g.Event("anna", true, bot.Event{Text: "Chamber of Crafts"})
	if got := said(g.Event("anna", true, bot.Event{Action: g.Button("anna", 1)})); !strings.Contains(got, "Carl belongs to Chamber of Crafts.") {
		t.Fatalf("Anna sets Carl's organisation: %q", got)
	}
	if got := said(g.Event("carl", true, bot.Event{Text: "/network"})); !strings.Contains(got, "Your role: member · Chamber of Crafts") || !strings.Contains(got, "Organisations: 1 (intermediary: 1)") {
		t.Errorf("Carl's page: %q, want his organisation", got)
	}
	n := record(t, g)
	if len(n.Orgs) != 1 || n.Orgs[0].Kind != network.Intermediary || n.Members[2].Org != n.Orgs[0].ID {
		t.Errorf("orgs %+v, Carl's org %q; want one intermediary organisation, Carl's", n.Orgs, n.Members[2].Org)
	}
}

// TestCodesRefusedWithoutChange: a revoked, an expired and an unknown
// code are each answered with what happened to it, and nobody joins.
func TestCodesRefusedWithoutChange(t *testing.T) {
	g := setup(t)
	g.Event("anna", true, bot.Event{Action: "nw:net00001:new:0"}) // join000002, no expiry; join000001 revoked
	g.Event("anna", true, bot.Event{Action: "nw:net00001:new:30"})
	g.Clock.Add(31 * 24 * time.Hour)
	for code, want := range map[string]string{"join000001": "has been revoked", "join000003": "expired on", "join000002": "has been revoked", "zzz": "I do not know this code"} {
		before := raw(t, g)
		if got := said(g.Event("dora", true, bot.Event{Text: "/join " + code})); !strings.Contains(got, want) {
			t.Errorf("/join %s: %q, want %q", code, got, want)
		}
		if !bytes.Equal(before, raw(t, g)) {
			t.Errorf("/join %s refused, but the network changed", code)
		}
	}
	if id := g.Conv(g.Private("dora")).Records[network.Kind]; id != "" {
		t.Errorf("Dora's chat knows network %q", id)
	}
}

// TestSeveralNetworks: a person may belong to several networks. Anna
// coordinates "Net" and joins Bert's "Other", where Bert makes her
// moderator: /link in a channel asks which of the two (a member of the
// channel who leads neither cannot answer for her), /network shows the
// network she works in now with a button to switch, and leaving one
// leaves her in the other.
func TestSeveralNetworks(t *testing.T) {
	g := setup(t)
	g.Play(`[@bert] > /network new
[@bert] > Other
[@bert] ~ press 1
[@bert] ~ press 2
[@bert] ~ press 1
[@anna] > /join join000002
[@bert] > /network
[@bert] ~ press 1`)
	other := bot.RecordRef{Kind: network.Kind, ID: "net00002"}
	// Bert's members list in Other: Bert, Anna.
	g.Event("bert", true, bot.Event{Action: g.Button("bert", 2)})
	g.Event("bert", true, bot.Event{Action: g.Button("bert", 2)}) // make moderator
	ch := bot.Address{Platform: g.Channel.Platform, Workspace: g.Channel.Workspace, Chat: "second-channel"}
	ask := said(g.Event("anna", false, bot.Event{Text: "/link"}))
	if !strings.Contains(ask, "Which network should this group be linked to?") || len(g.Sent) == 0 {
		t.Fatalf("/link by a lead of two networks: %q, want the question", ask)
	}
	// The question came to the channel of setup; Anna's answer there.
	pick := g.Button("#", 1)
	if !strings.HasPrefix(pick, "nw:net00002:link") || !strings.HasPrefix(g.Button("#", 2), "nw:net00001:link") {
		t.Fatalf("buttons %q, %q; want Other's (where she works now), then Net's", pick, g.Button("#", 2))
	}
	before, _ := g.Store.Record(context.Background(), other)
	if got := said(g.Event("carl", false, bot.Event{Action: pick})); !strings.Contains(got, "not a member") {
		t.Errorf("Carl presses Anna's choice: %q, want refused", got)
	}
	if after, _ := g.Store.Record(context.Background(), other); !bytes.Equal(before, after) {
		t.Errorf("Carl's press changed Other")
	}
	if got := said(g.Event("anna", false, bot.Event{Action: pick})); !strings.Contains(got, "This group is linked to another network") {
		t.Errorf("Anna links setup's channel, linked to Net, to Other: %q, want it refused as linked elsewhere", got)
	}
	g.Channel = ch // a second channel, linked to neither
	g.Event("anna", false, bot.Event{Text: "/link"})
	if got := said(g.Event("anna", false, bot.Event{Action: g.Button("#", 1)})); !strings.Contains(got, "now linked to “Other”") {
		t.Errorf("Anna picks Other for the second channel: %q", got)
	}
	if id := g.Conv(ch).Records[network.Kind]; id != "net00002" {
		t.Errorf("the second channel's network: %q, want net00002", id)
	}
	page := said(g.Event("anna", true, bot.Event{Text: "/network"}))
	if !strings.Contains(page, "Network: Other") || !strings.Contains(page, "Your role: moderator") {
		t.Errorf("Anna's /network after joining Other: %q, want Other, where she moderates", page)
	}
	sw := g.Button("anna", len(g.Sent[len(g.Sent)-1].Msg.Flat()))
	if !strings.HasPrefix(sw, "nw:net00001:use") {
		t.Fatalf("last button %q, want the switch to Net", sw)
	}
	sent := g.Event("anna", true, bot.Event{Action: sw})
	if got := said(sent); !strings.Contains(got, "Network: Net\n") || len(sent) != 1 || sent[0].Msg.Flat()[len(sent[0].Msg.Flat())-1].Label != "Switch to Other" {
		t.Errorf("switched: %q %+v, want Net's page with a switch to Other", got, sent)
	}
	if id := g.Conv(g.Private("anna")).Records[network.Kind]; id != "net00001" {
		t.Errorf("Anna works in %q, want net00001", id)
	}
	g.Event("anna", true, bot.Event{Action: "nw:net00002:leave:yes"})
	c := g.Conv(g.Private("anna"))
	if c.Records[network.Kind] != "net00001" || c.Records[network.ListKey] != "net00001" {
		t.Errorf("after leaving Other: records %v, want Net alone", c.Records)
	}
}
