package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/store"
)

// The child process of TestBatchKill: batchWriters goroutines commit
// batches as fast as they can, each changing two conversations and one
// record of its own to the same number, with a message. After each
// CommitBatch returns it prints
//
//	B <run> <writer> <n> <outbox ID>
const (
	batchWriters = 3
	batchEnv     = "AMPEL_BATCH_KILL_DB"
)

func batchKeys(w int) (a, b string, rec bot.RecordRef) {
	return fmt.Sprintf("kill/w%d/a", w), fmt.Sprintf("kill/w%d/b", w), bot.RecordRef{Kind: "team", ID: fmt.Sprintf("w%d", w)}
}

func TestBatchKillHelper(t *testing.T) {
	path := os.Getenv(batchEnv)
	if path == "" {
		t.Skip("the child process of TestBatchKill")
	}
	run, _ := strconv.Atoi(os.Getenv("AMPEL_CRASH_RUN"))
	db, err := store.Open(path, store.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(3)
	}
	for w := range batchWriters {
		go func() {
			a, b, rec := batchKeys(w)
			for n := 0; ; n++ {
				seq := crashSeq(run, n)
				to := bot.Address{Platform: "kill", Chat: fmt.Sprintf("w%d", w)}
				q, err := db.CommitBatch(context.Background(), &bot.Batch{
					EventID: fmt.Sprintf("bev-%d-%d-%d", run, w, n), Key: a,
					Convs: []bot.ConvWrite{
						{Key: a, Conv: &bot.Conversation{Dialog: bot.Dialog{Seq: seq}, Plan: bot.Plan{Measures: []bot.Measure{{ID: 1, Text: strings.Repeat("x", n%300)}}}}},
						{Key: b, Conv: &bot.Conversation{Dialog: bot.Dialog{Seq: seq}}},
					},
					Records: []bot.RecordWrite{{Ref: rec, Data: []byte(strconv.Itoa(seq))}},
					Outs:    []bot.Outgoing{{To: to, Msg: bot.Message{Text: fmt.Sprintf("batch %d/%d/%d", run, w, n)}}},
				})
				if err != nil || len(q) != 1 {
					fmt.Fprintln(os.Stderr, "commit:", err)
					os.Exit(3)
				}
				fmt.Printf("B %d %d %d %d\n", run, w, n, q[0].ID)
			}
		}()
	}
	select {} // until killed
}

// TestBatchKill kills a process that commits batches (TestBatchKillHelper)
// with SIGKILL at a random point, 5 times (50 with AMPEL_LONG=1), on the
// same file. After every kill no batch is half-written: each writer's two
// conversations and its record hold the same batch, the last acknowledged
// one or a later one, its event is remembered, and every acknowledged
// message is in the outbox.
func TestBatchKill(t *testing.T) {
	iterations := 5
	if os.Getenv("AMPEL_LONG") != "" {
		iterations = 50
	}
	path := filepath.Join(t.TempDir(), "ampel.db")
	rng := rand.New(rand.NewPCG(12, 4))
	last := map[int]crashAck{}
	replies := map[uint64]string{}
	for run := range iterations {
		killAt := 1 + rng.IntN(200)
		jitter := time.Duration(rng.IntN(3000)) * time.Microsecond
		killChild(t, "TestBatchKillHelper", []string{batchEnv + "=" + path, "AMPEL_CRASH_RUN=" + strconv.Itoa(run)}, killAt, jitter, func(f []string) bool {
			if len(f) != 5 || f[0] != "B" {
				return false
			}
			r, _ := strconv.Atoi(f[1])
			w, _ := strconv.Atoi(f[2])
			n, _ := strconv.Atoi(f[3])
			id, _ := strconv.ParseUint(f[4], 10, 64)
			last[w] = crashAck{r, w, n}
			replies[id] = fmt.Sprintf("batch %d/%d/%d", r, w, n)
			return true
		})
		checkBatchesAfterKill(t, path, run, last, replies)
		if t.Failed() {
			t.FailNow()
		}
	}
}

func checkBatchesAfterKill(t *testing.T, path string, run int, last map[int]crashAck, replies map[uint64]string) {
	t.Helper()
	if r, err := store.InspectFile(path); err != nil || len(r.Damaged) > 0 {
		t.Fatalf("run %d: the store's check: %v, %v", run, err, r.Damaged)
	}
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatalf("run %d: reopen: %v", run, err)
	}
	defer db.Close()
	ctx := context.Background()
	for w, ack := range last {
		a, b, ref := batchKeys(w)
		ca, err1 := db.Load(ctx, a)
		cb, err2 := db.Load(ctx, b)
		raw, err3 := db.Record(ctx, ref)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("run %d: writer %d: %v %v %v", run, w, err1, err2, err3)
		}
		rec, _ := strconv.Atoi(string(raw))
		if ca.Dialog.Seq != cb.Dialog.Seq || ca.Dialog.Seq != rec {
			t.Errorf("run %d: writer %d: half a batch: conversations hold %d and %d, the record %d", run, w, ca.Dialog.Seq, cb.Dialog.Seq, rec)
		}
		if want := crashSeq(ack.run, ack.n); ca.Dialog.Seq < want {
			t.Errorf("run %d: writer %d holds batch %d, the last acknowledged was %d", run, w, ca.Dialog.Seq, want)
		}
		if seen, err := db.Seen(ctx, a, fmt.Sprintf("bev-%d-%d-%d", ack.run, w, ack.n)); err != nil || !seen {
			t.Errorf("run %d: writer %d: the last acknowledged batch is not remembered (%v)", run, w, err)
		}
	}
	pending := outboxTexts(t, db)
	for id, text := range replies {
		if got := pending[id]; got != text {
			t.Errorf("run %d: acknowledged message %d (%q) not in the outbox: %q", run, id, text, got)
		}
	}
}
