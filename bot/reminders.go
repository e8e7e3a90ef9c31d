package bot

import (
	"context"
	"fmt"
	"hash/maphash"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
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
	// Every reminder kept is one that is wanted: sized once, as this slice
	// stays with the conversation in the engine's cache.
	var kept []Reminder
	if len(want) > 0 {
		kept = make([]Reminder, 0, len(want))
	}
	for _, r := range c.Reminders {
		spec, ok := want[r.ID]
		if !ok {
			continue
		}
		delete(want, r.ID)
		// Unchanged, or already done with for this day: keep it as it is.
		// Only a pending reminder follows a new zone, hour or weekend rule;
		// one that was sent must not come again because the rule changed.
		if spec.day == r.For && (r.Status != ReminderPending ||
			r.Zone == zone.String() && r.Hour == e.rem.Hour && r.Day == reminderDay(r.For, c.Weekends)) {
			kept = append(kept, r)
			continue
		}
		kept = append(kept, e.newReminder(r.ID, spec, zone, c.Weekends, now))
	}
	for id, spec := range want {
		kept = append(kept, e.newReminder(id, spec, zone, c.Weekends, now))
	}
	sort.Slice(kept, func(i, j int) bool {
		if !kept[i].Due.Equal(kept[j].Due) {
			return kept[i].Due.Before(kept[j].Due)
		}
		return kept[i].ID < kept[j].ID
	})
	c.Reminders = kept
}

// reminderDay is the day a reminder for day falls on: a Saturday or Sunday
// moves to the Monday unless weekends are allowed.
func reminderDay(day string, weekends bool) string {
	d, ok := parseCivil(day)
	if !ok || weekends {
		return day
	}
	switch d.Weekday() {
	case time.Saturday:
		d = d.AddDate(0, 0, 2)
	case time.Sunday:
		d = d.AddDate(0, 0, 1)
	}
	return d.Format(dateLayout)
}

func (e *Engine) newReminder(id string, spec reminderSpec, zone *time.Location, weekends bool, now time.Time) Reminder {
	r := Reminder{ID: id, Measure: spec.measure, Kind: spec.kind, For: spec.day, Day: reminderDay(spec.day, weekends), Hour: e.rem.Hour, Zone: zone.String()}
	d, ok := parseCivil(r.Day)
	if !ok {
		r.Status = ReminderSkipped
		return r
	}
	// time.Date resolves an hour that a daylight-saving change skips or
	// repeats to one real instant, so the reminder fires exactly once. A
	// skipped hour it may resolve to before the gap (it does in the US
	// zones): then the reminder comes as the clocks jump past it, not early.
	due := time.Date(d.Year(), d.Month(), d.Day(), r.Hour, 0, 0, 0, zone)
	shown := time.Date(due.Year(), due.Month(), due.Day(), due.Hour(), due.Minute(), 0, 0, time.UTC)
	if early := time.Date(d.Year(), d.Month(), d.Day(), r.Hour, 0, 0, 0, time.UTC).Sub(shown); early > 0 {
		due = due.Add(early)
	}
	r.Due = due.UTC()
	if r.Due.Year() > 2200 { // beyond what the index can order (and any plan)
		r.Status = ReminderSkipped
		return r
	}
	if !r.Due.After(now) {
		if r.Day == dayOf(now, zone).Format(dateLayout) {
			// Today, but the hour has passed (a start "today" entered at
			// noon): it comes at once, and the saved measure says so.
			r.Due = now.UTC()
			return r
		}
		// Its day passed before it was set: nothing to remind of.
		r.Status, r.At = ReminderSkipped, now.UTC()
	}
	return r
}

