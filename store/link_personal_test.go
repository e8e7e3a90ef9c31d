package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// A person of two linked chats (/link) on the bbolt store: anna's chat on
// the platform "tg" and her chat on a second one, "sl", whose IDs are
// canaries too. /export from either covers both; /delete from the second
// leaves nothing of her in any bucket: not her plan (kept in the first
// chat's conversation), not the second chat's inbox, outbox and live
// messages, not the link records, her code nor her wrong tries.
func TestDeleteOfLinkedChatsLeavesNothing(t *testing.T) {
	w := newGDPRWorld(t)
	anna, bert := canaryAnna, canaryBert
	w.seed(anna)
	w.seed(bert)
	ctx := context.Background()
	held := true
	sl := &bottest.Recorder{Name: "sl", SendFn: func(to bot.Address, m bot.Message) error {
		if held && strings.Contains(m.Text, "Kanarienvogel") {
			return &bot.RateLimited{RetryAfter: 1000 * time.Hour}
		}
		return nil
	}}
	w.e.Register(sl)
	annaSL := bot.Address{Platform: "sl", Workspace: "Wzebulon-canary", Chat: "Dzebulon-canary", User: "Uzebulon-canary"}
	canaries := append(anna.canaries(), annaSL.Workspace, annaSL.Chat, annaSL.User)
	onSL := func(ev bot.Event) []bottest.Sent {
		t.Helper()
		w.n++
		ev.ID, ev.Addr, ev.UserName, ev.LangHint = fmt.Sprint("sl-", w.n), annaSL, anna.name, "de"
		if err := w.e.Handle(ctx, ev); err != nil {
			t.Fatal(err)
		}
		w.settle()
		return sl.Take()
	}
	sayTG := func(text string) string {
		var b strings.Builder
		for _, s := range w.say(anna, false, text) {
			b.WriteString(s.Msg.Text)
		}
		return b.String()
	}
	saySL := func(text string) string {
		var b strings.Builder
		for _, s := range onSL(bot.Event{Text: text}) {
			b.WriteString(s.Msg.Text)
		}
		return b.String()
	}
	// On the second platform: a check of its own, a wrong code, a live
	// message, and a message the platform does not take yet.
	saySL("/check kmu-zo")
	saySL("1")
	saySL("/link AAAAAA")
	if err := w.db.SetLive(ctx, annaSL.Key(), "team:seed", bot.LiveRef{Ref: "msg-Dzebulon-canary", ID: 1, At: w.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	saySL("Kanarienvogel") // the answer is held: in the outbox
	// Linked, keeping the first chat's check; a fresh code is left unused.
	got := sayTG("/link")
	i := strings.Index(got, "/link ")
	if i < 0 {
		t.Fatalf("/link: %q", got)
	}
	code := strings.Fields(got[i+len("/link "):])[0]
	if got := saySL("/link " + code); !strings.Contains(got, "Welchen behalten") {
		t.Fatalf("/link CODE with two checks: %q, want the question which to keep", got)
	}
	if got := saySL("2"); !strings.Contains(got, "Verknüpft") {
		t.Fatalf("keeping the other's: %q", got)
	}
	sayTG("/link")

	// The export, from the second chat, holds both chats and all of anna's.
	var file []byte
	for _, s := range onSL(bot.Event{Text: "/export"}) {
		for _, f := range s.Msg.Files {
			if strings.HasSuffix(f.Name, ".json") {
				file = f.Data
			}
		}
	}
	var doc struct {
		Chats   []bot.ExportChat `json:"chats"`
		Records map[string]json.RawMessage
	}
	if err := json.Unmarshal(file, &doc); err != nil {
		t.Fatalf("/export: %v\n%s", err, file)
	}
	// (anna's name and organisation are only in records of a team and a
	// network, which this test does not seed.)
	for _, c := range []string{anna.id, anna.measure, anna.resp, anna.run, annaSL.Workspace, annaSL.Chat, annaSL.User, `"link"`, `"platform": "sl"`, `"platform": "tg"`} {
		if !bytes.Contains(file, []byte(c)) {
			t.Errorf("/export from the linked chat lacks %q:\n%s", c, file)
		}
	}
	for _, c := range bert.canaries() {
		if bytes.Contains(file, []byte(c)) {
			t.Errorf("/export of anna holds bert's %q", c)
		}
	}

	// /delete from the second chat.
	saySL("/delete")
	saySL("1")
	held = false
	after := w.dump()
	if err := w.db.Check(); err != nil {
		t.Errorf("the file after /delete: %v", err)
	}
	for bucket, data := range after {
		for _, c := range append(canaries, `"to":"tg/`, "Kanarienvogel") {
			if bytes.Contains(data, []byte(c)) {
				t.Errorf("after /delete of linked chats, %q is still in bucket %s", c, bucket)
			}
		}
		for _, kind := range []string{"link\x00", "linkcode\x00", "link-tries\x00"} {
			if bytes.Contains(data, []byte(kind)) {
				t.Errorf("after /delete, a record of kind %q is left in bucket %s", strings.TrimSuffix(kind, "\x00"), bucket)
			}
		}
	}
	if where := found(after, bert); len(where) < len(bert.canaries()) {
		t.Errorf("after anna's /delete, bert's data: found only %v, want all of it", where)
	}
	// Both chats start afresh: neither is linked, neither holds a plan.
	for _, a := range []bot.Address{w.private(anna), annaSL} {
		c, err := w.e.Load(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Linked) > 0 || len(c.Plan.Measures) > 0 || c.Run != nil {
			t.Errorf("%s after /delete: %+v", a.Platform, c)
		}
	}
	if got := saySL("/check"); strings.Contains(got, "Willkommen zurück") {
		t.Errorf("/check on the second chat after /delete: %q, want a new start", got)
	}
}
