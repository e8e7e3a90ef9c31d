package telegram

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/ampel-bot/ampel/bot"
)

const apologyDE = "Ihre gespeicherten Angaben lassen sich gerade nicht lesen"

// TestDamagedRecordStallsNoOne: one conversation whose record has the
// wrong shape, among 150 chats writing at once (more than one getUpdates
// batch). Every other chat is answered, the damaged one gets an apology,
// and its record is set aside, not overwritten.
func TestDamagedRecordStallsNoOne(t *testing.T) {
	e := newEnv(t, nil)
	const first, n, damaged = 5001, 150, 5042
	key := bot.Address{Platform: Platform, Chat: itoa(damaged)}.Key()
	wrongShape := []byte(`{"lang":"de","plan":5}`)
	e.store.Damage(key, wrongShape)
	last := 0
	for chat := int64(first); chat < first+n; chat++ {
		last = e.fake.pushText(chat, user(chat, "de"), "/start")
	}
	e.run(nil)
	e.fake.waitConsumed(last)

	for chat := int64(first); chat < first+n; chat++ {
		msgs := texts(e.fake.messages(chat))
		if chat == damaged {
			if len(msgs) != 1 || !strings.Contains(msgs[0], apologyDE) {
				t.Errorf("the chat whose record is damaged got %q, want one apology", msgs)
			}
			continue
		}
		if len(msgs) != 1 || !strings.Contains(msgs[0], "Willkommen") {
			t.Errorf("chat %d got %q, want the welcome", chat, msgs)
		}
	}
	if got := e.store.SetAside()[key]; string(got) != string(wrongShape) {
		t.Errorf("record set aside: %q, want the damaged record kept as it was", got)
	}
	if s := e.engine.Stats(); s.Damaged != 1 {
		t.Errorf("Stats().Damaged = %d, want 1", s.Damaged)
	}
	if strings.Contains(e.logs.String(), itoa(damaged)) {
		t.Errorf("the log names the damaged chat:\n%s", e.logs.String())
	}
}

// failing is a handler in front of the engine that fails chosen chats'
// events: one for good (its record damaged: bot.ErrDamaged), one a few
// times for a reason that passes (a full disk).
type failing struct {
	next               bot.Handler
	damaged, transient string
	mu                 sync.Mutex
	transientLeft      int
}

func (f *failing) Handle(ctx context.Context, ev bot.Event) error {
	switch ev.Addr.Chat {
	case f.damaged:
		return errors.Join(errors.New("commit telegram//x"), bot.ErrDamaged)
	case f.transient:
		f.mu.Lock()
		fail := f.transientLeft > 0
		f.transientLeft--
		f.mu.Unlock()
		if fail {
			return errors.New("commit: write ampel.db: no space left on device")
		}
	}
	return f.next.Handle(ctx, ev)
}

// TestUpdateFailingForGoodIsSkipped: an update whose conversation cannot
// be read or written is acknowledged after its one try, so that the 149
// updates of other chats behind it are fetched and answered; an update
// failing for a reason that may pass is fetched again until it is
// handled, never skipped.
func TestUpdateFailingForGoodIsSkipped(t *testing.T) {
	e := newEnv(t, nil)
	const first, n, damaged, full = 6001, 150, 6010, 6020
	h := &failing{next: e.engine, damaged: itoa(damaged), transient: itoa(full), transientLeft: 3}
	ids := map[int64]int{}
	last := 0
	for chat := int64(first); chat < first+n; chat++ {
		last = e.fake.pushText(chat, user(chat, "de"), "/start")
		ids[chat] = last
	}
	e.run(h)
	e.fake.waitConsumed(last)

	for chat := int64(first); chat < first+n; chat++ {
		msgs := texts(e.fake.messages(chat))
		switch {
		case chat == damaged:
			if len(msgs) != 0 {
				t.Errorf("the chat that could not be handled got %q", msgs)
			}
		case len(msgs) != 1 || !strings.Contains(msgs[0], "Willkommen"):
			t.Errorf("chat %d got %q, want the welcome", chat, msgs)
		}
	}
	if got := e.fake.servedCount(ids[damaged]); got != 1 {
		t.Errorf("the update failing for good was fetched %d times, want 1 (skipped after its try)", got)
	}
	if got := e.fake.servedCount(ids[full]); got < 4 {
		t.Errorf("the update failing on a full disk was fetched %d times, want it fetched again until handled (4)", got)
	}
}
