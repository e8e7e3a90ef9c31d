package check_test

import (
	"bytes"
	"context"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/check"
	"github.com/ampel-bot/ampel/bot/dialogtest"
	"github.com/ampel-bot/ampel/bot/export"
)

// result is the last message of a reply: the result, if one was asked.
func result(t *testing.T, sent []bottest.Sent) bot.Message {
	t.Helper()
	if len(sent) == 0 {
		t.Fatal("no reply")
	}
	return sent[len(sent)-1].Msg
}

// picture is the picture of the conversation's run as export draws it for
// the chat, compared with prev if given.
func picture(t *testing.T, h *dialogtest.Chat, lang string, prev *bot.Run) bot.File {
	t.Helper()
	catalog, texts := bottest.Content(t)
	c := h.Conv()
	f, _ := catalog.Get(c.Run.Flow)
	want, err := export.Picture(export.Input{Texts: texts, Lang: lang, Zone: bottest.Zone("Europe/Berlin"),
		Now: h.Clock.Now(), Flow: f, Run: c.Run, Prev: prev})
	if err != nil {
		t.Fatal(err)
	}
	return want
}

// onePicture checks that m carries the text and one PNG, the picture want.
func onePicture(t *testing.T, what string, m bot.Message, want bot.File) {
	t.Helper()
	if len(m.Files) != 1 {
		t.Fatalf("%s: %d files, want the result picture", what, len(m.Files))
	}
	f := m.Files[0]
	if f.MIME != "image/png" || !strings.HasSuffix(f.Name, ".png") {
		t.Errorf("%s: file %q (%s), want a PNG", what, f.Name, f.MIME)
	}
	if _, err := png.Decode(bytes.NewReader(f.Data)); err != nil {
		t.Errorf("%s: the picture does not decode: %v", what, err)
	}
	if f.Name != want.Name || !bytes.Equal(f.Data, want.Data) {
		t.Errorf("%s: the picture (%s, %d bytes) is not the result's (%s, %d bytes)", what, f.Name, len(f.Data), want.Name, len(want.Data))
	}
}

// TestResultCarriesPicture: the result of a check comes with its picture
// beside the text when the check is finished, when an answer is changed
// and when the result is looked at again with /check; the result asked
// again on the way (after a typed slip) is text alone.
func TestResultCarriesPicture(t *testing.T) {
	for _, lang := range []string{"de", "en"} {
		_, texts := bottest.Content(t)
		h := dialogtest.New(t, 0)
		h.Lang = lang
		h.Say("/check zo-kmu")
		for _, a := range []string{"1", "2", "3", "3", "3", "3"} {
			h.Say(a)
		}
		m := result(t, h.Send(bot.Event{Text: "3"}))
		if !strings.Contains(m.Text, texts.T(lang, "summary.title", "Title", texts.T(lang, "zo-kmu.title"))) {
			t.Fatalf("%s: after the last answer: got %q, want the result", lang, m.Text)
		}
		onePicture(t, lang+": finished", m, picture(t, h, lang, nil))

		if m := result(t, h.Send(bot.Event{Text: "vielleicht später"})); len(m.Files) != 0 || len(m.Buttons) == 0 {
			t.Errorf("%s: a slip at the result: %d files with %q, want the result again without its picture", lang, len(m.Files), m.Text)
		}

		// Change the first answer from red to green: a new picture.
		h.Say(texts.T(lang, "button.change"))
		h.Say("1")
		m = result(t, h.Send(bot.Event{Text: "3"}))
		if got := h.Conv().Run.Ratings["nutzen"]; got != "green" {
			t.Fatalf("%s: changed answer is %q, want green", lang, got)
		}
		onePicture(t, lang+": answer changed", m, picture(t, h, lang, nil))

		h.Clock.Add(24 * time.Hour)
		onePicture(t, lang+": /check", result(t, h.Send(bot.Event{Text: "/check"})), picture(t, h, lang, nil))
	}
}

