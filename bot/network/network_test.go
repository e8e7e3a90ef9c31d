package network_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/dialogtest"
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
