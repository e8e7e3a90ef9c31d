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
	"github.com/ampel-bot/ampel/store"
)

// benchScript is one user's scenario: start the check, seven ratings (three
// of them red or yellow) with one invalid answer among them, accept the plan
// offer, then one measure with its five fields for each of the three
// checkpoints. Answers are typed, as a console or Mattermost user without
// buttons would, so the typed-twin path is measured too.
var benchScript = []string{
	"/check",
	"1",           // 1/7 red
	"vielleicht?", // invalid: hint and the same question
	"2",           // 2/7 yellow
	"1",           // 3/7 red
	"3", "3", "3", "3",
	"1", // build the action plan
	"Workshop mit zwei Betrieben", "1", "ich", "in 2 Wochen", "in 3 Monaten",
	"Kontaktliste der Freiwilligenagentur", "2", "Anna", "nächsten Montag", "15.12.2030",
	"Kooperationsvereinbarung entwerfen", "3", "Ben", "morgen", "in 6 Wochen",
}

// benchAdapter swallows replies, as a platform that answers at once would.
type benchAdapter struct{}

func (benchAdapter) Platform() string                                     { return "bench" }
func (benchAdapter) Run(ctx context.Context, h bot.Handler) error         { <-ctx.Done(); return nil }
func (benchAdapter) Send(context.Context, bot.Address, bot.Message) error { return nil }

func runBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fset := newFlagSet("ampel bench", stderr)
	users := fset.Int("users", 1000, "users doing the scenario at once")
	rounds := fset.Int("rounds", 1, "times each user does the scenario, each time in a new conversation")
	dbPath := fset.String("db", "", "database file (default: a temporary file, removed afterwards)")
	cpuProfile := fset.String("cpuprofile", "", "write a CPU profile to this file")
	memProfile := fset.String("memprofile", "", "write a heap profile, taken when half the turns are done, to this file")
	memory := fset.Bool("memory", false, "also print the process's resident memory by kind (anonymous, file-backed) to stderr")
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
	db, err := store.Open(path, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	zone, _ := time.LoadLocation("Europe/Berlin")
	engine, err := bot.New(bot.Config{Store: db, Flows: catalog, Texts: texts, Zone: zone, Log: log})
	if err != nil {
		return err
	}
	engine.Register(benchAdapter{})

	if *memProfile != "" {
		runtime.MemProfileRate = 4096
	}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	var turnsDone atomic.Int64
	var heapOnce sync.Once
	half := int64(*users * *rounds * len(benchScript) / 2)
	lat := make([][]time.Duration, *users)
	errs := make(chan error, *users)
	var wg sync.WaitGroup
	start := time.Now()
	for u := 0; u < *users; u++ {
		wg.Add(1)
		go func(u int) {
			defer wg.Done()
			lat[u] = make([]time.Duration, 0, len(benchScript)**rounds)
			for round := 0; round < *rounds; round++ {
				chat := run + "-" + strconv.Itoa(u) + "-" + strconv.Itoa(round)
				addr := bot.Address{Platform: "bench", Chat: chat, User: strconv.Itoa(u)}
				for i, text := range benchScript {
					t0 := time.Now()
					if err := engine.Handle(ctx, bot.Event{ID: strconv.Itoa(i), Addr: addr, Text: text, LangHint: "de"}); err != nil {
						errs <- fmt.Errorf("user %d turn %d: %w", u, i, err)
						return
					}
					lat[u] = append(lat[u], time.Since(t0))
					if *memProfile != "" && turnsDone.Add(1) == half {
						heapOnce.Do(func() {
							if f, err := os.Create(*memProfile); err == nil {
								pprof.WriteHeapProfile(f)
								f.Close()
							}
						})
					}
				}
				c, err := engine.Load(ctx, addr)
				if err != nil {
					errs <- err
					return
				}
				// Every turn must have done its work, or the figures mean nothing.
				if n := len(c.Plan.Open()); n != 3 {
					errs <- fmt.Errorf("user %d ended with %d measures, want 3 (dialogue at %q)", u, n, c.Dialog.Mode)
					return
				}
			}
		}(u)
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) float64 {
		return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000
	}
	if *memory {
		b, _ := os.ReadFile("/proc/self/status")
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "Rss") || strings.HasPrefix(l, "VmHWM") {
				fmt.Fprintln(stderr, l)
			}
		}
	}
	fmt.Fprintf(stdout, "engine=ampel store=bbolt users=%d turns=%d turns_per_s=%.0f p50_ms=%.2f p99_ms=%.2f rss_mb=%.1f\n",
		*users, len(all), float64(len(all))/elapsed.Seconds(), pct(0.50), pct(0.99), peakRSSMB())
	return nil
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
