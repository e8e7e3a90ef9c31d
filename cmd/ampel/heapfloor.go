package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// heapFloorBytes is the heap the collector may let grow before it runs,
// however little is live. With a few users the live heap is 2-3 MB, and
// GOGC alone would then collect after every megabyte or two of garbage:
// 110 collections in `ampel bench --users 1 --rounds 200`, and a turn that
// meets one waits for its share of the work (one user's p99 1.6-1.9 ms).
// With 8 MB: 42 collections, p99 0.8-1.0 ms, resident memory 35 MB (16
// MB: 15 collections, p99 0.7-0.8 ms, but 52 MB). It is well below the
// target a thousand users in flight set by themselves (about 23 MB), so it
// costs the crowd nothing.
const heapFloorBytes = 8 << 20

// heapFloor raises the collector's percentage while the live heap is
// small, so that its target stays at floor bytes or more, and brings it
// back to gogc once the live heap is large enough. It runs after every
// collection (a finalizer re-armed each time: the runtime has no hook).
type heapFloor struct {
	floor uint64
	gogc  int
	live  func() uint64
	set   func(int) int
	cur   int
}

// percent is the collector's percentage for a live heap of live bytes.
func (h *heapFloor) percent(live uint64) int {
	p := h.gogc
	if live > 0 && live < h.floor {
		// The target is live*(1+p/100), stacks and globals aside.
		p = max(p, int((h.floor-live)*100/live))
	}
	return min(p, 1000)
}

// adjust sets the percentage for the live heap now, if it changed.
func (h *heapFloor) adjust() {
	if p := h.percent(h.live()); p != h.cur {
		h.set(p)
		h.cur = p
	}
}

// gcSentinel is garbage whose finalizer runs after the collection that
// found it: large enough not to share a tiny block with other objects.
type gcSentinel struct {
	_ [16]byte
	p *int
}

// arm runs adjust after the next collection, and again after each one.
func (h *heapFloor) arm() {
	runtime.SetFinalizer(&gcSentinel{}, func(*gcSentinel) {
		h.adjust()
		h.arm()
	})
}

// startHeapFloor keeps the heap target at heapFloorBytes or more, the
// percentage at gogc otherwise.
func startHeapFloor(gogc int) {
	h := &heapFloor{floor: heapFloorBytes, gogc: gogc, live: liveHeap, set: debug.SetGCPercent, cur: gogc}
	h.adjust()
	h.arm()
}

func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
