package team_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/dialogtest"
	"github.com/ampel-bot/ampel/bot/team"
)

// members are the users of the tests' channel; anna starts the run.
var members = []string{"anna", "bert", "cem"}

// started is a channel where anna started a team check of zo-kmu and
// every member joined.
func started(t *testing.T) *dialogtest.Group {
	t.Helper()
	g := dialogtest.NewGroup(t, &bottest.Recorder{Name: "slack"})
	g.Event("anna", false, bot.Event{Text: "/team zo-kmu"})
	for _, u := range members {
		g.Event(u, false, bot.Event{Action: g.Button("#", 1)})
	}
	return g
}

// code is the channel's team run.
func code(t *testing.T, g *dialogtest.Group) string {
	t.Helper()
	c := g.Conv(g.Channel).Records[team.Kind]
	if c == "" {
		t.Fatal("the channel has no team run")
	}
	return c
}

// run is the channel's team run as stored.
func run(t *testing.T, g *dialogtest.Group) team.Run {
	t.Helper()
	var r team.Run
	data, err := g.Store.Record(context.Background(), bot.RecordRef{Kind: team.Kind, ID: code(t, g)})
	if err != nil || data == nil {
		t.Fatalf("the run's record: %v (%d bytes)", err, len(data))
	}
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// state is everything the group has stored: the run's record, the
// channel's conversation and each member's private chat (as its events
// come and as the bot writes to it).
func state(t *testing.T, g *dialogtest.Group) string {
	t.Helper()
	ctx := context.Background()
	data, err := g.Store.Record(ctx, bot.RecordRef{Kind: team.Kind, ID: code(t, g)})
	if err != nil {
		t.Fatal(err)
	}
	parts := []string{string(data)}
	addrs := []bot.Address{g.Channel}
	for _, u := range append(members, "dora") {
		addrs = append(addrs, g.Private(u), bot.Address{Platform: g.Channel.Platform, Workspace: g.Channel.Workspace, User: u})
	}
	for _, a := range addrs {
		c, err := g.Store.Load(ctx, a.Key())
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, string(b))
	}
	return strings.Join(parts, "\n")
}

// texts is what was sent, as one text.
func texts(sent []bottest.Sent) string {
	var b strings.Builder
	for _, s := range sent {
		b.WriteString(s.Msg.Text + "\n")
	}
	return b.String()
}

// rateAll has user rate every checkpoint of zo-kmu with level (1 to 3),
// starting from the question the bot wrote to them.
func rateAll(g *dialogtest.Group, user string, level int) {
	g.Event(user, true, bot.Event{Action: g.Button(user, level)})
	for range 6 {
		g.Event(user, true, bot.Event{Text: string(rune('0' + level))})
	}
}

// TestOnlyTheFacilitator: whoever is not the facilitator and presses or
// types what only the facilitator may do (close, remind, cancel, hand
// the role on, take a member's ratings out, settle, cancel the settling)
// hears who may, and nothing stored changes: the run's record and every
// conversation are the same bytes before and after.
func TestOnlyTheFacilitator(t *testing.T) {
	g := started(t)
	rateAll(g, "anna", 1)
	rateAll(g, "bert", 3)
	g.Event("cem", true, bot.Event{Action: g.Button("cem", 2)}) // one rating
	g.Event("anna", false, bot.Event{Text: "/team status"})
	remind, closeAction := g.Button("#", 2), g.Button("#", 3)
	lead := "Anna"
	refused := func(name string, ev bot.Event) {
		t.Helper()
		before := state(t, g)
		got := texts(g.Event("bert", false, ev))
		if !strings.Contains(got, "("+lead+")") {
			t.Errorf("%s by bert: got %q, want the refusal naming the facilitator", name, got)
		}
		if after := state(t, g); after != before {
			t.Errorf("%s by bert changed what is stored:\nbefore %s\nafter  %s", name, before, after)
		}
	}
	refused("remind the others", bot.Event{Action: remind})
	refused("close the rating", bot.Event{Action: closeAction})
	for _, cmd := range []string{"/team close", "/team cancel", "/team remind", "/team facilitator", "/team facilitator Bert"} {
		refused(cmd, bot.Event{Text: cmd})
	}
	// cem leaves; the button to take his rating out is the facilitator's.
	g.Event("cem", false, bot.Event{Left: true})
	refused("don't count them", bot.Event{Action: g.Button("#", 1)})

	g.Event("anna", false, bot.Event{Text: "/team close"})
	if r := run(t, g); r.State != team.Settling {
		t.Fatalf("after anna's /team close: state %q, want settling", r.State)
	}
	settle := g.Button("#", 1)
	refused("settling by a button", bot.Event{Action: settle})
	refused("settling by its number", bot.Event{Text: "1"})
	refused("settling by a colour", bot.Event{Text: "red"})
	refused("/cancel while settling", bot.Event{Text: "/cancel"})
	refused("/team cancel while settling", bot.Event{Text: "/team cancel"})

	// The facilitator's own press is taken.
	g.Event("anna", false, bot.Event{Action: settle})
	if r := run(t, g); len(r.Settled) != 1 {
		t.Errorf("anna's settling: got %v settled, want one", r.Settled)
	}
}

