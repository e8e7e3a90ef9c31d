package store

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
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
		{To: bot.Address{Platform: "slack", Workspace: "T1", Chat: "C1"}, Msg: bot.Message{
			Text: "3 von 5 fertig", Buttons: [][]bot.Button{{{Label: "Mitmachen", Action: "tm:join"}}}, Live: "team:ab12",
		}},
		// A live message shown anew in many chats: of low priority.
		{To: bot.Address{Platform: "telegram", User: "7"}, Low: true, Msg: bot.Message{Text: "12 ja", Live: "meet:ab12"}},
		// The result picture, made when sent: its spec, not its bytes.
		{To: bot.Address{Platform: "telegram", Chat: "42"}, Msg: bot.Message{Text: "Ergebnis", Files: []bot.File{
			{Name: "Ergebnis-2027-03-15.png", MIME: "image/png", Make: "picture", Spec: []byte(`{"flow":"zo-kmu"}`)},
			{Name: "plan.csv", MIME: "text/csv", Data: []byte("a;b")},
		}}},
		{To: bot.Address{Platform: "telegram", Chat: "42"}, Push: true, Msg: bot.Message{Text: "x", Files: []bot.File{
			{Name: "p.png", MIME: "image/png", Make: "picture", Spec: []byte("{}")},
		}}},
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

// FuzzDecodeOutgoing: any bytes decode without a panic or unbounded
// allocation, to an error or a message; a message encodes to a record that
// decodes to it again, and that record is a fixed point (decoding and
// encoding it gives the same bytes). That is what the codec promises:
// decode∘encode is the identity on decoded messages. The bytes read need
// not come back: a record of version 1, lengths written in more bytes than
// needed or a form's JSON spelt otherwise decode to a message that encodes
// as version 2, canonically.
func FuzzDecodeOutgoing(f *testing.F) {
	f.Add(encodeOutgoing(bot.Outgoing{Msg: bot.Message{Text: "x", Buttons: [][]bot.Button{{{Label: "a", Action: "b"}}}}}))
	f.Add(encodeOutgoing(bot.Outgoing{To: bot.Address{Platform: "slack", Chat: "C1"}, Msg: bot.Message{Text: "<!channel> 🚦",
		Files: []bot.File{{Name: "a.csv", MIME: "text/csv", Data: []byte{0, 255}}}, Mentions: []string{"U1"},
		Form: &bot.Form{Action: "1:form", Fields: []bot.FormField{{Name: "x", Kind: bot.FieldDate}}}}}))
	f.Add([]byte{1, 255, 255, 255, 255, 15})
	f.Add([]byte{outboxV1, 0, 0, 0, 0, 1, 'x', 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := decodeOutgoing(b) // must not panic or allocate without bound
		if err != nil {
			return
		}
		rec := encodeOutgoing(o)
		again, err := decodeOutgoing(rec)
		if err != nil {
			t.Fatalf("%q decodes to %+v, which encodes to %q, which does not decode: %v", b, o, rec, err)
		}
		if again.To != o.To || again.Msg.Text != o.Msg.Text || !bytes.Equal(encodeOutgoing(again), rec) {
			t.Fatalf("%q decodes to %+v, encoded %q, decoded again %+v", b, o, rec, again)
		}
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
			Live:     "team:ab12",
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

// FuzzDecodeConversation: any stored record (compressed or, as schema 1
// wrote it, bare JSON) decodes without a panic to an error or a
// conversation, and a conversation re-encodes to a record that decodes to
// the same conversation (its encoding is a fixed point), written byte for
// byte as encoding/json writes it, which the hand-written encoder promises.
// The record read need not come back: JSON may spell a conversation many
// ways. A compressed record claiming more than 1 MiB is refused here before
// the fuzzer allocates it (the store's limit is 64 MiB, TestDamagedLengthTakesNoMemory).
func FuzzDecodeConversation(f *testing.F) {
	for _, c := range []*bot.Conversation{{}, bottest.SampleConversation()} {
		rec, err := encodeConversation(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(rec)
		f.Add(appendConversationJSON(nil, c))
	}
	f.Add([]byte(`{"lang":"de","run":{"flow":"zo-kmu","ratings":{"a":"red"}},"rem":[{"id":"m1-2review","due":"2027-03-15T09:00:00+02:00"}],"aseq":-1}`))
	f.Add([]byte{tagS2, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		var c bot.Conversation
		if err := decodeConversationUpTo(b, &c, 1<<20); err != nil {
			return
		}
		rec, err := encodeConversation(&c)
		if err != nil {
			t.Fatalf("%q decodes, but does not encode: %v", b, err)
		}
		var again bot.Conversation
		if err := decodeConversation(rec, &again); err != nil {
			t.Fatalf("%q decodes to a conversation whose record does not decode: %v", b, err)
		}
		js := appendConversationJSON(nil, &c)
		if got := appendConversationJSON(nil, &again); !bytes.Equal(got, js) {
			t.Fatalf("%q decodes to\n%s\nwhich comes back as\n%s", b, js, got)
		}
		if want, err := json.Marshal(&c); err == nil && !bytes.Equal(js, want) {
			t.Fatalf("%q: the encoder writes\n%s\nencoding/json\n%s", b, js, want)
		}
	})
}
