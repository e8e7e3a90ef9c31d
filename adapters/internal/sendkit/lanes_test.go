package sendkit

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestLanes: work under one key runs in order, one at a time; a key whose
// work hangs holds up no other key; Idle waits for all of it; after Close
// nothing more is taken.
func TestLanes(t *testing.T) {
	l := NewLanes(context.Background(), 0)
	var mu sync.Mutex
	var order []int
	release := make(chan struct{})
	l.Go("slow", func(context.Context) { <-release })
	for i := range 50 {
		l.Go("a", func(context.Context) {
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
		})
	}
	done := make(chan struct{})
	l.Go("b", func(context.Context) { close(done) })
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("work under another key waited for the hanging one")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := l.Idle(ctx); err == nil {
		t.Fatal("Idle returned while work hangs")
	}
	close(release)
	if err := l.Idle(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, n := range order {
		if n != i {
			t.Fatalf("work under one key ran out of order: %v", order)
		}
	}
	if len(order) != 50 {
		t.Fatalf("%d of 50 ran", len(order))
	}
	l.Close()
	if l.Go("a", func(context.Context) { t.Error("ran after Close") }) {
		t.Error("Go took work after Close")
	}

	full := NewLanes(context.Background(), 1)
	block := make(chan struct{})
	full.Go("x", func(context.Context) { <-block })
	if full.Go("y", func(context.Context) {}) {
		t.Error("Go took more work than its bound")
	}
	close(block)
	full.Close()
}