// TestSomeoneElsesButton: a member's private button pressed by another
// person (forwarded, or sent to the wrong chat) is explained, and changes
// neither the run nor either private chat.
func TestSomeoneElsesButton(t *testing.T) {
	g := started(t)
	berts := g.Button("bert", 1)
	g.Event("cem", true, bot.Event{Action: g.Button("cem", 1)}) // cem's chat has begun
	before := state(t, g)
	got := texts(g.Event("cem", true, bot.Event{Action: berts}))
	if !strings.Contains(got, "jemand anderem") {
		t.Errorf("bert's button pressed by cem: got %q, want it refused", got)
	}
	if after := state(t, g); after != before {
		t.Errorf("bert's button pressed by cem changed what is stored:\nbefore %s\nafter  %s", before, after)
	}
	// Bert's own press counts.
	g.Event("bert", true, bot.Event{Action: berts})
	if r := run(t, g); len(r.Members[1].Run.Ratings) != 1 {
		t.Errorf("bert's own press: ratings %v, want one", r.Members[1].Run.Ratings)
	}
}

// TestClosedRating: once closed, a member's rating button and a join are
// refused, and the run keeps the ratings it closed with.
func TestClosedRating(t *testing.T) {
	g := started(t)
	rateAll(g, "anna", 1)
	cems := g.Button("cem", 3)
	g.Event("anna", false, bot.Event{Text: "/team close"})
	r0 := run(t, g)
	got := texts(g.Event("cem", true, bot.Event{Action: cems}))
	if !strings.Contains(got, "geschlossen") {
		t.Errorf("a rating after the close: got %q, want it refused", got)
	}
	got = texts(g.Event("dora", false, bot.Event{Text: "/team join"}))
	if !strings.Contains(got, "geschlossen") {
		t.Errorf("joining after the close: got %q, want it refused", got)
	}
	r1 := run(t, g)
	b0, _ := json.Marshal(r0)
	b1, _ := json.Marshal(r1)
	if string(b0) != string(b1) {
		t.Errorf("the run changed after the close:\nbefore %s\nafter  %s", b0, b1)
	}
}

// TestLeaving: a member who leaves the channel is dropped from the
// progress; their ratings count in the spread until the facilitator takes
// them out; a facilitator who leaves hands the role to the next member;
// and when everyone left in the channel has finished, the rating closes.
func TestLeaving(t *testing.T) {
	g := started(t)
	g.Event("cem", true, bot.Event{Action: g.Button("cem", 1)}) // cem rates one checkpoint red
	rateAll(g, "bert", 3)
	got := texts(g.Event("cem", false, bot.Event{Left: true}))
	if !strings.Contains(got, "Cem") {
		t.Errorf("cem leaving: got %q, want the channel told", got)
	}
	r := run(t, g)
	if !r.Members[2].Left || r.Members[2].Removed {
		t.Fatalf("cem after leaving: %+v, want left, ratings counted", r.Members[2])
	}
	got = texts(g.Event("anna", false, bot.Event{Left: true}))
	if r = run(t, g); r.Lead.ID != "bert" || !strings.Contains(got, "Bert") {
		t.Errorf("the facilitator leaving: lead %+v, said %q; want bert to take over", r.Lead, got)
	}
	// bert is the only member left and has finished: one is no team, the
	// rating stays open; bert closes it, and cem's red counts.
	if r.State != team.Rating {
		t.Errorf("with one member left: state %q, want still rating", r.State)
	}
	got = texts(g.Event("bert", false, bot.Event{Text: "/team close"}))
	if !strings.Contains(got, "🔴🟢 ") {
		t.Errorf("the spread after cem left: got %q, want his red beside bert's green", got)
	}
}

