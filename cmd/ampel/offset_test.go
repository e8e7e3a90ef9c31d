package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/store"
)

// The Telegram offset tests (issue 18, item 4) run the real ampel command
// as a child process on a real bbolt file, polling a fake Telegram, and
// kill it with SIGKILL over and over while it works through the updates.
// The fake keeps Telegram's side of getUpdates: the updates not yet
// confirmed, in the order they came, each confirmed by a getUpdates whose
// offset is higher than its ID. An offset above the newest ID Telegram
// ever gave out is ignored (after update IDs jumped to lower random
// values, Telegram keeps returning the new updates to a bot that still
// sends its old offset: go-telegram-bot-api#156 shows it).
//
// Each chat types a check: "/check zo-kmu", then in turn a rating and
// "6" (back), so that every update asks a question and moves the dialogue.
// An update handled twice or not at all leaves the chat elsewhere: at the
// end each conversation must equal the one the same messages give in one
// uninterrupted run of the engine.

// tgUpdate is an update as the fake holds it.
type tgUpdate struct {
	id   int
	chat int64
	text string
}

// tgOffsetFake is the fake Telegram. kill, set per child, ends the child;
// the plan decides when it is called.
type tgOffsetFake struct {
	t     *testing.T
	token string
	srv   *httptest.Server

	mu        sync.Mutex
	pending   []tgUpdate   // arrived, not yet confirmed, in order
	future    [][]tgUpdate // segments of updates still to arrive
	bases     []int        // the first ID of each segment after the current
	rng       *rand.Rand
	next      int         // the ID the next update gets
	fresh     bool        // a segment was given out and nothing of it confirmed yet
	confirmed []tgUpdate  // confirmed since the last check
	total     int         // confirmed in all
	beyond    []int       // offsets above every ID given out
	delivered map[int]int // times each update was given to the child
	msgID     int
	kill      func()
	plan      killPlan
	newInRun  int // confirmed since this child started
	lastDone  time.Time
	batches   int
}

// killPlan says when the running child is killed: once newInRun reaches
// after, either on the getUpdates that confirms (before answering it:
// Telegram has taken the offset), or jitter after answering a getUpdates
// with updates (while the child handles them).
type killPlan struct {
	after   int
	confirm bool
	jitter  time.Duration
}