// reminderNotes tells, after a measure was saved or its review moved, when
// its reminders come where that is not simply on their day at the hour:
// at once (the hour has passed today), on Monday (not at the weekend), or
// not at all (reminders are off). Never silently nothing.
func (t *turn) reminderNotes(m *Measure) {
	now := t.e.clock.Now()
	t.e.syncReminders(t.c, now)
	if t.c.RemindersOff {
		t.note(t.T("reminder.paused"))
		return
	}
	hour := two(t.e.rem.Hour)
	for _, r := range t.c.Reminders {
		if r.Measure != m.ID || r.Status != ReminderPending {
			continue
		}
		kind := t.T("reminders.kind." + r.Kind)
		switch day, _ := parseCivil(r.Day); {
		case !r.Due.After(now):
			t.note(t.T("reminder.soon", "Kind", kind, "Hour", hour))
		case r.Day != r.For:
			t.note(t.T("reminder.monday", "Kind", kind, "Hour", hour, "Date", t.e.texts.formatDate(t.lang, day)))
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
		return []Outgoing{{To: c.Addr, Msg: msg, Push: true}}, nil
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

// reminderMessage writes a reminder in the owner's language. A review
// reminder asks for the outcome with buttons that stay valid whatever else
// the dialogue is doing.
func (e *Engine) reminderMessage(c *Conversation, r Reminder, late bool) (Message, bool) {
	lang := e.langOf(c, Event{})
	t := &turn{e: e, c: c, lang: lang, today: dayOf(e.clock.Now(), e.zoneOf(c))}
	var b strings.Builder
	if late {
		d, _ := parseCivil(r.Day)
		b.WriteString(t.T("reminder.late", "Date", e.texts.formatDate(lang, d)))
		b.WriteString("\n")
	}
	if r.Kind == KindRepeat {
		f := t.planFlow()
		b.WriteString(t.N("reminder.repeat", e.rem.RepeatAfter, "Title", t.T(f.TitleID())))
		m := Message{Text: b.String(), Buttons: [][]Button{{{Label: t.T("button.repeat"), Action: "/check " + f.ID}}}}
		t.offer(m)
		return m, true
	}
	m := c.Plan.Find(r.Measure)
	if m == nil {
		return Message{}, false
	}
	resp := m.Responsible
	if m.Me || resp == "" {
		resp = t.T("measure.me")
	}
	var mentions []string
	if m.ResponsibleUser != "" {
		mentions = []string{m.ResponsibleUser}
	}
	cp := m.Checkpoint
	if f, ok := e.flows.Get(m.Flow); ok {
		if c, ok := t.checkpoint(f, m.Checkpoint); ok {
			cp = t.T(f.CheckpointTitleID(c))
		}
	}
	start, _ := parseCivil(m.Start)
	if r.Kind == KindStart {
		b.WriteString(t.T("reminder.start", "Text", m.Text, "Checkpoint", cp, "Responsible", resp, "Date", e.texts.formatDate(lang, start)))
		msg := Message{Text: b.String(), Buttons: [][]Button{{{Label: t.T("button.plan"), Action: "/plan"}}}, Mentions: mentions}
		t.offer(msg)
		return msg, true
	}
	b.WriteString(t.T("reminder.review", "Text", m.Text, "Checkpoint", cp, "Responsible", resp))
	id := strconv.Itoa(m.ID)
	msg := Message{Text: b.String(), Mentions: mentions, Buttons: [][]Button{
		{{Label: t.T("button.review.done"), Action: "rv:" + id + ":done"}},
		{{Label: t.T("button.review.progress"), Action: "rv:" + id + ":prog"}},
		{{Label: t.T("button.review.dropped"), Action: "rv:" + id + ":drop"}},
	}}
	t.offer(msg)
	return msg, true
}

// offer makes a message's buttons the ones typed numbers refer to, unless
// the user is in the middle of something: then the buttons still work when
// pressed, and typing keeps answering the open question.
func (t *turn) offer(m Message) {
	switch t.c.Dialog.Mode {
	case modeIdle, modePlan, modeSummary:
		t.c.Dialog.Mode = modeIdle
		t.c.Dialog.Seq++
		t.c.Dialog.Options = m.Flat()
	}
}

// reviewAnswer handles a review reminder's buttons: "rv:<measure>:<verb>".
func (t *turn) reviewAnswer(action string) {
	parts := strings.Split(action, ":")
	var m *Measure
	archived := false
	if len(parts) == 3 {
		id, _ := strconv.Atoi(parts[1])
		m = t.c.Plan.Find(id)
		// A measure the plan no longer has was settled and archived.
		archived = m == nil && id > 0 && id <= t.c.Plan.NextID
	}
	if (m == nil && !archived) || (parts[2] != "done" && parts[2] != "drop" && parts[2] != "prog") {
		t.note(t.T("hint.stale"))
		t.reask()
		return
	}
	if archived || m.Status != StatusOpen {
		t.note(t.T("reminder.settled"))
		t.reask()
		return
	}
	switch parts[2] {
	case "done", "drop":
		t.settle(m, parts[2])
	case "prog":
		// A new review date; whatever was being entered comes back after it.
		t.sideTrip()
		t.c.Dialog.Target = m.ID
		t.to(modeMove)
		t.ask()
		return
	}
	if !calm[t.c.Dialog.Mode] {
		t.reask() // in the middle of something: carry on with it
		return
	}
	if len(t.c.Plan.Open()) == 0 && t.c.Run.Finished() {
		t.note(t.T("plan.settled"))
		t.to(modeIdle)
		m := Message{Buttons: [][]Button{{{Label: t.T("button.repeat"), Action: "/check " + t.c.Run.Flow}}, {{Label: t.T("button.plan"), Action: "/plan"}}}}
		t.c.Dialog.Options = m.Flat()
		t.say(m)
		return
	}
	t.to(modePlan)
	t.ask()
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

// remindersView lists upcoming, sent and missed reminders and offers to
// switch them off or on.
func (t *turn) remindersView() Message {
	c := t.c
	var b strings.Builder
	if c.RemindersOff {
		b.WriteString(t.T("reminders.off"))
	} else {
		b.WriteString(t.T("reminders.title"))
	}
	zone := t.e.zoneOf(c)
	var upcoming, missed []string
	for _, r := range c.Reminders {
		line := t.reminderLine(r, zone)
		switch r.Status {
		case ReminderPending:
			upcoming = append(upcoming, line)
		case ReminderMissed:
			missed = append(missed, line)
		}
	}
	if len(upcoming) == 0 && len(missed) == 0 {
		b.WriteString("\n\n" + t.T("reminders.none"))
	}
	if len(upcoming) > 0 {
		b.WriteString("\n\n" + t.T("reminders.upcoming") + "\n" + strings.Join(upcoming, "\n"))
	}
	if len(missed) > 0 {
		b.WriteString("\n\n" + t.T("reminders.missed") + "\n" + strings.Join(missed, "\n"))
	}
	b.WriteString("\n\n" + t.T("reminders.zone", "Zone", zoneLabel(zone), "Hour", two(t.e.rem.Hour)))
	toggle := Button{Label: t.T("button.reminders.off"), Action: t.action("off")}
	if c.RemindersOff {
		toggle = Button{Label: t.T("button.reminders.on"), Action: t.action("on")}
	}
	weekends := Button{Label: t.T("button.weekends.on"), Action: t.action("we-on")}
	if c.Weekends {
		weekends = Button{Label: t.T("button.weekends.off"), Action: t.action("we-off")}
	}
	return Message{Text: b.String(), Buttons: [][]Button{{toggle}, {weekends}, {{Label: t.T("button.timezone"), Action: "/timezone"}}, t.back()}}
}

func (t *turn) reminderLine(r Reminder, zone *time.Location) string {
	d, _ := parseCivil(r.Day)
	what := t.T("reminders.kind." + r.Kind)
	if m := t.c.Plan.Find(r.Measure); m != nil {
		what += ": " + m.Text
	} else if r.Kind == KindRepeat {
		what += ": " + t.T(t.planFlow().TitleID())
	}
	return "• " + t.e.texts.formatDate(t.lang, d) + " " + two(r.Due.In(zone).Hour()) + ":" + two(r.Due.In(zone).Minute()) + " · " + what
}

func (t *turn) pressReminders(verb string) {
	switch verb {
	case "off":
		t.c.RemindersOff = true
	case "on":
		t.c.RemindersOff = false
		// What fell due while they were off is not sent late now: the user
		// chose not to hear it.
		now := t.e.clock.Now()
		for i := range t.c.Reminders {
			if r := &t.c.Reminders[i]; r.Status == ReminderPending && !r.Due.After(now) {
				r.Status, r.At = ReminderSkipped, now.UTC()
			}
		}
	case "we-on":
		t.c.Weekends = true
	case "we-off":
		t.c.Weekends = false
	}
	// Switching on or changing the weekend rule recomputes the reminders
	// before they are shown.
	t.e.syncReminders(t.c, t.e.clock.Now())
	t.ask()
}

// Time zones offered as buttons; any IANA name, a city of one, or an
// offset can be typed.
var zoneSuggestions = []string{"Europe/Berlin", "Europe/Vienna", "Europe/Zurich", "Europe/London", "America/New_York", "Asia/Kolkata", "Asia/Ho_Chi_Minh", "Asia/Almaty"}

// knownZones are searched by city name ("Hanoi" finds no zone of that
// name, but "Ho Chi Minh", "Kolkata" and "Berlin" do).
var knownZones = []string{
	"Europe/Berlin", "Europe/Vienna", "Europe/Zurich", "Europe/London", "Europe/Paris", "Europe/Madrid",
	"Europe/Rome", "Europe/Amsterdam", "Europe/Brussels", "Europe/Warsaw", "Europe/Prague", "Europe/Budapest",
	"Europe/Bucharest", "Europe/Sofia", "Europe/Athens", "Europe/Istanbul", "Europe/Kyiv", "Europe/Moscow",
	"Europe/Lisbon", "Europe/Dublin", "Europe/Stockholm", "Europe/Oslo", "Europe/Copenhagen", "Europe/Helsinki",
	"Asia/Almaty", "Asia/Tashkent", "Asia/Bishkek", "Asia/Kolkata", "Asia/Dhaka", "Asia/Ho_Chi_Minh",
	"Asia/Bangkok", "Asia/Jakarta", "Asia/Shanghai", "Asia/Tokyo", "Asia/Dubai", "Asia/Tbilisi", "Asia/Yerevan",
	"Asia/Baku", "Asia/Karachi", "Asia/Manila", "Africa/Cairo", "Africa/Lagos", "Africa/Nairobi",
	"Africa/Johannesburg", "Africa/Casablanca", "Africa/Tunis", "Africa/Accra", "Africa/Dakar", "Africa/Abidjan",
	"America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Mexico_City",
	"America/Bogota", "America/Lima", "America/Santiago", "America/Sao_Paulo", "America/Argentina/Buenos_Aires",
	"UTC",
}

// ianaName is how the names of the IANA time zone database are spelt.
var ianaName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9][A-Za-z0-9_+-]*)+$`)

// zoneAbbreviations are the abbreviations people type for a zone, read as
// the zone whose clocks they name: "EST" in July means New York's time.
var zoneAbbreviations = map[string]string{
	"cet": "Europe/Berlin", "cest": "Europe/Berlin", "met": "Europe/Berlin", "mest": "Europe/Berlin",
	"eet": "Europe/Athens", "eest": "Europe/Athens", "wet": "Europe/Lisbon", "west": "Europe/Lisbon",
	"gmt": "UTC", "utc": "UTC", "z": "UTC", "bst": "Europe/London",
	"est": "America/New_York", "edt": "America/New_York", "cst": "America/Chicago", "cdt": "America/Chicago",
	"mst": "America/Denver", "mdt": "America/Denver", "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles",
	"msk": "Europe/Moscow", "ist": "Asia/Kolkata", "ict": "Asia/Ho_Chi_Minh", "almt": "Asia/Almaty",
	"jst": "Asia/Tokyo", "gst": "Asia/Dubai", "sast": "Africa/Johannesburg", "eat": "Africa/Nairobi", "wat": "Africa/Lagos",
}

// reOffset is an offset from UTC as people type it: "+3", "-4", "UTC+3",
// "GMT -4", "+5:30", "+05:30", "+0530", "UTC−4" (a typographic minus).
var reOffset = regexp.MustCompile(`^(?:utc|gmt)?\s*([+\-−])\s*(\d{1,2})(?:(?::|\.|h)?(\d{2}))?\s*h?$`)

// findZone reads a time zone as people type it: an IANA name, a city or
// country in any shipped language (from the locales' parse.zones) or of a
// known zone, an abbreviation (CET, EST), or an offset from UTC ("+3",
// "UTC-4", "+5:30"). A whole-hour offset is an IANA Etc zone, any other a
// fixed zone named "UTC+5:30" (loadZone reads both back).
func (v *dateVocab) findZone(text string) (*time.Location, bool) {
	s := strings.TrimSpace(text)
	if s == "" {
		return nil, false
	}
	// Only a name as IANA spells it: the files also answer to "Europe//Berlin"
	// and "Europe/./Berlin", endless spellings of one zone.
	if loc, err := time.LoadLocation(s); err == nil && ianaName.MatchString(s) || s == "UTC" {
		if loc == nil {
			loc = time.UTC
		}
		return loc, true
	}
	if m := reOffset.FindStringSubmatch(strings.ToLower(s)); m != nil {
		return offsetZone(m[1] != "+", m[2], m[3])
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r == '+' || unicode.IsDigit(r) }) {
		return nil, false // an offset mistyped ("UTC+"), not a name
	}
	load := func(name string) (*time.Location, bool) {
		loc, err := time.LoadLocation(name)
		return loc, err == nil
	}
	key := nameKey(s)
	if z, ok := zoneAbbreviations[strings.ToLower(s)]; ok {
		return load(z)
	}
	if z, ok := v.zones[key]; ok {
		return load(z)
	}
	for _, z := range knownZones {
		if nameKey(z[strings.LastIndexByte(z, '/')+1:]) == key || nameKey(z) == key {
			return load(z)
		}
	}
	return nil, false
}

// offsetZone is the zone of a fixed offset from UTC, from UTC-12 to UTC+14,
// in quarter hours.
func offsetZone(minus bool, hours, minutes string) (*time.Location, bool) {
	h, _ := strconv.Atoi(hours)
	m, _ := strconv.Atoi(minutes) // "" is 0
	if m%15 != 0 || m >= 60 {
		return nil, false
	}
	sign := 1
	if minus {
		sign = -1
	}
	total := sign * (h*60 + m)
	if total < -12*60 || total > 14*60 {
		return nil, false
	}
	switch {
	case total == 0:
		return time.UTC, true
	case m == 0:
		// IANA's Etc zones count the other way: UTC+3 is Etc/GMT-3.
		name := "Etc/GMT-" + strconv.Itoa(h)
		if minus {
			name = "Etc/GMT+" + strconv.Itoa(h)
		}
		loc, err := time.LoadLocation(name)
		return loc, err == nil
	}
	return loadZone(fixedZoneName(total))
}

// fixedZoneName names an offset that no IANA zone is named after:
// "UTC+5:30", "UTC-3:30".
func fixedZoneName(minutes int) string {
	sign := "+"
	if minutes < 0 {
		sign, minutes = "-", -minutes
	}
	return "UTC" + sign + strconv.Itoa(minutes/60) + ":" + two(minutes%60)
}

var reFixedZone = regexp.MustCompile(`^UTC([+-])(\d{1,2}):(\d{2})$`)

// loadZone loads a zone stored in a conversation: an IANA name, or a fixed
// offset as fixedZoneName writes it.
func loadZone(name string) (*time.Location, bool) {
	if m := reFixedZone.FindStringSubmatch(name); m != nil {
		h, _ := strconv.Atoi(m[2])
		mins, _ := strconv.Atoi(m[3])
		total := h*60 + mins
		if m[1] == "-" {
			total = -total
		}
		if mins >= 60 || total < -12*60 || total > 14*60 || fixedZoneName(total) != name {
			return nil, false
		}
		return time.FixedZone(name, total*60), true
	}
	loc, err := time.LoadLocation(name)
	return loc, err == nil
}

// zoneLabel names a zone for people: IANA's fixed-offset zones count the
// other way round ("Etc/GMT-3" is three hours ahead), so they are shown as
// "UTC+3".
func zoneLabel(loc *time.Location) string {
	name := loc.String()
	if rest, ok := strings.CutPrefix(name, "Etc/GMT"); ok && rest != "" {
		switch rest[0] {
		case '-':
			return "UTC+" + rest[1:]
		case '+':
			return "UTC-" + rest[1:]
		}
	}
	return name
}

// zoneTyped reports whether text, typed at the time-zone question, names a
// zone rather than picks a button: "+3" is three hours ahead of UTC, not the
// third button. Only a bare number is a button's.
func (t *turn) zoneTyped(text string) bool {
	if t.c.Dialog.Mode != modeZone || strings.TrimLeft(text, "0123456789") == "" {
		return false
	}
	_, ok := t.e.vocab.findZone(text)
	return ok
}

func (t *turn) cmdTimezone(args []string) {
	if len(args) > 0 {
		t.setZone(strings.Join(args, " "))
		return
	}
	t.sideTrip()
	t.to(modeZone)
	t.ask()
}

func (t *turn) setZone(text string) {
	loc, ok := t.e.vocab.findZone(text)
	if !ok {
		t.note(t.T("timezone.unknown", "Text", short(text, 40)))
		if t.c.Dialog.Mode != modeZone {
			t.sideTrip()
			t.to(modeZone)
		}
		t.ask()
		return
	}
	t.c.TZ = loc.String()
	t.e.syncReminders(t.c, t.e.clock.Now())
	now := t.e.clock.Now().In(loc)
	t.note(t.T("timezone.set", "Zone", zoneLabel(loc), "Time", two(now.Hour())+":"+two(now.Minute())))
	if t.c.Dialog.Mode == modeZone && t.endSideTrip() {
		return
	}
	if !calm[t.c.Dialog.Mode] {
		t.reask()
		return
	}
	t.to(modeReminders)
	t.ask()
}

func (t *turn) zoneQuestion() Message {
	var rows [][]Button
	for i := 0; i < len(zoneSuggestions); i += 2 {
		row := []Button{{Label: zoneSuggestions[i], Action: t.action("z", strconv.Itoa(i))}}
		if i+1 < len(zoneSuggestions) {
			row = append(row, Button{Label: zoneSuggestions[i+1], Action: t.action("z", strconv.Itoa(i+1))})
		}
		rows = append(rows, row)
	}
	return Message{Text: t.T("timezone.ask", "Zone", zoneLabel(t.e.zoneOf(t.c))), Buttons: append(rows, t.back())}
}
