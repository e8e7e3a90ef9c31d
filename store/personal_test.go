package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/dialogtest"
	"github.com/ampel-bot/ampel/bot/features"
	"github.com/ampel-bot/ampel/bot/network"
	"github.com/ampel-bot/ampel/bot/team"
	bolt "go.etcd.io/bbolt"
)

// A person's own data on the bbolt store: two people with data of every
// kind (settings, a check with answers, a plan with a typed measure and a
// typed responsible, reminders, an archive, a team run, a group's measure,
// a network, a live message, an undelivered message), each carrying
// canary strings; /export of one returns all of theirs and nothing of the
// other's; /delete of one leaves none of theirs in any bucket of the file,
// and no reminder of theirs is sent afterwards.

const gdprPlatform = "tg"

// gdprPerson is one seeded person and what marks their data.
type gdprPerson struct {
	id, name, measure, resp, org, run string
}

var (
	canaryAnna = gdprPerson{id: "100777", name: "Annabel Zebulonova", measure: "Zebulon measure canary",
		resp: "Yolanda Quixcanary", org: "Zebulon Org canary", run: "zebulon archived run"}
	canaryBert = gdprPerson{id: "200888", name: "Bertram Quokkason", measure: "Quokka measure canary",
		resp: "Xaver Wombatcanary", org: "Quokka Org canary", run: "quokka archived run"}
)

// canaries are the strings that must not outlive the person's erasure.
func (p gdprPerson) canaries() []string {
	return []string{p.id, p.name, p.measure, p.resp, p.org, p.run}
}

type gdprWorld struct {
	t       *testing.T
	db      *DB
	e       *bot.Engine
	clock   *bottest.Clock
	rec     *bottest.Recorder
	group   bot.Address
	n       int
	holdFor string // a user whom messages by user ID are refused for now
}

