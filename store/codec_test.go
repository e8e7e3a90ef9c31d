package store

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot"
)

func TestOutgoingCodec(t *testing.T) {
	msgs := []bot.Outgoing{
		{To: bot.Address{Platform: "console", Chat: "local"}, Msg: bot.Message{Text: "x"}},
		{To: bot.Address{Platform: "slack", Workspace: "T1", Chat: "C1", User: "U1"}, Msg: bot.Message{
			Text:     "Grüße 🚦 <!channel>",
			Buttons:  [][]bot.Button{{{Label: "🔴 Rot", Action: "3:r:red"}}, {{Label: "a", Action: "b"}, {Label: "c", Action: "d"}}},
			Files:    []bot.File{{Name: "plan.csv", MIME: "text/csv", Data: []byte{0, 1, 255}}, {Name: "e", MIME: "f"}},
			Mentions: []string{"U123", "U456"},
			Form: &bot.Form{Action: "7:form", Title: "Maßnahme", Submit: "Speichern", Fields: []bot.FormField{
				{Name: "priority", Label: "Priorität", Kind: bot.FieldSelect, Options: []bot.FormOption{{Label: "hoch", Value: "high"}}, Value: "high"},
				{Name: "start", Label: "Start", Kind: bot.FieldDate, Value: "2027-03-15", Optional: true, MaxLen: 10},
			}},
		}},
	}
	for _, want := range msgs {
		b := encodeOutgoing(want)
		got, err := decodeOutgoing(b)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if len(want.Msg.Files) > 1 && got.Msg.Files[1].Data == nil {
			got.Msg.Files[1].Data = want.Msg.Files[1].Data // empty and nil are the same file
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip: got %+v, want %+v", got, want)
		}
		// Every truncation is refused, never a panic or a half message.
		for i := 0; i < len(b); i++ {
			if _, err := decodeOutgoing(b[:i]); err == nil {
				t.Errorf("decode of %d of %d bytes: got no error", i, len(b))
			}
		}
	}
}

// TestOutgoingCodecV1 reads records written before forms existed.
func TestOutgoingCodecV1(t *testing.T) {
	v2 := encodeOutgoing(bot.Outgoing{To: bot.Address{Platform: "console", Chat: "local"}, Msg: bot.Message{Text: "x"}})
	v1 := append([]byte{outboxV1}, v2[1:len(v2)-2]...) // no form length and no mentions at the end
	got, err := decodeOutgoing(v1)
	if err != nil || got.Msg.Text != "x" || got.Msg.Form != nil {
		t.Errorf("v1 record: got %+v, %v", got, err)
	}
}

func FuzzDecodeOutgoing(f *testing.F) {
	f.Add(encodeOutgoing(bot.Outgoing{Msg: bot.Message{Text: "x", Buttons: [][]bot.Button{{{Label: "a", Action: "b"}}}}}))
	f.Add([]byte{1, 255, 255, 255, 255, 15})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = decodeOutgoing(b) // must not panic or allocate without bound
	})
}

// An outbox record waits in memory until its batch commits: it is
// allocated at its exact size, for short and long messages alike.
func TestOutgoingRecordExactSize(t *testing.T) {
	for _, text := range []string{"", "kurz", strings.Repeat("ä", 100), strings.Repeat("x", 20000)} {
		o := bot.Outgoing{To: bot.Address{Platform: "telegram", Chat: "42"}, Msg: bot.Message{
			Text:     text,
			Buttons:  [][]bot.Button{{{Label: "🔴 Dringend", Action: "3:r:red"}}, {{Label: strings.Repeat("l", 200), Action: "3:back"}}},
			Files:    []bot.File{{Name: "plan.ics", MIME: "text/calendar", Data: []byte(strings.Repeat("d", 300))}},
			Mentions: []string{"U1"},
		}}
		b := encodeOutgoing(o)
		if len(b) != cap(b) {
			t.Errorf("text of %d bytes: record len %d, cap %d; want them equal", len(text), len(b), cap(b))
		}
		if got, err := decodeOutgoing(b); err != nil || got.Msg.Text != text {
			t.Errorf("text of %d bytes: round trip got %q, %v", len(text), got.Msg.Text, err)
		}
	}
}
