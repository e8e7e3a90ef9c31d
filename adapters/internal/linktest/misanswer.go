package linktest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// Misanswers is the fault "delivered, then timed out" (issue 18, item 3)
// for a platform's fake: the fake carries out a send (the message is
// posted, the edit made) and its answer never reaches the client: the
// connection is dropped, or the answer held until the client gave up
// (its timeout). A client cannot tell either from a send that never
// arrived.
type Misanswers struct {
	kinds []string // the requests it may hit: "<HTTP method> <last part of the path>"
	rate  float64

	mu       sync.Mutex
	rng      *rand.Rand
	injected int
	byKind   map[string]int
	unknown  int // sends whose answer the client did not get (Client)
}

// NewMisanswers hits the given kinds of request at rate (0.05: 5 %),
// dropping the connection three times in four and holding the answer the
// fourth (which costs the client's timeout).
func NewMisanswers(rate float64, kinds ...string) *Misanswers {
	return &Misanswers{kinds: kinds, rate: rate, rng: rand.New(rand.NewPCG(18, 3)), byKind: map[string]int{}}
}

// Serve lets h (the fake) answer r, and loses the answer when the fault
// strikes. m may be nil: no faults.
func (m *Misanswers) Serve(w http.ResponseWriter, r *http.Request, h http.HandlerFunc) {
	kind := r.Method + " " + path.Base(r.URL.Path)
	if m == nil || !slices.Contains(m.kinds, kind) {
		h(w, r)
		return
	}
	m.mu.Lock()
	hit, drop := m.rng.Float64() < m.rate, m.injected%4 != 3
	if hit {
		m.injected++
		m.byKind[kind]++
	}
	m.mu.Unlock()
	if !hit {
		h(w, r)
		return
	}
	h(httptest.NewRecorder(), r) // carried out; the answer goes nowhere
	if drop {
		if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
			c.Close()
		}
		return
	}
	select { // held until the client gives up
	case <-r.Context().Done():
	case <-time.After(hangGuard):
	}
}

const hangGuard = 30 * time.Second

// Client returns c with a transport that counts the sends of m's kinds
// that end without an answer: the lost answers, and any the client gave up
// on by itself (its timeout on a loaded machine).
func (m *Misanswers) Client(c *http.Client) *http.Client {
	cc := *c
	base := cc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cc.Transport = roundTrip(func(r *http.Request) (*http.Response, error) {
		resp, err := base.RoundTrip(r)
		if err != nil && slices.Contains(m.kinds, r.Method+" "+path.Base(r.URL.Path)) {
			m.mu.Lock()
			m.unknown++
			m.mu.Unlock()
		}
		return resp, err
	})
	return &cc
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Unknown is how many sends the client saw end without an answer.
func (m *Misanswers) Unknown() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.unknown
}

// Injected is how many answers were lost, in all and by kind.
func (m *Misanswers) Injected() (int, map[string]int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	by := map[string]int{}
	for k, v := range m.byKind {
		by[k] = v
	}
	return m.injected, by
}

// Shown is a message as a platform's fake holds it: its chat, and every
// text it showed, the first and each edit's, in order.
type Shown struct {
	Chat   string
	States []string
}

// Ambiguous drives the test of item 3 on one platform: Sends messages to
// 20 chats through the real engine and adapter, the fake losing the
// answer to 5 % of the sends and edits (Misanswers); every tenth message
// of a chat is a new state of the chat's live message (a tally), the rest
// plain messages. It checks that none is lost, that no more show twice
// than answers were lost, that the possible-duplicate counter counts every
// lost answer, and that no live message shows
// an older tally after a newer one, and each chat's newest shows the
// last.
type Ambiguous struct {
	Engine *bot.Engine // built with Observer: the Ambiguous's Observer()
	Clock  *bottest.Clock
	Store  bot.Store
	Mis    *Misanswers
	Addr   func(chat int) bot.Address
	Shown  func() []Shown
	// Sends is how many messages (1,000; 10,000 with AMPEL_LONG=1).
	Sends int

	resent, found atomic.Int64
}

// NewAmbiguous is an Ambiguous with its engine on an in-memory store and a
// fake clock starting at start, losing the answers to 5 % of the requests
// of the given kinds (see Misanswers); register the adapter on a.Engine.
func NewAmbiguous(t *testing.T, start time.Time, addr func(chat int) bot.Address, shown func() []Shown, kinds ...string) *Ambiguous {
	store, clock := bottest.NewMemStore(), bottest.NewClock(start)
	a := &Ambiguous{Clock: clock, Store: store, Mis: NewMisanswers(0.05, kinds...), Sends: AmbiguousSends(), Addr: addr, Shown: shown}
	a.Engine = bottest.NewObservedEngine(t, store, clock, a.Observer())
	return a
}

