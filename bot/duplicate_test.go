package bot_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// lookingRecorder is a platform that keeps what it accepted and can look
// for it by outbox ID, as Slack finds a post by its metadata.
type lookingRecorder struct {
	*bottest.Recorder
	mu    sync.Mutex
	shown map[uint64]bool
	looks int
}

func (l *lookingRecorder) Arrived(ctx context.Context, _ bot.Address, _ bot.Message) (bool, error) {
	id, ok := bot.OutboxID(ctx)
	if !ok {
		return false, errors.New("no outbox ID")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.looks++
	return l.shown[id], nil
}

// TestReplySentBeforeCrashIsCountedOrFound: the platform accepted a reply,
// and the process died before it marked the reply delivered. The next
// process sends it again: counted as a possible duplicate (with a log
// line); unless the platform can be asked, and has it: then it is not
// sent again, and nothing is counted.
func TestReplySentBeforeCrashIsCountedOrFound(t *testing.T) {
	for _, look := range []bool{false, true} {
		name := map[bool]string{false: "counted", true: "found"}[look]
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, 0)
			seen := &lookingRecorder{shown: map[uint64]bool{}}
			// The first process: the platform takes the welcome, and the
			// process dies before it marks it delivered.
			h.Rec.SendFn = func(bot.Address, bot.Message) error {
				return errors.New("killed after the platform accepted")
			}
			h.Send(bot.Event{Text: "/start"})
			pending, err := h.Store.Pending(context.Background(), 0, 10)
			if err != nil || len(pending) != 1 {
				t.Fatalf("outbox after the crash: %d messages, %v; want the welcome", len(pending), err)
			}
			seen.shown[pending[0].ID] = true
			seen.Recorder = &bottest.Recorder{Name: h.Rec.Name}

			var e *bot.Engine
			if look {
				e = restartWith(t, h, seen)
			} else {
				e = restartWith(t, h, seen.Recorder)
			}
			h.Clock.Add(2 * time.Second)
			if err := e.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			resent := len(seen.Recorder.Take())
			wantResent, wantCounted := 1, int64(1)
			if look {
				wantResent, wantCounted = 0, 0
			}
			if resent != wantResent {
				t.Errorf("the welcome was sent again %d times after the restart; want %d (1 platform showing it already)", resent, wantResent)
			}
			if n := e.Stats().AmbiguousSends; n != wantCounted {
				t.Errorf("AmbiguousSends = %d, want %d", n, wantCounted)
			}
			if look && seen.looks != 1 {
				t.Errorf("the platform was asked %d times; want once", seen.looks)
			}
			if left, _ := h.Store.Pending(context.Background(), 0, 10); len(left) != 0 {
				t.Errorf("%d messages left in the outbox; want none", len(left))
			}
		})
	}
}
