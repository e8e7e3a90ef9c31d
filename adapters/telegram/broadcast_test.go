package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/network"
	"github.com/ampel-bot/ampel/store"
)

// virtualClock is the time of a simulation: a sleeper moves it to the end
// of its sleep unless another has moved it further, so that senders
// sleeping side by side take the time one of them would, and no real time.
type virtualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *virtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *virtualClock) Sleep(ctx context.Context, d time.Duration) error {
	return c.until(ctx, c.Now().Add(d))
}

// until moves the clock to at, unless it is there already.
func (c *virtualClock) until(ctx context.Context, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if at.After(c.now) {
		c.now = at
	}
	return nil
}

func (c *virtualClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// grant is one turn the adapter's limiter gave.
type grant struct {
	chat int64
	at   time.Time
}

// broadcast is an engine on a memory store, a Telegram adapter and the
// fake, on one virtual clock, with a network of members.
type broadcast struct {
	t      testing.TB
	fake   *fakeTG
	engine *bot.Engine
	clock  *virtualClock
	mu     sync.Mutex
	grants []grant
	floods int
	n      int
	// from is when the broadcast was sent: the rate counts from there.
	from   time.Time
	before int // messages the fake held then
}

const (
	bcLead  = 1000    // the coordinator's user ID
	bcGroup = -100777 // the linked group
)

// newBroadcast is a broadcast on a fake that answers 429 with retry_after
// 1 to a share of sends and edits (floodShare, by a seeded random draw).
func newBroadcast(t testing.TB, store bot.Store, floodShare float64) *broadcast {
	t.Helper()
	f := newFakeTG(t)
	b := newBroadcastAt(t, store, f.srv.URL, f.srv.Client(), start)
	b.fake = f
	f.mu.Lock() // New's getMe read it in a handler: TCP orders nothing for the race detector
	f.flood = flooding(floodShare, &b.mu, &b.floods)
	f.mu.Unlock()
	return b
}

// flooding answers a share of calls with 429 retry_after 1, counting them
// in n (under mu).
func flooding(share float64, mu *sync.Mutex, n *int) func(apiCall) int {
	rng := rand.New(rand.NewPCG(2, 2))
	return func(apiCall) int {
		mu.Lock()
		defer mu.Unlock()
		if rng.Float64() < share {
			*n++
			return 1
		}
		return 0
	}
}

// newBroadcastAt is the engine on store and an adapter talking to the
// Telegram API at url, on a virtual clock standing at now.
func newBroadcastAt(t testing.TB, store bot.Store, url string, client *http.Client, now time.Time) *broadcast {
	t.Helper()
	b := &broadcast{t: t, clock: &virtualClock{now: now}}
	b.engine = bottest.NewEngine(t, store, b.clock)
	a, err := New(context.Background(), Config{Token: testToken, APIURL: url, PollTimeout: time.Second,
		Commands: b.engine.Commands, Langs: b.engine.Langs(), HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	a.backoffMin, a.backoffMax = time.Millisecond, 5*time.Millisecond
	a.lim.now, a.lim.sleep, a.lim.until = b.clock.Now, b.clock.Sleep, b.clock.until
	a.lim.granted = func(chat int64, at time.Time) { b.grants = append(b.grants, grant{chat, at}) } // under the limiter's lock
	b.engine.Register(a)
	return b
}

// seed stores the network: members private chats, the group linked.
func (b *broadcast) seed(members int) {
	n := &network.Network{ID: "net1", Name: "Lausitz", Lang: "de", Zone: "Europe/Berlin", Created: start}
	for i := range members {
		id := strconv.Itoa(bcLead + i)
		role := network.Plain
		if i == 0 {
			role = network.Coordinator
		}
		n.Members = append(n.Members, network.Member{Person: bot.Person{ID: id, Name: "M" + id}, Role: role, Lang: "de",
			Chat: bot.Address{Platform: Platform, User: id}, Joined: start})
	}
	n.Channels = []network.Channel{{Chat: bot.Address{Platform: Platform, Chat: strconv.Itoa(bcGroup)}, By: "1000", At: start}}
	err := b.engine.Do(context.Background(), "seed-net1", func(tx *bot.Tx) error {
		c, err := tx.Conversation(bot.Address{Platform: Platform, Chat: strconv.Itoa(bcLead)})
		if err != nil {
			return err
		}
		c.Records = map[string]string{network.Kind: n.ID}
		return network.Put(tx, n)
	})
	if err != nil {
		b.t.Fatal(err)
	}
}

// say hands text from the coordinator's private chat to the engine.
func (b *broadcast) say(text string) {
	b.t.Helper()
	b.n++
	lead := strconv.Itoa(bcLead)
	ev := bot.Event{ID: fmt.Sprintf("lead-%d", b.n), Addr: bot.Address{Platform: Platform, Chat: lead, User: lead}, Text: text, LangHint: "de"}
	if err := b.engine.Handle(context.Background(), ev); err != nil {
		b.t.Fatal(err)
	}
}

// announce: the coordinator announces a meeting, typing every answer.
func (b *broadcast) announce() {
	for _, s := range []string{"/meeting", "1", "Netzwerktreffen", "16.03.2027", "18:00-20:00", "IHK Cottbus", "Begrüßung", "Ohne Begrenzung", "1"} {
		b.say(s)
		bottest.Settle(b.t, b.engine)
	}
	b.clock.Add(time.Minute) // the coordinator's chat is at rest again
	b.from = b.clock.Now()
	if b.fake != nil { // a child of TestBroadcastKill talks to its parent's
		b.fake.mu.Lock()
		b.before = len(b.fake.order)
		b.fake.mu.Unlock()
	}
	b.say("Verschicken")
}

// drain sends until the outbox is empty: whenever only lanes waiting for
// a retry are left, the clock goes to the next 100 ms and the outbox is
// read again.
func (b *broadcast) drain(done func() bool) {
	b.t.Helper()
	ctx := context.Background()
	for i := 0; !done(); i++ {
		if i > 100000 {
			b.t.Fatal("the broadcast never finished")
		}
		// Not bottest.Settle, whose 10 s are short for thousands of sends.
		settle, cancel := context.WithTimeout(ctx, 5*time.Minute)
		err := b.engine.Settle(settle)
		cancel()
		if err != nil {
			b.t.Fatalf("the engine did not settle: %v", err)
		}
		if done() {
			return
		}
		b.clock.Add(100 * time.Millisecond)
		if err := b.engine.Flush(ctx); err != nil {
			b.t.Fatal(err)
		}
	}
}

// rest lets the clock go on for a minute, sending all that can be sent.
func (b *broadcast) rest() {
	b.t.Helper()
	until := b.clock.Now().Add(time.Minute)
	b.drain(func() bool { return !b.clock.Now().Before(until) })
	bottest.Settle(b.t, b.engine)
}

// received counts, per chat, the announcements (with buttons) and the
// calendar files the fake holds.
func (f *fakeTG) received() (ann, ics map[int64]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ann, ics = map[int64]int{}, map[int64]int{}
	for _, k := range f.order {
		m := f.msgs[k]
		switch {
		case m.Doc != nil:
			ics[k.chat]++
		case m.Markup != nil && len(m.Markup.InlineKeyboard) == 1 && len(m.Markup.InlineKeyboard[0]) == 3:
			ann[k.chat]++
		}
	}
	return ann, ics
}

// delivered checks that every member and the group got the announcement
// and the calendar file, and returns how many copies came twice or more.
func delivered(t testing.TB, f *fakeTG, members int) (dups int) {
	t.Helper()
	ann, ics := f.received()
	for i := range members {
		chat := int64(bcLead + i)
		if ann[chat] < 1 || ics[chat] < 1 {
			t.Errorf("member %d got %d announcements and %d calendar files, want 1 each", chat, ann[chat], ics[chat])
		}
		dups += max(ann[chat]-1, 0) + max(ics[chat]-1, 0)
	}
	if ann[bcGroup] < 1 || ics[bcGroup] < 1 {
		t.Errorf("the group got %d announcements and %d calendar files", ann[bcGroup], ics[bcGroup])
	}
	return dups + max(ann[bcGroup]-1, 0) + max(ics[bcGroup]-1, 0)
}

// violations are the limits the turns in g exceed: 30 a second in all, a
// burst of 3 then 1 a second per chat, 20 a minute per group.
func violations(g []grant) []string {
	var out []string
	if most := mostIn(g, nil, time.Second); most > 30 {
		out = append(out, fmt.Sprintf("%d messages within a second, want at most 30", most))
	}
	if most := mostIn(g, func(c int64) bool { return c < 0 }, time.Minute); most > 20 {
		out = append(out, fmt.Sprintf("%d messages to the group within a minute, want at most 20", most))
	}
	perChat := map[int64][]time.Time{}
	for _, x := range g {
		perChat[x.chat] = append(perChat[x.chat], x.at)
	}
	for chat, at := range perChat {
		for i := range at {
			for j := i + 1; j < len(at); j++ {
				if allowed := 3 + int(at[j].Sub(at[i])/time.Second); j-i+1 > allowed {
					out = append(out, fmt.Sprintf("chat %d: %d messages between %s and %s", chat, j-i+1, at[i].Sub(start), at[j].Sub(start)))
				}
			}
		}
	}
	return out
}

// check verifies what the members and the group got, and the limits on
// the limiter's turns; it returns the overall rate of the broadcast in
// messages a second of the clock.
func (b *broadcast) check(members int) float64 {
	t := b.t
	if dups := delivered(t, b.fake, members); dups > 0 {
		t.Errorf("%d duplicates, want none (no send had an unknown outcome)", dups)
	}
	g := slices.Clone(b.grants)
	for _, v := range violations(g) {
		t.Error(v)
	}
	first, last := b.from.Add(24*time.Hour), b.from
	for _, x := range g {
		if !x.at.Before(b.from) {
			first, last = minTime(first, x.at), maxTime(last, x.at)
		}
	}
	b.fake.mu.Lock()
	sent := len(b.fake.order) - b.before
	b.fake.mu.Unlock()
	return float64(sent) / last.Sub(first).Seconds()
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// mostIn is the most grants (of the chats keep takes, or all) within any
// span of d.
func mostIn(g []grant, keep func(int64) bool, d time.Duration) int {
	var at []time.Time
	for _, x := range g {
		if keep == nil || keep(x.chat) {
			at = append(at, x.at)
		}
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	most, j := 0, 0
	for i := range at {
		for at[i].Sub(at[j]) >= d {
			j++
		}
		most = max(most, i-j+1)
	}
	return most
}

// broadcastMembers is 5,000, or BROADCAST_MEMBERS; 300 under the race
// detector (which makes every send some ten times slower; 1,000 with
// AMPEL_LONG=1) and with -short. What the tests assert holds at any size
// above the limits' bursts: 600 messages at 30/s still wait on the limits.
func broadcastMembers() int {
	if n, err := strconv.Atoi(os.Getenv("BROADCAST_MEMBERS")); err == nil && n > 1 {
		return n
	}
	switch {
	case testing.Short():
		return 300
	case raceEnabled && os.Getenv("AMPEL_LONG") != "":
		return 1000
	case raceEnabled:
		return 300
	}
	return 5000
}

// TestBroadcastWithinLimits: a meeting announced to 5,000 members and a
// linked group over the fake Telegram, which answers 2 % of sends with
// 429 retry_after 1: every member gets the announcement and the calendar
// file once, the group too, no limit is exceeded on any turn the limiter
// gave, and the whole takes at least 95 % of the rate the limits allow
// (30 messages a second), on a virtual clock: no real time is waited.
func TestBroadcastWithinLimits(t *testing.T) {
	members := broadcastMembers()
	var st bot.Store = bottest.NewMemStore()
	if os.Getenv("BROADCAST_BBOLT") != "" {
		db, err := store.Open(filepath.Join(t.TempDir(), "ampel.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		st = db
	}
	b := newBroadcast(t, st, 0.02)
	b.seed(members)
	b.announce()
	want := 2*members + 2
	b.drain(func() bool {
		ann, ics := b.fake.received()
		n := 0
		for _, c := range ann {
			n += c
		}
		for _, c := range ics {
			n += c
		}
		return n >= want
	})
	rate := b.check(members)
	b.mu.Lock()
	floods := b.floods
	b.mu.Unlock()
	t.Logf("%d members: %d messages, %d answered 429, %.2f messages/s on the clock (%.1f %% of 30/s)", members, want, floods, rate, rate/30*100)
	if rate < 0.95*30 {
		t.Errorf("rate %.2f messages/s, want at least 95 %% of 30/s", rate)
	}
}

// announced is a broadcast whose coordinator announced a meeting to
// members, all sent; and the meeting's ID.
func announced(t *testing.T, members int, floodShare float64) (*broadcast, string) {
	st := bottest.NewMemStore()
	b := newBroadcast(t, st, floodShare)
	b.seed(members)
	b.announce()
	b.rest()
	raw, err := st.Record(context.Background(), bot.RecordRef{Kind: network.Kind, ID: "net1"})
	var n network.Network
	if err != nil || json.Unmarshal(raw, &n) != nil || len(n.Meetings) != 1 {
		t.Fatalf("the network's meeting: %v %s", err, raw)
	}
	return b, n.Meetings[0].ID
}

// TestPressesWithinLimits: a meeting announced to 300 members and a
// linked group over the fake Telegram (2 % of calls answered 429), then
// 1,000 answers pressed at once: every live message, the group's and
// every member's copy, ends showing the final counts; the copies of those
// who pressed nothing are edited once, when the answers have settled, not
// per press; no limit is exceeded on any turn the limiter gave.
func TestPressesWithinLimits(t *testing.T) {
	const members, presses = 300, 1000
	b, mt := announced(t, members, 0.02)
	rng := rand.New(rand.NewPCG(13, 13))
	last := map[int]string{}
	for i := range presses {
		who, a := rng.IntN(members), []string{"y", "m", "n"}[rng.IntN(3)]
		id := strconv.Itoa(bcLead + who)
		ev := bot.Event{ID: fmt.Sprintf("press-%d", i), Addr: bot.Address{Platform: Platform, Chat: id, User: id}, Action: "mt:" + mt + ":" + a, LangHint: "de"}
		if err := b.engine.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		last[who] = a
	}
	// The clock goes on, firing what is due, until the copies were shown
	// anew and all is sent.
	ctx := context.Background()
	for until := b.clock.Now().Add(3 * time.Minute); b.clock.Now().Before(until); {
		if _, err := b.engine.RunDue(ctx, b.clock.Now()); err != nil {
			t.Fatal(err)
		}
		next := b.clock.Now().Add(time.Second)
		b.drain(func() bool { return !b.clock.Now().Before(next) })
	}
	bottest.Settle(t, b.engine)
	count := map[string]int{}
	for _, a := range last {
		count[a]++
	}
	final := fmt.Sprintf("%d ja · %d vielleicht · %d nein", count["y"], count["m"], count["n"])
	b.fake.mu.Lock()
	shown := map[int64]*sentMsg{}
	for _, k := range b.fake.order {
		if m := b.fake.msgs[k]; m.Markup != nil && len(m.Markup.InlineKeyboard) == 1 && len(m.Markup.InlineKeyboard[0]) == 3 {
			shown[k.chat] = m
		}
	}
	b.fake.mu.Unlock()
	stale, edits := 0, 0
	for i := range members {
		m := shown[int64(bcLead+i)]
		if m == nil || !strings.Contains(m.Text, final) {
			if stale++; stale <= 3 {
				t.Errorf("member %d's copy does not show %q: %+v", bcLead+i, final, m)
			}
			continue
		}
		if _, pressed := last[i]; !pressed {
			if m.Edited != 1 {
				t.Errorf("member %d pressed nothing; their copy was edited %d times, want once", bcLead+i, m.Edited)
			}
		}
		edits += m.Edited
	}
	if stale > 0 {
		t.Errorf("%d of %d copies do not end on the final counts", stale, members)
	}
	if g := shown[bcGroup]; g == nil || !strings.Contains(g.Text, final) {
		t.Errorf("the group's announcement does not show %q", final)
	}
	for _, v := range violations(slices.Clone(b.grants)) {
		t.Error(v)
	}
	t.Logf("%d presses by %d members: %d edits of the members' copies, %d of the group's", presses, len(last), edits, shown[bcGroup].Edited)
}

// TestLongAttendeeList: the coordinator's "who's coming?" for a meeting
// that 600 members said yes to is longer than a Telegram message: it
// arrives in parts, none over Telegram's 4,096 characters, every name in
// one of them.
func TestLongAttendeeList(t *testing.T) {
	const members = 600
	b, mt := announced(t, members, 0)
	for i := range members {
		id := strconv.Itoa(bcLead + i)
		ev := bot.Event{ID: "yes-" + id, Addr: bot.Address{Platform: Platform, Chat: id, User: id}, Action: "mt:" + mt + ":y", LangHint: "de"}
		if err := b.engine.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	b.rest()
	b.fake.mu.Lock()
	before := len(b.fake.order)
	b.fake.mu.Unlock()
	for _, s := range []string{"/meeting", "1", "Wer kommt?"} {
		b.say(s)
		b.rest()
	}
	b.fake.mu.Lock()
	var parts []string
	for _, k := range b.fake.order[before:] {
		if m := b.fake.msgs[k]; k.chat == bcLead && m.Doc == nil {
			parts = append(parts, m.Text)
		}
	}
	b.fake.mu.Unlock()
	all := strings.Join(parts, "\n")
	if len(parts) < 2 {
		t.Errorf("the list came in %d message, want several", len(parts))
	}
	for _, p := range parts {
		if n := utf16Len(p); n > 4096 {
			t.Errorf("a part of %d characters", n)
		}
	}
	for i := range members {
		if name := "M" + strconv.Itoa(bcLead+i); !strings.Contains(all, name+"\n") && !strings.HasSuffix(all, name) {
			t.Errorf("%s is missing from the list", name)
			break
		}
	}
	if !strings.Contains(all, "Ja (600):") {
		t.Errorf("the list does not say 600 said yes: %.200q", all)
	}
}