func newTGOffsetFake(t *testing.T, token string) *tgOffsetFake {
	f := &tgOffsetFake{t: t, token: token, next: 1000, lastDone: time.Now(), delivered: map[int]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *tgOffsetFake) serve(w http.ResponseWriter, r *http.Request) {
	prefix := "/bot" + f.token + "/"
	if !strings.HasPrefix(r.URL.Path, prefix) {
		http.NotFound(w, r)
		return
	}
	method := strings.TrimPrefix(r.URL.Path, prefix)
	_ = r.ParseForm()
	w.Header().Set("Content-Type", "application/json")
	switch method {
	case "getMe":
		io.WriteString(w, `{"ok":true,"result":{"id":42,"is_bot":true,"first_name":"Ampel","username":"ampel_test_bot"}}`)
	case "getUpdates":
		f.getUpdates(w, r)
	case "sendMessage":
		chat, _ := strconv.ParseInt(r.PostForm.Get("chat_id"), 10, 64)
		f.mu.Lock()
		f.msgID++
		id := f.msgID
		f.mu.Unlock()
		fmt.Fprintf(w, `{"ok":true,"result":{"message_id":%d,"date":1,"chat":{"id":%d,"type":"private"},"text":"x"}}`, id, chat)
	default:
		io.WriteString(w, `{"ok":true,"result":true}`)
	}
}

func (f *tgOffsetFake) getUpdates(w http.ResponseWriter, r *http.Request) {
	offset, _ := strconv.Atoi(r.PostForm.Get("offset"))
	f.mu.Lock()
	newly := 0
	if offset > f.next {
		f.beyond = append(f.beyond, offset) // ignored, as Telegram does
	} else if offset > 0 {
		for len(f.pending) > 0 && f.pending[0].id < offset {
			f.confirmed = append(f.confirmed, f.pending[0])
			f.pending = f.pending[1:]
			newly++
		}
	}
	f.total += newly
	f.newInRun += newly
	if newly > 0 {
		f.lastDone, f.fresh = time.Now(), false
	}
	// A kill is due once enough was confirmed in this run, but never
	// between the first update after an ID jump and its confirmation: a
	// restart would forget the offset from before, and with it what the
	// test is after.
	p := f.plan
	due := f.kill != nil && f.newInRun >= p.after && !f.fresh
	if f.arrive() {
		due = false
	}
	if due && p.confirm && newly > 0 {
		kill := f.kill
		f.kill = nil
		f.mu.Unlock()
		kill()
		return
	}
	batch := f.pending[:min(len(f.pending), 100)]
	var out []map[string]any
	for _, u := range batch {
		f.delivered[u.id]++
		out = append(out, map[string]any{"update_id": u.id, "message": map[string]any{
			"message_id": u.id, "date": 1, "text": u.text,
			"from": map[string]any{"id": u.chat, "is_bot": false, "first_name": "Eva", "last_name": "Muster", "language_code": "de"},
			"chat": map[string]any{"id": u.chat, "type": "private", "first_name": "Eva"},
		}})
	}
	var kill func()
	if due && !p.confirm && len(batch) > 0 {
		kill, f.kill = f.kill, nil
	}
	if len(batch) > 0 {
		f.batches++
	}
	f.mu.Unlock()
	if len(out) == 0 {
		// A short long poll: the child asks again soon, as it would after
		// Telegram's timeout.
		select {
		case <-r.Context().Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	b, _ := json.Marshal(map[string]any{"ok": true, "result": out})
	w.Write(b)
	if kill != nil {
		time.AfterFunc(p.jitter, kill)
	}
}

// arrive lets a few more updates of the current segment arrive. Once a
// segment has arrived and is confirmed (a silence), the next one starts at
// its base, a jump; arrive reports whether it jumped. f.mu is held.
func (f *tgOffsetFake) arrive() (jumped bool) {
	if len(f.future) == 0 {
		return false
	}
	if len(f.future[0]) == 0 {
		if len(f.pending) > 0 || len(f.future) == 1 {
			return false
		}
		f.future = f.future[1:]
		f.next, f.bases = f.bases[0], f.bases[1:]
		f.fresh, jumped = true, true
	}
	seg := f.future[0]
	k := min(len(seg), 1+f.rng.IntN(30))
	for i := range k {
		seg[i].id = f.next
		f.next++
	}
	f.pending = append(f.pending, seg[:k]...)
	f.future[0] = seg[k:]
	return jumped
}

// offsetScenario is one run of the offset test.
type offsetScenario struct {
	updates, chats, kills int
	// jumps > 0 splits the updates into jumps+1 segments, each released
	// once the one before is confirmed, and each starting at a random ID
	// (the first jump lower than the IDs before it).
	jumps int
	seed  uint64
}

func runOffsetScenario(t *testing.T, sc offsetScenario) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	const token = "123456789:AAE-offset-token-0123456789abcdefghijk"
	rng := rand.New(rand.NewPCG(sc.seed, 18))
	f := newTGOffsetFake(t, token)

	// Each chat's messages, then all of them interleaved at random, each
	// chat's in order.
	scripts := map[int64][]string{}
	var chats []int64
	for i := range sc.chats {
		c := int64(7_000_000 + i)
		chats = append(chats, c)
		scripts[c] = []string{"/check zo-kmu"}
	}
	var all []tgUpdate
	left := map[int64]int{}
	for range sc.updates {
		c := chats[rng.IntN(len(chats))]
		s := scripts[c]
		if len(s) > left[c] {
			all = append(all, tgUpdate{chat: c, text: s[left[c]]})
			left[c]++
			continue
		}
		text := "6"
		if len(s)%2 == 1 {
			text = strconv.Itoa(1 + rng.IntN(3))
		}
		scripts[c] = append(s, text)
		all = append(all, tgUpdate{chat: c, text: text})
		left[c]++
	}
	segs := sc.jumps + 1
	for i := range segs {
		f.future = append(f.future, all[i*len(all)/segs:(i+1)*len(all)/segs])
	}
	// Segment bases: the first sequential, the others random and apart
	// from every ID given out before; the first jump goes down.
	bases := []int{1_000_000_000}
	for len(bases) < segs {
		b := 1 + rng.IntN(2_000_000_000)
		if len(bases) == 1 && b >= bases[0] {
			continue
		}
		clash := false
		for _, o := range bases {
			if b < o+sc.updates && o < b+sc.updates {
				clash = true
			}
		}
		if !clash {
			bases = append(bases, b)
		}
	}
	f.mu.Lock()
	f.rng = rand.New(rand.NewPCG(sc.seed, 19))
	f.next, f.bases = bases[0], bases[1:]
	f.arrive()
	f.fresh = false
	f.mu.Unlock()

	dir := t.TempDir()
	db := filepath.Join(dir, "ampel.db")
	childEnv := append(cleanEnv(), "AMPEL_TEST_MAIN=1", "AMPEL_TELEGRAM_TOKEN="+token, "AMPEL_TELEGRAM_API_URL="+f.srv.URL)
	began := time.Now()
	kills := 0
	for run := 0; ; run++ {
		f.mu.Lock()
		done := f.total == sc.updates
		remaining := sc.updates - f.total
		f.mu.Unlock()
		if done {
			break
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$", "--db", db)
		cmd.Env = childEnv
		cmd.Dir = dir
		var stderr tailBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		var killed, planned atomic.Bool
		kill := func() {
			if !killed.Swap(true) {
				cmd.Process.Kill()
			}
		}
		f.mu.Lock()
		f.newInRun = 0
		f.lastDone = time.Now()
		f.kill = nil
		if kills < sc.kills {
			// Spread the kills left over the updates left; at the
			// confirmation or while a batch is handled, in turn.
			per := max(1, remaining/(sc.kills-kills+1))
			f.plan = killPlan{after: per/2 + rng.IntN(per+1), confirm: run%2 == 0,
				jitter: time.Duration(rng.IntN(3000)) * time.Microsecond}
			f.kill = func() {
				planned.Store(true)
				kill()
			}
		}
		f.mu.Unlock()
		// The last child runs until everything is confirmed. One that
		// sends an offset above every ID or makes no progress for a long
		// time is stopped, and the test fails.
		for stop := false; !stop; {
			select {
			case <-exited:
				stop = true
				continue
			case <-time.After(20 * time.Millisecond):
			}
			f.mu.Lock()
			finished := f.total == sc.updates
			beyond := f.beyond[:min(len(f.beyond), 3)]
			stuck := time.Since(f.lastDone) > hangGuard
			state := fmt.Sprintf("the newest ID is below %d; %d of %d confirmed", f.next, f.total, sc.updates)
			f.mu.Unlock()
			if finished || len(beyond) > 0 || stuck {
				kill()
				<-exited
				stop = true
				if len(beyond) > 0 {
					t.Errorf("run %d: offsets above every update ID given out: %v (%s)", run, beyond, state)
				}
				if stuck {
					t.Errorf("run %d: no update confirmed for %v (%s)", run, hangGuard, state)
				}
			}
		}
		if !killed.Load() {
			t.Fatalf("run %d: the child ended by itself\n%s", run, stderr.String())
		}
		if planned.Load() {
			kills++
		}
		checkConfirmed(t, db, f, run)
		if t.Failed() {
			t.Logf("child's log:\n%s", stderr.String())
			t.FailNow()
		}
	}
	if kills < sc.kills {
		t.Errorf("%d kills, want %d", kills, sc.kills)
	}
	compareWithReference(t, db, scripts)
	if t.Failed() {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	again := 0
	for _, n := range f.delivered {
		if n > 1 {
			again++
		}
	}
	t.Logf("%d updates in %d chats, %d ID jumps, %d kills with SIGKILL, %d batches served, %d updates delivered again after a kill, in %v: every confirmed update was committed before its confirmation; every conversation as after one uninterrupted run (each update took effect once)",
		sc.updates, sc.chats, sc.jumps, kills, f.batches, again, time.Since(began).Round(time.Millisecond))
}

// checkConfirmed opens the file the killed child left and checks that
// every update confirmed to the fake since the last check is committed
// (its ID is in its conversation's inbox).
func checkConfirmed(t *testing.T, path string, f *tgOffsetFake, run int) {
	t.Helper()
	f.mu.Lock()
	confirmed := f.confirmed
	f.confirmed = nil
	f.mu.Unlock()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatalf("run %d: reopen after the kill: %v", run, err)
	}
	defer db.Close()
	ctx := context.Background()
	for _, u := range confirmed {
		key := bot.Address{Platform: "telegram", Chat: strconv.FormatInt(u.chat, 10)}.Key()
		if seen, err := db.Seen(ctx, key, "telegram:"+strconv.Itoa(u.id)); err != nil || !seen {
			t.Errorf("run %d: update %d was confirmed to Telegram but is not committed (%v)", run, u.id, err)
		}
	}
}

// telegramStub stands in for Telegram in the reference run.
type telegramStub struct{}

func (telegramStub) Platform() string                                     { return "telegram" }
func (telegramStub) Run(ctx context.Context, h bot.Handler) error         { <-ctx.Done(); return nil }
func (telegramStub) Send(context.Context, bot.Address, bot.Message) error { return nil }

// compareWithReference runs each chat's messages once through an engine
// of its own (in memory) and compares where each conversation of the
// killed runs stands: the open question's number and checkpoint, and the
// ratings.
func compareWithReference(t *testing.T, path string, scripts map[int64][]string) {
	t.Helper()
	engine := bottest.NewEngine(t, bottest.NewMemStore(), bottest.NewClock(time.Now()))
	engine.Register(telegramStub{})
	ctx := context.Background()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := 0
	for chat, texts := range scripts {
		addr := bot.Address{Platform: "telegram", Chat: strconv.FormatInt(chat, 10), User: strconv.FormatInt(chat, 10)}
		for _, text := range texts {
			n++
			ev := bot.Event{ID: "r" + strconv.Itoa(n), Text: text, Addr: addr, LangHint: "de", UserName: "Eva Muster"}
			if err := engine.Handle(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
		want, err := engine.Load(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.Load(ctx, addr.Key())
		if err != nil {
			t.Fatal(err)
		}
		if g, w := standing(got), standing(want); g != w {
			t.Errorf("chat %d after %d messages: %s, want %s", chat, len(texts), g, w)
		}
	}
}

// standing is where a conversation stands, as the user sees it.
func standing(c *bot.Conversation) string {
	var ratings []string
	if c.Run != nil {
		for id, v := range c.Run.Ratings {
			ratings = append(ratings, id+"="+v)
		}
	}
	slices.Sort(ratings)
	return fmt.Sprintf("question %d (%s, checkpoint %d), ratings %v", c.Dialog.Seq, c.Dialog.Mode, c.Dialog.Cursor, ratings)
}

// tailBuffer keeps the last 16 KB written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > 16<<10 {
		b.buf = b.buf[len(b.buf)-16<<10:]
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// TestTelegramOffsetUnderKills (issue 18, item 4): 1,000 updates in 40
// chats, the child killed 10 times (10,000 updates and 100 kills with
// AMPEL_LONG=1), alternately at the moment it confirms updates and while
// it handles a batch.
func TestTelegramOffsetUnderKills(t *testing.T) {
	sc := offsetScenario{updates: 1000, chats: 40, kills: 10, seed: 4}
	if os.Getenv("AMPEL_LONG") != "" {
		sc = offsetScenario{updates: 10_000, chats: 100, kills: 100, seed: 4}
	}
	runOffsetScenario(t, sc)
}

// TestTelegramOffsetAfterIDJump: the update IDs jump to random values
// between segments of updates, as after a week without updates, the first
// time to lower ones, while the child runs on with its offset; it is
// killed now and then, never across a jump.
func TestTelegramOffsetAfterIDJump(t *testing.T) {
	sc := offsetScenario{updates: 1000, chats: 40, kills: 3, jumps: 4, seed: 5}
	if os.Getenv("AMPEL_LONG") != "" {
		sc = offsetScenario{updates: 10_000, chats: 100, kills: 20, jumps: 10, seed: 5}
	}
	runOffsetScenario(t, sc)
}
