package meeting

import (
	"fmt"
	"testing"
)

// CountIDs makes the IDs of new meetings "meet0001", "meet0002", … until
// the test ends, for transcripts and calendar files that show them.
func CountIDs(tb testing.TB) {
	old, n := newID, 0
	newID = func() string { n++; return fmt.Sprintf("meet%04d", n) }
	tb.Cleanup(func() { newID = old })
}
