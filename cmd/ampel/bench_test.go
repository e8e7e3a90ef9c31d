package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/features"
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
