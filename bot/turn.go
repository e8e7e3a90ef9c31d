package bot

import (
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/ampel-bot/ampel/flows"
)

// The dialogue's primitives: a turn, asking and saying, the move to a new
// question, buttons with their typed twins, stale buttons, back, side
// trips, and the core's commands (/start, /help, /cancel) and idle menu.
// What each question asks and what its answers do, the features register
// (see Feature).

// ModeIdle is the mode when no question is open: the menu, or a message
// whose buttons typed numbers pick (a reminder, the list of checks).
const ModeIdle = ""

// Turn is the work of one event on one conversation: what a feature's
// handlers read and change, and the messages they send.
type Turn struct {
	e     *Engine
	c     *Conversation
	ev    Event
	lang  string
	today time.Time
	notes []string
	out   []Message
	tx    *Tx
	away  bool // a turn on another chat (see Elsewhere)
	// refused: the event's user may not do what they asked (see Refuse).
	refused bool
	// to is the platform its messages go to, when not Addr's (a reminder
	// to the chat a linked person chose).
	to string
}

// StartLink is a link that opens the bot's private chat on the turn's
// platform with "/start value", if the platform has such links (see
// DeepLinker).
func (t *Turn) StartLink(value string) (string, bool) {
	t.e.mu.RLock()
	l, ok := t.e.adapters[t.Platform()].(DeepLinker)
	t.e.mu.RUnlock()
	if !ok {
		return "", false
	}
	return l.StartLink(value), true
}

// Tx is the transaction of the turn: records and other chats' conversations
// to read and change, messages to other chats, all committed with the turn.
// Nil outside an event (a view of the plan).
func (t *Turn) Tx() *Tx { return t.tx }

// Elsewhere is a turn on another chat's conversation c: one from
// Tx.Conversation, to change it, or a new one (with its Addr and Hint), to
// write to that chat in its language. What it asks and says is sent to
// c.Addr with the commit. Its event is this turn's, moved to c's chat.
func (t *Turn) Elsewhere(c *Conversation) *Turn {
	ev := t.ev
	ev.Addr = Address{Platform: c.Addr.Platform, Workspace: c.Addr.Workspace, Chat: c.Addr.Chat, User: t.ev.Addr.User}
	return &Turn{e: t.e, c: c, ev: ev, lang: t.e.langOf(c, Event{}), today: dayOf(t.e.clock.Now(), t.e.zoneOf(c)), tx: t.tx, away: true}
}

// Announcements of the core to the features (see Feature.On).
const (
	// UserLeft: Event.Left, the event's user left the chat.
	UserLeft = "core.left"
	// StartArg: /start with an argument (a Telegram deep link's
	// payload), read from the event's text; true: a feature took it.
	StartArg = "core.start"
	// HelpInGroup: /help in a group; a feature adds its note and answers
	// false, so that every feature can.
	HelpInGroup = "core.help.group"
	// GroupLanguage: someone changes a group's language; true: a feature
	// refused it (and said why), e.g. a team check whose facilitator is
	// someone else.
	GroupLanguage = "core.language.group"
	// PlanChanged: the turn changed its conversation's action plan, in a
	// conversation that has a record open with a feature (Records): a
	// shared plan's followers see the change with the same commit.
	PlanChanged = "core.plan.changed"
	// PersonLink: /link, read from the event's text; true: a feature
	// took it (in a private chat, linking the person's chats, see
	// links.go), false: it is a group's.
	PersonLink = "core.link"
)

// turn is the name the core's own files know a turn by.
type turn = Turn

func (e *Engine) step(c *Conversation, ev Event, tx *Tx) []Message {
	now := e.clock.Now()
	if ev.LangHint != "" {
		c.Hint = ev.LangHint
	}
	if ev.ZoneHint != "" {
		c.ZoneHint = ev.ZoneHint
	}
	t := &Turn{e: e, c: c, ev: ev, lang: e.langOf(c, ev), today: dayOf(now, e.zoneOf(c)), tx: tx}
	// Only a conversation a feature keeps a record for can have anyone
	// beyond it to tell of a change of its plan: the many others skip
	// comparing it.
	var plan *Plan
	if len(c.Records) > 0 {
		plan = c.Plan.snapshot()
	}
	t.handle()
	t.noteRefusal()
	if plan != nil && !plan.same(&c.Plan) {
		t.Fire(PlanChanged)
	}
	if len(t.notes) > 0 { // a note without a question still reaches the user
		t.Say(Message{})
	}
	return t.out
}

