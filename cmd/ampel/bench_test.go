package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/features"
	"github.com/ampel-bot/ampel/bot/team"
	"github.com/ampel-bot/ampel/store"
)

// newBenchEngine builds the engine as runBench does: built-in content, a real
// bbolt file in a temporary directory and an adapter that swallows replies.
func newBenchEngine(b testing.TB) *bot.Engine {
	b.Helper()
	log := slog.New(slog.DiscardHandler)
	catalog, texts, err := loadContent(Config{}, log)
	if err != nil {
		b.Fatal(err)
	}
	db, err := store.Open(filepath.Join(b.TempDir(), "bench.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	zone, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		b.Fatal(err)
	}
	engine, err := bot.New(bot.Config{Store: db, Flows: catalog, Texts: texts, Zone: zone, Log: log, Features: features.All()})
	if err != nil {
		b.Fatal(err)
	}
	engine.Register(benchAdapter{})
	return engine
}

// startCheck opens the zo-kmu check for addr, so that "4" (Examples) is a
// valid answer that repeats the first question without changing progress.
func startCheck(b *testing.B, e *bot.Engine, addr bot.Address) {
	b.Helper()
	if err := e.Handle(context.Background(), bot.Event{ID: addr.Chat + "-start", Addr: addr, Text: "/check zo-kmu", LangHint: "de"}); err != nil {
		b.Fatal(err)
	}
}

// sameQuestion checks that the benchmark measured what it claims: the user
// is still at the first checkpoint with nothing rated.
func sameQuestion(b *testing.B, e *bot.Engine, addr bot.Address) {
	b.Helper()
	c, err := e.Load(context.Background(), addr)
	if err != nil {
		b.Fatal(err)
	}
	if c.Run == nil || len(c.Run.Ratings) != 0 || c.Dialog.Cursor != 0 || c.Dialog.Mode != "rate" {
		b.Fatalf("after the benchmark: got run %+v, dialogue %+v; want checkpoint 1 still open with no ratings", c.Run, c.Dialog)
	}
}

// BenchmarkTurn measures one durable typed turn: the user types "4"
// (Examples) on the first question; the engine answers, commits and fsyncs.
func BenchmarkTurn(b *testing.B) {
	e := newBenchEngine(b)
	addr := bot.Address{Platform: "bench", Chat: "c0", User: "u0"}
	startCheck(b, e, addr)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ { // b.Loop times only the loop
		if err := e.Handle(ctx, bot.Event{ID: "t" + strconv.Itoa(i), Addr: addr, Text: "4", LangHint: "de"}); err != nil {
			b.Fatal(err)
		}
	}
	sameQuestion(b, e, addr)
}

// BenchmarkTurnParallel is BenchmarkTurn with one conversation per
// goroutine, so concurrent turns share the store's group commits.
func BenchmarkTurnParallel(b *testing.B) {
	e := newBenchEngine(b)
	n := runtime.GOMAXPROCS(0) // RunParallel starts GOMAXPROCS goroutines
	addrs := make([]bot.Address, n)
	for i := range addrs {
		addrs[i] = bot.Address{Platform: "bench", Chat: "c" + strconv.Itoa(i), User: "u" + strconv.Itoa(i)}
		startCheck(b, e, addrs[i])
	}
	var next, failed atomic.Int64
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		g := int(next.Add(1)) - 1
		addr := addrs[g%n]
		for i := 0; pb.Next(); i++ {
			id := "g" + strconv.Itoa(g) + "-" + strconv.Itoa(i)
			if err := e.Handle(ctx, bot.Event{ID: id, Addr: addr, Text: "4", LangHint: "de"}); err != nil {
				failed.Add(1)
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	if failed.Load() > 0 {
		return
	}
	for _, a := range addrs {
		sameQuestion(b, e, a)
	}
}

var benchTeamLines = regexp.MustCompile(`^engine=ampel store=bbolt users=10 turns=270 turns_per_s=\d+ p50_ms=[\d.]+ p99_ms=[\d.]+ rss_mb=[\d.]+\n` +
	`team_members=5 team_turns=41 team_turns_per_s=\d+ team_p50_ms=[\d.]+ team_p99_ms=[\d.]+\n$`)

// TestBenchTeam: bench --team 5 runs the users as without it, then five
// members of a group join one team run and rate every checkpoint at once
// (1 start + 5 joins + 5×7 ratings = 41 turns), and says so on a line of
// its own; the bench checked that every rating reached the run's record.
func TestBenchTeam(t *testing.T) {
	r := runAmpel(t, env(), strings.NewReader(""), "bench", "--team", "5", "--users", "10")
	if r.err != nil {
		t.Fatalf("bench --team 5 --users 10 = %v, want nil; stderr:\n%s", r.err, r.errOut)
	}
	if !benchTeamLines.MatchString(r.out) {
		t.Errorf("bench --team 5 printed %q, want the users' line and the team's, matching %s", r.out, benchTeamLines)
	}
}

// TestBenchTeamFailsLoudly: a run's record that lacks one member's rating,
// holds a wrong one, or has a member not finished fails the bench.
func TestBenchTeamFailsLoudly(t *testing.T) {
	members, cps := []string{"m0", "m1"}, []string{"a", "b", "c"}
	good := func() *benchTeamRun {
		r := &benchTeamRun{team.Run{State: team.Settling}}
		for m, u := range members {
			rs := map[string]string{}
			for cp, id := range cps {
				rs[id] = teamLevels[teamLevel(m, cp)]
			}
			r.Members = append(r.Members, team.Member{Person: bot.Person{ID: u}, Run: bot.Run{Ratings: rs, Done: time.Now()}})
		}
		return r
	}
	if err := good().verify(members, cps); err != nil {
		t.Fatalf("a complete run: %v, want nil", err)
	}
	for name, spoil := range map[string]func(r *benchTeamRun){
		"a rating lost":  func(r *benchTeamRun) { delete(r.Members[1].Run.Ratings, "b") },
		"a rating wrong": func(r *benchTeamRun) { r.Members[0].Run.Ratings["c"] = "yellow" },
		"not finished":   func(r *benchTeamRun) { r.Members[0].Run.Done = time.Time{} },
		"a member lost":  func(r *benchTeamRun) { r.Members = r.Members[:1] },
		"still rating":   func(r *benchTeamRun) { r.State = team.Rating },
	} {
		r := good()
		spoil(r)
		if err := r.verify(members, cps); err == nil {
			t.Errorf("%s: verify = nil, want an error", name)
		}
	}
}

// BenchmarkScenario is one op: a new user does the whole scenario of ampel
// bench (benchScript, 27 typed turns, each committed durably), so that its
// allocations per op are those of a bench user.
func BenchmarkScenario(b *testing.B) {
	e := newBenchEngine(b)
	ctx := context.Background()
	b.ReportAllocs()
	for u := 0; b.Loop(); u++ {
		addr := bot.Address{Platform: "bench", Chat: "s" + strconv.Itoa(u), User: strconv.Itoa(u)}
		for i, text := range benchScript {
			if err := e.Handle(ctx, bot.Event{ID: benchIDs[i], Addr: addr, Text: text, LangHint: "de"}); err != nil {
				b.Fatal(err)
			}
		}
	}
}
