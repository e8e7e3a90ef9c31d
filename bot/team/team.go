// Package team is team mode: a check done together in a channel or group.
// /team starts a team run there; whoever starts it is the facilitator.
// Members join with a button in the channel and rate every checkpoint in
// their private chat with the bot (the dialogue of a single check); the
// channel sees who joined and how many have finished. The facilitator
// closes the rating (or it closes when every member has finished), the
// channel sees the spread of the ratings per checkpoint, disagreements
// first, and the facilitator settles each checkpoint's team rating. The
// settled ratings become the channel's finished check, from which the
// channel builds its action plan as any chat does, the members offered as
// the responsible people.
//
// A team run is a record of its own (kind "team", its code as ID), read
// and changed through the turn's transaction (bot.Tx), so that a member's
// rating in a private chat, the run and a message to the channel commit
// together. The chats know their run by Conversation.Records["team"].
package team

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/check"
	"github.com/ampel-bot/ampel/flows"
)

// Kind is the kind of a team run's record.
const Kind = "team"

// The states of a team run.
const (
	Rating    = "rating"    // members join and rate
	Settling  = "settling"  // closed: the facilitator settles each checkpoint
	Planning  = "planning"  // settled: the channel's plan is built from it
	Done      = "done"      // a newer run took the channel over
	Cancelled = "cancelled" // the facilitator called it off
)

// The team's questions, stored in Dialog.Mode; Dialog.Ref holds the run's
// code, Dialog.Target the member's place in a private chat.
const (
	ModeRate   = "team-rate"   // a member rates checkpoint Cursor, privately
	ModeEdit   = "team-edit"   // a member changes the rating of Cursor
	ModeMine   = "team-mine"   // a member's ratings, all given
	ModeChange = "team-change" // a member picks the rating to change
	ModeSettle = "team-settle" // the channel: the facilitator settles Order[Cursor]
)

// remindEvery is how long "remind the others" is spent once used.
const remindEvery = 24 * time.Hour

// maxNameLen bounds a member's name as the platform gives it.
const maxNameLen = 80

// Run is a team run, stored as the record Kind/Code.
type Run struct {
	Code    string `json:"code"`
	Flow    string `json:"flow"`
	Version int    `json:"version"`
	// Lang is the language of the channel's messages.
	Lang string `json:"lang"`
	// Chat is the channel (User empty).
	Chat bot.Address `json:"chat"`
	// Lead is the facilitator.
	Lead    bot.Person `json:"lead"`
	Members []Member   `json:"members,omitempty"`
	State   string     `json:"state"`
	// Order is the checkpoints in the order they are settled:
	// disagreements first. Settled holds the team's ratings.
	Order   []string          `json:"order,omitempty"`
	Settled map[string]string `json:"settled,omitempty"`
	// Reminded is when "remind the others" was last used.
	Reminded time.Time `json:"reminded,omitzero"`
	Started  time.Time `json:"started"`
}

// Member is one who joined, in join order.
type Member struct {
	bot.Person
	// Lang is the language of the member's private messages.
	Lang string `json:"lang,omitempty"`
	// Run holds the member's ratings (Ratings, Later, Done).
	Run bot.Run `json:"run"`
	// Cursor is the checkpoint the member rates.
	Cursor int `json:"cursor,omitempty"`
	// Left: the member left the channel and is dropped from the run.
	Left bool `json:"left,omitempty"`
	// Removed: the facilitator took the member's ratings out.
	Removed bool `json:"removed,omitempty"`
}

// Feature is team mode.
func Feature() bot.Feature {
	rate := bot.Mode{Name: ModeRate, Ask: askRate, Press: pressRate, Typed: typedRate, Cancel: "team.paused"}
	edit := rate
	edit.Name = ModeEdit
	return bot.Feature{
		Name: "team",
		Modes: []bot.Mode{rate, edit,
			{Name: ModeMine, Ask: askMine, Press: pressMine, Calm: true, Lull: true},
			{Name: ModeChange, Ask: askChange, Press: pressChange, Back: backToMine},
			{Name: ModeSettle, Ask: askSettle, Press: pressSettle, Typed: typedSettle, Command: settleCommand, Cancel: "team.settle.paused"},
		},
		Commands: []bot.Cmd{{Name: "team", Args: true, Main: true, Run: cmdTeam}},
		Lasting:  map[string]func(*bot.Turn, string){"tm": pressLasting},
		On: map[string]func(*bot.Turn) bool{
			bot.UserLeft:      left,
			bot.StartArg:      startLink,
			bot.HelpInGroup:   func(t *bot.Turn) bool { t.Note(t.T("team.help")); return false },
			bot.GroupLanguage: groupLanguage,
		},
		Personal: Personal(),
	}
}

