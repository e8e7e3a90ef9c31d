//go:build !race

package main

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"testing"
)

// TestWaitingCallersKeepSmallStacks guards the bench's memory figure: a
// thousand users waiting for their commits keep a thousand goroutine
// stacks, and each stays at 4 KB only while every frame a caller runs
// through on its way to the commit and back is small; one allocation too
// deep doubles it to 8 KB, 4 MB more at 1,000 users (it did, when handing
// messages to the dispatcher ran on the caller). With the collector off no
// stack shrinks, so what each user's goroutine ever needed is what it
// holds when it is done. Not under -race, whose frames are larger.
func TestWaitingCallersKeepSmallStacks(t *testing.T) {
	const users = 300
	engine := newBenchEngine(t)
	defer engine.Close()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	runtime.GC()

	b := &benchRun{engine: engine, run: "stacks", rounds: 1}
	before := stackBytes()
	var done, hold sync.WaitGroup
	release := make(chan struct{})
	us := make([]*benchUser, users)
	for u := range us {
		us[u] = &benchUser{b: b, u: u}
		done.Add(1)
		hold.Add(1)
		go func() {
			us[u].run(context.Background(), &done)
			<-release // alive, with its stack as it grew
			hold.Done()
		}()
	}
	done.Wait()
	per := (stackBytes() - before) / users
	close(release)
	hold.Wait()
	for _, s := range us {
		if s.err != nil {
			t.Fatal(s.err)
		}
	}
	if err := engine.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Logf("goroutine stack per user: %d bytes", per)
	if per > 6<<10 {
		t.Errorf("each waiting user keeps a %d-byte stack, want 4 KB: some frame on the way to the commit and back grew it", per)
	}
}

func stackBytes() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/stacks:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}
