package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// A person's own data (GDPR Art. 15, 17, 20): what Ampel holds about
// someone is their private conversation (with its archive, reminders and
// the IDs of its events), the measures they are responsible for in a
// group's plan, and their place in records that features keep (a team
// run, a network, a meeting). The core exports and erases the
// conversations; each feature that keeps records registers a Personal
// for what it holds in them.

// Personal is what a feature does for a person's data in its records.
// who is the person: Platform, Workspace and User (Chat empty).
type Personal struct {
	// Export returns what the feature holds about who, encoded as JSON in
	// the export under the feature's name (nil: nothing), and the group
	// chats who takes part in through it, whose plans the export searches
	// for measures who is responsible for. Other people appear only as far
	// as needed to understand one's own (a team's settled rating, not
	// other members'). It reads through t.Tx() and changes nothing.
	Export func(t *Turn, who Address) (data any, chats []Address, err error)
	// Erase takes who out of the feature's records in t.Tx(): what is
	// theirs goes, what the others still need stays without them (a
	// team's counts of ratings), a role only they held passes on. It
	// returns the group chats, as Export.
	Erase func(t *Turn, who Address) (chats []Address, err error)
	// Expire deletes, in tx, the feature's records whose activity ended
	// before before (a team run started then, a meeting held then): the
	// retention sweep's part beyond conversations. It returns how many
	// it deleted; nil: the records expire with nobody's inactivity.
	Expire func(tx *Tx, before time.Time) (int, error)
}

// RecordFinder is a Store that finds the records naming someone: a
// feature's Personal looks in those only.
type RecordFinder interface {
	// RecordsWith returns the IDs of the records of kind whose JSON
	// contains needle.
	RecordsWith(ctx context.Context, kind, needle string) ([]string, error)
	// ConversationsWith returns the keys, starting with prefix, of the
	// conversations whose JSON contains one of needles.
	ConversationsWith(ctx context.Context, prefix string, needles ...string) ([]string, error)
}

// groupsNaming returns the keys of the conversations besides the person's
// private ones that name who: as responsible for a measure, among the
// people a measure can be given to, or as the chat's first writer.
func (e *Engine) groupsNaming(ctx context.Context, who Address, private []Address) ([]string, error) {
	f, ok := e.store.(RecordFinder)
	if !ok || who.User == "" {
		return nil, nil
	}
	prefix := Address{Platform: who.Platform, Workspace: who.Workspace}.Key()
	keys, err := f.ConversationsWith(ctx, prefix, JSONField("ruser", who.User), JSONField("u", who.User), JSONField("id", who.User))
	return slices.DeleteFunc(keys, func(k string) bool {
		return slices.ContainsFunc(private, func(p Address) bool { return p.Key() == k })
	}), err
}

// Sweeper is a Store that finds conversations nobody wrote in for long
// (the retention, see Engine.Sweep).
type Sweeper interface {
	// Inactive returns up to limit keys, after the key after, of
	// conversations whose newest event was committed before before.
	Inactive(ctx context.Context, before time.Time, after string, limit int) ([]string, error)
}

// Find returns the IDs of the records of kind whose JSON contains needle
// (as a feature writes a person's ID there: `"id":"U123"`); read each
// with Get, which takes its lock. Nil where the store cannot search.
func (tx *Tx) Find(kind, needle string) ([]string, error) {
	f, ok := tx.e.store.(RecordFinder)
	if !ok {
		return nil, nil
	}
	return f.RecordsWith(tx.ctx, kind, needle)
}

// FindRecords reads, through tx (taking each one's lock), the records of
// kind whose JSON contains needle (see Find), decoded: where a feature's
// Personal looks for a person.
func FindRecords[T any](tx *Tx, kind, needle string) ([]*T, error) {
	ids, err := tx.Find(kind, needle)
	if err != nil {
		return nil, err
	}
	var out []*T
	for _, id := range ids {
		v := new(T)
		found, err := tx.Get(kind, id, v)
		if err != nil {
			return nil, err
		}
		if found {
			out = append(out, v)
		}
	}
	return out, nil
}

// JSONField is `"name":"value"` as encoding/json writes it: a needle for
// Tx.Find.
func JSONField(name, value string) string {
	k, _ := json.Marshal(name)
	v, _ := json.Marshal(value)
	return string(k) + ":" + string(v)
}