// AmbiguousSends is the Sends of a test: 1,000, or 10,000 with AMPEL_LONG=1.
func AmbiguousSends() int {
	if os.Getenv("AMPEL_LONG") != "" {
		return 10000
	}
	return 1000
}

// Observer counts the possible duplicates the engine reports.
func (a *Ambiguous) Observer() bot.Observer { return dupCounter{a: a} }

type dupCounter struct {
	bot.NopObserver
	a *Ambiguous
}

func (d dupCounter) PossibleDuplicate(platform, outcome string) {
	if outcome == bot.DuplicateFound {
		d.a.found.Add(1)
	} else {
		d.a.resent.Add(1)
	}
}

const ambiguousChats = 20

// Run sends and checks; it returns a line of figures.
func (a *Ambiguous) Run(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	tallies := make([]int, ambiguousChats)
	start := time.Now()
	for i := range a.Sends {
		chat := i % ambiguousChats
		m := bot.Message{Text: "am-" + strconv.Itoa(i)}
		if (i/ambiguousChats)%10 == 9 {
			tallies[chat]++
			m = bot.Message{Live: "tally", Text: fmt.Sprintf("tally-%d-%d", chat, tallies[chat])}
		}
		to := a.Addr(chat)
		if err := a.Engine.Do(ctx, "am-"+strconv.Itoa(i), func(tx *bot.Tx) error { tx.Send(to, m); return nil }); err != nil {
			t.Fatal(err)
		}
		if i%ambiguousChats == ambiguousChats-1 {
			// A second on: retries are due, and a live message may be
			// edited again.
			a.Clock.Add(1100 * time.Millisecond)
			if err := a.Engine.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	for try := 0; ; try++ {
		left, err := a.Store.Pending(ctx, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) == 0 {
			break
		}
		if try == 50 {
			t.Fatalf("outbox message %d not sent after %d retries", left[0].ID, try)
		}
		a.Clock.Add(10 * time.Minute) // every back-off is over
		if err := a.Engine.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	took := time.Since(start)

	injected, by := a.Mis.Injected()
	counts := map[string]int{}
	lastTally := map[string]string{} // the newest live message's shown state, by chat
	older := 0
	for _, s := range a.Shown() {
		if len(s.States) == 0 {
			continue
		}
		final := strings.TrimSpace(s.States[len(s.States)-1])
		if strings.HasPrefix(final, "tally-") {
			prev := 0
			for _, st := range s.States {
				var c, n int
				if _, err := fmt.Sscanf(strings.TrimSpace(st), "tally-%d-%d", &c, &n); err == nil {
					if n < prev {
						older++
						t.Errorf("chat %s: a live message showed tally %d after %d (states %q)", s.Chat, n, prev, s.States)
					}
					prev = n
				}
			}
			lastTally[s.Chat] = final
			continue
		}
		counts[final]++
	}
	lost, dups := 0, 0
	for i := range a.Sends {
		if (i/ambiguousChats)%10 == 9 {
			continue
		}
		switch n := counts["am-"+strconv.Itoa(i)]; {
		case n == 0:
			lost++
		case n > 1:
			dups += n - 1
		}
	}
	for chat, n := range tallies {
		if want := fmt.Sprintf("tally-%d-%d", chat, n); n > 0 && lastTally[a.Addr(chat).Chat] != want {
			lost++
			t.Errorf("chat %d: the live message shows %q at the end, want %q", chat, lastTally[a.Addr(chat).Chat], want)
		}
	}
	resent, found := int(a.resent.Load()), int(a.found.Load())
	unknown := a.Mis.Unknown()
	figures := fmt.Sprintf("%d sends in %v, %d answers lost (%v), %d sends without an answer seen by the client: %d lost, %d shown twice, %d live states older after newer; possible duplicates counted: %d resent, %d found",
		a.Sends, took.Round(time.Millisecond), injected, by, unknown, lost, dups, older, resent, found)
	if lost > 0 {
		t.Errorf("%d messages lost: %s", lost, figures)
	}
	if dups > unknown {
		t.Errorf("more shown twice than answers lost: %s", figures)
	}
	if dups > resent {
		t.Errorf("not every message shown twice was counted: %s", figures)
	}
	if resent+found != unknown || unknown < injected {
		// Every lost answer is an unknown outcome, and its retry a
		// possible duplicate; so is a send the client gave up on by
		// itself (rare: its timeout is generous). A live state whose
		// retry a newer one overtakes is not sent again; here a chat's
		// states are ten rounds apart, and a retry is due in the next.
		t.Errorf("possible duplicates counted ≠ sends without an answer: %s", figures)
	}
	if injected == 0 || injected < a.Sends/40 {
		t.Errorf("too few faults for a test: %s", figures)
	}
	return figures
}
