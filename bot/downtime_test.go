package bot_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/features"
)

const dtDay = 24 * time.Hour

// Downtime rules under test: ReminderConfig's defaults.
const (
	dtLateAfter   = 10 * time.Minute // later than this, a reminder says "fällig seit"
	dtMissedAfter = 7 * dtDay        // later than this, it is not sent but marked missed
)

// dtOutage is a span [from, to) in which the bot does not run; it restarts at to.
type dtOutage struct{ from, to time.Time }

// dtReminder identifies one reminder: its conversation and kind.
type dtReminder struct {
	conv int
	kind string
}

// dtSent is what the platform received for one reminder.
type dtSent struct {
	at    time.Time // the simulated instant it was sent
	text  string
	times int
}

// dtExpected is what must have become of a reminder due at due.
type dtExpected struct {
	status string    // bot.ReminderSent, bot.ReminderMissed or pending
	at     time.Time // when it is sent or found missed
	late   bool      // its text says it is late
}

// TestDowntime: "Downtime test: 10,000 reminders over 90 simulated days with
// 20 outages of 1 minute to 10 days: each due one sent once within a minute
// of restart, older ones reported missed, none twice."
//
// 5,000 conversations (1,000 under the race detector, unless AMPEL_LONG is
// set), each with one open measure whose start and review
// give two reminders, are stored directly and then touched once through the
// engine, which derives their reminders. The bot then runs for 90 simulated
// days with 20 outages. While up, it behaves as the scheduler does: it fires
// what is due at the instant the next reminder falls due. Each restart is a
// new engine (an empty cache, fresh counters) on the same store, which fires
// what fell due meanwhile at once.
func TestDowntime(t *testing.T) {
	ctx := context.Background()
	convs := sized(5000, 1000)
	if testing.Short() {
		convs = 500
	}
	h := newHarness(t, 0)
	rng := rand.New(rand.NewPCG(2027, 310))
	simStart := h.Clock.Now() // 2027-03-10 09:00 Berlin
	simEnd := simStart.Add(90 * dtDay)

	// Conversations with one open measure each, starting within the first 80
	// days and reviewed 0 to 30 days later (so some reviews lie beyond the end).
	addrOf := func(i int) bot.Address { return bot.Address{Platform: "console", Chat: fmt.Sprintf("u%04d", i)} }
	measureText := func(i int) string { return fmt.Sprintf("Maßnahme Nr. %04d", i) }
	civil := func(offset int) string {
		return time.Date(2027, 3, 10+offset, 12, 0, 0, 0, time.UTC).Format("2006-01-02")
	}
	for i := range convs {
		s := 1 + rng.IntN(80)
		c := &bot.Conversation{Lang: "de", Addr: addrOf(i), Plan: bot.Plan{
			Measures: []bot.Measure{{
				ID: 1, Flow: "zo-kmu", Checkpoint: "nutzen", Text: measureText(i), Priority: "high", Me: true,
				Start: civil(s), Review: civil(s + rng.IntN(31)), Status: bot.StatusOpen,
			}},
			NextID: 2,
		}}
		if _, err := h.Store.Commit(ctx, "seed", addrOf(i).Key(), c, nil); err != nil {
			t.Fatal(err)
		}
		ev := bot.Event{ID: "seed", Addr: addrOf(i), Text: "/plan", LangHint: "de"}
		if err := h.Engine.Handle(ctx, ev); err != nil {
			t.Fatalf("handle /plan for %s: %v", ev.Addr.Chat, err)
		}
	}
	h.Take()

	// Every conversation now has a pending start and review reminder.
	dueSet := map[time.Time]bool{}
	for i := range convs {
		c, err := h.Store.Load(ctx, addrOf(i).Key())
		if err != nil {
			t.Fatal(err)
		}
		p := c.Pending()
		if len(p) != 2 || len(c.Reminders) != 2 {
			t.Fatalf("conversation %d: got %d reminders, %d pending, want 2 and 2: %+v", i, len(c.Reminders), len(p), c.Reminders)
		}
		for _, r := range p {
			if !r.Due.After(simStart) {
				t.Fatalf("conversation %d: reminder %s due %s, not after the start %s", i, r.ID, r.Due, simStart)
			}
			dueSet[r.Due] = true
		}
	}
	total := 2 * convs
	dues := make([]time.Time, 0, len(dueSet))
	for d := range dueSet {
		dues = append(dues, d)
	}
	slices.SortFunc(dues, time.Time.Compare)
	firstDueFrom := func(t0 time.Time) time.Time {
		i, _ := slices.BinarySearchFunc(dues, t0, time.Time.Compare)
		if i == len(dues) {
			t.Fatalf("no reminder due at or after %s", t0)
		}
		return dues[i]
	}

	outages := dtSchedule(t, rng, simStart, simEnd, firstDueFrom)
	for i, o := range outages {
		t.Logf("outage %2d: %s for %s", i+1, o.from.UTC().Format(time.RFC3339Nano), o.to.Sub(o.from))
	}

	// Run the bot.
	sent := map[dtReminder]*dtSent{}
	var messages int
	var stats bot.Stats
	engine := h.Engine
	runAt := func(now time.Time) {
		t.Helper()
		h.Clock.Set(now)
		if _, err := engine.RunDue(ctx, now); err != nil {
			t.Fatalf("RunDue(%s): %v", now, err)
		}
		if err := engine.Settle(ctx); err != nil {
			t.Fatal(err)
		}
		for _, s := range h.Rec.Take() {
			messages++
			n, err := strconv.Atoi(strings.TrimPrefix(s.To.Chat, "u"))
			if err != nil || n < 0 || n >= convs || s.To != addrOf(n) {
				t.Fatalf("message to an unknown address %+v: %q", s.To, s.Msg.Text)
			}
			var kind string
			switch {
			case strings.Contains(s.Msg.Text, "Es geht los: "+measureText(n)):
				kind = bot.KindStart
			case strings.Contains(s.Msg.Text, "Zeit für die Kontrolle: "+measureText(n)):
				kind = bot.KindReview
			default:
				t.Fatalf("message to %s is no reminder of its measure: %q", s.To.Chat, s.Msg.Text)
			}
			k := dtReminder{n, kind}
			if got := sent[k]; got != nil {
				got.times++
				t.Errorf("%s reminder of conversation %d sent again at %s (first at %s): %q", kind, n, now, got.at, s.Msg.Text)
				continue
			}
			sent[k] = &dtSent{at: now, text: s.Msg.Text, times: 1}
		}
	}
	restart := simStart
	for i := 0; i <= len(outages); i++ {
		upTo := simEnd
		if i < len(outages) {
			upTo = outages[i].from
		}
		runAt(restart)
		for {
			next, ok, err := h.Store.NextDue(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !ok || !next.Before(upTo) {
				break
			}
			if !next.After(h.Clock.Now()) {
				t.Fatalf("after RunDue(%s), the next due reminder is still at %s", h.Clock.Now(), next)
			}
			runAt(next)
		}
		st := engine.Stats()
		stats.RemindersSent += st.RemindersSent
		stats.RemindersMissed += st.RemindersMissed
		if i < len(outages) {
			restart = outages[i].to
			engine = dtRestart(t, h) // a new process on the same store
		}
	}

	// What should have happened to a reminder due at due.
	expect := func(due time.Time) dtExpected {
		if !due.Before(simEnd) {
			return dtExpected{status: bot.ReminderPending}
		}
		for _, o := range outages {
			if !due.Before(o.from) && due.Before(o.to) {
				late := o.to.Sub(due)
				if late > dtMissedAfter {
					return dtExpected{status: bot.ReminderMissed, at: o.to}
				}
				return dtExpected{status: bot.ReminderSent, at: o.to, late: late > dtLateAfter}
			}
		}
		return dtExpected{status: bot.ReminderSent, at: due}
	}
	lastRestartBefore := func(at time.Time) time.Time {
		r := simStart
		for _, o := range outages {
			if !o.to.After(at) {
				r = o.to
			}
		}
		return r
	}

	var nSent, nMissed, nPending, nLate, nLateEdge, nMissedEdge int
	for i := range convs {
		c, err := h.Store.Load(ctx, addrOf(i).Key())
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Reminders) != 2 {
			t.Errorf("conversation %d: got %d reminders at the end, want 2", i, len(c.Reminders))
		}
		for _, r := range c.Reminders {
			k := dtReminder{i, r.Kind}
			want := expect(r.Due)
			got := sent[k]
			switch want.status {
			case bot.ReminderSent:
				nSent++
				if got == nil {
					t.Errorf("conversation %d: %s reminder due %s was never sent (status %q), want it sent at %s", i, r.Kind, r.Due, r.Status, want.at)
					continue
				}
				// Within a minute of its due instant, or of the restart if the bot was down then.
				if d := got.at.Sub(dtMax(r.Due, lastRestartBefore(got.at))); d < 0 || d >= time.Minute {
					t.Errorf("conversation %d: %s reminder due %s sent at %s, %s after max(due, restart)", i, r.Kind, r.Due, got.at, d)
				}
				if !got.at.Equal(want.at) {
					t.Errorf("conversation %d: %s reminder due %s sent at %s, want %s", i, r.Kind, r.Due, got.at, want.at)
				}
				if isLate := strings.Contains(got.text, "fällig seit"); isLate != want.late {
					t.Errorf("conversation %d: %s reminder due %s sent at %s: says late %v, want %v: %q", i, r.Kind, r.Due, got.at, isLate, want.late, got.text)
				}
				if want.late {
					nLate++
					if got.at.Sub(r.Due) == dtMissedAfter {
						nLateEdge++
					}
				}
				if r.Status != bot.ReminderSent || !r.At.Equal(want.at) {
					t.Errorf("conversation %d: %s reminder sent at %s: stored status %q at %s, want %q at %s", i, r.Kind, got.at, r.Status, r.At, bot.ReminderSent, want.at)
				}
			case bot.ReminderMissed:
				nMissed++
				if want.at.Sub(r.Due) == dtMissedAfter+time.Second {
					nMissedEdge++
				}
				if got != nil {
					t.Errorf("conversation %d: %s reminder due %s sent at %s, want it missed at the restart %s (%s late)", i, r.Kind, r.Due, got.at, want.at, want.at.Sub(r.Due))
				}
				if r.Status != bot.ReminderMissed || !r.At.Equal(want.at) {
					t.Errorf("conversation %d: %s reminder due %s: stored status %q at %s, want %q at %s", i, r.Kind, r.Due, r.Status, r.At, bot.ReminderMissed, want.at)
				}
			default:
				nPending++
				if got != nil {
					t.Errorf("conversation %d: %s reminder due %s, after the end, was sent at %s", i, r.Kind, r.Due, got.at)
				}
				if r.Status != bot.ReminderPending {
					t.Errorf("conversation %d: %s reminder due %s, after the end: status %q, want pending", i, r.Kind, r.Due, r.Status)
				}
			}
		}
	}
	t.Logf("%d reminders: %d sent (%d late, %d exactly %s late), %d missed (%d by one second), %d still pending; %d messages",
		total, nSent, nLate, nLateEdge, dtMissedAfter, nMissed, nMissedEdge, nPending, messages)
	if nSent+nMissed+nPending != total {
		t.Errorf("sent %d + missed %d + pending %d = %d, want %d", nSent, nMissed, nPending, nSent+nMissed+nPending, total)
	}
	if messages != nSent {
		t.Errorf("got %d reminder messages, want %d", messages, nSent)
	}
	if stats.RemindersSent != int64(nSent) || stats.RemindersMissed != int64(nMissed) {
		t.Errorf("engine stats: sent %d, missed %d; want %d and %d", stats.RemindersSent, stats.RemindersMissed, nSent, nMissed)
	}
	if q, err := h.Store.Pending(ctx, 0, 10); err != nil || len(q) != 0 {
		t.Errorf("outbox at the end: %d messages, error %v; want none", len(q), err)
	}
	// The scenario must exercise every rule.
	if nLate == 0 || nLateEdge == 0 || nMissed == 0 || nMissedEdge == 0 || nPending == 0 || nSent-nLate == 0 {
		t.Errorf("scenario too tame: %d on time, %d late (%d exactly %s), %d missed (%d by one second), %d pending",
			nSent-nLate, nLate, nLateEdge, dtMissedAfter, nMissed, nMissedEdge, nPending)
	}
}