// The export's format (see the README).
const (
	ExportFormat  = "ampel-export"
	ExportVersion = 1
)

// PersonalExport is the JSON file /export sends a person.
type PersonalExport struct {
	Format   string         `json:"format"`
	Version  int            `json:"version"`
	Exported time.Time      `json:"exported"`
	Person   ExportPerson   `json:"person"`
	Profile  ExportProfile  `json:"profile"`
	Chats    []ExportChat   `json:"chats"`
	Records  map[string]any `json:"records,omitempty"`
}

// ExportPerson names the person on their platform.
type ExportPerson struct {
	Platform  string `json:"platform"`
	Workspace string `json:"workspace,omitempty"`
	User      string `json:"user"`
}

// ExportProfile is the person's settings, from their private chat.
type ExportProfile struct {
	Language         string `json:"language,omitempty"`
	PlatformLanguage string `json:"platform_language,omitempty"`
	TimeZone         string `json:"time_zone,omitempty"`
	PlatformTimeZone string `json:"platform_time_zone,omitempty"`
	RemindersOff     bool   `json:"reminders_off"`
	Weekends         bool   `json:"reminders_on_weekends"`
	HolidayRegion    string `json:"holiday_region,omitempty"`
	QuietHours       string `json:"quiet_hours,omitempty"`
	PausedUntil      string `json:"paused_until,omitempty"`
}

// ExportChat is a chat's part: all of a private chat, of a group's only
// the measures the person is responsible for.
type ExportChat struct {
	Platform  string           `json:"platform"`
	Workspace string           `json:"workspace,omitempty"`
	Chat      string           `json:"chat"`
	Private   bool             `json:"private"`
	Checks    []ExportCheck    `json:"checks,omitempty"`
	Measures  []ExportMeasure  `json:"measures,omitempty"`
	Reminders []ExportReminder `json:"reminders,omitempty"`
	Question  string           `json:"open_question,omitempty"`
}

// ExportCheck is one pass through a check.
type ExportCheck struct {
	Check     string            `json:"check"`
	Version   int               `json:"version"`
	Started   time.Time         `json:"started"`
	Done      *time.Time        `json:"done,omitempty"`
	Ratings   map[string]string `json:"ratings,omitempty"`
	Later     []string          `json:"later,omitempty"`
	NoMeasure []string          `json:"no_measure,omitempty"`
}

// ExportMeasure is a measure of a plan.
type ExportMeasure struct {
	ID          int        `json:"id"`
	Check       string     `json:"check"`
	Checkpoint  string     `json:"checkpoint"`
	Text        string     `json:"text"`
	Priority    string     `json:"priority,omitempty"`
	Responsible string     `json:"responsible,omitempty"`
	Mine        bool       `json:"responsible_is_me,omitempty"`
	Start       string     `json:"start,omitempty"`
	Review      string     `json:"review,omitempty"`
	Status      string     `json:"status"`
	Settled     *time.Time `json:"settled,omitempty"`
}

// ExportReminder is a reminder of a private chat.
type ExportReminder struct {
	Kind    string     `json:"kind"`
	Measure int        `json:"measure,omitempty"`
	Day     string     `json:"day"`
	Hour    int        `json:"hour"`
	Zone    string     `json:"time_zone"`
	Due     time.Time  `json:"due"`
	Status  string     `json:"status"`
	SentAt  *time.Time `json:"sent_at,omitempty"`
}

func exportCheck(r Run) ExportCheck {
	c := ExportCheck{Check: r.Flow, Version: r.Version, Started: r.Started, Ratings: r.Ratings, Later: r.Later, NoMeasure: r.NoMeasure}
	if !r.Done.IsZero() {
		d := r.Done
		c.Done = &d
	}
	return c
}

func exportMeasure(m Measure) ExportMeasure {
	x := ExportMeasure{ID: m.ID, Check: m.Flow, Checkpoint: m.Checkpoint, Text: m.Text, Priority: m.Priority,
		Responsible: m.Responsible, Mine: m.Me, Start: m.Start, Review: m.Review, Status: m.Status}
	if !m.Settled.IsZero() {
		s := m.Settled
		x.Settled = &s
	}
	return x
}

