package main

import (
	"runtime"
	"testing"
	"time"
)

// A small live heap gets a percentage that puts the collector's target at
// the floor; a large one keeps GOGC; the percentage is set only when it
// changes.
func TestHeapFloorPercent(t *testing.T) {
	var sets []int
	live := uint64(0)
	h := &heapFloor{floor: 8 << 20, gogc: 75, live: func() uint64 { return live }, set: func(p int) int { sets = append(sets, p); return 0 }, cur: 75}
	for _, c := range []struct {
		live uint64
		want int
	}{
		{2 << 20, 300},  // 2 MB live: target 8 MB
		{4 << 20, 100},  // 4 MB: 8 MB
		{5 << 20, 75},   // 5 MB: GOGC's own target (8.75 MB) is above the floor
		{20 << 20, 75},  // a crowd: GOGC
		{1 << 10, 1000}, // next to nothing live: bounded
	} {
		if got := h.percent(c.live); got != c.want {
			t.Errorf("live %d bytes: percent %d, want %d", c.live, got, c.want)
		}
	}
	for _, l := range []uint64{2 << 20, 2 << 20, 20 << 20, 20 << 20} {
		live = l
		h.adjust()
	}
	if len(sets) != 2 || sets[0] != 300 || sets[1] != 75 {
		t.Errorf("percentages set: %v, want [300 75] (once each time it changes)", sets)
	}
}

// The floor follows each collection by itself.
func TestHeapFloorRunsAfterEachCollection(t *testing.T) {
	got := make(chan int, 16)
	h := &heapFloor{floor: 8 << 20, gogc: 75, live: func() uint64 { return 2 << 20 }, set: func(p int) int {
		select {
		case got <- p:
		default:
		}
		return 0
	}, cur: 75}
	h.arm()
	runtime.GC()
	select {
	case p := <-got:
		if p != 300 {
			t.Errorf("after a collection with 2 MB live: percent %d, want 300", p)
		}
	case <-time.After(time.Minute): // a hang guard
		t.Fatal("nothing adjusted the percentage after a collection")
	}
}
