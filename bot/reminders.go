package bot

import (
	"context"
	"fmt"
	"hash/maphash"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// ReminderConfig sets when reminders go out.
type ReminderConfig struct {
	// Hour is the local hour reminders are sent at (default 9).
	Hour int
	// RepeatAfter is how many months after a check the bot offers to repeat
	// it (default 6; negative: never).
	RepeatAfter int
	// LateAfter is how late a reminder may be before it says so (default 10 min).
	LateAfter time.Duration
	// MissedAfter is how late a reminder may be and still be sent; older
	// ones are shown as missed in /reminders instead (default 7 days).
	MissedAfter time.Duration
}

func (c *ReminderConfig) defaults() {
	if c.Hour <= 0 || c.Hour > 23 {
		c.Hour = 9
	}
	if c.RepeatAfter == 0 {
		c.RepeatAfter = 6
	}
	if c.LateAfter <= 0 {
		c.LateAfter = 10 * time.Minute
	}
	if c.MissedAfter <= 0 {
		c.MissedAfter = 7 * 24 * time.Hour
	}
}

type reminderSpec struct {
	measure int
	kind    string
	day     string
}

// syncReminders derives the conversation's reminders from its plan: one at
// the start and one at the review of every open measure, and the offer to
// repeat the check. A reminder whose day, hour and zone are unchanged keeps
// its status, so nothing is sent twice; a changed one is computed anew.
// syncSeed seeds the fingerprints, which are never stored.
var syncSeed = maphash.MakeSeed()

func writeInt(h *maphash.Hash, n int64) {
	var b [20]byte
	h.Write(strconv.AppendInt(b[:0], n, 10))
}

func (e *Engine) syncReminders(c *Conversation, now time.Time) {
	zone := e.zoneOf(c)
	// A hash of what the reminders derive from: computed on every turn, it
	// must not allocate, and it stays with the cached conversation.
	var fp maphash.Hash
	fp.SetSeed(syncSeed)
	fp.WriteString(zone.String())
	if c.Weekends {
		fp.WriteString("+we")
	}
	if c.RemindersOff {
		fp.WriteString("+off")
	}
	fp.WriteByte('|')
	fp.WriteString(c.Quiet)
	fp.WriteByte('|')
	fp.WriteString(c.Pause)
	fp.WriteByte('|')
	fp.WriteString(c.Region)
	// Snoozes in any order: a sum of their hashes.
	var snoozed uint64
	for id, day := range c.Snoozed {
		snoozed += maphash.String(syncSeed, id)*31 + maphash.String(syncSeed, day)
	}
	writeInt(&fp, int64(snoozed))
	if r := c.Run; r.Finished() {
		fp.WriteByte('|')
		writeInt(&fp, r.Done.Unix())
	}
	for i := range c.Plan.Measures {
		m := &c.Plan.Measures[i]
		fp.WriteByte('|')
		writeInt(&fp, int64(m.ID))
		fp.WriteString(m.Status)
		fp.WriteByte(0)
		fp.WriteString(m.Start)
		fp.WriteByte(0)
		fp.WriteString(m.Review)
	}
	sum := fp.Sum64()
	if c.synced != 0 && sum == c.synced {
		return
	}
	defer func() { c.synced = sum }()
	rules := e.rulesOf(c, zone)
	want := map[string]reminderSpec{}
	for _, m := range c.Plan.Open() {
		// IDs sort start before review, which orders reminders due at the
		// same instant (a measure that starts and is reviewed on one day).
		if m.Start != "" {
			want[fmt.Sprintf("m%d-1%s", m.ID, KindStart)] = reminderSpec{m.ID, KindStart, m.Start}
		}
		if m.Review != "" {
			want[fmt.Sprintf("m%d-2%s", m.ID, KindReview)] = reminderSpec{m.ID, KindReview, m.Review}
		}
	}
	if r := c.Run; r.Finished() && e.rem.RepeatAfter > 0 {
		want[KindRepeat] = reminderSpec{0, KindRepeat, addMonths(dayOf(r.Done, zone), e.rem.RepeatAfter).Format(dateLayout)}
	}
	// A snoozed reminder comes again on its day, while what it reminds of
	// is still wanted.
	for id, day := range c.Snoozed {
		if spec, ok := want[id]; ok {
			want[id+SnoozeSuffix] = reminderSpec{spec.measure, spec.kind, day}
		}
	}
	// Every reminder kept is one that is wanted: sized once, as this slice
	// stays with the conversation in the engine's cache.
	var kept []Reminder
	if len(want) > 0 {
		kept = make([]Reminder, 0, len(want))
	}
	for _, r := range c.Reminders {
		spec, ok := want[r.ID]
		if !ok {
			if r.Chore || e.reg != nil && e.reg.kinds[r.Kind] != nil {
				kept = append(kept, r) // a feature's own (a meeting's)
			}
			continue
		}
		delete(want, r.ID)
		// Unchanged, or already done with for this day: keep it as it is.
		// Only a pending reminder follows a new zone, hour or weekend rule;
		// one that was sent must not come again because the rule changed.
		if spec.day == r.For && (r.Status != ReminderPending ||
			r.Zone == zone.String() && r.Hour == e.rem.Hour && rules.keeps(&r, now)) {
			kept = append(kept, r)
			continue
		}
		kept = append(kept, e.newReminder(r.ID, spec, rules, now))
	}
	for id, spec := range want {
		kept = append(kept, e.newReminder(id, spec, rules, now))
	}
	sort.Slice(kept, func(i, j int) bool {
		if !kept[i].Due.Equal(kept[j].Due) {
			return kept[i].Due.Before(kept[j].Due)
		}
		return kept[i].ID < kept[j].ID
	})
	c.Reminders = kept
}

// day is the day a reminder for day falls on: one inside a pause comes on
// the day after it (postponed); a Saturday or Sunday moves to the Monday
// unless weekends are allowed, and a public holiday to the next working
// day.
func (rr reminderRules) day(day string) (string, bool) {
	d, ok := parseCivil(day)
	if !ok {
		return day, false
	}
	postponed := rr.pause != "" && day <= rr.pause
	if postponed {
		last, _ := parseCivil(rr.pause)
		d = last.AddDate(0, 0, 1)
	}
	// Bounded: no region has a month of holidays in a row.
	for range 31 {
		weekend := d.Weekday() == time.Saturday || d.Weekday() == time.Sunday
		if !(weekend && !rr.weekends) && (rr.holiday == nil || !rr.holiday(d)) {
			break
		}
		d = d.AddDate(0, 0, 1)
	}
	return d.Format(dateLayout), postponed
}

// rulesOf are c's rules for its reminders, in its zone.
func (e *Engine) rulesOf(c *Conversation, zone *time.Location) reminderRules {
	return reminderRules{zone: zone, weekends: c.Weekends, quiet: c.QuietHours(), pause: c.Pause, holiday: e.holidayRule(c.Region)}
}

// reminderRules are a conversation's settings that say when its reminders
// may come.
type reminderRules struct {
	zone     *time.Location
	weekends bool
	quiet    QuietHours
	pause    string // the last day of a pause
	// holiday reports a public holiday of the conversation's region; nil:
	// none is set.
	holiday func(day time.Time) bool
}

// keeps reports whether a pending reminder r may stay as it is under the
// rules: it falls on the day they say and is due when they say, or its
// planned moment has passed (it is being sent, late or held by quiet hours).
func (rr reminderRules) keeps(r *Reminder, now time.Time) bool {
	if day, postponed := rr.day(r.For); day != r.Day || postponed != r.Postponed {
		return false
	}
	due, ok := rr.due(r.Day, r.Hour)
	return ok && (r.Due.Equal(due) || !due.After(now))
}

func (e *Engine) newReminder(id string, spec reminderSpec, rules reminderRules, now time.Time) Reminder {
	zone := rules.zone
	r := Reminder{ID: id, Measure: spec.measure, Kind: spec.kind, For: spec.day, Hour: e.rem.Hour, Zone: zone.String()}
	r.Day, r.Postponed = rules.day(spec.day)
	due, ok := rules.due(r.Day, r.Hour)
	if !ok || due.Year() > 2200 { // beyond what the index can order (and any plan)
		r.Status = ReminderSkipped
		return r
	}
	r.Due = due
	if !r.Due.After(now) {
		if r.Day == dayOf(now, zone).Format(dateLayout) {
			// Today, but the hour has passed (a start "today" entered at
			// noon): it comes at once, and the saved measure says so;
			// inside quiet hours, at their end.
			r.Due = rules.afterQuiet(now)
			return r
		}
		// Its day passed before it was set: nothing to remind of.
		r.Status, r.At = ReminderSkipped, now.UTC()
	}
	return r
}

// due is the instant, in UTC, of a reminder on day at hour: after the end
// of quiet hours if it would fall inside them.
func (rr reminderRules) due(day string, hour int) (time.Time, bool) {
	d, ok := parseCivil(day)
	if !ok {
		return time.Time{}, false
	}
	zone := rr.zone
	// time.Date resolves an hour that a daylight-saving change skips or
	// repeats to one real instant, so the reminder fires exactly once. A
	// skipped hour it may resolve to before the gap (it does in the US
	// zones): then the reminder comes as the clocks jump past it, not early.
	due := time.Date(d.Year(), d.Month(), d.Day(), hour, 0, 0, 0, zone)
	shown := time.Date(due.Year(), due.Month(), due.Day(), due.Hour(), due.Minute(), 0, 0, time.UTC)
	if early := time.Date(d.Year(), d.Month(), d.Day(), hour, 0, 0, 0, time.UTC).Sub(shown); early > 0 {
		due = due.Add(early)
	}
	return rr.afterQuiet(due), true
}

// afterQuiet is at, or the end of the quiet hours at falls into, in UTC.
// Quiet hours that end on a later day (a reminder at 20:00 under quiet
// hours 18:00–08:00) must not carry it onto a day reminders do not come:
// then it comes when the quiet hours end on the next day they may.
func (rr reminderRules) afterQuiet(at time.Time) time.Time {
	end, in := rr.quiet.quietEnd(at, rr.zone)
	if !in {
		return at.UTC()
	}
	day := dayOf(end, rr.zone)
	if !day.After(dayOf(at, rr.zone)) {
		return end
	}
	to, _ := rr.day(day.Format(dateLayout))
	if d, ok := parseCivil(to); ok && d.After(day) {
		q := rr.quiet
		end = time.Date(d.Year(), d.Month(), d.Day(), q.To/60, q.To%60, 0, 0, rr.zone).UTC()
	}
	return end
}

// ReminderNotes tells, after a measure was saved or its review moved, when
// its reminders come where that is not simply on their day at the hour:
// at once (the hour has passed today), on Monday (not at the weekend), on
// the working day after a public holiday, or not at all (reminders are
// off). Never silently nothing.
func (t *Turn) ReminderNotes(m *Measure) {
	now := t.e.clock.Now()
	t.e.syncReminders(t.c, now)
	if t.c.RemindersOff {
		t.Note(t.T("reminder.paused"))
		return
	}
	hour := two(t.e.rem.Hour)
	for _, r := range t.c.Reminders {
		if r.Measure != m.ID || r.Status != ReminderPending {
			continue
		}
		kind := t.T("reminders.kind." + r.Kind)
		// When it really comes: later than its day's hour if quiet hours
		// hold it.
		at := r.Due.In(t.e.zoneOf(t.c))
		atDay := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
		atTime := two(at.Hour()) + ":" + two(at.Minute())
		held := at.Format(dateLayout) != r.Day || at.Hour() != r.Hour || at.Minute() != 0
		_, holiday, moved := t.MovedBy(r)
		switch day, _ := parseCivil(r.Day); {
		case !r.Due.After(now):
			t.Note(t.T("reminder.soon", "Kind", kind, "Hour", hour))
		case r.Postponed:
			t.Note(t.T("reminder.postponed.note", "Kind", kind, "Time", atTime, "Date", t.e.texts.formatDate(t.lang, atDay)))
		case held:
			t.Note(t.T("reminder.quiet.note", "Kind", kind, "Time", atTime, "Date", t.e.texts.formatDate(t.lang, atDay)))
		case moved:
			t.Note(t.T("reminder.holiday.note", "Kind", kind, "Hour", hour, "Date", t.e.texts.formatDate(t.lang, day), "Holiday", holiday))
		case r.Day != r.For:
			t.Note(t.T("reminder.monday", "Kind", kind, "Hour", hour, "Date", t.e.texts.formatDate(t.lang, day)))
		}
	}
}

// noteReminders wakes the scheduler when a commit added a reminder due
// earlier than the scheduler's next wake-up.
func (e *Engine) noteReminders(c *Conversation) {
	wake := e.nextWake.Load()
	earlier := false
	c.EachPending(func(r *Reminder) { earlier = earlier || r.Due.UnixNano() < wake })
	if earlier {
		select {
		case e.kick <- struct{}{}:
		default:
		}
	}
}

// RunDue fires every reminder due at or before now and returns how many it
// handled. It is the scheduler's step, called directly by tests.
//
// A reminder of a conversation whose platform has no adapter (it is no
// longer configured) is not fired: it stays due, and when a process with
// the platform runs again, it is sent late or shown as missed like any
// reminder after downtime. It holds up no other reminder.
func (e *Engine) RunDue(ctx context.Context, now time.Time) (int, error) {
	n, _, err := e.runDue(ctx, now)
	return n, err
}

// dueBatch is how many reminders one read of the index takes.
const dueBatch = 256

// runDue is RunDue; it also returns the last reminder it looked at.
func (e *Engine) runDue(ctx context.Context, now time.Time) (n int, last DueRef, err error) {
	var firstErr error
	for {
		due, err := e.store.Due(ctx, now, last, dueBatch)
		if err != nil {
			return n, last, fmt.Errorf("read due reminders: %w", err)
		}
		for _, ref := range due {
			last = ref
			if !e.registered(platformOf(ref.Key)) {
				continue // stays due for when its platform is back
			}
			// One conversation that cannot be written must not hold up the
			// reminders of all others.
			if err := e.fire(ctx, ref, now); err != nil {
				if ctx.Err() != nil {
					return n, last, ctx.Err()
				}
				e.log.Error("fire reminder", "ref", KeyHash(ref.Key), "err", err)
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			n++
		}
		if len(due) < dueBatch {
			return n, last, firstErr
		}
	}
}

// platformOf is the platform of a conversation key (see Address.Key).
func platformOf(key string) string {
	p, _, _ := strings.Cut(key, "/")
	return p
}

// nextDue is the instant of the first reminder after last that the
// scheduler must wake for: one of a platform with an adapter. It looks at
// a few batches only; if they hold only reminders of absent platforms, it
// returns the instant of the last one it saw, which is early enough.
func (e *Engine) nextDue(ctx context.Context, last DueRef) (time.Time, bool, error) {
	far := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC) // beyond any reminder (see newReminder)
	for range 4 {
		due, err := e.store.Due(ctx, far, last, dueBatch)
		if err != nil {
			return time.Time{}, false, err
		}
		for _, ref := range due {
			last = ref
			if e.registered(platformOf(ref.Key)) {
				return ref.Due, true, nil
			}
		}
		if len(due) < dueBatch {
			return time.Time{}, false, nil
		}
	}
	return last.Due, true, nil
}

// fire sends one reminder, or marks it missed if it is too old to help.
// Its event ID is the reminder's ID and instant, so a reminder committed
// once is never committed again, whatever crashes in between.
func (e *Engine) fire(ctx context.Context, ref DueRef, now time.Time) error {
	eventID := "reminder:" + ref.ID + ":" + strconv.FormatInt(ref.Due.Unix(), 10)
	return e.apply(ctx, ref.Key, eventID, func(c *Conversation) ([]Outgoing, error) {
		i := -1
		for j, r := range c.Reminders {
			if r.ID == ref.ID && r.Due.Equal(ref.Due) && r.Status == ReminderPending {
				i = j
			}
		}
		if i >= 0 && c.Reminders[i].Chore {
			return e.chore(c, &c.Reminders[i], now), nil
		}
		if i < 0 || c.RemindersOff {
			return nil, errRecommit // changed since it was indexed; committing re-indexes
		}
		r := &c.Reminders[i]
		late := now.Sub(r.Due)
		r.At = now.UTC()
		if late > e.rem.MissedAfter {
			r.Status = ReminderMissed
			e.stats.missed.Add(1)
			return nil, nil
		}
		// Inside quiet hours (the clock stood still, or the bot was down
		// until now) it waits for their end; a plan's reminder, if they end
		// on a weekend or holiday morning, for their end on the next
		// working day. A meeting's does not wait past its meeting.
		if end, in := c.QuietHours().quietEnd(now, e.zoneOf(c)); in {
			if e.reg == nil || e.reg.kinds[r.Kind] == nil {
				end = e.rulesOf(c, e.zoneOf(c)).afterQuiet(now)
			}
			r.Due, r.At = end, time.Time{}
			return nil, nil
		}
		r.Status = ReminderSent
		msg, ok := e.reminderMessage(c, *r, late > e.rem.LateAfter)
		if !ok {
			r.Status = ReminderSkipped // its measure is gone
			return nil, nil
		}
		e.stats.reminders.Add(1)
		if late > e.rem.LateAfter {
			e.stats.late.Add(1)
		}
		return []Outgoing{{To: c.remindAddr(), Msg: msg, Push: true}}, nil
	}, func(c *Conversation) []Outgoing {
		// Writing the reminder failed (a bug): take it out of the index as
		// missed, so that it shows in /reminders and is not tried forever.
		for i, r := range c.Reminders {
			if r.ID == ref.ID && r.Status == ReminderPending {
				c.Reminders[i].Status, c.Reminders[i].At = ReminderMissed, now.UTC()
				e.stats.missed.Add(1)
			}
		}
		return nil
	})
}

// chore does the work of the chore r (Feature.Chores), late or not: what
// it returns is sent with the commit.
func (e *Engine) chore(c *Conversation, r *Reminder, now time.Time) []Outgoing {
	r.Status, r.At = ReminderSent, now.UTC()
	var do func(*Turn, Reminder) []Outgoing
	if e.reg != nil {
		do = e.reg.chores[r.Kind]
	}
	if do == nil {
		r.Status = ReminderSkipped // its feature is gone
		return nil
	}
	return do(e.offTurn(c, ""), *r)
}

// reminderMessage writes a reminder in the owner's language, through the
// feature that writes reminders.
func (e *Engine) reminderMessage(c *Conversation, r Reminder, late bool) (Message, bool) {
	if e.reg == nil { // an engine built without New (tests)
		return Message{}, false
	}
	if w := e.reg.kinds[r.Kind]; w != nil {
		return w(e.remindTurn(c), r, late)
	}
	if e.reg.reminder == nil {
		return Message{}, false
	}
	return e.reg.reminder(e.remindTurn(c), r, late)
}

// RunReminders is the scheduler: it fires what is due, then sleeps until
// the next reminder (never busy-polling), waking early when a commit adds an
// earlier one, and at least once a minute so that a step of the wall clock
// is noticed. It returns when ctx is done.
func (e *Engine) RunReminders(ctx context.Context) error {
	for {
		now := e.clock.Now()
		wait := time.Minute
		_, last, err := e.runDue(ctx, now)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			e.log.Error("reminders", "err", err)
			// What failed is retried after a pause, not in a hot loop.
			wait = time.Second
		}
		next, ok, err := e.nextDue(ctx, last)
		if err != nil && ctx.Err() == nil {
			e.log.Error("reminders: next due", "err", err)
		}
		if ok {
			e.nextWake.Store(next.UnixNano())
			wait = min(wait, max(e.realDuration(next.Sub(now)), 0))
		} else {
			e.nextWake.Store(now.Add(time.Hour).UnixNano())
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-e.kick:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// Scaled is a Clock that runs faster than real time (a demonstration
// clock); the scheduler sleeps Real(d) for d of its time.
type Scaled interface {
	Clock
	Real(d time.Duration) time.Duration
}

func (e *Engine) realDuration(d time.Duration) time.Duration {
	if s, ok := e.clock.(Scaled); ok {
		return s.Real(d)
	}
	return d
}

// Stats are counters of what the engine did, for logs and metrics.
type Stats struct {
	RemindersSent   int64
	RemindersMissed int64
	// RemindersLate counts reminders sent, but later than LateAfter
	// (included in RemindersSent).
	RemindersLate int64
	// AmbiguousSends counts messages sent again (after a crash, or after a
	// send whose outcome was unknown) although an earlier attempt may have
	// reached the platform: the only duplicates.
	AmbiguousSends int64
	Undeliverable  int64
	// Retries counts sends that failed and were kept for a retry.
	Retries int64
	// Damaged counts events that met a conversation whose stored record
	// cannot be read.
	Damaged int64
}

type stats struct {
	reminders, missed, late, ambiguous, undeliverable, retries, damaged atomic.Int64
}

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	return Stats{
		RemindersSent: e.stats.reminders.Load(), RemindersMissed: e.stats.missed.Load(), RemindersLate: e.stats.late.Load(),
		AmbiguousSends: e.stats.ambiguous.Load(), Undeliverable: e.stats.undeliverable.Load(), Retries: e.stats.retries.Load(),
		Damaged: e.stats.damaged.Load(),
	}
}

// remindTurn is the turn a reminder is written in, for the platform of
// the chat it goes to.
func (e *Engine) remindTurn(c *Conversation) *Turn {
	t := e.offTurn(c, "")
	t.to = c.remindAddr().Platform
	return t
}
