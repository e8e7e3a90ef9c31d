// Package heaptest measures what keeping a value costs in live heap, for
// the tests that hold the memory a server keeps.
package heaptest

import "runtime"

// Live returns how many more bytes of heap are live after make than
// before it, with what make returned still reachable: what keeping it
// costs, as the profile taken after a collection shows it. Other
// goroutines of the test binary allocate too, now and then, so it
// measures three times and returns the least.
func Live(make func() any) int64 {
	least := int64(-1)
	for range 3 {
		if n := live(make); least < 0 || n < least {
			least = n
		}
	}
	return least
}

func live(make func() any) int64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := make()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc)
}