// newCode makes a run's code: 8 characters of base32 from 40 random bits.
var newCode = func() string {
	var b [5]byte
	_, _ = rand.Read(b[:]) // never fails
	return strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))
}

// load reads the run code through the turn's transaction; false when
// there is none (a note says so) or the step runs again (bot.ErrBusy:
// whatever the step did is thrown away, so it need not tell the two
// apart). Other errors of the store end the step as a failure, which the
// engine answers and logs.
func load(t *bot.Turn, code string) (*Run, bool) {
	r, ok := get(t, code)
	if !ok && t.Tx() != nil {
		t.Note(t.T("team.gone"))
	}
	return r, ok
}

// get is load without the note.
func get(t *bot.Turn, code string) (*Run, bool) {
	tx := t.Tx()
	if tx == nil || code == "" {
		return nil, false
	}
	var r Run
	found, err := tx.Get(Kind, code, &r)
	if errors.Is(err, bot.ErrBusy) {
		return nil, false
	}
	if err != nil {
		panic(err)
	}
	return &r, found
}

// save stores r with the turn's commit (see load for errors).
func save(t *bot.Turn, r *Run) {
	if err := t.Tx().Put(Kind, r.Code, r); err != nil && !errors.Is(err, bot.ErrBusy) {
		panic(err)
	}
}

// flow is the run's check, or nil when it is gone.
func (r *Run) flow(t *bot.Turn) *flows.Flow {
	f, _ := t.Flows().Get(r.Flow)
	return f
}

// groupLanguage refuses a change of the group's language to anyone but
// the facilitator while the group's team check runs or its plan is being
// built: the language is the whole team's.
func groupLanguage(t *bot.Turn) bool {
	r, ok := get(t, t.Conv().Records[Kind])
	if !ok || r.State == Done || r.State == Cancelled {
		return false
	}
	return !r.lead(t)
}

// lead reports whether the turn's user is the facilitator, and says who
// is when not.
func (r *Run) lead(t *bot.Turn) bool {
	if t.Event().Addr.User == r.Lead.ID {
		return true
	}
	t.Refuse(t.T("team.lead.only", "Lead", r.Lead.Name))
	return false
}

// member returns the place of the member with user ID id, or -1.
func (r *Run) member(id string) int {
	for i, m := range r.Members {
		if m.ID == id && id != "" {
			return i
		}
	}
	return -1
}

// active are the members still in the channel.
func (r *Run) active() []*Member {
	var a []*Member
	for i := range r.Members {
		if !r.Members[i].Left {
			a = append(a, &r.Members[i])
		}
	}
	return a
}

// finished counts the active members who rated every checkpoint.
func (r *Run) finished() (done, all int) {
	for _, m := range r.active() {
		if m.Run.Finished() {
			done++
		}
	}
	return done, len(r.active())
}

// open reports whether the run is not over.
func (r *Run) open() bool { return r.State == Rating || r.State == Settling }

// private is the member's private chat.
func (r *Run) private(id string) bot.Address {
	return bot.Address{Platform: r.Chat.Platform, Workspace: r.Chat.Workspace, User: id}
}

// channel is a turn that writes to the run's channel without changing
// its conversation: the turn itself when it is the channel's.
func (r *Run) channel(t *bot.Turn) *bot.Turn {
	if inChannel(t, r) {
		return t
	}
	return t.Elsewhere(&bot.Conversation{Addr: r.Chat, Lang: r.Lang})
}

// inChannel reports whether the turn is an event of the run's channel.
func inChannel(t *bot.Turn, r *Run) bool {
	a := t.Event().Addr
	return a.Platform == r.Chat.Platform && a.Workspace == r.Chat.Workspace && a.Chat == r.Chat.Chat
}

// write is a turn that writes to the private chat of the person id, in
// lang.
func (r *Run) write(t *bot.Turn, id, lang string) *bot.Turn {
	return t.Elsewhere(&bot.Conversation{Addr: r.private(id), Lang: lang})
}

// leadLang is the language of the facilitator's private messages.
func (r *Run) leadLang() string {
	if i := r.member(r.Lead.ID); i >= 0 && r.Members[i].Lang != "" {
		return r.Members[i].Lang
	}
	return r.Lang
}