// TestRepeatedResultSaysWhatChanged: a check repeated a month later shows
// per checkpoint what changed since the last run, in the text (better or
// worse, with the rating before, and a line with the date compared with
// and the counts) and in the picture (drawn with the previous run).
func TestRepeatedResultSaysWhatChanged(t *testing.T) {
	_, texts := bottest.Content(t)
	h := dialogtest.New(t, 0)
	h.Say("/check zo-kmu")
	for _, a := range []string{"1", "2", "3", "3", "3", "3", "1"} {
		h.Say(a)
	}
	h.Clock.Add(30 * 24 * time.Hour)
	h.Say("/check")
	h.Say(texts.T("de", "button.repeat"))
	h.Say(texts.T("de", "button.repeat.yes"))
	// Better on 1 (red → green) and 7 (red → yellow), worse on 3 (green →
	// red), the same elsewhere.
	for _, a := range []string{"3", "2", "1", "3", "3", "3"} {
		h.Say(a)
	}
	m := result(t, h.Send(bot.Event{Text: "2"}))
	c := h.Conv()
	if len(c.History) != 1 {
		t.Fatalf("history: %d runs, want the first one kept", len(c.History))
	}
	for _, want := range []string{
		"Verglichen mit dem Check vom Mi, 10.03.2027: 2 besser, 1 schlechter, 4 gleich.",
		"• Strategischer Nutzen (besser, vorher 🔴)",
		"• Zusammenarbeit planen (schlechter, vorher 🟢)",
		"• Interne Organisation der Zusammenarbeit (besser, vorher 🔴)",
		"• Möglichkeiten der Zusammenarbeit\n",
	} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("repeated result lacks %q:\n%s", want, m.Text)
		}
	}
	onePicture(t, "repeated", m, picture(t, h, "de", &c.History[0]))
	if plain := picture(t, h, "de", nil); bytes.Equal(plain.Data, m.Files[0].Data) {
		t.Error("the repeated result's picture shows no change since the last run")
	}
}

// TestNoPictureWhereNoFiles: on a platform that shows no files (an adapter
// that is no bot.FileAdapter), the result is its text alone, as before.
func TestNoPictureWhereNoFiles(t *testing.T) {
	h := dialogtest.New(t, 0)
	h.Rec.ShowsFiles = false
	h.Say("/check zo-kmu")
	for _, a := range []string{"1", "2", "3", "3", "3", "3"} {
		h.Say(a)
	}
	m := result(t, h.Send(bot.Event{Text: "3"}))
	if !strings.HasPrefix(m.Text, "Ergebnis") || len(m.Files) != 0 {
		t.Errorf("result without files: got %d files with %q, want the text alone", len(m.Files), m.Text)
	}
}

// committing records the files of every message committed.
type committing struct {
	*bottest.MemStore
	files []bot.File
}

func (s *committing) Commit(ctx context.Context, eventID, key string, conv *bot.Conversation, outs []bot.Outgoing) ([]bot.Queued, error) {
	for _, o := range outs {
		s.files = append(s.files, o.Msg.Files...)
	}
	return s.MemStore.Commit(ctx, eventID, key, conv, outs)
}

func (s *committing) CommitBatch(ctx context.Context, b *bot.Batch) ([]bot.Queued, error) {
	for _, o := range b.Outs {
		s.files = append(s.files, o.Msg.Files...)
	}
	return s.MemStore.CommitBatch(ctx, b)
}

// TestPictureDrawnWhenSent: the result picture is drawn when the result is
// sent, not while the answer is taken: the answer's commit (the turn the
// user waits for, and the database) holds what the picture is drawn from,
// a kilobyte or two, and the chat gets the picture. A picture whose check
// is gone by the time it is sent is left out; the text still comes.
func TestPictureDrawnWhenSent(t *testing.T) {
	store := &committing{MemStore: bottest.NewMemStore()}
	h := dialogtest.New(t, 0, func(c *bot.Config) { c.Store = store })
	h.Say("/check zo-kmu")
	for _, a := range []string{"1", "2", "3", "3", "3", "3"} {
		h.Say(a)
	}
	m := result(t, h.Send(bot.Event{Text: "3"}))
	onePicture(t, "finished", m, picture(t, h, "de", nil))
	if len(store.files) != 1 {
		t.Fatalf("%d files committed, want the picture", len(store.files))
	}
	if f := store.files[0]; f.Make != check.MakePicture || len(f.Data) != 0 || len(f.Spec) > 4096 {
		t.Errorf("committed: maker %q, %d bytes of picture, %d bytes of spec; want the spec alone", f.Make, len(f.Data), len(f.Spec))
	}

	gone := bot.Message{Text: "Ergebnis", Files: []bot.File{{Name: "x.png", MIME: "image/png", Make: check.MakePicture, Spec: []byte(`{"flow":"weg","run":{}}`)}}}
	if err := h.Engine.Do(context.Background(), "gone-picture", func(tx *bot.Tx) error {
		tx.Send(h.Addr, gone)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sent := h.Take()
	if len(sent) != 1 || sent[0].Msg.Text != "Ergebnis" || len(sent[0].Msg.Files) != 0 {
		t.Errorf("a picture whose check is gone: sent %+v, want the text alone", sent)
	}
}
