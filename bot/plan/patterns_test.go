package plan

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/internal/heaptest"
)

// A user ID from a form is 1 to 64 of A-Z, a-z, 0-9, _ and -, checked by a
// pattern kept for the life of the process: it must stay small (with the
// bound in it, {1,64}, it kept 26 KB).
func TestUserIDPattern(t *testing.T) {
	for _, ok := range []string{"U123", "a", strings.Repeat("a", 64), "x_y-Z9"} {
		if !isUserID(ok) {
			t.Errorf("%q refused as a user ID", ok)
		}
	}
	for _, bad := range []string{"", strings.Repeat("a", 65), "ä", "a b", "a\n", "<@U1>"} {
		if isUserID(bad) {
			t.Errorf("%q taken as a user ID", bad)
		}
	}
	if n := heaptest.Live(func() any { return regexp.MustCompile(platformUserID.String()) }); n > 8<<10 {
		t.Errorf("the user ID pattern keeps %d KB, want at most 8 KB", n>>10)
	}
}
