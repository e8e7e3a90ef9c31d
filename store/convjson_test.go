package store

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// TestEncodeConversationMatchesJSON holds the hand-written encoder to
// encoding/json, byte for byte, on the sample conversation and on many
// random ones with awkward strings.
func TestEncodeConversationMatchesJSON(t *testing.T) {
	convs := []*bot.Conversation{{}, bottest.SampleConversation()}
	idle := bottest.SampleConversation()
	idle.Dialog.Mode = ""
	convs = append(convs, idle)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 500; i++ {
		convs = append(convs, randomConversation(rng))
	}
	for i, c := range convs {
		want, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		got := appendConversationJSON(nil, c)
		if string(got) != string(want) {
			t.Fatalf("conversation %d:\ngot  %s\nwant %s", i, got, want)
		}
	}
}

var awkward = []string{"", "a", "Grüße 🚦", "<script>&amp;\"quote\"\\", "tab\tnew\nline\r\b\f\x00\x1f", "\xff\xfeinvalid", "sep\u2028\u2029", "日本語", "\u007f"}

func randomConversation(r *rand.Rand) *bot.Conversation {
	s := func() string { return awkward[r.IntN(len(awkward))] }
	tm := func() time.Time {
		if r.IntN(3) == 0 {
			return time.Time{}
		}
		return time.Unix(r.Int64N(4e9), r.Int64N(1e9)).UTC()
	}
	n := func() int { return r.IntN(3) - (r.IntN(2) * 5) }
	measure := func() bot.Measure {
		return bot.Measure{ID: n(), Flow: s(), Checkpoint: s(), Text: s(), Priority: s(), Responsible: s(), Me: r.IntN(2) == 0, ResponsibleUser: s(), Start: s(), Review: s(), Status: s(), Settled: tm()}
	}
	run := func() bot.Run {
		ru := bot.Run{Flow: s(), Version: n(), Started: tm(), Done: tm()}
		if r.IntN(2) == 0 {
			ru.Ratings = map[string]string{}
			for j := 0; j < r.IntN(5); j++ {
				ru.Ratings[s()+strings.Repeat("x", j)] = s()
			}
		}
		for j := 0; j < r.IntN(3); j++ {
			ru.Later = append(ru.Later, s())
		}
		return ru
	}
	c := &bot.Conversation{Lang: s(), Hint: s(), TZ: s(), ZoneHint: s(),
		Addr: bot.Address{Platform: s(), Workspace: s(), Chat: s(), User: s()}, RemindersOff: r.IntN(2) == 0, Weekends: r.IntN(2) == 0,
		LastEventAt: tm(), ArchiveSeq: n()}
	if r.IntN(2) == 0 { // never stored with the conversation
		c.Archive = []bot.Archived{{Seq: 1, Measure: &bot.Measure{Text: s()}}}
	}
	if r.IntN(2) == 0 {
		ru := run()
		c.Run = &ru
	}
	for j := 0; j < r.IntN(3); j++ {
		c.History = append(c.History, run())
	}
	for j := 0; j < r.IntN(4); j++ {
		c.Plan.Measures = append(c.Plan.Measures, measure())
	}
	c.Plan.NextID = n()
	modes := []string{"", "rate", "plan"}
	c.Dialog = bot.Dialog{Mode: modes[r.IntN(3)], Seq: n(), Cursor: n(), Prev: s(), Return: s(), Op: s(), Target: n(), Resume: s()}
	for j := 0; j < r.IntN(4); j++ {
		c.Dialog.Options = append(c.Dialog.Options, bot.Button{Label: s(), Action: s()})
		c.Dialog.Queue = append(c.Dialog.Queue, s())
	}
	if r.IntN(2) == 0 {
		m := measure()
		c.Dialog.Draft = &m
	}
	for j := 0; j < r.IntN(4); j++ {
		c.Reminders = append(c.Reminders, bot.Reminder{ID: s(), Measure: n(), Kind: s(), For: s(), Day: s(), Hour: n(), Zone: s(), Due: tm(), Status: s(), At: tm(), Ref: s()})
	}
	return c
}

// TestEncodeConversationKeepsEveryField: a conversation with every field
// set, however deep, encodes as encoding/json does. A field added to
// bot's types and not to the hand-written encoder was silently dropped
// on every commit (a chat's team run, Records, and the run a private chat
// rates, Dialog.Ref: team mode lost its members' ratings on bbolt).
func TestEncodeConversationKeepsEveryField(t *testing.T) {
	for _, mode := range []string{"", "rate"} {
		c := &bot.Conversation{}
		fill(reflect.ValueOf(c).Elem())
		c.Archive = nil // never stored with the conversation
		c.Dialog.Mode = mode
		want, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendConversationJSON(nil, c); string(got) != string(want) {
			t.Errorf("mode %q:\ngot  %s\nwant %s", mode, got, want)
		}
	}
}

// fill sets every exported field of v, and the elements of one-element
// slices and maps, to a value that is not empty.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Int, reflect.Int64:
		if v.Type() == reflect.TypeOf(time.Duration(0)) {
			v.SetInt(int64(time.Second))
		} else {
			v.SetInt(2)
		}
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0))
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k)
		fill(e)
		v.SetMapIndex(k, e)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	}
}