// nameOf is how the turn's user is named: as the platform names them,
// else as the member of their place.
func nameOf(t *bot.Turn, place int) string {
	if name := bot.CleanInput(t.Event().UserName); name != "" && bot.RuneLen(name) <= maxNameLen {
		return name
	}
	return t.T("team.member", "N", place+1)
}

// cmdTeam is /team [check | status | close | cancel | join | remind |
// facilitator [name]].
func cmdTeam(t *bot.Turn, args []string) {
	if !t.Event().Group {
		privateTeam(t)
		return
	}
	arg, rest := "", ""
	if len(args) > 0 {
		arg = strings.ToLower(args[0])
		rest = strings.Join(args[1:], " ")
	}
	code := t.Conv().Records[Kind]
	if word := argWord(t, arg); word != "" {
		r, ok := get(t, code)
		switch {
		case ok && r.State == Planning:
			t.Note(t.T("team.planning"))
			return
		case !ok || !r.open():
			t.Note(t.T("team.none"))
			return
		}
		switch word {
		case "status":
			status(t, r)
		case "close":
			closeCmd(t, r)
		case "cancel":
			cancel(t, r)
		case "join":
			join(t, r)
		case "remind":
			remind(t, r)
		case "facilitator":
			handOn(t, r, rest)
		}
		return
	}
	if r, ok := get(t, code); ok && r.open() {
		if arg != "" {
			t.Note(t.T("team.busy"))
		}
		status(t, r)
		return
	}
	var f *flows.Flow
	if arg != "" {
		var ok bool
		if f, ok = t.Flows().Get(arg); !ok {
			t.Note(t.T("check.unknown", "ID", arg))
		}
	}
	if f == nil {
		if all := t.Flows().All(); len(all) > 1 {
			check.Choose(t, "team")
			return
		} else {
			f = all[0]
		}
	}
	start(t, f)
}

// argWords are /team's words after it, each also as the locales'
// team.arg.<word> in every language.
var argWords = []string{"status", "close", "cancel", "join", "remind", "facilitator"}

// argWord returns the /team word arg names, or "".
func argWord(t *bot.Turn, arg string) string {
	if arg == "" {
		return ""
	}
	for _, w := range argWords {
		if arg == w {
			return w
		}
		for _, lang := range t.Texts().Langs() {
			if strings.ToLower(t.Texts().T(lang, "team.arg."+w)) == arg {
				return w
			}
		}
	}
	return ""
}

// privateTeam is /team in a private chat: the rating goes on where the
// chat has a run open, else what team mode is and where it starts.
func privateTeam(t *bot.Turn) {
	if r, ok := get(t, t.Conv().Records[Kind]); ok {
		if i := r.member(t.Event().Addr.User); i >= 0 && r.State == Rating && !r.Members[i].Left {
			enter(t, r, i, r.Members[i].Cursor, "go", "")
			return
		}
	}
	t.Note(t.T("team.private"))
	t.Reask()
}

// start begins a team run of f in the channel.
func start(t *bot.Turn, f *flows.Flow) {
	ev := t.Event()
	c := t.Conv()
	if r, ok := get(t, c.Records[Kind]); ok {
		r.State = Done
		save(t, r)
	}
	var code string
	for range 4 {
		code = newCode()
		var old Run
		taken, err := t.Tx().Get(Kind, code, &old)
		if errors.Is(err, bot.ErrBusy) {
			return
		}
		if err != nil {
			panic(err)
		}
		if !taken {
			break
		}
	}
	r := &Run{
		Code: code, Flow: f.ID, Version: f.Version, Lang: t.Lang(), State: Rating,
		Chat:    bot.Address{Platform: ev.Addr.Platform, Workspace: ev.Addr.Workspace, Chat: ev.Addr.Chat},
		Lead:    bot.Person{ID: ev.Addr.User, Name: nameOf(t, 0)},
		Started: t.Now().UTC(),
	}
	save(t, r)
	if c.Records == nil {
		c.Records = map[string]string{}
	}
	c.Records[Kind] = code
	t.Note(t.T("team.started", "Title", t.T(f.TitleID()), "Lead", r.Lead.Name))
	show(t, r)
}

// show sends the run's progress to the channel the turn is in, its
// buttons the ones typed numbers pick there.
func show(t *bot.Turn, r *Run) {
	m := progress(t, r)
	t.Offer(m)
	t.Say(m)
}

