package store_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/store"
)

// The child process of TestCrashKill: commitWriters goroutines commit
// through store.DB as fast as they can, each to commitKeys conversations of
// its own in turn, with a reply in the outbox and a reminder that moves on
// every commit (so the reminder index changes too), and now and then mark
// an earlier reply delivered (so pages are freed and reused). After each
// Commit returns, it prints the commit, and after each Delivered the ID:
//
//	A <run> <writer> <n> <outbox ID>
//	D <outbox ID>
const (
	commitWriters = 4
	commitKeys    = 5
	crashEnv      = "AMPEL_CRASH_DB"
)

var reminderBase = time.Date(2027, 3, 10, 8, 0, 0, 0, time.UTC)

func crashAddr(writer, n int) bot.Address {
	return bot.Address{Platform: "crash", Chat: fmt.Sprintf("w%d-k%d", writer, n%commitKeys)}
}

// crashSeq orders the commits to one conversation across runs.
func crashSeq(run, n int) int { return run*1_000_000 + n + 1 }

func TestCrashKillHelper(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("the child process of TestCrashKill")
	}
	run, _ := strconv.Atoi(os.Getenv("AMPEL_CRASH_RUN"))
	db, err := store.Open(path, store.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(3)
	}
	for w := range commitWriters {
		go func() {
			var sent []uint64
			for n := 0; ; n++ {
				addr := crashAddr(w, n)
				seq := crashSeq(run, n)
				c := &bot.Conversation{
					Addr:   addr,
					Dialog: bot.Dialog{Seq: seq, Mode: "plan"},
					Plan:   bot.Plan{Measures: []bot.Measure{{ID: 1, Text: strings.Repeat("Maßnahme ", 1+n%40)}}},
					Reminders: []bot.Reminder{{ID: "m1-2review", Measure: 1, Kind: bot.KindReview, For: "2027-03-10", Day: "2027-03-10", Hour: 9, Zone: "UTC",
						Due: reminderBase.Add(time.Duration(seq) * time.Second)}},
				}
				outs := []bot.Outgoing{{To: addr, Msg: bot.Message{Text: fmt.Sprintf("reply %d/%d/%d", run, w, n)}}}
				q, err := db.Commit(context.Background(), fmt.Sprintf("ev-%d-%d-%d", run, w, n), addr.Key(), c, outs)
				if err != nil || len(q) != 1 {
					fmt.Fprintln(os.Stderr, "commit:", err)
					os.Exit(3)
				}
				fmt.Printf("A %d %d %d %d\n", run, w, n, q[0].ID)
				sent = append(sent, q[0].ID)
				if n%7 == 6 {
					// Said before the call: the mark is written while
					// Delivered runs (it returns once written), so a kill
					// inside the call may leave the reply gone.
					id := sent[len(sent)-4]
					fmt.Printf("D %d\n", id)
					if err := db.Delivered(context.Background(), id); err != nil {
						fmt.Fprintln(os.Stderr, "delivered:", err)
						os.Exit(3)
					}
				}
			}
		}()
	}
	select {} // until killed
}

// TestCrashKill kills a process that commits through the store under load
// (TestCrashKillHelper) with SIGKILL at a random point, 10 times (100 with
// AMPEL_LONG=1), on the same file, which each run reopens. After every kill
// bbolt's consistency check and the store's own check (every record reads
// back) pass, and every commit the process acknowledged is there: each
// conversation holds its last acknowledged state or a later one of the run
// that was killed, its event is remembered, its reply is in the outbox
// unless it was marked delivered, and the reminder index holds exactly the
// conversation's reminder.
//
// What this cannot show: a power cut. A killed process leaves its writes in
// the page cache, and the kernel writes them out; a power cut drops what
// was not synced. bbolt's own robustness tests cover that with dm-flakey.
func TestCrashKill(t *testing.T) {
	iterations := 10
	if os.Getenv("AMPEL_LONG") != "" {
		iterations = 100
	}
	path := filepath.Join(t.TempDir(), "ampel.db")
	rng := rand.New(rand.NewPCG(8, 100))
	last := map[string]crashAck{}  // the last acknowledged commit per conversation
	replies := map[uint64]string{} // acknowledged outbox IDs, and their text
	delivered := map[uint64]bool{} // marked delivered: may be gone or not
	began := time.Now()
	total := 0
	for run := range iterations {
		// Kill after a random number of acknowledged commits, and a random
		// moment after that one, so that the kill falls anywhere in a
		// commit: before, while or after bbolt writes and syncs.
		killAt := 1 + rng.IntN(300)
		jitter := time.Duration(rng.IntN(3000)) * time.Microsecond
		acks := killChild(t, "TestCrashKillHelper", []string{crashEnv + "=" + path, "AMPEL_CRASH_RUN=" + strconv.Itoa(run)}, killAt, jitter, func(f []string) bool {
			switch {
			case len(f) == 5 && f[0] == "A":
				r, _ := strconv.Atoi(f[1])
				w, _ := strconv.Atoi(f[2])
				n, _ := strconv.Atoi(f[3])
				id, _ := strconv.ParseUint(f[4], 10, 64)
				last[crashAddr(w, n).Key()] = crashAck{r, w, n}
				replies[id] = fmt.Sprintf("reply %d/%d/%d", r, w, n)
				return true
			case len(f) == 2 && f[0] == "D":
				id, _ := strconv.ParseUint(f[1], 10, 64)
				delivered[id] = true
			}
			return false
		})
		total += acks
		checkAfterKill(t, path, run, last, replies, delivered)
		if t.Failed() {
			t.FailNow()
		}
	}
	t.Logf("%d kills with SIGKILL in %v, %d acknowledged commits, all there after every kill", iterations, time.Since(began).Round(time.Millisecond), total)
}

