package bot_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/features"
)

// heldStore is a MemStore whose commits for one conversation wait until
// release is closed: that chat's turn is stuck in its commit, as behind a
// slow disk.
type heldStore struct {
	*bottest.MemStore
	key     string
	release chan struct{}
	once    sync.Once
	held    chan struct{} // closed when the held commit has begun
}

func (s *heldStore) Commit(ctx context.Context, eventID, key string, c *bot.Conversation, outs []bot.Outgoing) ([]bot.Queued, error) {
	if key == s.key {
		s.once.Do(func() { close(s.held) })
		<-s.release
	}
	return s.MemStore.Commit(ctx, eventID, key, c, outs)
}

// TestBusyChatTakesNoPlacesFromOthers: the events waiting behind a busy
// chat's turn (here one stuck in its commit) hold none of the engine's
// MaxInFlight places, so a user in another chat is answered meanwhile.
// Taking the place before the conversation's lock, a group's next few
// messages filled every place and everyone else waited.
func TestBusyChatTakesNoPlacesFromOthers(t *testing.T) {
	ctx := context.Background()
	busy := bot.Address{Platform: "console", Chat: "group", User: "u1"}
	quiet := bot.Address{Platform: "console", Chat: "quiet", User: "u9"}
	st := &heldStore{MemStore: bottest.NewMemStore(), key: busy.Key(), release: make(chan struct{}), held: make(chan struct{})}
	catalog, texts := bottest.Content(t)
	e, err := bot.New(bot.Config{Store: st, Flows: catalog, Texts: texts, Clock: bottest.NewClock(start), Features: features.All(), MaxInFlight: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.Register(&bottest.Recorder{Name: "console"})

	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(st.release)
	// The busy chat's first event gets stuck in its commit; five more
	// wait for its lock.
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.Handle(ctx, bot.Event{ID: string(rune('a' + i)), Addr: busy, Text: "/help", LangHint: "de"})
		}()
		if i == 0 {
			<-st.held
		}
	}
	done := make(chan error, 1)
	go func() { done <- e.Handle(ctx, bot.Event{ID: "q1", Addr: quiet, Text: "/help", LangHint: "de"}) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute): // a hang guard, not a timing
		t.Fatal("the quiet chat's event waited for the busy chat's commit: its waiting events took every place")
	}
}
