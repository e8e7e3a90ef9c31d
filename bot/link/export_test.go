package link

import (
	"fmt"
	"testing"
)

// CountCodes makes the codes of a test predictable: ABC222, ABC223, …
func CountCodes(t *testing.T) {
	old, n := newCode, 0
	newCode = func() string {
		n++
		return fmt.Sprintf("ABC%03d", 222+n-1)
	}
	t.Cleanup(func() { newCode = old })
}
