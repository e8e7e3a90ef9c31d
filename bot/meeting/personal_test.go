package meeting_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/meeting"
	"github.com/ampel-bot/ampel/bot/network"
)

// TestDeleteTakesAnswersOut: a member who deletes their data is taken
// out of the meeting they said yes to: their answer record is gone, the
// count drops, their place goes to the first waiting, who is told, and no
// meeting record names them any more; /export before showed their answer.
func TestDeleteTakesAnswersOut(t *testing.T) {
	g := newGroup(t, "de", "anna", "bert", "carl")
	g.Play(announceLines("anna", "1"))
	g.Event("bert", true, bot.Event{Action: g.Button("bert", 1)}) // yes: the one place
	g.Event("carl", true, bot.Event{Action: g.Button("carl", 1)}) // yes: waiting
	if m := storedMeeting(t, g, "meet0001"); m.Yes != 1 || len(m.Waiting) != 1 {
		t.Fatalf("before: %d yes, waiting %v; want bert's place and carl waiting", m.Yes, m.Waiting)
	}

	var export string
	for _, s := range g.Event("bert", true, bot.Event{Text: "/export"}) {
		for _, f := range s.Msg.Files {
			export += string(f.Data)
		}
	}
	if !strings.Contains(export, `"meeting": "meet0001"`) || !strings.Contains(export, `"answer": "yes"`) {
		t.Errorf("bert's export lacks his answer:\n%s", export)
	}

	g.Event("bert", true, bot.Event{Text: "/delete"})
	sent := g.Event("bert", true, bot.Event{Text: "Ja, alles löschen"})
	m := storedMeeting(t, g, "meet0001")
	if m.Yes != 1 || len(m.Waiting) != 0 {
		t.Errorf("after bert's /delete: %d yes, waiting %v; want carl in his place", m.Yes, m.Waiting)
	}
	told := false
	for _, s := range sent {
		told = told || (s.To.User == "carl" || s.To.Chat == "carl") && strings.Contains(s.Msg.Text, "Platz")
	}
	if !told {
		t.Error("carl was not told he has the place")
	}
	if r := record(t, g, meeting.KindRSVP, "meet0001|"+g.Channel.Platform+"/"+g.Channel.Workspace+"/@bert"); r != "" {
		t.Errorf("bert's answer is still stored: %s", r)
	}
	for _, kind := range []string{meeting.Kind, meeting.KindTo} {
		if r := record(t, g, kind, "meet0001"); strings.Contains(r, `"bert"`) || strings.Contains(r, "@bert") || strings.Contains(r, "Bert") {
			t.Errorf("%s record still names bert: %s", kind, r)
		}
	}
}

// TestRetentionExpiresMeetings: the retention sweep deletes a meeting
// that ended longer ago than the retention, with every answer to it; the
// network keeps the meeting's title and date for its history.
func TestRetentionExpiresMeetings(t *testing.T) {
	g := newGroup(t, "de", "anna", "bert")
	g.Play(announceLines("anna", ""))
	g.Event("bert", true, bot.Event{Action: g.Button("bert", 1)})
	key := "meet0001|" + g.Channel.Platform + "/" + g.Channel.Workspace + "/@bert"
	ctx := context.Background()
	sweep := func() {
		t.Helper()
		if _, err := g.Engine.Sweep(ctx, g.Clock.Now().AddDate(0, -24, 0)); err != nil {
			t.Fatal(err)
		}
	}
	g.Clock.Set(g.Clock.Now().AddDate(0, 23, 0))
	sweep()
	if record(t, g, meeting.Kind, "meet0001") == "" || record(t, g, meeting.KindRSVP, key) == "" {
		t.Fatal("a meeting held 23 months ago is gone; the retention is 24")
	}
	g.Clock.Set(g.Clock.Now().AddDate(0, 2, 0))
	sweep()
	for _, k := range [][2]string{{meeting.Kind, "meet0001"}, {meeting.KindRSVP, key}, {meeting.KindTo, "meet0001"}} {
		if r := record(t, g, k[0], k[1]); r != "" {
			t.Errorf("after 25 months, %s/%s is still stored: %s", k[0], k[1], r)
		}
	}
	if n := record(t, g, network.Kind, "net1"); !strings.Contains(n, "Netzwerktreffen") {
		t.Errorf("the network lost the meeting's summary: %s", n)
	}
}