func newGDPRWorld(t *testing.T, log ...*slog.Logger) *gdprWorld {
	w := &gdprWorld{t: t, clock: bottest.NewClock(dialogtest.Start)}
	db, err := Open(filepath.Join(t.TempDir(), "ampel.db"), Options{Now: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w.db = db
	catalog, texts := bottest.Content(t)
	cfg := bot.Config{Store: db, Flows: catalog, Texts: texts, Clock: w.clock,
		Zone: bottest.Zone("Europe/Berlin"), Features: features.All()}
	if len(log) > 0 {
		cfg.Log = log[0]
	}
	w.e, err = bot.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.e.Close)
	w.rec = &bottest.Recorder{Name: gdprPlatform, ShowsFiles: true, SendFn: func(to bot.Address, m bot.Message) error {
		if w.holdFor != "" && to.Chat == "" && to.User == w.holdFor {
			return &bot.RateLimited{RetryAfter: 1000 * time.Hour}
		}
		return nil
	}}
	w.e.Register(w.rec)
	w.group = bot.Address{Platform: gdprPlatform, Chat: "-300999"}
	return w
}

func (w *gdprWorld) private(p gdprPerson) bot.Address {
	return bot.Address{Platform: gdprPlatform, Chat: p.id, User: p.id}
}

// send hands an event from p (in the group, or privately) to the engine
// and returns what was sent.
func (w *gdprWorld) send(p gdprPerson, inGroup bool, ev bot.Event) []bottest.Sent {
	w.t.Helper()
	w.n++
	ev.ID = fmt.Sprint(w.n)
	ev.Addr, ev.UserName, ev.LangHint = w.private(p), p.name, "de"
	if inGroup {
		ev.Addr, ev.Group = w.group, true
		ev.Addr.User = p.id
	}
	if err := w.e.Handle(context.Background(), ev); err != nil {
		w.t.Fatalf("handle %q: %v", ev.Text+ev.Action, err)
	}
	w.settle()
	return w.rec.Take()
}

// settle sends what can be sent, a second on: a live message changes at
// most once a second.
func (w *gdprWorld) settle() {
	w.t.Helper()
	if err := w.e.Settle(context.Background()); err != nil {
		w.t.Fatal(err)
	}
	w.clock.Add(time.Second)
	if err := w.e.Flush(context.Background()); err != nil {
		w.t.Fatal(err)
	}
}

func (w *gdprWorld) say(p gdprPerson, inGroup bool, lines ...string) []bottest.Sent {
	w.t.Helper()
	var sent []bottest.Sent
	for _, l := range lines {
		sent = w.send(p, inGroup, bot.Event{Text: l})
	}
	return sent
}

// seed gives p data of every kind; the group's team run is bert's.
func (w *gdprWorld) seed(p gdprPerson) {
	w.t.Helper()
	ctx := context.Background()
	w.say(p, false, "/timezone Europe/Vienna", "/check zo-kmu", "1", "3", "3", "3", "3", "3", "3", "1", p.measure)
	w.say(p, false, "hoch", p.resp, "in 2 Wochen", "1")
	c, err := w.e.Load(ctx, w.private(p))
	if err != nil {
		w.t.Fatal(err)
	}
	if len(c.Plan.Measures) != 1 || c.Plan.Measures[0].Text != p.measure || c.Plan.Measures[0].Responsible != p.resp || len(c.Pending()) == 0 {
		w.t.Fatalf("seeding %s: got plan %+v and reminders %+v, want the typed measure with reminders", p.id, c.Plan.Measures, c.Reminders)
	}
	// Two earlier runs of the same check: the older goes to the archive.
	err = w.e.Do(ctx, "seed-archive-"+p.id[:1], func(tx *bot.Tx) error {
		c, err := tx.Conversation(w.private(p))
		if err != nil {
			return err
		}
		old := bot.Run{Flow: "zo-kmu", Version: 1, Started: w.clock.Now().AddDate(-2, 0, 0), Done: w.clock.Now().AddDate(-2, 0, 1),
			Ratings: map[string]string{"zo-kmu-1": "red"}, Later: []string{p.run}}
		c.History = append(c.History, old, old)
		return nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
	if a, _ := w.db.Archive(ctx, w.private(p).Key()); len(a) == 0 {
		w.t.Fatalf("seeding %s: nothing archived", p.id)
	}
	// A live message shown in the private chat.
	if err := w.db.SetLive(ctx, w.private(p).Key(), "team:seed", bot.LiveRef{Ref: "msg-" + p.id, ID: 1, At: w.clock.Now()}); err != nil {
		w.t.Fatal(err)
	}
}

// teamUp has bert start a team run in the group that anna and bert join
// and rate in, and gives anna a measure of the group's plan.
func (w *gdprWorld) teamUp(anna, bert gdprPerson) string {
	w.t.Helper()
	ctx := context.Background()
	w.say(anna, true, "/help") // the group's first word is anna's: its address names her
	w.say(bert, true, "/team zo-kmu")
	g, err := w.e.Load(ctx, w.group)
	if err != nil {
		w.t.Fatal(err)
	}
	code := g.Records[team.Kind]
	for _, p := range []gdprPerson{anna, bert} {
		sent := w.send(p, true, bot.Event{Action: "tm:" + code + ":join"})
		var act string
		for _, s := range sent {
			if s.To.User == p.id && len(s.Msg.Buttons) > 0 {
				act = s.Msg.Buttons[0][0].Action // the first level
			}
		}
		if act == "" {
			w.t.Fatalf("%s joined: no question in private, got %+v", p.id, sent)
		}
		w.send(p, false, bot.Event{Action: act})
	}
	err = w.e.Do(ctx, "seed-group-plan", func(tx *bot.Tx) error {
		c, err := tx.Conversation(w.group)
		if err != nil {
			return err
		}
		c.Plan.People = append(c.Plan.People, bot.Person{ID: anna.id, Name: anna.name}, bot.Person{ID: bert.id, Name: bert.name})
		c.Plan.NextID = 3
		c.Plan.Measures = append(c.Plan.Measures,
			bot.Measure{ID: 1, Flow: "zo-kmu", Checkpoint: "zo-kmu-1", Text: "group task of anna", Responsible: anna.name, ResponsibleUser: anna.id, Status: bot.StatusOpen},
			bot.Measure{ID: 2, Flow: "zo-kmu", Checkpoint: "zo-kmu-1", Text: "group task of bert", Responsible: bert.name, ResponsibleUser: bert.id, Status: bot.StatusOpen})
		return nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return code
}

// network seeds a network whose coordinator is anna, bert a member, with
// the group linked by anna.
func (w *gdprWorld) network(anna, bert gdprPerson) {
	w.t.Helper()
	err := w.e.Do(context.Background(), "seed-network", func(tx *bot.Tx) error {
		n := &network.Network{ID: "net1", Name: "Netz", Lang: "de", Zone: "Europe/Berlin", Created: w.clock.Now(),
			Orgs:     []network.Org{{ID: "o1", Name: anna.org, Kind: network.CivilSociety}, {ID: "o2", Name: bert.org, Kind: network.Company}},
			Channels: []network.Channel{{Chat: w.group, Name: "group", By: anna.id, At: w.clock.Now()}}}
		for i, p := range []gdprPerson{anna, bert} {
			role := []string{network.Coordinator, network.Plain}[i]
			n.Members = append(n.Members, network.Member{Person: bot.Person{ID: p.id, Name: p.name},
				Chat: bot.Address{Platform: gdprPlatform, User: p.id}, Role: role, Org: n.Orgs[i].ID, Joined: w.clock.Now()})
		}
		return network.Put(tx, n)
	})
	if err != nil {
		w.t.Fatal(err)
	}
}

// dump is every key and value of every bucket of the file, nested ones
// too, with values Ampel compressed opened: what a scan for a person's
// data must look through. Buckets are listed from the file, not from a
// list of ours, so a bucket added later is scanned too.
func (w *gdprWorld) dump() map[string][]byte {
	w.t.Helper()
	// The removals of delivered messages reach the file with the
	// writer's next transaction: this one.
	w.n++
	if _, err := w.db.CommitBatch(context.Background(), &bot.Batch{EventID: fmt.Sprint("sync-", w.n)}); err != nil {
		w.t.Fatal(err)
	}
	out := map[string][]byte{}
	err := w.db.view(func(tx *bolt.Tx) error {
		var walk func(path string, b *bolt.Bucket) error
		walk = func(path string, b *bolt.Bucket) error {
			var buf bytes.Buffer
			err := b.ForEach(func(k, v []byte) error {
				if v == nil {
					return walk(path+"/"+string(k), b.Bucket(k))
				}
				buf.Write(k)
				buf.WriteByte('=')
				buf.Write(v)
				if len(v) > 0 && v[0] == tagS2 {
					if plain, err := openS2(nil, v, maxConversationJSON); err == nil {
						buf.WriteByte('~')
						buf.Write(plain)
					}
				}
				buf.WriteByte('\n')
				return nil
			})
			out[path] = buf.Bytes()
			return err
		}
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error { return walk(string(name), b) })
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return out
}

// found lists where the canaries of p are in the file.
func found(all map[string][]byte, p gdprPerson) []string {
	var where []string
	for bucket, data := range all {
		for _, c := range p.canaries() {
			if bytes.Contains(data, []byte(c)) {
				where = append(where, fmt.Sprintf("%q in bucket %s", c, bucket))
			}
		}
	}
	return where
}

func TestDeleteLeavesNothingOfThePerson(t *testing.T) {
	w := newGDPRWorld(t)
	anna, bert := canaryAnna, canaryBert
	w.seed(anna)
	w.seed(bert)
	code := w.teamUp(anna, bert)
	w.network(anna, bert)
	// A group of its own, no team run in it, where anna is responsible.
	other := bot.Address{Platform: gdprPlatform, Chat: "-400111"}
	err := w.e.Do(context.Background(), "seed-other-group", func(tx *bot.Tx) error {
		c, err := tx.Conversation(other)
		if err != nil {
			return err
		}
		c.Addr = other
		c.Plan.NextID = 2
		c.Plan.Measures = append(c.Plan.Measures, bot.Measure{ID: 1, Flow: "zo-kmu", Checkpoint: "zo-kmu-1", Text: "solo group task of anna", Responsible: anna.name, ResponsibleUser: anna.id, Status: bot.StatusOpen})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A nudge to anna, which the platform does not take: in the outbox.
	w.holdFor = anna.id
	if sent := w.send(bert, true, bot.Event{Action: "tm:" + code + ":remind"}); len(sent) == 0 {
		t.Fatalf("remind the others: nothing sent")
	}
	before := w.dump()
	if len(found(before, anna)) < len(anna.canaries()) || len(found(before, bert)) < len(bert.canaries()) {
		t.Fatalf("seeding: canaries found %v and %v, want every one of both", found(before, anna), found(before, bert))
	}

	// The export of anna holds all of hers and nothing of bert's.
	sent := w.say(anna, false, "/export")
	var file []byte
	for _, s := range sent {
		for _, f := range s.Msg.Files {
			if strings.HasSuffix(f.Name, ".json") && s.To.Chat == anna.id {
				file = f.Data
			}
		}
	}
	if file == nil {
		t.Fatalf("/export: got %+v, want a JSON file in anna's private chat", sent)
	}
	var doc map[string]any
	if err := json.Unmarshal(file, &doc); err != nil || doc["format"] != bot.ExportFormat || doc["version"] != float64(bot.ExportVersion) {
		t.Fatalf("/export: got %v (%v), want a JSON document of format %s version %d", doc["format"], err, bot.ExportFormat, bot.ExportVersion)
	}
	for _, c := range append(anna.canaries(), "Europe/Vienna", "group task of anna", "solo group task of anna", code, "net1", "zo-kmu-1") {
		if !bytes.Contains(file, []byte(c)) {
			t.Errorf("/export of anna lacks %q:\n%s", c, file)
		}
	}
	for _, c := range append(bert.canaries(), "group task of bert") {
		if bytes.Contains(file, []byte(c)) {
			t.Errorf("/export of anna holds bert's %q", c)
		}
	}

	// Anna deletes everything, while a message to her waits in the outbox.
	w.say(anna, false, "/delete")
	var toAnna, toBert []bot.Message
	for _, s := range w.say(anna, false, "1") {
		switch {
		case s.To.User == anna.id:
			toAnna = append(toAnna, s.Msg)
		case s.To.User == bert.id && s.To.Chat == "":
			toBert = append(toBert, s.Msg)
		}
	}
	if len(toAnna) != 1 || len(toAnna[0].Buttons) > 0 {
		t.Errorf("/delete confirmed: got %+v, want the one confirmation to anna", toAnna)
	}
	if len(toBert) != 1 || !strings.Contains(toBert[0].Text, "Netz") {
		t.Errorf("/delete of the network's coordinator: got %+v to bert, want him told that he coordinates it now", toBert)
	}
	after := w.dump()
	if err := w.db.Check(); err != nil {
		t.Errorf("the file after /delete: %v", err)
	}
	if where := found(after, anna); len(where) > 0 {
		for _, q := range must(w.db.Pending(context.Background(), 0, 100)) {
			t.Logf("pending: %+v", q)
		}
		t.Errorf("after /delete, anna's data is still in the file: %s", strings.Join(where, "; "))
	}
	if where := found(after, bert); len(where) < len(bert.canaries()) {
		t.Errorf("after anna's /delete, bert's data: found only %v, want all of it", where)
	}
	var run team.Run
	if raw, _ := w.db.Record(context.Background(), bot.RecordRef{Kind: team.Kind, ID: code}); json.Unmarshal(raw, &run) != nil || len(run.Members) != 2 {
		t.Fatalf("team run after /delete: got %s, want both places kept", raw)
	} else if m := run.Members[0]; m.ID != "" || m.Name != "" || len(m.Run.Ratings) != 1 {
		t.Errorf("anna's place in the team run: got %+v, want her rating kept without her", m)
	}
	var n network.Network
	if raw, _ := w.db.Record(context.Background(), bot.RecordRef{Kind: network.Kind, ID: "net1"}); json.Unmarshal(raw, &n) != nil || len(n.Members) != 1 || n.Members[0].Role != network.Coordinator {
		t.Errorf("network after anna's /delete: got %s, want bert alone, coordinating", raw)
	}

	// No reminder of anna's goes out, however long the clock runs; bert's do.
	w.holdFor = "" // the platform would take the nudge now
	var later []bottest.Sent
	for range 12 {
		w.clock.Add(10 * 24 * time.Hour)
		if _, err := w.e.RunDue(context.Background(), w.clock.Now()); err != nil {
			t.Fatal(err)
		}
		w.settle()
		later = append(later, w.rec.Take()...)
	}
	reminded := 0
	for _, s := range later {
		if s.To.Chat == anna.id || s.To.User == anna.id {
			t.Errorf("after /delete, a message to anna: %q", s.Msg.Text)
		}
		if s.To.Chat == bert.id {
			reminded++
		}
	}
	if reminded == 0 {
		t.Errorf("bert's reminders: none sent, want them")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestRetentionErasesInactiveConversations: with the clock 25 months on,
// a sweep for 24 months without activity erases the conversation nobody
// wrote in since (state, archive, reminders: no reminder of it is sent)
// and keeps the one written in a month ago; the log says how many, and
// nothing of whom.
func TestRetentionErasesInactiveConversations(t *testing.T) {
	var logs bottest.Buffer
	w := newGDPRWorld(t, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	anna, bert := canaryAnna, canaryBert
	w.seed(anna)
	w.seed(bert)
	ctx := context.Background()
	w.clock.Set(w.clock.Now().AddDate(0, 23, 0))
	w.say(bert, false, "/plan")
	w.clock.Set(w.clock.Now().AddDate(0, 2, 0))
	if n, err := w.e.Sweep(ctx, w.clock.Now().AddDate(0, -24, 0)); err != nil || n != 1 {
		t.Fatalf("Sweep: got %d, %v, want anna's conversation erased alone", n, err)
	}
	all := w.dump()
	if where := found(all, anna); len(where) > 0 {
		t.Errorf("after the sweep, anna's conversation is still in the file: %s", strings.Join(where, "; "))
	}
	if c, _ := w.e.Load(ctx, w.private(bert)); len(c.Plan.Measures) != 1 || c.Plan.Measures[0].Text != bert.measure {
		t.Errorf("bert's conversation after the sweep: got plan %+v, want it kept", c.Plan.Measures)
	}
	if n, err := w.e.Sweep(ctx, w.clock.Now().AddDate(0, -24, 0)); err != nil || n != 0 {
		t.Errorf("a second sweep: got %d, %v, want nothing more", n, err)
	}
	if _, err := w.e.RunDue(ctx, w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	w.settle()
	for _, s := range w.rec.Take() {
		if s.To.Chat == anna.id {
			t.Errorf("after the sweep, a message to anna: %q", s.Msg.Text)
		}
	}
	if !strings.Contains(logs.String(), "count=1") {
		t.Errorf("log: got %q, want the count of conversations erased", logs.String())
	}
	for _, c := range append(anna.canaries(), bert.canaries()...) {
		if strings.Contains(logs.String(), c) {
			t.Errorf("log holds %q", c)
		}
	}
}
