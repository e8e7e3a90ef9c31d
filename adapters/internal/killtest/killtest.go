// Package killtest is the kill-point crash test of the adapters (issue
// 18, item 1), shared by each platform's test.
//
// The parent test runs the platform's fake (an httptest server speaking its
// wire format, which outlives every crash, as the platform does) and starts
// the same test binary again as a child, on a real bbolt file. The child
// runs the real engine with the real adapter against the fake and works
// through a list of events one after another: each is committed through
// Engine.Do (half of them send a reply, half a push, whose attempt is
// recorded before the send), acknowledged to the parent by a line on
// stdout once Do returned nil, as an adapter acknowledges to its platform,
// and its message is sent and marked delivered before the next. The child
// arms AMPEL_KILLPOINT, so it ends itself with SIGKILL the n-th time it
// passes the point; the parent starts it again on the same file, and the
// restarted child first sends what the dead one left (Engine.Flush), then
// gives again every event not acknowledged, as a platform redelivers.
//
// One event in flight at a time makes the outcome exact: a message shows
// twice only if the platform accepted it and the process died before
// marking it, so visible duplicates equal the crashes at KillAfterAccept
// on a platform that cannot tell (Telegram), and are none on one that can
// (Slack looks for the outbox ID, Mattermost deduplicates pending_post_id).
// Concurrent dialogues under kill -9 from outside are TestTeamKill's and
// TestBatchKill's part.
package killtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/store"
)

const (
	envDB    = "AMPEL_KILLTEST_DB"
	envState = "AMPEL_KILLTEST_STATE"
	envKill  = "AMPEL_KILLPOINT"
)

// state is what the parent tells a child: the events, the first one not
// acknowledged, and the events the parent made end in a file.
type state struct {
	Point               bot.KillPoint
	Chats, Events, Next int
	Files               map[int]bool `json:",omitempty"`
}

// text is the text of event i's message: what the fake must show once.
func text(p bot.KillPoint, i int) string { return "kt-" + string(p) + "-" + strconv.Itoa(i) }

