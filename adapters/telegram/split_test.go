package telegram

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ampel-bot/ampel/bot"
)

// TestLongMessageIsSplit sends a 10,000-character message with buttons and
// files: it arrives as 3 messages in order, each within Telegram's limit
// (the fake refuses longer ones), split at line ends, with every emoji and
// umlaut intact, the buttons under the last part only, and the files
// after the text.
func TestLongMessageIsSplit(t *testing.T) {
	e := newEnv(t, nil)
	var b strings.Builder
	for i := 0; utf8.RuneCountInString(b.String()) < 10000; i++ {
		fmt.Fprintf(&b, "Zeile %03d: Grüße aus Köln & Düsseldorf 👋🏽 🇩🇪 👨‍👩‍👧 <ÄÖÜß>\n", i)
	}
	text := string([]rune(b.String())[:10000])
	m := bot.Message{
		Text:    text,
		Buttons: [][]bot.Button{{{Label: "Weiter", Action: "7:next"}}, {{Label: "Zurück", Action: "7:back"}, {Label: "Hilfe", Action: "/help"}}},
		Files:   []bot.File{icsFile, {Name: "ampel.png", MIME: "image/png", Data: []byte("\x89PNG\r\n\x1a\n")}},
	}
	if err := e.a.Send(context.Background(), addr(7001), m); err != nil {
		t.Fatal(err)
	}
	msgs := e.fake.messages(7001)
	if len(msgs) != 5 {
		t.Fatalf("%d messages, want 3 parts and 2 files", len(msgs))
	}
	var parts []string
	for i, p := range msgs[:3] {
		if p.Doc != nil {
			t.Fatalf("message %d is a document; the text comes first", i)
		}
		if n := utf16Len(p.Text); n > maxText {
			t.Errorf("part %d has %d UTF-16 units", i, n)
		}
		if (p.Markup != nil) != (i == 2) {
			t.Errorf("part %d: keyboard %v; want buttons on the last part only", i, p.Markup)
		}
		parts = append(parts, p.Text)
	}
	if got := strings.Join(parts, "\n"); got != text {
		t.Errorf("the parts joined differ from the text (lost or broken characters)")
	}
	kb := msgs[2].Markup.InlineKeyboard
	if len(kb) != 2 || len(kb[0]) != 1 || len(kb[1]) != 2 || *kb[1][1].CallbackData != "/help" || kb[1][0].Text != "Zurück" {
		t.Errorf("keyboard = %+v, want the rows of the message", kb)
	}
	for i, f := range m.Files {
		d := msgs[3+i].Doc
		if d == nil || d.Name != f.Name || string(d.Data) != string(f.Data) {
			t.Errorf("file %d arrived as %+v, want %s from bytes", i, d, f.Name)
		}
	}
}

func TestSplitText(t *testing.T) {
	check := func(name, s string, limit int) []string {
		t.Helper()
		parts := splitText(s, limit)
		for i, p := range parts {
			if !utf8.ValidString(p) {
				t.Errorf("%s: part %d is not valid UTF-8", name, i)
			}
			if utf16Len(p) > limit {
				t.Errorf("%s: part %d has %d units, limit %d", name, i, utf16Len(p), limit)
			}
		}
		return parts
	}
	if p := check("short", "Hallo 👋", 10); len(p) != 1 || p[0] != "Hallo 👋" {
		t.Errorf("short text split: %q", p)
	}
	if p := check("empty", "", 10); len(p) != 0 {
		t.Errorf("empty text gives %q", p)
	}
	// Paragraphs are preferred to lines, lines to spaces.
	if p := check("paragraph", "aaaa bbbb\ncccc\n\ndddd eeee", 20); len(p) != 2 || p[0] != "aaaa bbbb\ncccc" || p[1] != "dddd eeee" {
		t.Errorf("paragraph split: %q", p)
	}
	if p := check("space", "aaaa bbbb cccc dddd", 12); len(p) != 2 || p[0] != "aaaa bbbb" || p[1] != "cccc dddd" {
		t.Errorf("space split: %q", p)
	}
	// No break anywhere: cut between characters, none lost.
	long := strings.Repeat("ä", 5000)
	if p := check("umlauts", long, 4096); strings.Join(p, "") != long || len(p) != 2 {
		t.Errorf("hard cut lost characters or split oddly: %d parts", len(p))
	}
	// An emoji (two units) does not fit at the end: it moves whole.
	s := strings.Repeat("a", 4095) + "👍b"
	if p := check("emoji", s, 4096); len(p) != 2 || p[1] != "👍b" {
		t.Errorf("emoji at the limit: %q", p[len(p)-1])
	}
	// A skin tone, a family joined by ZWJs and a flag stay with their emoji.
	for _, emoji := range []string{"👍🏽", "👨‍👩‍👧", "🇩🇪", "e\u0301", "❤\ufe0f"} {
		for pad := 4080; pad < 4096; pad++ {
			s := strings.Repeat("a", pad) + emoji + strings.Repeat("b", 10)
			p := check(emoji, s, 4096)
			if strings.Join(p, "") != s {
				t.Fatalf("%s at %d: characters lost", emoji, pad)
			}
			if utf16Len(s) <= 4096 {
				if len(p) != 1 {
					t.Errorf("%q at %d: %d parts of a text within the limit", emoji, pad, len(p))
				}
				continue
			}
			if len(p) != 2 || !(strings.Contains(p[0], emoji) || strings.Contains(p[1], emoji)) {
				t.Errorf("%q at %d split inside: %d parts, %q | %q", emoji, pad, len(p), p[0][len(p[0])-12:], p[len(p)-1][:min(12, len(p[len(p)-1]))])
			}
		}
	}
	// Invalid UTF-8 from anywhere never reaches Telegram.
	if p := check("invalid", "a\xffb", 10); len(p) != 1 || p[0] != "a\uFFFDb" {
		t.Errorf("invalid UTF-8: %q", p)
	}
}
