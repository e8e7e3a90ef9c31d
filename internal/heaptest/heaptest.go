// Package heaptest measures what keeping a value costs in live heap, for
// the tests that hold the memory a server keeps.
package heaptest

import "runtime"

// Live returns how many more bytes of heap are live after make than
// before it, with what make returned still reachable: what keeping it
// costs, as the profile taken after a collection shows it.
func Live(make func() any) int64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := make()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc)
}