// TestPrivateTeam: /team in a private chat explains where a team check
// starts; a member who paused goes on with it there.
func TestPrivateTeam(t *testing.T) {
	g := started(t)
	got := texts(g.Event("dora", true, bot.Event{Text: "/team"}))
	if !strings.Contains(got, "in einer Gruppe") {
		t.Errorf("/team in a private chat: got %q, want where it starts", got)
	}
	g.Event("bert", true, bot.Event{Action: g.Button("bert", 2)})
	g.Event("bert", true, bot.Event{Text: "/cancel"})
	got = texts(g.Event("bert", true, bot.Event{Text: "/team"}))
	if !strings.Contains(got, "2/7") {
		t.Errorf("/team by a member who paused: got %q, want the second checkpoint", got)
	}
}

// TestStartLink: /start team_<code> in a private chat (a Telegram deep
// link) joins the run and asks the first checkpoint at once.
func TestStartLink(t *testing.T) {
	g := started(t)
	got := texts(g.Event("dora", true, bot.Event{Text: "/start team_" + code(t, g)}))
	if !strings.Contains(got, "1/7") {
		t.Errorf("/start team_<code>: got %q, want the first checkpoint", got)
	}
	if r := run(t, g); len(r.Members) != 4 || r.Members[3].ID != "dora" {
		t.Errorf("after the link: members %+v, want dora the fourth", r.Members)
	}
	got = texts(g.Event("dora", true, bot.Event{Text: "2"}))
	if !strings.Contains(got, "2/7") {
		t.Errorf("a typed answer after the link: got %q, want the next checkpoint", got)
	}
}

// TestHandOn: the facilitator hands the role on by name or mention, and
// the new facilitator closes.
func TestHandOn(t *testing.T) {
	g := started(t)
	g.Event("anna", false, bot.Event{Text: "/team facilitator Bert"})
	if r := run(t, g); r.Lead.ID != "bert" {
		t.Fatalf("after /team facilitator Bert: lead %+v", r.Lead)
	}
	g.Event("bert", false, bot.Event{Text: "/team facilitator <@cem>"}) // a mention, by ID
	if r := run(t, g); r.Lead.ID != "cem" {
		t.Fatalf("after /team facilitator <@cem>: lead %+v", r.Lead)
	}
	g.Event("cem", false, bot.Event{Text: "/team facilitator @bert"})
	rateAll(g, "cem", 2)
	g.Event("bert", false, bot.Event{Text: "/team close"})
	if r := run(t, g); r.State != team.Settling {
		t.Errorf("bert's /team close: state %q, want settling", r.State)
	}
}

// TestCancel: the facilitator calls the run off; members' buttons then
// say it is over, and /team starts afresh.
func TestCancel(t *testing.T) {
	g := started(t)
	berts := g.Button("bert", 1)
	g.Event("anna", false, bot.Event{Text: "/team cancel"})
	if got := texts(g.Event("bert", true, bot.Event{Action: berts})); !strings.Contains(got, "geschlossen") {
		t.Errorf("a member's button after the cancel: got %q", got)
	}
	if got := texts(g.Event("bert", false, bot.Event{Text: "/team zo-kmu"})); !strings.Contains(got, "Moderation: Bert") {
		t.Errorf("/team after the cancel: got %q, want a new run led by bert", got)
	}
}

