package telegram

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"testing"

	"github.com/ampel-bot/ampel/bot"
)

// pngOf is a white PNG of w×h pixels.
func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestFilesAsPhotoOrDocument: a message's picture goes out with sendPhoto,
// seen in the chat at once, as Telegram's photo limits allow (the fake
// decodes it and applies them); a PDF, a table, a picture too narrow for
// a photo or one that does not decode go with sendDocument. Each arrives
// whole, under its name, in the message's order, after the text.
func TestFilesAsPhotoOrDocument(t *testing.T) {
	e := newEnv(t, nil)
	picture := bot.File{Name: "ampel-ergebnis-2027-03-10.png", MIME: "image/png", Data: pngOf(t, 1000, 1400)}
	files := []bot.File{
		picture,
		{Name: "ampel-massnahmenplan-2027-03-10.pdf", MIME: "application/pdf", Data: []byte("%PDF-1.4\n%%EOF\n")},
		{Name: "ampel-massnahmenplan-2027-03-10.csv", MIME: "text/csv; charset=utf-8", Data: []byte("\ufeffCheck;Maßnahme\r\n")},
		{Name: "strip.png", MIME: "image/png", Data: pngOf(t, 30, 900)}, // 1:30: no photo
		{Name: "broken.png", MIME: "image/png", Data: []byte("\x89PNG\r\n\x1a\nnot really")},
	}
	if err := e.a.Send(context.Background(), addr(7002), bot.Message{Text: "Ergebnis", Files: files}); err != nil {
		t.Fatal(err)
	}
	msgs := e.fake.messages(7002)
	if len(msgs) != 1+len(files) || msgs[0].Text != "Ergebnis" {
		t.Fatalf("%d messages (first %q), want the text, then %d files", len(msgs), msgs[0].Text, len(files))
	}
	p := msgs[1]
	if p.Photo == nil || p.Photo.Name != picture.Name || !bytes.Equal(p.Photo.Data, picture.Data) || p.Width != 1000 || p.Height != 1400 {
		t.Errorf("the picture arrived as %+v, want a photo of 1000×1400 named %s", p, picture.Name)
	}
	for i, f := range files[1:] {
		d := msgs[2+i].Doc
		if d == nil || d.Name != f.Name || !bytes.Equal(d.Data, f.Data) {
			t.Errorf("%s arrived as %+v, want a document with its bytes", f.Name, msgs[2+i])
		}
	}
	if n := len(e.fake.callsOf("sendPhoto")); n != 1 {
		t.Errorf("%d sendPhoto calls, want 1 (no refused photo retried as a document)", n)
	}
}
