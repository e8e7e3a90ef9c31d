package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/adapters/console"
	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/features"
	"github.com/ampel-bot/ampel/store"
)

// faultyStore is the real store with a crash point: the call named by
// failAt fails once, as if the process had died there.
type faultyStore struct {
	*store.DB
	failAt string // "commit" (a reminder's commit) or "attempt"
	failed bool
}

var errKilled = errors.New("killed")

func (f *faultyStore) Commit(ctx context.Context, eventID, key string, c *bot.Conversation, outs []bot.Outgoing) ([]bot.Queued, error) {
	if f.failAt == "commit" && !f.failed && strings.HasPrefix(eventID, "reminder:") {
		f.failed = true
		return nil, errKilled
	}
	return f.DB.Commit(ctx, eventID, key, c, outs)
}

func (f *faultyStore) Attempt(ctx context.Context, id uint64) (int, error) {
	if f.failAt == "attempt" && !f.failed {
		f.failed = true
		return 0, errKilled
	}
	return f.DB.Attempt(ctx, id)
}

// platform is a fake platform that remembers what it accepted, across
// "restarts" of the bot.
type platform struct {
	mu       sync.Mutex
	accepted []string
	// hook decides each send: accept it or not, and what to answer.
	hook func(text string) (accept bool, err error)
}

func (p *platform) adapter() *bottest.Recorder {
	return &bottest.Recorder{Name: console.Platform, SendFn: func(_ bot.Address, m bot.Message) error {
		accept, err := true, error(nil)
		if p.hook != nil {
			accept, err = p.hook(m.Text)
		}
		if accept {
			p.mu.Lock()
			p.accepted = append(p.accepted, m.Text)
			p.mu.Unlock()
		}
		return err
	}}
}

func (p *platform) reminders() int { return p.count("Zeit für die Kontrolle") }

func (p *platform) count(sub string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, t := range p.accepted {
		if strings.Contains(t, sub) {
			n++
		}
	}
	return n
}

type botProcess struct {
	db     *store.DB
	st     bot.Store
	engine *bot.Engine
}

// start runs a bot process on the file at path with the clock at now.
func start(t *testing.T, path string, clock *bottest.Clock, p *platform, failAt string) *botProcess {
	t.Helper()
	db, err := store.Open(path, store.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	var st bot.Store = db
	if failAt != "" {
		st = &faultyStore{DB: db, failAt: failAt}
	}
	catalog, texts := bottest.Content(t)
	zone, _ := time.LoadLocation("Europe/Berlin")
	e, err := bot.New(bot.Config{Store: st, Flows: catalog, Texts: texts,
		Clock: clock, Zone: zone, Features: features.All()})
	if err != nil {
		t.Fatal(err)
	}
	e.Register(p.adapter())
	if err := e.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &botProcess{db: db, st: st, engine: e}
}

// kill ends the process once it has sent what it could (the engine sends
// after Handle and RunDue have returned). Closing the store writes nothing
// the process had not already handed to it, which is what a kill leaves
// on disk too: every crash point below is placed where nothing is waiting
// to be written.
func (b *botProcess) kill(t *testing.T) {
	t.Helper()
	if err := b.engine.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.db.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCrashWhileSendingReminder kills the bot at each step of sending a
// reminder and restarts it: the reminder is never lost, and it reaches the
// platform twice only when the platform had accepted it and the bot died
// before recording that — the one case counted as a possible duplicate.
func TestCrashWhileSendingReminder(t *testing.T) {
	tests := []struct {
		name string
		// failAt makes a store call fail; hook decides the platform's answer
		// to the first reminder send.
		failAt        string
		hook          func(firstReminder *bool) func(string) (bool, error)
		wantDelivered int
		wantAmbiguous int64
	}{
		{name: "before the outbox commit", failAt: "commit", wantDelivered: 1},
		{name: "after the commit, before the attempt is recorded", failAt: "attempt", wantDelivered: 1},
		{name: "attempt recorded, platform did not take it", wantDelivered: 1, wantAmbiguous: 1,
			hook: func(first *bool) func(string) (bool, error) {
				return func(text string) (bool, error) {
					if !strings.Contains(text, "Zeit für die Kontrolle") || !*first {
						return true, nil
					}
					*first = false
					return false, errKilled
				}
			}},
		{name: "platform accepted, bot died before marking it sent", wantDelivered: 2, wantAmbiguous: 1,
			hook: func(first *bool) func(string) (bool, error) {
				return func(text string) (bool, error) {
					if !strings.Contains(text, "Zeit für die Kontrolle") || !*first {
						return true, nil
					}
					*first = false
					return true, errKilled
				}
			}},
		{name: "after marking it sent", wantDelivered: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ampel.db")
			clock := bottest.NewClock(time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC))
			p := &platform{}
			b := start(t, path, clock, p, "")
			for i, in := range []string{"/check zo-kmu", "1", "3", "3", "3", "3", "3", "3", "1", "Workshop", "1", "ich", "in 3 Tagen", "17.3.2027"} {
				ev := bot.Event{ID: "in" + string(rune('a'+i)), Addr: console.Address(), Text: in}
				if err := b.engine.Handle(context.Background(), ev); err != nil {
					t.Fatal(err)
				}
			}
			// The start reminder goes out as usual.
			clock.Set(time.Date(2027, 3, 13, 8, 0, 0, 0, time.UTC))
			if _, err := b.engine.RunDue(context.Background(), clock.Now()); err != nil {
				t.Fatal(err)
			}
			b.kill(t)

			// The review falls due; the bot runs, with its crash point.
			clock.Set(time.Date(2027, 3, 17, 8, 0, 0, 0, time.UTC))
			first := true
			if tt.hook != nil {
				p.hook = tt.hook(&first)
			}
			b = start(t, path, clock, p, tt.failAt)
			b.engine.RunDue(context.Background(), clock.Now()) // may fail at the crash point
			b.kill(t)

			// Restarted, without faults: it finishes what was left.
			p.hook = nil
			clock.Add(30 * time.Second)
			b = start(t, path, clock, p, "")
			if _, err := b.engine.RunDue(context.Background(), clock.Now()); err != nil {
				t.Fatal(err)
			}
			if err := b.engine.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := p.reminders(); got != tt.wantDelivered {
				t.Errorf("review reminders the platform accepted: got %d, want %d", got, tt.wantDelivered)
			}
			if got := p.count("Es geht los"); got != 1 {
				t.Errorf("start reminders: got %d, want 1", got)
			}
			if got := b.engine.Stats().AmbiguousSends; got != tt.wantAmbiguous {
				t.Errorf("sends counted as possible duplicates: got %d, want %d", got, tt.wantAmbiguous)
			}
			// And nothing more ever comes.
			clock.Add(time.Hour)
			b.kill(t)
			b = start(t, path, clock, p, "")
			b.engine.RunDue(context.Background(), clock.Now())
			if err := b.engine.Settle(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := p.reminders(); got != tt.wantDelivered {
				t.Errorf("after one more restart: got %d, want %d", got, tt.wantDelivered)
			}
			b.kill(t)
		})
	}
}
