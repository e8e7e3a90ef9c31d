package network

import (
	"fmt"
	"testing"
)

// CountCodes makes the IDs of new networks "net00001", … and their join
// codes "join000001", … until the test ends, for transcripts that show
// them.
func CountCodes(tb testing.TB) {
	oldID, oldCode, n, c := newID, newCode, 0, 0
	newID = func() string { n++; return fmt.Sprintf("net%05d", n) }
	newCode = func() string { c++; return fmt.Sprintf("join%06d", c) }
	tb.Cleanup(func() { newID, newCode = oldID, oldCode })
}