func dtMax(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// downtimeSchedule lays out 20 outages between from and to: 8 of 1 minute to
// 1 hour, 6 of 1 hour to 2 days, 3 of 2 to 7 days and 3 of 7 to 10 days,
// in random order with random up times between them. Three are placed on the
// rules' edges: a short one begins exactly when reminders fall due, a long
// one ends exactly 7 days after reminders fell due (late but still sent)
// and another one second later than that (missed).
func dtSchedule(t *testing.T, rng *rand.Rand, from, to time.Time, firstDueFrom func(time.Time) time.Time) []dtOutage {
	t.Helper()
	type plan struct {
		dur        time.Duration
		startOnDue bool
		// endAfterDue, when set, makes the outage end that long after the
		// first reminder due in it.
		endAfterDue time.Duration
	}
	var plans []plan
	between := func(lo, hi time.Duration) time.Duration { return lo + time.Duration(rng.Int64N(int64(hi-lo))) }
	for _, c := range []struct {
		n      int
		lo, hi time.Duration
	}{{8, time.Minute, time.Hour}, {6, time.Hour, 2 * dtDay}, {3, 2 * dtDay, 7 * dtDay}, {3, 7*dtDay + time.Second, 10 * dtDay}} {
		for range c.n {
			plans = append(plans, plan{dur: between(c.lo, c.hi)})
		}
	}
	plans[0].startOnDue = true
	plans[0].dur = time.Minute
	plans[len(plans)-1].endAfterDue = dtMissedAfter
	plans[len(plans)-2].endAfterDue = dtMissedAfter + time.Second
	rng.Shuffle(len(plans), func(i, j int) { plans[i], plans[j] = plans[j], plans[i] })

	// The up time left over is shared out at random; the edge cases may take
	// up to 3 days more each than their drawn duration.
	upBudget := to.Sub(from) - 9*dtDay
	for _, p := range plans {
		upBudget -= p.dur
	}
	weights := make([]float64, len(plans)+1)
	var sum float64
	for i := range weights {
		weights[i] = 0.2 + rng.Float64()
		sum += weights[i]
	}
	var outs []dtOutage
	at := from
	for i, p := range plans {
		at = at.Add(time.Duration(float64(upBudget) * weights[i] / sum))
		o := dtOutage{from: at}
		if p.startOnDue {
			o.from = firstDueFrom(at)
		}
		o.to = o.from.Add(p.dur)
		if p.endAfterDue > 0 {
			o.to = firstDueFrom(o.from).Add(p.endAfterDue)
		}
		outs = append(outs, o)
		at = o.to
	}
	var short, long int
	for _, o := range outs {
		d := o.to.Sub(o.from)
		if d < time.Minute || d > 10*dtDay+time.Second {
			t.Fatalf("schedule: outage of %s, want 1 minute to 10 days", d)
		}
		if d <= time.Hour {
			short++
		}
		if d > dtMissedAfter {
			long++
		}
	}
	if left := to.Sub(at); left < time.Hour || short < 5 || long < 3 {
		t.Fatalf("schedule: %d short and %d long outages, %s up at the end", short, long, left)
	}
	return outs
}

// newEngine starts another engine on the harness's store, clock and
// platform, as a restarted process would.
func dtRestart(t *testing.T, h *harness) *bot.Engine {
	t.Helper()
	catalog, texts := bottest.Content(t)
	e, err := bot.New(bot.Config{
		Store: h.Store, Flows: catalog, Texts: texts,
		Clock: h.Clock, Zone: mustZone("Europe/Berlin"), Features: features.All(),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.Register(h.Rec)
	return e
}