// offTurn is a turn outside any event: a reminder, a view of the plan.
func (e *Engine) offTurn(c *Conversation, lang string) *Turn {
	if lang == "" {
		lang = e.langOf(c, Event{})
	}
	return &Turn{e: e, c: c, lang: lang, today: dayOf(e.clock.Now(), e.zoneOf(c))}
}

// Conv is the conversation the turn works on.
func (t *Turn) Conv() *Conversation { return t.c }

// Dialog is where the conversation's dialogue stands.
func (t *Turn) Dialog() *Dialog { return &t.c.Dialog }

// Event is the event the turn answers (empty outside one).
func (t *Turn) Event() *Event { return &t.ev }

// Lang is the language the turn writes in.
func (t *Turn) Lang() string { return t.lang }

// SetLang makes l the conversation's language, from this message on.
func (t *Turn) SetLang(l string) { t.c.Lang, t.lang = l, l }

// Today is the day in the conversation's time zone.
func (t *Turn) Today() time.Time { return t.today }

// Now reads the engine's clock.
func (t *Turn) Now() time.Time { return t.e.clock.Now() }

// Flows are the checks the bot knows.
func (t *Turn) Flows() *flows.Catalog { return t.e.flows }

// Texts are every language's texts.
func (t *Turn) Texts() *Texts { return t.e.texts }

// Flow is the check of the conversation's run, or nil.
func (t *Turn) Flow() *flows.Flow {
	if t.c.Run == nil {
		return nil
	}
	f, _ := t.e.flows.Get(t.c.Run.Flow)
	return f
}

// Zone is the conversation's time zone.
func (t *Turn) Zone() *time.Location { return t.e.zoneOf(t.c) }

// TypedButtons reports whether the platform has its buttons typed (see
// Typer): they are a numbered list already.
func (t *Turn) TypedButtons() bool { return t.e.typed(t.Platform()) }

// Platform is the platform the turn's messages go to: the chat written
// from, or for a reminder the chat it goes to (see links.go).
func (t *Turn) Platform() string {
	if t.to != "" {
		return t.to
	}
	return t.c.Addr.Platform
}

// Forms reports whether the platform shows forms (see FormAdapter).
func (t *Turn) Forms() bool { return t.e.forms(t.Platform()) }

func (t *Turn) T(id string, kv ...any) string { return t.e.texts.T(t.lang, id, kv...) }

// TapT is T for a text that asks to tap a button: where buttons are typed
// (bot.Typer), its ".typed" variant asks for the number instead.
func (t *Turn) TapT(id string, kv ...any) string {
	if t.TypedButtons() {
		id += ".typed"
	}
	return t.T(id, kv...)
}

func (t *Turn) N(id string, n int, kv ...any) string { return t.e.texts.N(t.lang, id, n, kv...) }

// Note puts s in front of the next message said.
func (t *Turn) Note(s string) { t.notes = append(t.notes, s) }

// Say sends m with the pending notes in front of its text.
func (t *Turn) Say(m Message) {
	parts := append(t.notes, m.Text)
	t.notes = nil
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	m.Text = strings.Join(kept, "\n\n")
	if t.away && t.tx != nil {
		t.tx.Send(t.c.Addr, m)
		return
	}
	t.out = append(t.out, m)
}

// To moves the dialogue to a new question. Buttons of earlier questions
// become stale.
func (t *Turn) To(mode string) {
	t.c.Dialog.Mode = mode
	t.c.Dialog.Seq++
}

