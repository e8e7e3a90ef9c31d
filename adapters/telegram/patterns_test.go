package telegram

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/internal/heaptest"
)

// The patterns the adapter checks secrets and start links with live as long
// as the process, whether Telegram is used or not: each must stay small
// (with the bound in it, {1,256}, the secret's kept over 100 KB).
func TestPatternsKeepLittle(t *testing.T) {
	for _, re := range []*regexp.Regexp{secretPattern, startValue} {
		if n := heaptest.Live(func() any { return regexp.MustCompile(re.String()) }); n > 8<<10 {
			t.Errorf("%s keeps %d KB, want at most 8 KB", re, n>>10)
		}
	}
}

// A webhook secret is 1 to 256 characters of A-Z, a-z, 0-9, _ and -.
func TestSecretLength(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // nothing is asked of Telegram: the secret is checked first
	for secret, refused := range map[string]bool{strings.Repeat("a", 256): false, strings.Repeat("a", 257): true, "a b": true} {
		_, err := New(ctx, Config{Token: testToken, Secret: secret, APIURL: "http://127.0.0.1:1"})
		if got := err != nil && strings.Contains(err.Error(), "webhook secret"); got != refused {
			t.Errorf("secret of %d characters: err %v, want refused %v", len(secret), err, refused)
		}
	}
}