// progress is the run's message in the channel: the check, the
// facilitator, who joined, how many have finished, and while members
// rate, the buttons to join, to remind the others and to close.
//
// It is a live message: each new state replaces the one shown.
func progress(t *bot.Turn, r *Run) bot.Message {
	title := r.Flow
	if f := r.flow(t); f != nil {
		title = t.T(f.TitleID())
	}
	var names []string
	for _, m := range r.active() {
		names = append(names, m.Name)
	}
	done, all := r.finished()
	lines := []string{t.T("team.progress", "Title", title, "Lead", r.Lead.Name)}
	if all == 0 {
		lines = append(lines, t.T("team.progress.nobody"))
	} else {
		lines = append(lines, t.T("team.progress.joined", "Count", all, "Names", strings.Join(names, ", ")),
			t.T("team.progress.finished", "Count", done, "Total", all))
	}
	if r.State != Rating {
		lines = append(lines, t.T("team.progress.closed"))
		return bot.Message{Text: strings.Join(lines, "\n"), Live: live(r)}
	}
	how := t.T("team.progress.how")
	if link, ok := t.StartLink("team_" + r.Code); ok {
		// Where the bot may write only to who started it (Telegram), a
		// link opens its private chat and joins from there.
		how = t.T("team.progress.how.link", "Link", link)
	}
	lines = append(lines, "", how)
	act := func(verb string) string { return "tm:" + r.Code + ":" + verb }
	return bot.Message{Text: strings.Join(lines, "\n"), Live: live(r), Buttons: [][]bot.Button{
		{{Label: t.T("button.team.join"), Action: act("join")}},
		{{Label: t.T("button.team.remind"), Action: act("remind")}, {Label: t.T("button.team.close"), Action: act("close")}},
	}}
}

// live is the key of the run's progress: one message in the channel,
// changed in place as members join and finish.
func live(r *Run) string { return "team:" + r.Code }

// status shows where the run stands: the progress, and to the
// facilitator privately who has not finished; while settling, the open
// question again.
func status(t *bot.Turn, r *Run) {
	if r.State == Settling {
		d := t.Dialog()
		if d.Mode != ModeSettle || d.Ref != r.Code {
			resumeSettling(t, r)
			return
		}
		t.Note(t.T("team.status.settling", "Count", len(r.Settled), "Total", len(r.Order)))
		t.Ask()
		return
	}
	show(t, r)
	if t.Event().Addr.User == r.Lead.ID {
		tellLead(t, r)
	}
}

// tellLead writes to the facilitator privately who has not finished.
func tellLead(t *bot.Turn, r *Run) {
	var open []string
	for _, m := range r.active() {
		if !m.Run.Finished() {
			open = append(open, m.Name)
		}
	}
	p := r.write(t, r.Lead.ID, r.leadLang())
	if len(open) == 0 {
		p.Say(bot.Message{Text: p.T("team.lead.allin")})
		return
	}
	p.Say(bot.Message{Text: p.T("team.lead.open", "Names", strings.Join(open, ", "))})
}

// pressLasting handles the run's buttons: in the channel
// "tm:<code>:<verb>[:<member>]", in a member's private chat
// "tm:<code>:<member>:<checkpoint>:<verb>[:<arg>]".
func pressLasting(t *bot.Turn, action string) {
	parts := strings.SplitN(action, ":", 6)
	if len(parts) < 3 {
		t.Reask()
		return
	}
	r, ok := load(t, parts[1])
	if !ok {
		return
	}
	if len(parts) >= 5 {
		i, ok1 := bot.Index(parts[2], len(r.Members))
		cur, ok2 := bot.Index(parts[3], 1<<10)
		arg := ""
		if len(parts) == 6 {
			arg = parts[5]
		}
		if !ok1 || !ok2 {
			t.Reask()
			return
		}
		privatePress(t, r, i, cur, parts[4], arg)
		return
	}
	if !inChannel(t, r) {
		t.Note(t.T("team.elsewhere"))
		return
	}
	if !r.open() {
		t.Note(t.T("team.over"))
		return
	}
	switch parts[2] {
	case "join":
		join(t, r)
	case "remind":
		remind(t, r)
	case "close":
		closeCmd(t, r)
	case "lead", "drop":
		if len(parts) != 4 {
			return
		}
		i, ok := bot.Index(parts[3], len(r.Members))
		if !ok || !r.lead(t) {
			return
		}
		if parts[2] == "lead" {
			makeLead(t, r, i)
		} else {
			drop(t, r, i)
		}
	}
}