// killChild runs the test helper in a child process with env added,
// hands each line it prints to line, which reports whether it
// acknowledged a commit, and kills the child with SIGKILL jitter after
// its killAt-th acknowledgement. It returns how many it acknowledged.
func killChild(t *testing.T, helper string, env []string, killAt int, jitter time.Duration, line func(fields []string) bool) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+helper+"$")
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acks, killed := 0, false
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if line(strings.Fields(sc.Text())) {
			acks++
		}
		if acks >= killAt && !killed {
			killed = true
			time.Sleep(jitter)
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("the child ended by itself after %d commits: %v\n%s", acks, err, stderr.String())
	}
	return acks
}

// crashAck is a commit the child acknowledged.
type crashAck struct{ run, writer, n int }

func checkAfterKill(t *testing.T, path string, run int, last map[string]crashAck, replies map[uint64]string, delivered map[uint64]bool) {
	t.Helper()
	// bbolt's check, on the file as the kill left it.
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("run %d: bbolt cannot open the file: %v", run, err)
	}
	err = bdb.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("run %d: bbolt check: %v", run, err)
		}
		return nil
	})
	bdb.Close()
	if err != nil {
		t.Fatal(err)
	}
	if r, err := store.InspectFile(path); err != nil || len(r.Damaged) > 0 {
		t.Fatalf("run %d: the store's check: %v, %v", run, err, r.Damaged)
	}
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatalf("run %d: reopen: %v", run, err)
	}
	defer db.Close()
	ctx := context.Background()
	if err := db.Check(); err != nil {
		t.Fatalf("run %d: check after reopening: %v", run, err)
	}
	due, err := db.Due(ctx, reminderBase.AddDate(10, 0, 0), bot.DueRef{}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	indexed := map[string][]time.Time{}
	for _, d := range due {
		indexed[d.Key] = append(indexed[d.Key], d.Due)
	}
	for key, a := range last {
		c, err := db.Load(ctx, key)
		if err != nil {
			t.Fatalf("run %d: %s: %v", run, key, err)
		}
		got, want := c.Dialog.Seq, crashSeq(a.run, a.n)
		// A later commit than the last acknowledged one may have made it
		// (its process died before saying so), and stays until the next.
		if got < want || got/1_000_000 > run {
			t.Errorf("run %d: %s holds commit %d, the last acknowledged was %d", run, key, got, want)
		}
		if len(c.Reminders) != 1 || len(indexed[key]) != 1 || !indexed[key][0].Equal(c.Reminders[0].Due) {
			t.Errorf("run %d: %s: reminder %v, index %v", run, key, c.Reminders, indexed[key])
		}
		if seen, err := db.Seen(ctx, key, fmt.Sprintf("ev-%d-%d-%d", a.run, a.writer, a.n)); err != nil || !seen {
			t.Errorf("run %d: %s: the last acknowledged event is not remembered (%v)", run, key, err)
		}
	}
	pending := outboxTexts(t, db)
	for id, text := range replies {
		if got, ok := pending[id]; !delivered[id] && (!ok || got != text) {
			t.Errorf("run %d: acknowledged reply %d (%q) not in the outbox: %q, %v", run, id, text, got, ok)
		}
	}
}

// outboxTexts reads the whole outbox: message texts by ID.
func outboxTexts(t *testing.T, db *store.DB) map[uint64]string {
	t.Helper()
	pending := map[uint64]string{}
	for after := uint64(0); ; {
		qs, err := db.Pending(context.Background(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range qs {
			pending[q.ID] = q.Msg.Text
		}
		if len(qs) < 1000 {
			return pending
		}
		after = qs[len(qs)-1].ID
	}
}
