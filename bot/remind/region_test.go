package remind_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/dialogtest"
)

// TestRegionPerChannel: a team channel chooses its own region in
// /reminders; the person's private chat keeps theirs.
func TestRegionPerChannel(t *testing.T) {
	g := dialogtest.NewGroup(t, &bottest.Recorder{Name: "test"})
	g.Event("anna", true, bot.Event{Text: "/reminders"})
	g.Event("anna", true, bot.Event{Text: "5"})
	g.Event("anna", true, bot.Event{Text: "Sachsen"})
	g.Event("anna", false, bot.Event{Text: "/reminders"})
	g.Event("anna", false, bot.Event{Text: "5"})
	sent := g.Event("anna", false, bot.Event{Text: "Hessen"})
	if len(sent) == 0 || !strings.Contains(sent[len(sent)-1].Msg.Text, "Feiertage: Hessen") {
		t.Fatalf("in the channel: got %+v, want the region set", sent)
	}
	ctx := context.Background()
	channel, err := g.Engine.Load(ctx, g.Channel)
	if err != nil || channel.Region != "DE-HE" {
		t.Errorf("channel region: %q, %v; want DE-HE", channel.Region, err)
	}
	private, err := g.Engine.Load(ctx, g.Private("anna"))
	if err != nil || private.Region != "DE-SN" {
		t.Errorf("private region: %q, %v; want DE-SN", private.Region, err)
	}
}

// TestRegionSuggested: the picker opens on what the language or a zone
// the person set suggests: the German states for German, the countries
// with Vietnam first for a zone in Vietnam, whatever the language.
func TestRegionSuggested(t *testing.T) {
	h := dialogtest.New(t, 0)
	h.Say("/reminders")
	if out := h.Say("5"); !strings.Contains(out, "1) Baden-Württemberg") {
		t.Errorf("German, Europe/Berlin: %s", out)
	}
	h = dialogtest.New(t, 0)
	h.Say("/timezone Asia/Ho_Chi_Minh")
	h.Say("/reminders")
	if out := h.Say("5"); !strings.Contains(out, "1) Vietnam\n") {
		t.Errorf("German, Asia/Ho_Chi_Minh: %s", out)
	}
}

// TestExportHasRegion: /export names the region, the quiet hours and the
// pause: every setting of the person's reminders.
func TestExportHasRegion(t *testing.T) {
	h := dialogtest.New(t, 0)
	h.Say("/reminders")
	h.Say("5")
	h.Say("Anderes Land")
	h.Say("Indien")
	h.Say("/reminders")
	h.Say("4")
	h.Say("21-7")
	h.Say("/pause 15.8.")
	sent := h.Send(bot.Event{Text: "/export"})
	var doc bot.PersonalExport
	if len(sent) == 0 || len(sent[0].Msg.Files) != 1 || json.Unmarshal(sent[0].Msg.Files[0].Data, &doc) != nil ||
		doc.Profile.HolidayRegion != "IN" || doc.Profile.QuietHours == "" || doc.Profile.PausedUntil == "" {
		t.Errorf("/export: got %+v, want holiday_region IN, quiet hours and the pause", doc.Profile)
	}
}
