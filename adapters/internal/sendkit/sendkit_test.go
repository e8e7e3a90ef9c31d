package sendkit

import (
	"errors"
	"io"
	"net"
	"testing"

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