// TestBotRemoved: the bot removed from the channel while members rate
// ends the run: it can post there no more, so each member still in the
// run hears it privately, in their own language, and their next press
// says the team check is over; nothing goes to the channel.
func TestBotRemoved(t *testing.T) {
	g := started(t)
	g.Event("cem", true, bot.Event{Action: g.Button("cem", 1)})
	id := code(t, g)
	sent := g.Event("", false, bot.Event{Left: true})
	var r team.Run
	data, err := g.Store.Record(context.Background(), bot.RecordRef{Kind: team.Kind, ID: id})
	if err != nil || json.Unmarshal(data, &r) != nil || r.State != team.Cancelled {
		t.Errorf("after the bot was removed: state %q (%v), want cancelled", r.State, err)
	}
	got := map[string]string{}
	for _, s := range sent {
		if s.To.Chat == g.Channel.Chat {
			t.Errorf("sent to the channel the bot was removed from: %q", s.Msg.Text)
			continue
		}
		got[s.To.User] += s.Msg.Text
	}
	for _, u := range members {
		if !strings.Contains(got[u], "Ampel wurde aus der Gruppe entfernt") {
			t.Errorf("%s was told %q, want that the team check ended", u, got[u])
		}
	}
	if _, ok := g.Conv(g.Channel).Records[team.Kind]; ok {
		t.Error("the channel still knows the run")
	}
	if got := texts(g.Event("cem", true, bot.Event{Action: g.Button("cem", 2)})); got == "" || strings.Contains(got, "2/7") {
		t.Errorf("cem's next press after the end: %q, want told it is over", got)
	}
}

// TestRefusalToldToTheAdapter: a press the team refuses (someone else's
// private button, the facilitator's button pressed by another member) is
// reported to the adapter as refused (bot.WithRefusal), which then leaves
// the pressed message and its buttons as they are; an accepted press, and
// the same press delivered again, are not.
func TestRefusalToldToTheAdapter(t *testing.T) {
	g := started(t)
	berts, closeRating := g.Button("bert", 1), g.Button("#", 3)
	press := func(user string, private bool, id, action string) bool {
		t.Helper()
		ev := bot.Event{ID: id, Action: action, Addr: g.In(user), Group: true, UserName: dialogtest.Name(user), LangHint: g.Lang}
		if private {
			ev.Addr, ev.Group = g.Private(user), false
		}
		ctx, refused := bot.WithRefusal(context.Background())
		if err := g.Engine.Handle(ctx, ev); err != nil {
			t.Fatal(err)
		}
		g.Take()
		return refused()
	}
	for _, c := range []struct {
		what, user string
		private    bool
		id, action string
		want       bool
	}{
		{"bert's button pressed by cem", "cem", true, "r1", berts, true},
		{"the facilitator's close pressed by bert", "bert", false, "r2", closeRating, true},
		{"bert's own button", "bert", true, "r3", berts, false},
		{"bert's press delivered again", "bert", true, "r3", berts, false},
	} {
		if got := press(c.user, c.private, c.id, c.action); got != c.want {
			t.Errorf("%s: refused %v, want %v", c.what, got, c.want)
		}
	}
}

// TestRetentionExpiresRuns: the retention sweep deletes a team run started
// longer ago than the retention, with its members' names; the channel
// keeps its conversation.
func TestRetentionExpiresRuns(t *testing.T) {
	g := started(t)
	id := code(t, g)
	ctx := context.Background()
	stored := func() []byte {
		b, err := g.Store.Record(ctx, bot.RecordRef{Kind: team.Kind, ID: id})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	g.Clock.Set(g.Clock.Now().AddDate(0, 23, 0))
	if _, err := g.Engine.Sweep(ctx, g.Clock.Now().AddDate(0, -24, 0)); err != nil || stored() == nil {
		t.Fatalf("a run started 23 months ago: %v, gone %v; the retention is 24", err, stored() == nil)
	}
	g.Clock.Set(g.Clock.Now().AddDate(0, 2, 0))
	if _, err := g.Engine.Sweep(ctx, g.Clock.Now().AddDate(0, -24, 0)); err != nil {
		t.Fatal(err)
	}
	if b := stored(); b != nil {
		t.Errorf("a run started 25 months ago is still stored: %s", b)
	}
}