// privateChats are the keys of the person's private conversations: the
// chat the turn is in, when private, and the one addressed to the user
// (Address with Chat empty), where a feature writes to them from elsewhere.
func (t *Turn) privateChats() []Address {
	a := t.ev.Addr
	byUser := Address{Platform: a.Platform, Workspace: a.Workspace, User: a.User}
	chats := []Address{}
	if !t.ev.Group && a.Chat != "" {
		chats = append(chats, Address{Platform: a.Platform, Workspace: a.Workspace, Chat: a.Chat, User: a.User})
	}
	if a.User != "" && (len(chats) == 0 || byUser.Key() != chats[0].Key()) {
		chats = append(chats, byUser)
	}
	if t.ev.Group || !t.Linked() {
		return chats
	}
	// A person of linked chats (see links.go): every one of them, and
	// where each of their platforms reaches them by user.
	for _, l := range t.c.Linked {
		more := []Address{l}
		if l.User != "" {
			more = append(more, Address{Platform: l.Platform, Workspace: l.Workspace, User: l.User})
		}
		for _, m := range more {
			if !slices.ContainsFunc(chats, func(c Address) bool { return c.Key() == m.Key() }) {
				chats = append(chats, m)
			}
		}
	}
	return chats
}

// persons are who the turn's user is, for a Personal: on the event's
// platform, and on the platform of each chat linked to theirs.
func (t *Turn) persons() []Address {
	out := []Address{t.person()}
	if t.ev.Group || !t.Linked() {
		return out
	}
	for _, l := range t.c.Linked {
		p := Address{Platform: l.Platform, Workspace: l.Workspace, User: l.User}
		if p.User != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// person is who the turn's user is, for a Personal.
func (t *Turn) person() Address {
	a := t.ev.Addr
	return Address{Platform: a.Platform, Workspace: a.Workspace, User: a.User}
}

// PersonalData gathers everything Ampel holds about the turn's user as
// the export's JSON. A Tx error (ErrBusy) ends the step: it runs again.
func (t *Turn) PersonalData() ([]byte, error) {
	who := t.person()
	x := PersonalExport{Format: ExportFormat, Version: ExportVersion, Exported: t.Now().UTC(),
		Person: ExportPerson{Platform: who.Platform, Workspace: who.Workspace, User: who.User}, Chats: []ExportChat{}}
	ctx := t.tx.ctx
	first := true
	for _, chat := range t.privateChats() {
		c := t.c
		key := chat.Key()
		if key != t.HomeKey() || t.ev.Group {
			var err error
			if c, err = t.e.store.Load(ctx, chat.Key()); err != nil {
				return nil, err
			}
			if c.Addr == (Address{}) && c.Run == nil && len(c.Plan.Measures) == 0 {
				continue // never stored
			}
		}
		if first {
			x.Profile = ExportProfile{Language: c.Lang, PlatformLanguage: c.Hint, TimeZone: c.TZ, PlatformTimeZone: c.ZoneHint,
				RemindersOff: c.RemindersOff, Weekends: c.Weekends, HolidayRegion: c.Region,
				QuietHours: c.Quiet, PausedUntil: c.Pause}
			first = false
		}
		arch, err := t.e.store.Archive(ctx, key)
		if err != nil {
			return nil, err
		}
		x.Chats = append(x.Chats, exportPrivate(chat, c, arch))
	}
	var groups []Address
	var keys []string
	for i, who := range t.persons() {
		for _, f := range t.e.reg.personal {
			if f.p.Export == nil {
				continue
			}
			data, chats, err := f.p.Export(t, who)
			if err != nil {
				return nil, err
			}
			if data != nil {
				if x.Records == nil {
					x.Records = map[string]any{}
				}
				name := f.name
				if i > 0 { // a linked chat's person: named by platform too
					name += "@" + who.Platform
				}
				x.Records[name] = data
			}
			groups = append(groups, chats...)
		}
		k, err := t.e.groupsNaming(ctx, who, t.privateChats())
		if err != nil {
			return nil, err
		}
		keys = append(keys, k...)
	}
	for _, g := range uniqueChats(groups) {
		if !slices.Contains(keys, g.Key()) && !slices.ContainsFunc(t.privateChats(), func(p Address) bool { return p.Key() == g.Key() }) {
			keys = append(keys, g.Key())
		}
	}
	slices.Sort(keys)
	for _, key := range slices.Compact(keys) {
		c, err := t.e.store.Load(ctx, key)
		if err != nil {
			return nil, err
		}
		ch := ExportChat{Platform: c.Addr.Platform, Workspace: c.Addr.Workspace, Chat: c.Addr.Chat}
		for _, m := range c.Plan.Measures {
			if m.ResponsibleUser != "" && slices.ContainsFunc(t.persons(), func(p Address) bool { return p.Platform == c.Addr.Platform && p.User == m.ResponsibleUser }) {
				ch.Measures = append(ch.Measures, exportMeasure(m))
			}
		}
		if len(ch.Measures) > 0 {
			x.Chats = append(x.Chats, ch)
		}
	}
	return json.MarshalIndent(x, "", "  ")
}

// exportPrivate is all of a private conversation.
func exportPrivate(chat Address, c *Conversation, arch []Archived) ExportChat {
	ch := ExportChat{Platform: chat.Platform, Workspace: chat.Workspace, Chat: chat.chat(), Private: true, Question: c.Dialog.Mode}
	for _, a := range arch {
		if a.Run != nil {
			ch.Checks = append(ch.Checks, exportCheck(*a.Run))
		}
	}
	for _, r := range c.History {
		ch.Checks = append(ch.Checks, exportCheck(r))
	}
	if c.Run != nil {
		ch.Checks = append(ch.Checks, exportCheck(*c.Run))
	}
	for _, a := range arch {
		if a.Measure != nil {
			ch.Measures = append(ch.Measures, exportMeasure(*a.Measure))
		}
	}
	for _, m := range c.Plan.Measures {
		ch.Measures = append(ch.Measures, exportMeasure(m))
	}
	if d := c.Dialog.Draft; d != nil {
		m := exportMeasure(*d)
		m.Status = "draft"
		ch.Measures = append(ch.Measures, m)
	}
	for _, r := range c.Reminders {
		if r.Chore {
			continue // the bot's own work, not the person's reminder
		}
		x := ExportReminder{Kind: r.Kind, Measure: r.Measure, Day: r.Day, Hour: r.Hour, Zone: r.Zone, Due: r.Due, Status: r.Status}
		if x.Status == ReminderPending {
			x.Status = "pending"
		}
		if !r.At.IsZero() {
			at := r.At
			x.SentAt = &at
		}
		ch.Reminders = append(ch.Reminders, x)
	}
	return ch
}

func uniqueChats(chats []Address) []Address {
	var out []Address
	seen := map[string]bool{}
	for _, c := range chats {
		c.User = ""
		if k := c.Key(); c.Chat != "" && !seen[k] {
			seen[k] = true
			out = append(out, c)
		}
	}
	return out
}

// ErasePerson erases everything Ampel holds about the turn's user, with
// the turn's commit (one transaction): their private conversations (the
// turn's own, when private), their place in the features' records, and
// their name on the measures of the group chats they took part in. What
// the turn says afterwards is still sent, without writing its
// conversation again. A Tx error (ErrBusy) ends the step: it runs again.
func (t *Turn) ErasePerson() error {
	private := t.privateChats()
	for _, who := range t.persons() {
		if err := t.e.erasePerson(t, who, private); err != nil {
			return err
		}
	}
	for _, p := range private {
		if err := t.tx.Erase(p); err != nil {
			return err
		}
		if p.Chat != "" && p.Key() != t.tx.home && t.Linked() {
			if err := t.tx.Delete(LinkKind, p.Key()); err != nil {
				return err
			}
		}
	}
	return nil
}

// erasePerson takes who out of the features' records and the plans of
// the group chats besides private.
func (e *Engine) erasePerson(t *Turn, who Address, private []Address) error {
	tx := t.tx
	if tx == nil {
		return errTxDone
	}
	var groups []Address
	for _, f := range e.reg.personal {
		if f.p.Erase == nil {
			continue
		}
		chats, err := f.p.Erase(t, who)
		if err != nil {
			return err
		}
		groups = append(groups, chats...)
	}
	keys, err := e.groupsNaming(tx.ctx, who, private)
	if err != nil {
		return err
	}
	for _, g := range uniqueChats(groups) {
		if !slices.ContainsFunc(private, func(p Address) bool { return p.Key() == g.Key() }) {
			keys = append(keys, g.Key())
		}
	}
	slices.Sort(keys)
	for _, key := range slices.Compact(keys) {
		if stored, err := e.store.Load(tx.ctx, key); err != nil || stored.Addr == (Address{}) {
			continue // never stored (a channel only written to), or set aside
		}
		c, err := tx.conversationAt(key, Address{})
		if err != nil {
			return err
		}
		forget(c, who.User)
	}
	return nil
}

// forget takes user out of a group conversation's plan: the measures
// they are responsible for stay the group's, without their name; they
// are no longer offered as a responsible person.
func forget(c *Conversation, user string) {
	if user == "" {
		return
	}
	for i := range c.Plan.Measures {
		if m := &c.Plan.Measures[i]; m.ResponsibleUser == user {
			m.ResponsibleUser, m.Responsible, m.Me = "", "", false
		}
	}
	if d := c.Dialog.Draft; d != nil && d.ResponsibleUser == user {
		d.ResponsibleUser, d.Responsible, d.Me = "", "", false
	}
	c.Plan.People = slices.DeleteFunc(c.Plan.People, func(p Person) bool { return p.ID == user })
	if c.Addr.User == user { // who wrote last: the chat is reached without
		c.Addr.User = ""
	}
}

// Sweep erases the conversations nobody wrote in since before (the
// retention): each in a transaction of its own, as /delete erases one,
// its state, archive, reminders, event IDs, live messages and outbox. It
// returns how many it erased; the log says how many, never which. A store
// that cannot find inactive conversations (see Sweeper) sweeps nothing.
func (e *Engine) Sweep(ctx context.Context, before time.Time) (int, error) {
	n, err := e.sweepConversations(ctx, before)
	if err != nil {
		return n, err
	}
	for _, f := range e.reg.personal {
		if f.p.Expire == nil {
			continue
		}
		k := 0
		id := "retention:" + f.name + ":" + before.UTC().Format("20060102")
		err := e.Do(ctx, id, func(tx *Tx) error {
			var err error
			k, err = f.p.Expire(tx, before) // a step run again counts afresh
			return err
		})
		if err != nil && !errors.Is(err, ErrDuplicate) {
			return n, fmt.Errorf("retention of %s: %w", f.name, err)
		}
		if k > 0 {
			e.log.Info("retention: inactive records erased", "feature", f.name, "count", k)
		}
	}
	return n, nil
}

// sweepConversations erases the conversations of Sweep.
func (e *Engine) sweepConversations(ctx context.Context, before time.Time) (int, error) {
	sw, ok := e.store.(Sweeper)
	if !ok {
		return 0, nil
	}
	n, after := 0, ""
	for {
		keys, err := sw.Inactive(ctx, before, after, 100)
		if err != nil {
			return n, fmt.Errorf("retention: %w", err)
		}
		if len(keys) == 0 {
			break
		}
		after = keys[len(keys)-1]
		for _, key := range keys {
			id := "retention:" + KeyHash(key) + ":" + before.UTC().Format("20060102")
			err := e.Do(ctx, id, func(tx *Tx) error { return tx.eraseKey(key) })
			if err != nil && !errors.Is(err, ErrDuplicate) {
				return n, fmt.Errorf("retention: %w", err)
			}
			n++
		}
	}
	e.log.Info("retention: inactive conversations erased", "count", n, "before", before.UTC().Format(time.DateOnly))
	return n, nil
}

// sweepEvery is how often RunRetention sweeps.
const sweepEvery = 24 * time.Hour

// RunRetention sweeps (see Sweep) when it starts and then once a day
// until ctx is done: cutoff says, for the engine's clock's now, before
// when a conversation's newest event makes it inactive.
func (e *Engine) RunRetention(ctx context.Context, cutoff func(now time.Time) time.Time) error {
	for {
		if _, err := e.Sweep(ctx, cutoff(e.clock.Now())); err != nil && ctx.Err() == nil {
			e.log.Error("retention sweep failed", "err", err)
		}
		timer := time.NewTimer(e.realDuration(sweepEvery))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
	}
}

// eraseKey erases the conversation stored under key (see Erase).
func (tx *Tx) eraseKey(key string) error {
	if err := tx.take(key); err != nil {
		return err
	}
	tx.e.cache.take(key)
	tx.convs = append(tx.convs, txConv{key: key, conv: &Conversation{}, erase: true})
	return nil
}
