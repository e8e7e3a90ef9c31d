package share

import (
	"fmt"
	"testing"
)

// CountCodes makes the codes of new shares "code000001", "code000002", …
// until the test ends, for transcripts that show them.
func CountCodes(tb testing.TB) {
	old, n := newCode, 0
	newCode = func() string { n++; return fmt.Sprintf("code%06d", n) }
	tb.Cleanup(func() { newCode = old })
}
