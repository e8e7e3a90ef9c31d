package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/features"
	"github.com/ampel-bot/ampel/store"
)

// benchScript is one user's scenario: start zo-kmu by its id (a bare /check
// asks which check when several are installed), seven ratings (three
// of them red or yellow) with one invalid answer among them, accept the plan
// offer, then one measure with its five fields for each of the three
// checkpoints. Answers are typed, as a console or Mattermost user without
// buttons would, so the typed-twin path is measured too.
var benchScript = []string{
	"/check zo-kmu",
	"1",           // 1/7 red
	"vielleicht?", // invalid: hint and the same question
	"2",           // 2/7 yellow
	"1",           // 3/7 red
	"3", "3", "3", "3",
	"1", // build the action plan
	"Workshop mit zwei Betrieben", "1", "ich", "in 2 Wochen", "in 3 Monaten",
	"Weiter", "Kontaktliste der Freiwilligenagentur", "2", "Anna", "nächsten Montag", "15.12.2030",
	"Weiter", "Kooperationsvereinbarung entwerfen", "3", "Ben", "morgen", "in 6 Wochen",
}

// benchAdapter swallows replies, as a platform that answers at once would.
// It shows no files unless files is set (ampel bench --files): the figures
// are the dialogue's, comparable with earlier ones, and the result picture
// each finished check then brings (some 8-12 ms of a core each, see
// BenchmarkPicture in bot/export) is measured when asked for.
type benchAdapter struct{ files bool }

func (benchAdapter) Platform() string                                     { return "bench" }
func (benchAdapter) Run(ctx context.Context, h bot.Handler) error         { <-ctx.Done(); return nil }
func (benchAdapter) Send(context.Context, bot.Address, bot.Message) error { return nil }
func (a benchAdapter) Files() bool                                        { return a.files }

func runBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fset := newFlagSet("ampel bench", stderr)
	users := fset.Int("users", 1000, "users doing the scenario at once")
	rounds := fset.Int("rounds", 1, "times each user does the scenario, each time in a new conversation")
	dbPath := fset.String("db", "", "database file (default: a temporary file, removed afterwards)")
	cpuProfile := fset.String("cpuprofile", "", "write a CPU profile to this file")
	memProfile := fset.String("memprofile", "", "write a heap profile, taken when half the turns are done, to this file")
	memory := fset.Bool("memory", false, "also print to stderr what the peak resident memory was made of")
	files := fset.Bool("files", false, "the platform shows files: every finished check's result comes with its picture")
	backupTo := fset.String("backup", "", "also take a backup to this file when half the turns are done, as ampel backup does, while the users go on")
	teamSize := fset.Int("team", 0, "after the users, this many members join one team run in a group and rate every checkpoint at once")
	if err := fset.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *users < 1 || *rounds < 1 {
		return errors.New("--users and --rounds must be at least 1")
	}
	if *teamSize < 0 {
		return errors.New("--team must not be negative")
	}
	path := *dbPath
	if path == "" {
		dir, err := os.MkdirTemp("", "ampel-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "bench.db")
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	catalog, texts, err := loadContent(Config{}, log)
	if err != nil {
		return err
	}
	// Metrics on, as in production: the bench's figures include them.
	met := newMetrics()
	db, err := store.Open(path, store.Options{OnCommit: met.commitTook})
	if err != nil {
		return err
	}
	defer db.Close()
	zone, _ := time.LoadLocation("Europe/Berlin")
	engine, err := bot.New(bot.Config{Store: db, Flows: catalog, Texts: texts, Zone: zone, Log: log, Observer: met, Features: features.All()})
	if err != nil {
		return err
	}
	defer engine.Close()
	met.watch(engine, db, time.Now)
	engine.Register(benchAdapter{files: *files})

	if *memProfile != "" {
		runtime.MemProfileRate = 4096
	}
	b := &benchRun{engine: engine, run: strconv.FormatInt(time.Now().UnixNano(), 36), rounds: *rounds}
	var atHalf []func()
	if *memProfile != "" {
		atHalf = append(atHalf, func() {
			if f, err := os.Create(*memProfile); err == nil {
				// The profile shows what lived at the last collection;
				// one made now shows what lives now.
				runtime.GC()
				pprof.WriteHeapProfile(f)
				f.Close()
			}
		})
	}
	// The backup's copy is taken beside the users, as the server does for
	// ampel backup; its fsync and check come after them, as ampel backup
	// does them on the operator's machine.
	type backupResult struct {
		took time.Duration
		err  error
	}
	var backupDone chan backupResult
	if *backupTo != "" {
		backupDone = make(chan backupResult, 1)
		atHalf = append(atHalf, func() {
			go func() {
				t0 := time.Now()
				err := spool(*backupTo, copyOf(ctx, db))
				backupDone <- backupResult{time.Since(t0), err}
			}()
		})
	}
	if len(atHalf) > 0 {
		half := int64(*users * *rounds * len(benchScript) / 2)
		b.afterTurn = func() {
			if b.turns.Add(1) == half {
				for _, f := range atHalf {
					f()
				}
			}
		}
	}
	us := make([]*benchUser, *users)
	for u := range us {
		us[u] = &benchUser{b: b, u: u, lat: make([]time.Duration, 0, len(benchScript)**rounds)}
	}
	var wg sync.WaitGroup
	var mem *memWatch
	if *memory {
		mem = watchMemory()
	}
	start := time.Now()
	for _, s := range us {
		wg.Add(1)
		go s.run(ctx, &wg) // no wrapper: its frame would be under every wait
	}
	wg.Wait()
	// The replies are sent after each turn; the time includes them.
	if err := engine.Settle(ctx); err != nil {
		return err
	}
	elapsed := time.Since(start)
	rss := peakRSSMB()
	if mem != nil {
		mem.stop()
	}
	backupLine := ""
	if backupDone != nil {
		res := <-backupDone
		if res.err != nil {
			return fmt.Errorf("backup during the bench: %w", res.err)
		}
		t0 := time.Now()
		r, err := settle(*backupTo, nil)
		if err != nil {
			return fmt.Errorf("backup during the bench: %w", err)
		}
		backupLine = fmt.Sprintf("backup=%s copy_ms=%d check_ms=%d conversations=%d checked=ok\n",
			*backupTo, res.took.Milliseconds(), time.Since(t0).Milliseconds(), r.Conversations)
	}
	for _, s := range us {
		if s.err != nil {
			return s.err
		}
	}
	// Every turn must have done its work, or the figures mean nothing. This
	// check is the harness's, not the users', so it runs after the peak
	// resident memory was read: decoding 1,000 conversations from the file
	// at once is not part of the workload.
	for u := 0; u < *users; u++ {
		for round := 0; round < *rounds; round++ {
			c, err := engine.Load(ctx, b.addr(u, round))
			if err != nil {
				return err
			}
			if n := len(c.Plan.Open()); n != 3 {
				return fmt.Errorf("user %d ended with %d measures, want 3 (dialogue at %q)", u, n, c.Dialog.Mode)
			}
		}
	}
	teamLine := ""
	if *teamSize > 0 {
		var checkpoints []string
		if f, ok := catalog.Get("zo-kmu"); ok {
			for _, cp := range f.Checkpoints {
				checkpoints = append(checkpoints, cp.ID)
			}
		}
		res, err := benchTeam(ctx, engine, db, b.run, *teamSize, checkpoints)
		if err != nil {
			return err
		}
		teamLine = res.line()
	}
	var all []time.Duration
	for _, s := range us {
		all = append(all, s.lat...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) float64 {
		return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000
	}
	if mem != nil {
		mem.report(stderr, path)
	}
	fmt.Fprintf(stdout, "engine=ampel store=bbolt users=%d turns=%d turns_per_s=%.0f p50_ms=%.2f p99_ms=%.2f rss_mb=%.1f\n",
		*users, len(all), float64(len(all))/elapsed.Seconds(), pct(0.50), pct(0.99), rss)
	io.WriteString(stdout, teamLine)
	io.WriteString(stdout, backupLine)
	return nil
}

// benchRun is what the simulated users share. Each user's goroutine stays
// shallow, as a platform adapter's would, so that what is measured is the
// engine's memory, not the harness's.
type benchRun struct {
	engine    *bot.Engine
	run       string
	rounds    int
	turns     atomic.Int64
	afterTurn func()
}

// Not inlined: its string building would otherwise sit in every user's frame.
//
//go:noinline
func (b *benchRun) addr(u, round int) bot.Address {
	return bot.Address{Platform: "bench", Chat: b.run + "-" + strconv.Itoa(u) + "-" + strconv.Itoa(round), User: strconv.Itoa(u)}
}

// benchIDs are the event IDs of a round's turns, made once.
var benchIDs = func() []string {
	ids := make([]string, len(benchScript))
	for i := range ids {
		ids[i] = strconv.Itoa(i)
	}
	return ids
}()

// benchUser is one simulated user. It lives on the heap and its loop is
// lean, so that the goroutine's frames above the engine stay as small as a
// platform adapter's: with a thousand users waiting at once, their stacks
// are a good part of the memory measured.
type benchUser struct {
	b    *benchRun
	u    int
	addr bot.Address
	t0   time.Time
	lat  []time.Duration
	err  error
}

// run does the user's scenario b.rounds times, noting each turn's latency,
// and tells wg when it is done.
func (s *benchUser) run(ctx context.Context, wg *sync.WaitGroup) {
	defer wg.Done()
	for round := 0; round < s.b.rounds; round++ {
		s.addr = s.b.addr(s.u, round)
		for i := range benchScript {
			if !s.turn(ctx, i) {
				return
			}
		}
	}
}

// turn is one turn of the scenario. It is apart from run, and not inlined,
// so that the event's copy for Handle and the timing are in one small
// frame below which the engine waits, not in the loop's.
//
//go:noinline
func (s *benchUser) turn(ctx context.Context, i int) bool {
	s.t0 = time.Now()
	if err := s.b.engine.Handle(ctx, bot.Event{ID: benchIDs[i], Addr: s.addr, Text: benchScript[i], LangHint: "de"}); err != nil {
		s.fail(i, err)
		return false
	}
	s.lat = append(s.lat, time.Since(s.t0))
	if s.b.afterTurn != nil {
		s.b.afterTurn()
	}
	return true
}

func (s *benchUser) fail(turn int, err error) {
	s.err = fmt.Errorf("user %d turn %d: %w", s.u, turn, err)
}

// peakRSSMB reads the process's peak resident set size (VmHWM) on Linux.
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseFloat(f[1], 64)
				return kb / 1024
			}
		}
	}
	return -1
}
