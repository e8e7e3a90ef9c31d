package team

import (
	"fmt"
	"testing"
)

// CountCodes makes the codes of new runs "code0001", "code0002", … until
// the test ends, for transcripts that show them (a deep link).
func CountCodes(tb testing.TB) {
	old, n := newCode, 0
	newCode = func() string { n++; return fmt.Sprintf("code%04d", n) }
	tb.Cleanup(func() { newCode = old })
}