// join makes the turn's user a member and writes to them privately with
// the first question; one who joined already gets the question again.
func join(t *bot.Turn, r *Run) {
	if r.State != Rating {
		t.Note(t.T("team.closed.join"))
		return
	}
	ev := t.Event()
	if ev.Addr.User == "" {
		t.Note(t.T("team.nouser"))
		return
	}
	f := r.flow(t)
	if f == nil {
		t.Note(t.T("team.gone"))
		return
	}
	i := r.member(ev.Addr.User)
	if i >= 0 && !r.Members[i].Left {
		invite(t, r, i, t.T("team.invite.again"))
		return
	}
	lang, _ := t.Texts().Supported(ev.LangHint)
	if ev.LangHint == "" {
		lang = r.Lang
	}
	if i >= 0 { // back in the channel: back in the run
		r.Members[i].Left = false
	} else {
		r.Members = append(r.Members, Member{Person: bot.Person{ID: ev.Addr.User, Name: nameOf(t, len(r.Members))}, Lang: lang,
			Run: bot.Run{Flow: f.ID, Version: f.Version, Started: t.Now().UTC(), Ratings: map[string]string{}}})
		i = len(r.Members) - 1
	}
	save(t, r)
	if !inChannel(t, r) { // by a link, in the private chat
		enter(t, r, i, 0, "go", "")
		ch := r.channel(t)
		ch.Say(progress(ch, r))
		return
	}
	invite(t, r, i, "")
	show(t, r)
}

// invite writes to member i privately: what team mode is (or note), and
// the question the member is at, its buttons valid in a chat the bot has
// not talked in yet.
func invite(t *bot.Turn, r *Run, i int, note string) {
	m := &r.Members[i]
	p := r.write(t, m.ID, m.Lang)
	f := r.flow(p)
	if note == "" {
		note = p.T("team.invite", "Title", p.T(f.TitleID()), "Lead", r.Lead.Name)
	}
	p.Note(note)
	p.Dialog().Cursor = m.Cursor
	if m.Run.Finished() {
		p.Say(mine(p, r, i, anywhere(r, i)))
		return
	}
	s := r.sheet(p, i)
	s.Act = anywhere(r, i)
	s.Resume(p)
	q, _ := s.Ask(p)
	p.Say(q)
}

// anywhere makes the actions of member i's questions valid in any state
// of their private chat (see pressLasting).
func anywhere(r *Run, i int) func(t *bot.Turn, verb string, args ...string) string {
	return func(t *bot.Turn, verb string, args ...string) string {
		return strings.Join(append([]string{"tm", r.Code, strconv.Itoa(i), strconv.Itoa(t.Dialog().Cursor), verb}, args...), ":")
	}
}

// remind nudges, once in remindEvery, each member who has not finished,
// privately.
func remind(t *bot.Turn, r *Run) {
	if !r.lead(t) {
		return
	}
	if r.State != Rating {
		t.Note(t.T("team.closed.join"))
		return
	}
	now := t.Now()
	if next := r.Reminded.Add(remindEvery); !r.Reminded.IsZero() && now.Before(next) {
		local := next.In(t.Zone())
		t.Note(t.T("team.remind.spent", "Date", t.Date(local), "Time", local.Format("15:04")))
		return
	}
	n := 0
	for i := range r.Members {
		m := &r.Members[i]
		if m.Left || m.Run.Finished() {
			continue
		}
		n++
		p := r.write(t, m.ID, m.Lang)
		done, all := r.finished()
		msg := bot.Message{Text: p.T("team.nudge", "Lead", r.Lead.Name, "Title", p.T(r.flow(p).TitleID())) + "\n" + p.T("team.progress.finished", "Count", done, "Total", all),
			Buttons: [][]bot.Button{{{Label: p.T("button.team.continue"), Action: "tm:" + r.Code + ":" + strconv.Itoa(i) + ":" + strconv.Itoa(m.Cursor) + ":go"}}}}
		p.Say(msg)
	}
	if n == 0 {
		t.Note(t.T("team.remind.none"))
		return
	}
	r.Reminded = now.UTC()
	save(t, r)
	t.Note(t.T("team.reminded", "Count", n))
}

// cancel calls the run off (the facilitator).
func cancel(t *bot.Turn, r *Run) {
	if !r.lead(t) {
		return
	}
	r.State = Cancelled
	save(t, r)
	delete(t.Conv().Records, Kind)
	d := t.Dialog()
	if d.Ref == r.Code {
		d.Ref = ""
		t.To(bot.ModeIdle)
	}
	t.Note(t.T("team.cancelled"))
}