// Action is a button's action on the open question: "seq:verb[:args…]".
func (t *Turn) Action(verb string, args ...string) string {
	// Written at once: a question makes one for each of its buttons.
	seq := strconv.Itoa(t.c.Dialog.Seq)
	n := len(seq) + 1 + len(verb)
	for _, a := range args {
		n += 1 + len(a)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(seq)
	b.WriteByte(':')
	b.WriteString(verb)
	for _, a := range args {
		b.WriteByte(':')
		b.WriteString(a)
	}
	return b.String()
}

// Ask sends the open question with its buttons and remembers the buttons, so
// that a typed number or label finds them.
func (t *Turn) Ask() { t.Show(t.question()) }

// Show sends m as the open question: its buttons are the ones typed numbers
// and labels pick. Ask shows the question the open mode asks; Show is for
// a feature that has it at hand.
func (t *Turn) Show(m Message) {
	t.c.Dialog.Options = m.Flat()
	t.Say(m)
}

// Reask repeats the open question, or offers the main commands when none is open.
func (t *Turn) Reask() {
	if t.c.Dialog.Mode == ModeIdle {
		t.Say(t.menu(""))
		return
	}
	t.Ask()
}

// Mode is the open question's mode.
func (t *Turn) Mode() *Mode { return t.e.reg.mode(t.c.Dialog.Mode) }

// Offer makes a message's buttons the ones typed numbers refer to, where
// the open question allows it (Mode.Lull): elsewhere the buttons still
// work when pressed, and typing keeps answering the open question.
func (t *Turn) Offer(m Message) {
	if t.Mode().Lull {
		t.c.Dialog.Mode = ModeIdle
		t.c.Dialog.Seq++
		t.c.Dialog.Options = m.Flat()
	}
}

// Fire announces something to the features (see Feature.On) and reports
// whether one took it up.
func (t *Turn) Fire(name string) bool {
	for _, fn := range t.e.reg.on[name] {
		if fn(t) {
			return true
		}
	}
	return false
}

// Call runs a command as if it were given, without ending a side trip.
func (t *Turn) Call(name string, args ...string) bool {
	c := t.e.reg.cmds[name]
	if c == nil {
		return false
	}
	c.Run(t, args)
	return true
}

// question renders the open question of the dialogue from stored state alone,
// so that it can be repeated at any time, on any device.
func (t *Turn) question() Message {
	if m := t.Mode(); m.Ask != nil {
		if msg, ok := m.Ask(t); ok {
			return msg
		}
	}
	// A mode whose data is gone (e.g. a flow removed) falls back to the menu.
	t.c.Dialog.Mode = ModeIdle
	return t.menu(t.T("hint.idle"))
}

// staleButton answers a tap on a button of an earlier question, and
// counts it (metrics).
func (t *Turn) staleButton() {
	t.e.observe().Refused(t.ev.Addr.Platform, RefusedStale)
	t.Note(t.T("hint.stale"))
}

func (t *Turn) handle() {
	ev := t.ev
	if ev.Action != "" {
		t.resolve(ev.Action)
		return
	}
	if ev.Left {
		t.Fire(UserLeft)
		return
	}
	if len(ev.Text) > maxInput { // cut, it would be taken for what nobody wrote
		t.Note(t.T("hint.toolong_input"))
		t.Reask()
		return
	}
	text := cleanInput(ev.Text)
	if t.firstContact() && !strings.HasPrefix(text, "/") && t.bareCommand(text) == "" {
		// "Hallo" from someone new: who the bot is, then the answer. A
		// command ("/start", "check") says it its own way.
		t.Note(t.T("welcome"))
		t.To(ModeIdle) // once: the dialogue has begun
	}
	if strings.HasPrefix(text, "/") {
		t.command(text)
		return
	}
	if cmd := t.bareCommand(text); cmd != "" {
		t.command(cmd)
		return
	}
	d := &t.c.Dialog
	m := t.Mode()
	if m.Claim != nil && m.Claim(t, text) { // "+3" is an offset, not button 3
		m.Text(t, text)
		return
	}
	if n, ok := typedNumber(text); ok && len(d.Options) > 0 {
		if n >= 1 && n <= len(d.Options) {
			t.resolve(d.Options[n-1].Action)
			return
		}
		switch {
		case m.Text == nil && len(d.Options) == 1:
			t.Note(t.T("hint.range.one"))
			t.Ask()
			return
		case m.Text == nil:
			t.Note(t.T("hint.range", "Max", len(d.Options)))
			t.Ask()
			return
		case m.Words:
			t.Note(t.T("hint.range_words"))
			t.Ask()
			return
		}
	}
	if norm := Normalize(text); norm != "" {
		t.labels()
		for _, o := range d.Options {
			if Normalize(o.Label) == norm {
				t.resolve(o.Action)
				return
			}
		}
	}
	if action, ok := t.typedAnswer(text); ok {
		t.resolve(action)
		return
	}
	t.freeText(text)
}

// firstContact reports whether the conversation has never been answered
// with a question, a check or a plan.
func (t *Turn) firstContact() bool {
	c := t.c
	return c.Dialog.Seq == 0 && c.Run == nil && len(c.History) == 0 && len(c.Plan.Measures) == 0
}

// typedAnswer finds the button meant by a typed word that is not its
// label: "back" in any language, what the question itself reads (see
// Mode.Typed), and where free text is no answer, a short form of one label.
func (t *Turn) typedAnswer(text string) (string, bool) {
	d := &t.c.Dialog
	if t.e.words.back[Normalize(text)] {
		if a, ok := t.OptionWith("back"); ok {
			return a, true
		}
	}
	m := t.Mode()
	if m.Typed != nil {
		if a, ok := m.Typed(t, text); ok {
			return a, true
		}
	}
	if m.Text != nil {
		return "", false
	}
	if i := shortForm(d.Options, text); i >= 0 {
		return d.Options[i].Action, true
	}
	return "", false
}

// OptionWith returns the open question's button with the given verb.
func (t *Turn) OptionWith(verb string) (string, bool) {
	for _, o := range t.c.Dialog.Options {
		if parts := strings.SplitN(o.Action, ":", 3); len(parts) >= 2 && parts[1] == verb {
			return o.Action, true
		}
	}
	return "", false
}

// labels renders the open question again when its buttons were read back
// from the store without their labels, so that a typed label finds them.
func (t *Turn) labels() {
	d := &t.c.Dialog
	if len(d.Options) == 0 || d.Options[0].Label != "" || d.Mode == ModeIdle {
		return
	}
	mode := d.Mode
	flat := t.question().Flat()
	d.Mode = mode
	if len(flat) != len(d.Options) {
		return
	}
	for i := range flat {
		if flat[i].Action == d.Options[i].Action {
			d.Options[i].Label = flat[i].Label
		}
	}
}

// resolve runs the action of a button, pressed or chosen by typing.
func (t *Turn) resolve(action string) {
	if strings.HasPrefix(action, "/") {
		t.command(action)
		return
	}
	t.press(action)
}

// Normalize makes labels and typed text comparable: case, emoji and
// punctuation do not matter.
// Every typed answer and many labels go through it on every turn: text
// that is normalized already (a typed "3", "weiter") comes back as it is,
// anything else is written in one pass.
func Normalize(s string) string {
	if normalized(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	gap := false
	for _, r := range s {
		r = unicode.ToLower(r)
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			gap = b.Len() > 0
			continue
		}
		if gap {
			b.WriteByte(' ')
			gap = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// normalized reports whether s is lower-case ASCII letters and digits in
// words separated by single spaces, which Normalize leaves as it is.
func normalized(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == ' ' && i > 0 && i < len(s)-1 && s[i-1] != ' ':
		default:
			return false
		}
	}
	return true
}

func (t *Turn) command(text string) {
	fields := strings.Fields(text)
	name := strings.ToLower(strings.TrimPrefix(fields[0], "/"))
	if i := strings.IndexByte(name, '@'); i >= 0 { // "/check@ampel_bot" in groups
		name = name[:i]
	}
	args := fields[1:]
	if m := t.Mode(); m.Command != nil && m.Command(t, name) {
		return
	}
	c := t.e.reg.cmds[name]
	if c == nil {
		t.Note(t.T("command.unknown", "Command", "/"+name))
		t.Note(t.T("help"))
		t.Reask()
		return
	}
	if c.Main {
		// A new main course: nothing interrupted is to be resumed after it.
		t.c.Dialog.Resume = ""
	}
	c.Run(t, args)
}

// coreCommands are the commands of the core: /start first in the menu,
// /help and /cancel last.
func coreCommands() (first, last []Cmd) {
	return []Cmd{{Name: "start", Main: true, Run: func(t *Turn, args []string) { t.cmdStart(args) }}},
		[]Cmd{{Name: "help", Run: func(t *Turn, _ []string) { t.cmdHelp() }}, {Name: "cancel", Run: func(t *Turn, _ []string) { t.Cancel() }}}
}

// menu is the idle question: the main commands as buttons.
func (t *Turn) menu(text string) Message {
	label := t.T("button.check.start")
	switch {
	case t.c.Run.Finished():
		label = t.T("button.check.result")
	case t.c.Run != nil:
		label = t.T("button.check.continue")
	}
	m := Message{Text: text, Buttons: [][]Button{
		{{Label: label, Action: "/check"}},
		{{Label: t.T("button.plan"), Action: "/plan"}, {Label: t.T("button.help"), Action: "/help"}},
	}}
	t.c.Dialog.Options = m.Flat()
	return m
}

func (t *Turn) cmdStart(args []string) {
	if len(args) > 0 && t.Fire(StartArg) {
		return
	}
	t.c.Dialog = Dialog{Seq: t.c.Dialog.Seq + 1}
	t.Say(t.menu(t.T("welcome")))
}

func (t *Turn) cmdHelp() {
	t.Note(t.T("help"))
	if t.ev.Group {
		// A platform may explain its own rules ("help.group.telegram").
		id := "help.group." + t.ev.Addr.Platform
		if !t.e.texts.Has(t.lang, id) {
			id = "help.group"
		}
		t.Note(t.T(id))
		t.Fire(HelpInGroup)
	}
	t.Reask()
}

// SideTrip remembers the open question before the dialogue turns to
// something else for a moment.
func (t *Turn) SideTrip() {
	d := &t.c.Dialog
	if d.Resume == "" && !t.Mode().SideTrip {
		d.Resume = d.Mode
	}
}

// EndSideTrip goes back to the question a side trip interrupted, if any.
func (t *Turn) EndSideTrip() bool {
	d := &t.c.Dialog
	if d.Resume == "" {
		return false
	}
	mode := d.Resume
	d.Resume = ""
	if t.e.reg.mode(mode).Draft && d.Draft == nil {
		return false // the measure was given up meanwhile
	}
	t.To(mode)
	t.Ask()
	return true
}

// BackFromSideTrip answers "back" on a side trip: the question it
// interrupted, else the menu.
func (t *Turn) BackFromSideTrip() bool {
	if t.EndSideTrip() {
		return true
	}
	t.To(ModeIdle)
	t.Say(t.menu(t.T("hint.idle")))
	return true
}

// BackTo is a Mode.Back that goes back to the question of mode.
func BackTo(mode string) func(t *Turn) bool {
	return func(t *Turn) bool {
		t.To(mode)
		t.Reask()
		return true
	}
}

// Cancel ends whatever is open and shows the menu.
func (t *Turn) Cancel() {
	d := &t.c.Dialog
	switch m := t.Mode(); {
	case d.Mode == ModeIdle:
		t.Note(t.T("cancel.nothing"))
	case m.Cancel != "":
		t.Note(t.T(m.Cancel))
	default:
		t.Note(t.T("cancel.done"))
	}
	*d = Dialog{Seq: d.Seq, Cursor: d.Cursor} // Resume goes too
	t.To(ModeIdle)
	t.Say(t.menu(""))
}

// lastingWord is the word a lasting action starts with ("rv" of
// "rv:3:done"): one before a colon, without digits (a question's buttons
// start with its number).
func lastingWord(action string) (string, bool) {
	word, _, ok := strings.Cut(action, ":")
	return word, ok && word != "" && !strings.ContainsAny(word, "/0123456789")
}

// press handles a button's action "seq:verb[:arg]".
func (t *Turn) press(action string) {
	if word, ok := lastingWord(action); ok {
		if fn := t.e.reg.lasting[word]; fn != nil { // valid whatever is asked
			fn(t, action)
			return
		}
	}
	parts := strings.SplitN(action, ":", 3)
	seq, err := strconv.Atoi(parts[0])
	if err != nil || len(parts) < 2 || seq != t.c.Dialog.Seq {
		t.staleButton()
		t.Reask()
		return
	}
	verb, arg := parts[1], ""
	if len(parts) == 3 {
		arg = parts[2]
	}
	if !t.Offered(action) {
		// A button with the current number that the question never had:
		// forged, or changed on the way. Nothing of it is taken.
		t.staleButton()
		t.Reask()
		return
	}
	m := t.Mode()
	if verb == "back" && m.Back != nil && m.Back(t) {
		return
	}
	if m.Press == nil {
		t.staleButton()
		t.Reask()
		return
	}
	m.Press(t, verb, arg)
}

// Offered reports whether action is one of the open question's buttons, or
// the submission of the form it offered. Every argument a handler reads
// from a pressed action is thereby one the question itself chose.
func (t *Turn) Offered(action string) bool {
	d := &t.c.Dialog
	for _, o := range d.Options {
		if o.Action == action {
			return true
		}
	}
	return t.Mode().Form && action == t.Action("form")
}

// Index reads a button's argument as an index below n.
func Index(arg string, n int) (int, bool) {
	i, err := strconv.Atoi(arg)
	return i, err == nil && i >= 0 && i < n
}

func (t *Turn) freeText(text string) {
	d := &t.c.Dialog
	if text == "" {
		t.Note(t.T("hint.empty"))
		t.Reask()
		return
	}
	switch m := t.Mode(); {
	case m.Text != nil:
		m.Text(t, text)
	case d.Mode == ModeIdle:
		t.Say(t.menu(t.T("hint.idle")))
	default:
		if len(d.Options) <= 1 {
			t.Note(t.TapT("hint.button"))
		} else {
			t.Note(t.TapT("hint.buttons", "Max", len(d.Options)))
		}
		t.Ask()
	}
}