// message is event i's message. Half of them end in a file, whose outcome
// a restarted process must find as it finds a post's: every fourth is a
// text and then a file (an .ics, as an appointment is sent), every fourth
// a file alone (a result picture); so are those in s.Files, by turns.
func (s *state) message(i int) bot.Message {
	m := bot.Message{Text: text(s.Point, i)}
	if !s.hasFile(i) {
		return m
	}
	m.Files = []bot.File{{Name: text(s.Point, i) + ".ics", MIME: "text/calendar", Data: []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")}}
	if i%4 == 3 || s.Files[i] && i%2 == 1 {
		m.Text = ""
	}
	return m
}

func (s *state) hasFile(i int) bool { return i%4 >= 2 || s.Files[i] }

// shows is what the fake must show once for event i: its text, its
// file's name (or title).
func (s *state) shows(i int) []string {
	var out []string
	m := s.message(i)
	if m.Text != "" {
		out = append(out, m.Text)
	}
	for _, f := range m.Files {
		out = append(out, f.Name)
	}
	return out
}

// chat is the number of event i's chat: each point has chats of its own,
// 10·(its place in bot.KillPoints) + 0..Chats-1.
func (s *state) chat(i int) int {
	for n, p := range bot.KillPoints {
		if p == s.Point {
			return 10*n + i%s.Chats
		}
	}
	panic("no such kill point")
}

// Child is the child's side; newAdapter builds the adapter to the fake
// (whose address the parent passed in the environment), addr is the
// address of chat number n (0 to 39). Outside a crash test it skips.
func Child(t *testing.T, newAdapter func() (bot.Adapter, error), addr func(chat int) bot.Address) {
	path := os.Getenv(envDB)
	if path == "" {
		t.Skip("the child of a kill-point test")
	}
	if err := bot.KillAt(os.Getenv(envKill)); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(os.Getenv(envState))
	if err != nil {
		t.Fatal(err)
	}
	var s state
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	var out sync.Mutex
	say := func(format string, args ...any) {
		out.Lock()
		defer out.Unlock()
		fmt.Fprintf(os.Stdout, format+"\n", args...) // one write: a whole line or none
	}
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	catalog, texts := bottest.Content(t)
	engine, err := bot.New(bot.Config{Store: db, Flows: catalog, Texts: texts, Zone: time.UTC, Observer: dupSayer{say: say}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := newAdapter()
	if err != nil {
		t.Fatal(err)
	}
	engine.Register(a)
	ctx := context.Background()
	if err := engine.Flush(ctx); err != nil { // what the dead process left
		t.Fatal(err)
	}
	for i := s.Next; i < s.Events; i++ {
		to, m := addr(s.chat(i)), s.message(i)
		err := engine.Do(ctx, text(s.Point, i), func(tx *bot.Tx) error {
			if i%2 == 0 {
				tx.Send(to, m)
			} else {
				tx.Push(to, m)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		say("ack %d", i)
		if err := engine.Settle(ctx); err != nil { // sent and marked
			t.Fatal(err)
		}
	}
	for try := 0; ; try++ {
		left, err := db.Pending(ctx, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) == 0 {
			break
		}
		if try == 100 {
			t.Fatalf("outbox message %d not delivered after %d flushes", left[0].ID, try)
		}
		time.Sleep(50 * time.Millisecond) // a failed send's back-off; not a race: Pending decides
		if err := engine.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	engine.Close()
	db.Close()
	say("done")
}

// dupSayer tells the parent of every possible duplicate, before the send.
type dupSayer struct {
	bot.NopObserver
	say func(string, ...any)
}

func (d dupSayer) PossibleDuplicate(platform, outcome string) { d.say("dup %s", outcome) }

// Options are a kill-point test's.
type Options struct {
	// Child is the name of the test that calls Child.
	Child string
	// Env is what the child needs to reach the fake.
	Env []string
	// Point is where the child dies, Kills how often.
	Point bot.KillPoint
	Kills int
	// Shown lists the texts of every message the fake shows, and the names
	// (titles) of its files (the test's texts name their point: the fake
	// may serve several runs).
	Shown func() []string
	// Dedupes says the platform side keeps a message resent after a crash
	// from showing twice (Slack's look for the outbox ID, Mattermost's
	// pending_post_id); else each crash at KillAfterAccept shows one
	// message twice.
	Dedupes bool
}

// Result is what a run saw.
type Result struct {
	Events, Starts, Crashes int
	FileCrashes             int // crashes with a message ending in a file in flight
	Lost, Duplicates        int // messages never shown; shown more than once (extra copies)
	Resent, Found           int // possible duplicates counted: sent again; found delivered, not sent
}

func (r Result) String() string {
	return fmt.Sprintf("%d events, %d starts, %d crashes (%d with a file in flight): %d lost, %d shown twice; possible duplicates counted: %d resent, %d found and not resent",
		r.Events, r.Starts, r.Crashes, r.FileCrashes, r.Lost, r.Duplicates, r.Resent, r.Found)
}

// Points runs Run at every kill point in turn, each in a subtest, o.Kills
// times (Kills() if 0); o.Point is set for each.
func Points(t *testing.T, o Options) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	if o.Kills == 0 {
		o.Kills = Kills()
	}
	for _, p := range bot.KillPoints {
		t.Run(string(p), func(t *testing.T) {
			o.Point = p
			t.Log(Run(t, o))
		})
	}
}

// Kills is how often a test dies at each point: 3 in CI, 25 with
// AMPEL_LONG=1, or AMPEL_KILLS (200 kills after the platform accepted:
// AMPEL_KILLS=200 go test -run 'TestKillPoints/after-accept').
func Kills() int {
	if n, err := strconv.Atoi(os.Getenv("AMPEL_KILLS")); err == nil && n > 0 {
		return n
	}
	if os.Getenv("AMPEL_LONG") != "" {
		return 25
	}
	return 3
}

// Run is the parent's side: it starts the child until it died o.Kills
// times at o.Point and then finished, and checks what the fake shows and
// what the file holds.
func Run(t *testing.T, o Options) Result {
	t.Helper()
	dir := t.TempDir()
	path, statePath := filepath.Join(dir, "kill.db"), filepath.Join(dir, "state.json")
	s := state{Point: o.Point, Chats: 4, Events: 4 * o.Kills}
	rng := rand.New(rand.NewPCG(uint64(len(o.Point)), 18))
	var r Result
	for finished := false; !finished; r.Starts++ {
		if r.Starts > 6*o.Kills+20 {
			t.Fatalf("%s: the child did not finish after %d starts (%v)", o.Point, r.Starts, r)
		}
		if o.Point == bot.KillAfterAccept && r.Crashes < o.Kills && r.Crashes%2 == 0 {
			// Every other crash with a message ending in a file in flight:
			// the next events, none committed yet (this point passes only
			// after an acknowledgement), end in one.
			if s.Files == nil {
				s.Files = map[int]bool{}
			}
			for i := s.Next; i < s.Next+4; i++ {
				s.Files[i] = true
			}
		}
		data, _ := json.Marshal(s)
		if err := os.WriteFile(statePath, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^"+o.Child+"$")
		cmd.Env = append(cleanEnv(), o.Env...)
		cmd.Env = append(cmd.Env, envDB+"="+path, envState+"="+statePath)
		if r.Crashes < o.Kills {
			cmd.Env = append(cmd.Env, envKill+"="+string(o.Point)+":"+strconv.Itoa(1+rng.IntN(3)))
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := false
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var i int
			switch line := sc.Text(); {
			case line == "done":
				done = true
			case line == "dup "+bot.DuplicateResent:
				r.Resent++
			case line == "dup "+bot.DuplicateFound:
				r.Found++
			case sscan(line, "ack %d", &i):
				if i != s.Next {
					t.Fatalf("%s: the child acknowledged event %d, want %d", o.Point, i, s.Next)
				}
				s.Next++
			}
		}
		err = cmd.Wait()
		var exit *exec.ExitError
		switch {
		case err == nil && done:
			if r.Crashes >= o.Kills {
				finished = true
			} else {
				s.Events += 4 // the point was not reached often enough yet
			}
		case errors.As(err, &exit) && killed(exit) && !done:
			r.Crashes++
			if s.Next > 0 && s.hasFile(s.Next-1) {
				r.FileCrashes++ // one event in flight: the last acknowledged
			}
			checkFile(t, path, r.Crashes)
		default:
			t.Fatalf("%s: start %d ended (%v) but not at the kill point; stderr:\n%s", o.Point, r.Starts, err, tailOf(stderr.String()))
		}
	}
	r.Events = s.Events
	counts := map[string]int{}
	for _, text := range o.Shown() {
		counts[strings.TrimSpace(text)]++
	}
	for i := range s.Events {
		lost, extra := false, 0
		for _, k := range s.shows(i) {
			n := counts[k]
			lost = lost || n == 0
			extra = max(extra, n-1)
			if n > 1 {
				t.Logf("%s shown %d times", k, n)
			}
		}
		if lost {
			r.Lost++
		}
		r.Duplicates += extra
	}
	if o.Point == bot.KillAfterAccept && r.FileCrashes == 0 {
		t.Errorf("%s: no crash with a message ending in a file in flight (%v)", o.Point, r)
	}
	if r.Lost > 0 {
		t.Errorf("%s: %d of %d acknowledged messages never shown (%v)", o.Point, r.Lost, s.Events, r)
	}
	wantDups := 0
	if o.Point == bot.KillAfterAccept && !o.Dedupes {
		wantDups = r.Crashes
	}
	if r.Duplicates != wantDups {
		t.Errorf("%s: %d messages shown twice, want %d (%v)", o.Point, r.Duplicates, wantDups, r)
	}
	if r.Resent < r.Duplicates {
		t.Errorf("%s: %d shown twice, only %d counted as possible duplicates (%v)", o.Point, r.Duplicates, r.Resent, r)
	}
	if o.Point == bot.KillAfterAccept && r.Resent+r.Found < r.Crashes {
		t.Errorf("%s: %d crashes after the platform accepted, %d possible duplicates counted (%v)", o.Point, r.Crashes, r.Resent+r.Found, r)
	}
	return r
}

// killed reports whether the child ended itself at the kill point.
func killed(e *exec.ExitError) bool {
	return e.ExitCode() == -1 || e.ExitCode() == 137 // SIGKILL, or os.Exit(137) if that failed
}

// checkFile opens the file a dead child left: bbolt's check passes.
func checkFile(t *testing.T, path string, crash int) {
	t.Helper()
	db, err := store.Open(path, store.Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("crash %d: reopen: %v", crash, err)
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		t.Fatalf("crash %d: bbolt's check: %v", crash, err)
	}
}

func sscan(line, format string, args ...any) bool {
	n, err := fmt.Sscanf(line, format, args...)
	return err == nil && n == len(args)
}

func tailOf(s string) string {
	if len(s) > 4000 {
		return "…" + s[len(s)-4000:]
	}
	return s
}

// cleanEnv is the environment without AMPEL_* variables.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AMPEL_") {
			out = append(out, kv)
		}
	}
	return out
}