// handOn makes the member named name the facilitator, or, without a
// name, asks which member.
func handOn(t *bot.Turn, r *Run, name string) {
	if !r.lead(t) {
		return
	}
	if name != "" {
		want := bot.Normalize(name)
		for i, m := range r.Members {
			// "Bert", "@Bert", or a mention by the user's ID ("<@U123>").
			if !m.Left && (bot.Normalize(m.Name) == want || bot.Normalize(m.ID) == want) {
				makeLead(t, r, i)
				return
			}
		}
		t.Note(t.T("team.lead.unknown", "Name", name))
	}
	var rows [][]bot.Button
	for i, m := range r.Members {
		if !m.Left && m.ID != r.Lead.ID {
			rows = append(rows, []bot.Button{{Label: m.Name, Action: "tm:" + r.Code + ":lead:" + strconv.Itoa(i)}})
		}
	}
	if len(rows) == 0 {
		t.Note(t.T("team.lead.nobody"))
		return
	}
	m := bot.Message{Text: t.T("team.lead.ask"), Buttons: rows}
	t.Offer(m)
	t.Say(m)
}

// makeLead makes member i the facilitator.
func makeLead(t *bot.Turn, r *Run, i int) {
	m := r.Members[i]
	if m.Left {
		return
	}
	r.Lead = m.Person
	save(t, r)
	r.channel(t).Note(t.T("team.lead.new", "Lead", m.Name))
}

// left drops a member who left the channel: their ratings stay counted
// unless the facilitator takes them out. A facilitator who left hands
// the role to the first member still there.
func left(t *bot.Turn) bool {
	r, ok := get(t, t.Conv().Records[Kind])
	if !ok || !r.open() {
		return true
	}
	if t.Event().Addr.User == "" && inChannel(t, r) {
		botRemoved(t, r)
		return true
	}
	i := r.member(t.Event().Addr.User)
	if i < 0 || r.Members[i].Left {
		return true
	}
	m := &r.Members[i]
	m.Left = true
	msg := bot.Message{Text: t.T("team.left", "Name", m.Name)}
	if m.Run.Ratings != nil && len(m.Run.Ratings) > 0 {
		msg.Text += " " + t.T("team.left.counted")
		msg.Buttons = [][]bot.Button{{{Label: t.T("button.team.drop"), Action: "tm:" + r.Code + ":drop:" + strconv.Itoa(i)}}}
	}
	if r.Lead.ID == m.ID {
		if a := r.active(); len(a) > 0 {
			r.Lead = a[0].Person
			msg.Text += "\n" + t.T("team.lead.new", "Lead", r.Lead.Name)
		}
	}
	save(t, r)
	t.Say(msg)
	if r.State == Rating {
		maybeClose(t, r)
	}
	return true
}

// botRemoved ends the run of a channel the bot was removed from: nothing
// can be posted there any more, so each member still in it hears it
// privately, in their language, rather than rating on for nothing.
func botRemoved(t *bot.Turn, r *Run) {
	r.State = Cancelled
	save(t, r)
	delete(t.Conv().Records, Kind)
	if d := t.Dialog(); d.Ref == r.Code {
		d.Ref = ""
		t.To(bot.ModeIdle)
	}
	for _, m := range r.active() {
		w := r.write(t, m.ID, m.Lang)
		w.Say(bot.Message{Text: w.T("team.botremoved")})
	}
}

// drop takes the ratings of member i, who left, out of the spread.
func drop(t *bot.Turn, r *Run, i int) {
	m := &r.Members[i]
	if !m.Left || m.Removed {
		return
	}
	m.Removed = true
	save(t, r)
	t.Note(t.T("team.dropped", "Name", m.Name))
}

// startLink is /start team_<code> in a private chat (a Telegram deep
// link): it joins the run and starts rating.
func startLink(t *bot.Turn) bool {
	fields := strings.Fields(t.Event().Text)
	if len(fields) != 2 || !strings.HasPrefix(fields[1], "team_") || t.Event().Group {
		return false
	}
	r, ok := load(t, strings.TrimPrefix(fields[1], "team_"))
	if !ok {
		return true
	}
	if r.State != Rating {
		t.Note(t.T("team.closed.join"))
		return true
	}
	i := r.member(t.Event().Addr.User)
	if i < 0 || r.Members[i].Left {
		join(t, r)
		return true
	}
	enter(t, r, i, r.Members[i].Cursor, "go", "")
	return true
}
