package team_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/dialogtest"
	"github.com/ampel-bot/ampel/bot/export"
)

// TestResultPictureShowsSpread: where the platform shows files, the team's
// result comes to the channel with its picture, and the picture shows how
// the members rated each checkpoint beside the settled light, as the
// facilitator saw it while settling, and says whose result it is.
func TestResultPictureShowsSpread(t *testing.T) {
	g := dialogtest.NewGroup(t, &bottest.Recorder{Name: "slack", ShowsFiles: true})
	g.Event("anna", false, bot.Event{Text: "/team zo-kmu"})
	for _, u := range members {
		g.Event(u, false, bot.Event{Action: g.Button("#", 1)})
	}
	rateAll(g, "anna", 1)
	rateAll(g, "bert", 3)
	rateAll(g, "cem", 3)
	var result *bot.Message
	for range 7 { // the facilitator settles each checkpoint green
		for _, s := range g.Event("anna", false, bot.Event{Action: g.Button("#", 3)}) {
			if len(s.Msg.Files) > 0 {
				result = &s.Msg
			}
		}
	}
	if result == nil {
		t.Fatal("the channel got no result picture")
	}
	c := g.Conv(g.Channel)
	if c.Run == nil || len(c.Run.Spread) != 7 {
		t.Fatalf("the channel's run keeps no spread: %+v", c.Run)
	}
	for id, n := range c.Run.Spread {
		if !slices.Equal(n, []int{1, 0, 2}) {
			t.Errorf("spread of %s: %v, want 1 red, 0 yellow, 2 green", id, n)
		}
	}
	catalog, texts := bottest.Content(t)
	f, _ := catalog.Get("zo-kmu")
	in := export.Input{Texts: texts, Lang: "de", Zone: bottest.Zone("Europe/Berlin"), Now: g.Clock.Now(), Flow: f, Run: c.Run}
	plain, err := export.Picture(in)
	if err != nil {
		t.Fatal(err)
	}
	in.Spread, in.Owner = c.Run.Spread, "Teamcheck mit 3 Mitgliedern"
	want, err := export.Picture(in)
	if err != nil {
		t.Fatal(err)
	}
	got := result.Files[0]
	if bytes.Equal(got.Data, plain.Data) {
		t.Error("the picture shows the settled lights without the members' spread")
	}
	if !bytes.Equal(got.Data, want.Data) || got.Name != want.Name {
		t.Errorf("the picture (%s, %d bytes) is not the team's result with its spread (%s, %d bytes)", got.Name, len(got.Data), want.Name, len(want.Data))
	}
}
