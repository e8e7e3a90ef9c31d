package bottest_test

import (
	"errors"
	"testing"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

func TestMemStore(t *testing.T) {
	bottest.TestStore(t, func(t *testing.T) bot.Store { return bottest.NewMemStore() })
}

// TestMemStoreBatchFailingWriteWritesNothing: MemStore keeps the real
// store's promise that a batch failing halfway writes nothing.
func TestMemStoreBatchFailingWriteWritesNothing(t *testing.T) {
	ctx := t.Context()
	s := bottest.NewMemStore()
	full := errors.New("disk full")
	s.FailWrite = func(key string) error {
		if key == "record:team/t1" {
			return full
		}
		return nil
	}
	to := bot.Address{Platform: "test", Chat: "c"}
	b := &bot.Batch{EventID: "e", Key: to.Key(),
		Convs:   []bot.ConvWrite{{Key: to.Key(), Conv: &bot.Conversation{Lang: "de"}}},
		Records: []bot.RecordWrite{{Ref: bot.RecordRef{Kind: "team", ID: "t1"}, Data: []byte("{}")}},
		Outs:    []bot.Outgoing{{To: to, Msg: bot.Message{Text: "hi"}}}}
	if _, err := s.CommitBatch(ctx, b); !errors.Is(err, full) {
		t.Fatalf("CommitBatch: got %v, want the disk's error", err)
	}
	c, _ := s.Load(ctx, to.Key())
	p, _ := s.Pending(ctx, 0, 10)
	seen, _ := s.Seen(ctx, to.Key(), "e")
	if c.Lang != "" || len(p) != 0 || seen {
		t.Errorf("after the failed batch: Lang %q, %d pending, seen %v; want nothing written", c.Lang, len(p), seen)
	}
}
