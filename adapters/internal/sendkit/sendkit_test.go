package sendkit

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ampel-bot/ampel/bot"
)

func TestProgress(t *testing.T) {
	var p Progress[int]
	k := Key("c1", bot.Message{Text: "a"})
	if Key("c2", bot.Message{Text: "a"}) == k || Key("c1", bot.Message{Text: "b"}) == k {
		t.Fatal("keys of different chats or messages collide")
	}
	if p.Get(k) != 0 {
		t.Fatal("a new Progress remembers something")
	}
	p.Set(k, 2)
	if p.Get(k) != 2 {
		t.Errorf("Get after Set: %d", p.Get(k))
	}
	p.Forget(k)
	if p.Get(k) != 0 {
		t.Error("Forget kept it")
	}
	for i := range maxProgress + 10 {
		p.Set(Key("c", bot.Message{Text: string(rune('a'+i%26)) + string(rune(i))}), i)
	}
	if n := len(p.m); n > maxProgress {
		t.Errorf("grew to %d entries", n)
	}
}

func TestMayHaveArrived(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "dial", Err: errors.New("refused")}, false},
		{&net.DNSError{Err: "no such host"}, false},
		{io.ErrUnexpectedEOF, true},
		{&net.OpError{Op: "read", Err: errors.New("reset")}, false},
		{errors.New("other"), false},
	}
	for _, tt := range tests {
		if got := MayHaveArrived(tt.err); got != tt.want {
			t.Errorf("%v: got %v, want %v", tt.err, got, tt.want)
		}
	}
}

// TestBackoff shows that a reconnecting adapter waits longer after each
// failure, never longer than the cap, and never shorter than half the
// step (so a platform that is down is not hammered).
func TestBackoff(t *testing.T) {
	lo, hi := time.Second, time.Minute
	for attempt, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		for range 50 {
			d := Backoff(lo, hi, attempt)
			if d < want/2 || d > want {
				t.Fatalf("attempt %d: pause %v, want between %v and %v", attempt, d, want/2, want)
			}
		}
	}
	for range 50 {
		if d := Backoff(lo, hi, 1000); d < hi/2 || d > hi {
			t.Fatalf("after many failures: pause %v, want between %v and %v", d, hi/2, hi)
		}
	}
}

func TestSleepEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep on an ended context = %v, want context.Canceled", err)
	}
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("Sleep = %v, want nil", err)
	}
}

// TestSplitKeepsGraphemes shows that a long text cut without spaces never
// separates an emoji from its skin tone or a flag's two halves, and that
// every part stays within the limit under the given cost.
func TestSplitKeepsGraphemes(t *testing.T) {
	one := func(rune) int { return 1 }
	s := strings.Repeat("ab👍🏽🇩🇪", 20)
	parts := Split(s, 7, one)
	if strings.Join(parts, "") != s {
		t.Fatalf("parts do not add up to the text: %q", parts)
	}
	for _, p := range parts {
		if n := utf8.RuneCountInString(p); n > 7 {
			t.Fatalf("part %q has %d runes, limit 7", p, n)
		}
		if strings.HasPrefix(p, "🏽") || strings.Count(p, "\U0001F1E9") != strings.Count(p, "\U0001F1EA") {
			t.Fatalf("part %q cuts through an emoji or a flag", p)
		}
	}
	if got := Split("one\n\ntwo", 5, one); len(got) != 2 || got[0] != "one" || got[1] != "two" {
		t.Fatalf("Split at a paragraph = %q, want [one two]", got)
	}
}

// TestRedactedKeepsOnlyKinds shows that a redacted error still answers
// errors.Is for the sentinels the engine acts on, and nothing else.
func TestRedactedKeepsOnlyKinds(t *testing.T) {
	err := Redacted("send to <redacted>: timeout", bot.ErrUnknownOutcome)
	if !errors.Is(err, bot.ErrUnknownOutcome) {
		t.Fatal("redacted error lost bot.ErrUnknownOutcome")
	}
	if errors.Is(err, bot.ErrRecipientGone) {
		t.Fatal("redacted error claims bot.ErrRecipientGone")
	}
	if err.Error() != "send to <redacted>: timeout" {
		t.Fatalf("message = %q", err.Error())
	}
}

// TestKeyboardsNewestAndBounded shows that the newest keyboard per chat is
// the one remembered, and that a bot in very many chats does not grow the
// memory without end.
func TestKeyboardsNewestAndBounded(t *testing.T) {
	var k Keyboards[int64, int]
	if _, ok := k.Newest(1); ok {
		t.Fatal("an empty Keyboards knows a message")
	}
	k.Set(1, 10)
	k.Set(1, 11)
	k.Set(2, 20)
	if v, ok := k.Newest(1); !ok || v != 11 {
		t.Fatalf("Newest(1) = %d, %v; want 11, true", v, ok)
	}
	for c := range int64(maxKeyboards + 10) {
		k.Set(c+100, 1)
	}
	if n := len(k.m); n > maxKeyboards {
		t.Fatalf("%d chats remembered, want at most %d", n, maxKeyboards)
	}
}
