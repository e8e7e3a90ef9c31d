package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/adapters/console"
	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/store"
)

// warpClock is simulated time that runs with real time while the bot works
// and jumps over the time the reminder scheduler would sleep: the scheduler
// asks Real(d) how long to sleep for d of the clock's time, and the clock
// moves forward by d at once instead. Lateness measured on it is what the
// work of firing reminders (the store's commits, the sends) costs, without
// waiting days of real time for the reminders to fall due.
type warpClock struct {
	offset atomic.Int64 // simulated minus real time, in nanoseconds
	// settle, when set, waits until the sends in progress are done: the
	// clock jumps only over time in which nothing is being sent, as a
	// real clock would not run ahead of a reply on its way out.
	settle func()
}

func newWarpClock(at time.Time) *warpClock {
	c := &warpClock{}
	c.offset.Store(int64(at.Sub(time.Now())))
	return c
}

func (c *warpClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Real implements bot.Scaled: the sleep happens on the clock, not in real
// time.
func (c *warpClock) Real(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	if c.settle != nil {
		c.settle()
	}
	c.offset.Add(int64(d))
	return time.Nanosecond
}

// TestReminderLateness: 1,000 reminders (500 users in five zones, a start
// and a review each, weekends moved to Monday so that they crowd there),
// sent by the real scheduler (Engine.RunReminders) on a bbolt file while
// two other users type through checks as fast as they can. Every reminder
// comes exactly once, never before 09:00 of its day in its user's zone, and
// 99 % of them at most 10 s after it (simulated time: the scheduler's
// sleeps are skipped, the work is not).
func TestReminderLateness(t *testing.T) {
	const users = 500
	zones := []string{"Europe/Berlin", "Europe/London", "America/New_York", "Asia/Kolkata", "Asia/Tokyo"}
	clock := newWarpClock(time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC))
	db, err := store.Open(filepath.Join(t.TempDir(), "ampel.db"), store.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	type key struct{ chat, kind string }
	var (
		mu   sync.Mutex
		sent = map[key][]time.Time{}
	)
	rec := &bottest.Recorder{Name: console.Platform, SendFn: func(to bot.Address, m bot.Message) error {
		at := clock.Now()
		kind := ""
		switch {
		case strings.Contains(m.Text, "Es geht los"):
			kind = bot.KindStart
		case strings.Contains(m.Text, "Zeit für die Kontrolle"):
			kind = bot.KindReview
		default:
			return nil // the dialogues' replies, and offers to repeat a check
		}
		mu.Lock()
		sent[key{to.Chat, kind}] = append(sent[key{to.Chat, kind}], at)
		mu.Unlock()
		return nil
	}}
	e := bottest.NewEngine(t, db, clock)
	clock.settle = func() { e.Settle(context.Background()) }
	e.Register(rec)
	say := func(ctx context.Context, chat string, n int, text string) error {
		addr := bot.Address{Platform: console.Platform, Chat: chat, User: chat}
		return e.Handle(ctx, bot.Event{ID: fmt.Sprintf("%s-%d", chat, n), Addr: addr, Text: text})
	}
	check := []string{"/check zo-kmu", "1", "3", "3", "3", "3", "3", "3"}

	// The reminders, set through the dialogue, and when each is wanted: at
	// 09:00 local on its day, a Saturday or Sunday moved to the Monday.
	want := map[key]time.Time{}
	nine := func(day time.Time, zone string) time.Time {
		switch day.Weekday() {
		case time.Saturday:
			day = day.AddDate(0, 0, 2)
		case time.Sunday:
			day = day.AddDate(0, 0, 1)
		}
		return time.Date(day.Year(), day.Month(), day.Day(), 9, 0, 0, 0, bottest.Zone(zone))
	}
	var setup sync.WaitGroup
	errs := make(chan error, users)
	work := make(chan int)
	for range 50 {
		setup.Go(func() {
			for i := range work {
				zone := zones[i%len(zones)]
				start := time.Date(2027, 3, 15+i/len(zones)%10, 0, 0, 0, 0, time.UTC)
				review := start.AddDate(0, 0, 7)
				chat := fmt.Sprintf("r%03d", i)
				script := append([]string{"/timezone " + zone}, check...)
				script = append(script, "1", "Workshop", "1", "ich", start.Format("2.1.2006"), review.Format("2.1.2006"))
				for n, in := range script {
					if err := say(context.Background(), chat, n, in); err != nil {
						errs <- err
						return
					}
				}
				mu.Lock()
				want[key{chat, bot.KindStart}] = nine(start, zone)
				want[key{chat, bot.KindReview}] = nine(review, zone)
				mu.Unlock()
			}
		})
	}
	for i := range users {
		work <- i
	}
	close(work)
	setup.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for k, at := range want {
		c, err := e.Load(context.Background(), bot.Address{Platform: console.Platform, Chat: k.chat, User: k.chat})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range c.Pending() {
			found = found || r.Kind == k.kind && r.Due.Equal(at)
		}
		if !found {
			t.Fatalf("%s: no pending %s reminder at %s: %+v", k.chat, k.kind, at, c.Reminders)
		}
	}

	// The scheduler runs; two users type through checks meanwhile, until
	// every reminder is sent.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var bg sync.WaitGroup
	bg.Go(func() { e.RunReminders(ctx) })
	var events atomic.Int64
	for g := range 2 {
		bg.Go(func() {
			for round := 0; ctx.Err() == nil; round++ {
				chat := fmt.Sprintf("load%d-%d", g, round)
				for n, in := range append(check, "/plan", "/reminders") {
					if say(ctx, chat, n, in) != nil {
						return
					}
					events.Add(1)
				}
			}
		})
	}
	began := time.Now()
	deadline := began.Add(2 * time.Minute) // real time: only a hang ends here
	for {
		mu.Lock()
		n := 0
		for _, at := range sent {
			n += len(at)
		}
		mu.Unlock()
		if n >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	took := time.Since(began)
	cancel()
	bg.Wait()

	// bg does not join the engine's senders, which call SendFn: sent is
	// read under mu.
	mu.Lock()
	defer mu.Unlock()
	var late []time.Duration
	for k, at := range want {
		got := sent[k]
		if len(got) != 1 {
			t.Errorf("%s reminder of %s, wanted at %s: sent %d times, want once", k.kind, k.chat, at, len(got))
			continue
		}
		d := got[0].Sub(at)
		if d < 0 {
			t.Errorf("%s reminder of %s, wanted at %s: sent %v early", k.kind, k.chat, at, -d)
		}
		late = append(late, d)
	}
	if len(late) == 0 {
		t.Fatal("no reminder sent")
	}
	slices.Sort(late)
	p := func(q float64) time.Duration { return late[int(q*float64(len(late)-1))] }
	t.Logf("%d reminders at %d instants in %v, %d events of other users meanwhile: lateness p50 %v, p99 %v, max %v",
		len(late), distinct(want), took.Round(time.Millisecond), events.Load(), p(0.5), p(0.99), late[len(late)-1])
	if p(0.99) > 10*time.Second {
		t.Errorf("lateness p99: %v, want at most 10s", p(0.99))
	}
}

func distinct[K comparable](m map[K]time.Time) int {
	seen := map[int64]bool{}
	for _, at := range m {
		seen[at.UnixNano()] = true
	}
	return len(seen)
}
