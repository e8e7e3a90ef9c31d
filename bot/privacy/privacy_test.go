package privacy_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/dialogtest"
)

// TestOnlyInPrivate: in a group, /export and /delete send no file and
// erase nothing; they say to write privately. The member's private chat
// and the group keep what they had.
func TestOnlyInPrivate(t *testing.T) {
	_, texts := bottest.Content(t)
	g := dialogtest.NewGroup(t, &bottest.Recorder{Name: "test", ShowsFiles: true})
	g.Event("anna", true, bot.Event{Text: "/timezone Asia/Tokyo"})
	g.Event("anna", true, bot.Event{Text: "/check zo-kmu"})
	for cmd, id := range map[string]string{"/export": "export.data.private", "/delete": "delete.private"} {
		sent := g.Event("anna", false, bot.Event{Text: cmd})
		if len(sent) != 1 || !strings.Contains(sent[0].Msg.Text, texts.T("de", id)) || len(sent[0].Msg.Files) > 0 {
			t.Errorf("%s in the group: got %+v, want only %q", cmd, sent, texts.T("de", id))
		}
	}
	c, err := g.Engine.Load(context.Background(), g.Private("anna"))
	if err != nil || c.TZ != "Asia/Tokyo" || c.Run == nil {
		t.Errorf("anna's private chat after /delete in the group: got %+v, %v, want it kept", c, err)
	}
}

// TestDeleteByTypedLabel: the confirmation's typed twin (its label, as
// typed) erases as the button does; the export before it is the person's
// JSON document.
func TestDeleteByTypedLabel(t *testing.T) {
	_, texts := bottest.Content(t)
	h := dialogtest.New(t, 0)
	h.Say("/timezone Asia/Tokyo")
	sent := h.Send(bot.Event{Text: "/export"})
	if len(sent) == 0 || len(sent[0].Msg.Files) != 1 || sent[0].Msg.Files[0].MIME != "application/json" {
		t.Fatalf("/export: got %+v, want one JSON file, then the question it interrupted", sent)
	}
	var doc bot.PersonalExport
	if err := json.Unmarshal(sent[0].Msg.Files[0].Data, &doc); err != nil || doc.Format != bot.ExportFormat || doc.Version != 1 ||
		doc.Person.User != h.Addr.User || doc.Profile.TimeZone != "Asia/Tokyo" || len(doc.Chats) != 1 || !doc.Chats[0].Private {
		t.Errorf("/export: got %+v (%v), want the person, their time zone and their private chat", doc, err)
	}
	h.Say("/delete")
	yes := bot.Event{ID: "yes-1", Text: texts.T("de", "button.delete.yes")}
	if got := h.Send(yes); len(got) != 1 || got[0].Msg.Text != texts.T("de", "delete.done") {
		t.Errorf("typed %q: got %+v, want the erasure confirmed", yes.Text, got)
	}
	if c := h.Conv(); c.TZ != "" || c.Addr != (bot.Address{}) {
		t.Errorf("after /delete: got %+v, want nothing stored", c)
	}
	// The platform delivers the confirmation again: it was handled.
	if got := h.Send(yes); len(got) != 0 {
		t.Errorf("the confirmation delivered again: got %+v, want nothing", got)
	}
	if c := h.Conv(); c.Addr != (bot.Address{}) || c.Dialog.Seq != 0 {
		t.Errorf("after the confirmation delivered again: got %+v, want nothing stored", c)
	}
}
