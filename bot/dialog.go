package bot

import (
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/ampel-bot/ampel/flows"
)

// Dialogue modes: which question is open.
const (
	modeIdle      = ""
	modeRate      = "rate"    // rating checkpoint Cursor during the check
	modeRateEdit  = "edit"    // changing the rating of Cursor from the summary
	modeSummary   = "summary" // result shown, plan offered
	modeChange    = "change"  // picking the answer to change
	modeText      = "m-text"  // measure: suggestion or own text
	modeConfirm   = "m-confirm"
	modePriority  = "m-prio"
	modeResp      = "m-resp"
	modeStart     = "m-start"
	modeReview    = "m-review"
	modePlan      = "plan"
	modePick      = "plan-pick" // picking the measure for Op
	modeMove      = "plan-move" // new review date for Target
	modeAddCP     = "plan-add"  // picking the checkpoint of a new measure
	modeLanguage  = "lang"
	modeReminders = "reminders"
	modeZone      = "tz"
	modeSaved     = "m-saved"   // a measure was saved: another one, or on
	modeDrop      = "plan-drop" // confirming that Target is dropped
	modeRepeat    = "repeat"    // confirming a new run of a finished check
	modeDiscard   = "discard"   // confirming that the draft measure goes
	maxMeasureLen = 300
	maxNameLen    = 80
)

// textModes take free text as an answer; elsewhere free text gets a hint.
var textModes = map[string]bool{modeText: true, modeConfirm: true, modeResp: true, modeStart: true, modeReview: true, modeMove: true, modeZone: true}

// wordModes take free text but not a bare number: a measure or a person
// called "4" is a slip for a button that is not there, and taking it would
// put "Responsible: 4" in the plan.
var wordModes = map[string]bool{modeText: true, modeConfirm: true, modeResp: true}

// turn is the work of one event on one conversation.
type turn struct {
	e     *Engine
	c     *Conversation
	ev    Event
	lang  string
	today time.Time
	notes []string
	out   []Message
}

// staleButton answers a tap on a button of an earlier question, and
// counts it (metrics).
func (t *turn) staleButton() {
	t.e.observe().Refused(t.ev.Addr.Platform, RefusedStale)
	t.note(t.T("hint.stale"))
}

func (e *Engine) step(c *Conversation, ev Event) []Message {
	now := e.clock.Now()
	if ev.LangHint != "" {
		c.Hint = ev.LangHint
	}
	if ev.ZoneHint != "" {
		c.ZoneHint = ev.ZoneHint
	}
	t := &turn{e: e, c: c, ev: ev, lang: e.langOf(c, ev), today: dayOf(now, e.zoneOf(c))}
	t.handle(now)
	if len(t.notes) > 0 { // a note without a question still reaches the user
		t.say(Message{})
	}
	return t.out
}

func (t *turn) T(id string, kv ...any) string { return t.e.texts.T(t.lang, id, kv...) }

// tapT is T for a text that asks to tap a button: where buttons are typed
// (bot.Typer), its ".typed" variant asks for the number instead.
func (t *turn) tapT(id string, kv ...any) string {
	if t.e.typed(t.c.Addr.Platform) {
		id += ".typed"
	}
	return t.T(id, kv...)
}

func (t *turn) N(id string, n int, kv ...any) string { return t.e.texts.N(t.lang, id, n, kv...) }

func (t *turn) note(s string) { t.notes = append(t.notes, s) }

// say sends m with the pending notes in front of its text.
func (t *turn) say(m Message) {
	parts := append(t.notes, m.Text)
	t.notes = nil
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	m.Text = strings.Join(kept, "\n\n")
	t.out = append(t.out, m)
}

// to moves the dialogue to a new question. Buttons of earlier questions
// become stale.
func (t *turn) to(mode string) {
	t.c.Dialog.Mode = mode
	t.c.Dialog.Seq++
}

func (t *turn) action(verb string, args ...string) string {
	return strings.Join(append([]string{strconv.Itoa(t.c.Dialog.Seq), verb}, args...), ":")
}

// ask sends the open question with its buttons and remembers the buttons, so
// that a typed number or label finds them.
func (t *turn) ask() {
	m := t.question()
	t.c.Dialog.Options = m.Flat()
	t.say(m)
}

func (t *turn) flow() *flows.Flow {
	if t.c.Run == nil {
		return nil
	}
	f, _ := t.e.flows.Get(t.c.Run.Flow)
	return f
}

func (t *turn) handle(now time.Time) {
	ev := t.ev
	if ev.Action != "" {
		if strings.HasPrefix(ev.Action, "/") {
			t.command(ev.Action)
			return
		}
		t.press(ev.Action, now)
		return
	}
	if len(ev.Text) > maxInput { // cut, it would be taken for what nobody wrote
		t.note(t.T("hint.toolong_input"))
		t.reask()
		return
	}
	text := cleanInput(ev.Text)
	if t.firstContact() && !strings.HasPrefix(text, "/") && t.bareCommand(text) == "" {
		// "Hallo" from someone new: who the bot is, then the answer. A
		// command ("/start", "check") says it its own way.
		t.note(t.T("welcome"))
		t.to(modeIdle) // once: the dialogue has begun
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
	if t.zoneTyped(text) { // "+3" is an offset, not button 3
		t.setZone(text)
		return
	}
	if n, ok := typedNumber(text); ok && len(d.Options) > 0 {
		if n >= 1 && n <= len(d.Options) {
			t.resolve(d.Options[n-1].Action, now)
			return
		}
		switch {
		case !textModes[d.Mode] && len(d.Options) == 1:
			t.note(t.T("hint.range.one"))
			t.ask()
			return
		case !textModes[d.Mode]:
			t.note(t.T("hint.range", "Max", len(d.Options)))
			t.ask()
			return
		case wordModes[d.Mode]:
			t.note(t.T("hint.range_words"))
			t.ask()
			return
		}
	}
	if norm := normalize(text); norm != "" {
		t.labels()
		for _, o := range d.Options {
			if normalize(o.Label) == norm {
				t.resolve(o.Action, now)
				return
			}
		}
	}
	if action, ok := t.typedAnswer(text); ok {
		t.resolve(action, now)
		return
	}
	t.freeText(text, now)
}

// firstContact reports whether the conversation has never been answered
// with a question, a check or a plan.
func (t *turn) firstContact() bool {
	c := t.c
	return c.Dialog.Seq == 0 && c.Run == nil && len(c.History) == 0 && len(c.Plan.Measures) == 0
}

// typedAnswer finds the button meant by a typed word that is not its
// label: "back" in any language, a colour or its emoji while rating, and
// where free text is no answer, a short form of one label.
func (t *turn) typedAnswer(text string) (string, bool) {
	d := &t.c.Dialog
	if t.e.words.back[normalize(text)] {
		if a, ok := t.optionWith("back"); ok {
			return a, true
		}
	}
	if d.Mode == modeText {
		if a, ok := t.typedSuggestion(text); ok {
			return a, true
		}
	}
	if d.Mode == modeText && t.e.words.none[normalize(text)] {
		// "keine" is no measure's text: the one answer with a fixed word.
		if a, ok := t.optionWith("skip"); ok {
			return a, true
		}
	}
	if f := t.flow(); f != nil && (d.Mode == modeRate || d.Mode == modeRateEdit) {
		if l, ok := t.e.words.level(f.Scale, text); ok {
			if a := t.action("r", l); t.offered(a) {
				return a, true
			}
		}
	}
	if textModes[d.Mode] {
		return "", false
	}
	if i := shortForm(d.Options, text); i >= 0 {
		return d.Options[i].Action, true
	}
	return "", false
}

// typedSuggestion finds the suggestion whose whole text was typed (or
// pasted): where the buttons are its number, the label no longer matches.
func (t *turn) typedSuggestion(text string) (string, bool) {
	d := &t.c.Dialog
	if d.Draft == nil {
		return "", false
	}
	f, ok := t.e.flows.Get(d.Draft.Flow)
	if !ok {
		return "", false
	}
	cp, _ := t.checkpoint(f, d.Draft.Checkpoint)
	norm := normalize(text)
	for i, s := range cp.Suggestions {
		if normalize(t.T(f.SuggestionID(cp, s))) == norm {
			if a := t.action("sg", strconv.Itoa(i)); t.offered(a) {
				return a, true
			}
		}
	}
	return "", false
}

// optionWith returns the open question's button with the given verb.
func (t *turn) optionWith(verb string) (string, bool) {
	for _, o := range t.c.Dialog.Options {
		if parts := strings.SplitN(o.Action, ":", 3); len(parts) >= 2 && parts[1] == verb {
			return o.Action, true
		}
	}
	return "", false
}

// meInGroup turns "me" in a group into the person who said it: "me" would
// read as the bot, or as whoever reads the reminder.
func (t *turn) meInGroup(m *Measure) {
	if !t.ev.Group || !m.Me {
		return
	}
	m.ResponsibleUser = t.ev.Addr.User
	if name := cleanInput(t.ev.UserName); name != "" && runeLen(name) <= maxNameLen {
		m.Me, m.Responsible = false, name
	}
}

// labels renders the open question again when its buttons were read back
// from the store without their labels, so that a typed label finds them.
func (t *turn) labels() {
	d := &t.c.Dialog
	if len(d.Options) == 0 || d.Options[0].Label != "" || d.Mode == modeIdle {
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

// resolve runs the action of a button chosen by typing.
func (t *turn) resolve(action string, now time.Time) {
	if strings.HasPrefix(action, "/") {
		t.command(action)
		return
	}
	t.press(action, now)
}

// normalize makes labels and typed text comparable: case, emoji and
// punctuation do not matter.
func normalize(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ")
}

func (t *turn) command(text string) {
	fields := strings.Fields(text)
	name := strings.ToLower(strings.TrimPrefix(fields[0], "/"))
	if i := strings.IndexByte(name, '@'); i >= 0 { // "/check@ampel_bot" in groups
		name = name[:i]
	}
	args := fields[1:]
	if t.drafting() {
		// A half-entered measure is never thrown away by a command: the
		// side trips come back to it, the rest asks to finish it first.
		switch name {
		case "check", "plan", "start":
			t.note(t.T("measure.unfinished"))
			t.ask()
			return
		case "reminders":
			t.sideTrip()
			t.to(modeReminders)
			t.ask()
			return
		case "cancel":
			t.c.Dialog.Resume = t.c.Dialog.Mode
			t.to(modeDiscard)
			t.ask()
			return
		}
	}
	switch name {
	case "start", "check", "plan", "reminders":
		// A new main course: nothing interrupted is to be resumed after it.
		t.c.Dialog.Resume = ""
	}
	switch name {
	case "start":
		t.cmdStart()
	case "check":
		arg := ""
		if len(args) > 0 {
			arg = strings.ToLower(args[0])
		}
		t.cmdCheck(arg)
	case "plan":
		t.c.Dialog.Draft, t.c.Dialog.Queue, t.c.Dialog.Return = nil, nil, ""
		t.to(modePlan)
		t.ask()
	case "language":
		t.cmdLanguage(args)
	case "help":
		t.note(t.T("help"))
		if t.ev.Group {
			// A platform may explain its own rules ("help.group.telegram").
			id := "help.group." + t.ev.Addr.Platform
			if !t.e.texts.Has(t.lang, id) {
				id = "help.group"
			}
			t.note(t.T(id))
		}
		t.reask()
	case "cancel":
		t.cmdCancel()
	case "reminders":
		t.to(modeReminders)
		t.ask()
	case "timezone":
		t.cmdTimezone(args)
	default:
		t.note(t.T("command.unknown", "Command", "/"+name))
		t.note(t.T("help"))
		t.reask()
	}
}

// drafting reports whether a measure is being entered.
func (t *turn) drafting() bool {
	d := &t.c.Dialog
	return d.Draft != nil && measureModes[d.Mode]
}

// reask repeats the open question, or offers the main commands when none is open.
func (t *turn) reask() {
	if t.c.Dialog.Mode == modeIdle {
		t.say(t.menu(""))
		return
	}
	t.ask()
}

// menu is the idle question: the main commands as buttons.
func (t *turn) menu(text string) Message {
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

func (t *turn) cmdStart() {
	t.c.Dialog = Dialog{Seq: t.c.Dialog.Seq + 1}
	t.say(t.menu(t.T("welcome")))
}

func (t *turn) cmdCheck(id string) {
	all := t.e.flows.All()
	var f *flows.Flow
	if id != "" {
		var ok bool
		if f, ok = t.e.flows.Get(id); !ok {
			t.note(t.T("check.unknown", "ID", id))
		}
	}
	r := t.c.Run
	if r != nil && !r.Finished() && (f == nil || f.ID == r.Flow) {
		if fl := t.flow(); fl != nil {
			t.note(t.T("check.resume", "Rated", len(r.Ratings), "Total", len(fl.Checkpoints)))
			t.resumeCursor(fl)
			t.to(modeRate)
			t.ask()
			return
		}
	}
	if r != nil && !r.Finished() && f != nil && f.ID != r.Flow {
		t.note(t.T("check.busy", "Title", t.T(r.Flow+".title")))
		t.to(modeRate)
		t.ask()
		return
	}
	if r.Finished() && t.flow() != nil && (f == nil || f.ID == r.Flow) {
		// A finished check: its result, with the offer to repeat it; from
		// the reminder's button, that offer at once.
		t.c.Dialog.Op = "again"
		t.to(modeSummary)
		if f != nil {
			t.to(modeRepeat)
		}
		t.ask()
		return
	}
	if f == nil {
		if len(all) > 1 {
			t.chooseCheck()
			return
		}
		f = all[0]
	}
	t.startRun(f)
}

// chooseCheck asks which check to start: each with its title and its line
// on whom it is for and how long it takes, the titles as buttons (typed:
// the number or the title). A button starts its check through /check <id>.
func (t *turn) chooseCheck() {
	var b strings.Builder
	b.WriteString(t.T("check.choose"))
	var rows [][]Button
	for _, g := range t.e.flows.All() {
		title := t.T(g.TitleID())
		b.WriteString("\n\n" + title + "\n" + t.T(g.SummaryID()))
		rows = append(rows, []Button{{Label: title, Action: "/check " + g.ID}})
	}
	m := Message{Text: b.String(), Buttons: rows}
	t.to(modeIdle)
	t.c.Dialog.Options = m.Flat()
	t.say(m)
}

func (t *turn) startRun(f *flows.Flow) {
	if t.c.Run != nil && t.c.Run.Finished() {
		t.c.History = append(t.c.History, *t.c.Run)
	}
	t.c.Run = &Run{Flow: f.ID, Version: f.Version, Started: t.e.clock.Now().UTC(), Ratings: map[string]string{}}
	t.otherLangNote(f)
	t.note(t.T("check.intro", "Title", t.T(f.TitleID()), "Goal", t.T(f.GoalID()), "Intro", t.T(f.IntroID())))
	t.c.Dialog.Cursor = 0
	t.to(modeRate)
	t.ask()
}

// calm modes are those a side trip need not come back to: nothing is being
// entered there.
var calm = map[string]bool{modeSaved: true, modeIdle: true, modePlan: true, modeSummary: true, modeReminders: true, modeLanguage: true, modeZone: true}

// sideTrip remembers the open question before the dialogue turns to
// something else for a moment.
func (t *turn) sideTrip() {
	d := &t.c.Dialog
	if d.Resume == "" && d.Mode != modeLanguage && d.Mode != modeZone && d.Mode != modeMove {
		d.Resume = d.Mode
	}
}

// endSideTrip goes back to the question a side trip interrupted, if any.
func (t *turn) endSideTrip() bool {
	d := &t.c.Dialog
	if d.Resume == "" {
		return false
	}
	mode := d.Resume
	d.Resume = ""
	if measureModes[mode] && d.Draft == nil {
		return false // the measure was given up meanwhile
	}
	t.to(mode)
	t.ask()
	return true
}

// measureModes are the questions of entering a measure, which need a draft.
var measureModes = map[string]bool{modeText: true, modeConfirm: true, modePriority: true, modeResp: true, modeStart: true, modeReview: true}

func (t *turn) cmdLanguage(args []string) {
	if len(args) > 0 {
		want := strings.Join(args, " ")
		if l, ok := t.e.vocab.language(want); ok {
			t.setLanguage(l)
			return
		}
		t.note(t.T("language.unknown", "Lang", short(want, 40), "Known", strings.Join(t.e.texts.Langs(), ", ")))
	}
	t.sideTrip()
	t.to(modeLanguage)
	t.ask()
}

func (t *turn) knownLang(l string) bool {
	for _, k := range t.e.texts.Langs() {
		if k == l {
			return true
		}
	}
	return false
}

func (t *turn) setLanguage(l string) {
	if !t.knownLang(l) { // a forged button
		t.reask()
		return
	}
	t.c.Lang = l
	t.lang = l
	t.note(t.T("language.set"))
	if t.c.Dialog.Mode == modeLanguage {
		if t.endSideTrip() {
			return
		}
		t.to(modeIdle)
	}
	t.reask()
}

func (t *turn) cmdCancel() {
	d := &t.c.Dialog
	switch {
	case d.Mode == modeRate || d.Mode == modeRateEdit:
		t.note(t.T("cancel.check"))
	case d.Mode == modeIdle:
		t.note(t.T("cancel.nothing"))
	default:
		t.note(t.T("cancel.done"))
	}
	*d = Dialog{Seq: d.Seq, Cursor: d.Cursor} // Resume goes too
	t.to(modeIdle)
	t.say(t.menu(""))
}

// press handles a button's action "seq:verb[:arg]".
func (t *turn) press(action string, now time.Time) {
	if strings.HasPrefix(action, "rv:") { // a review reminder's buttons stay valid
		t.reviewAnswer(action)
		return
	}
	parts := strings.SplitN(action, ":", 3)
	seq, err := strconv.Atoi(parts[0])
	if err != nil || len(parts) < 2 || seq != t.c.Dialog.Seq {
		t.staleButton()
		t.reask()
		return
	}
	verb, arg := parts[1], ""
	if len(parts) == 3 {
		arg = parts[2]
	}
	if !t.offered(action) {
		// A button with the current number that the question never had:
		// forged, or changed on the way. Nothing of it is taken.
		t.staleButton()
		t.reask()
		return
	}
	if verb == "back" && t.goBack() {
		return
	}
	switch t.c.Dialog.Mode {
	case modeRate, modeRateEdit:
		t.pressRate(verb, arg, now)
	case modeSummary:
		t.pressSummary(verb)
	case modeChange:
		if i, ok := t.index(arg, len(t.flow().Checkpoints)); ok && verb == "cp" {
			t.c.Dialog.Cursor = i
			t.to(modeRateEdit)
			t.ask()
			return
		}
		t.reask()
	case modeText:
		t.pressText(verb, arg)
	case modeConfirm:
		t.to(modePriority)
		t.ask()
	case modePriority:
		if !contains(Priorities, arg) {
			t.reask()
			return
		}
		t.c.Dialog.Draft.Priority = arg
		t.to(modeResp)
		t.ask()
	case modeResp:
		t.c.Dialog.Draft.Me, t.c.Dialog.Draft.Responsible = true, ""
		t.meInGroup(t.c.Dialog.Draft)
		t.to(modeStart)
		t.ask()
	case modeStart, modeReview, modeMove:
		t.pressDate(arg)
	case modePlan:
		t.pressPlan(verb)
	case modePick:
		id, _ := strconv.Atoi(arg)
		t.pickMeasure(id)
	case modeDrop:
		if m := t.c.Plan.Find(t.c.Dialog.Target); m != nil && m.Status == StatusOpen && verb == "yes" {
			t.settle(m, "drop")
		}
		t.to(modePlan)
		t.ask()
	case modeSaved:
		t.pressSaved(verb)
	case modeRepeat:
		t.startRun(t.flow())
	case modeDiscard:
		t.c.Dialog.Resume = ""
		t.cmdCancel()
	case modeAddCP:
		f := t.planFlow()
		if i, ok := t.index(arg, len(f.Checkpoints)); ok {
			t.c.Dialog.Return = modePlan
			t.beginMeasure(f.Checkpoints[i].ID)
			return
		}
		t.reask()
	case modeLanguage:
		t.setLanguage(arg)
	case modeReminders:
		t.pressReminders(verb)
	case modeZone:
		if i, ok := t.index(arg, len(zoneSuggestions)); ok {
			t.setZone(zoneSuggestions[i])
			return
		}
		t.reask()
	default:
		t.staleButton()
		t.reask()
	}
}

// goBack answers "back" on the questions outside the check: each goes
// one step back, and what was entered so far stays.
func (t *turn) goBack() bool {
	d := &t.c.Dialog
	prev := map[string]string{
		modeConfirm: modeText, modePriority: modeText, modeResp: modePriority,
		modeStart: modeResp, modeReview: modeStart, modeChange: modeSummary,
		modePick: modePlan, modeAddCP: modePlan, modeDrop: modePlan,
		modeRepeat: modeSummary, modeDiscard: d.Resume,
	}
	switch mode := d.Mode; {
	case mode == modeText && d.Return != modePlan:
		// Back from the first measure of the plan being built: the result.
		d.Draft, d.Queue = nil, nil
		t.to(modeSummary)
		if t.flow() == nil {
			t.to(modePlan)
		}
	case prev[mode] != "":
		t.to(prev[mode])
	case mode == modeMove || mode == modeLanguage || mode == modeZone || mode == modeReminders:
		if t.endSideTrip() {
			return true
		}
		if mode == modeMove {
			t.to(modePlan)
			break
		}
		t.to(modeIdle)
		t.say(t.menu(t.T("hint.idle")))
		return true
	default:
		return false
	}
	t.reask()
	return true
}

// offered reports whether action is one of the open question's buttons, or
// the submission of the form it offered. Every argument a handler reads
// from a pressed action is thereby one the question itself chose.
func (t *turn) offered(action string) bool {
	d := &t.c.Dialog
	for _, o := range d.Options {
		if o.Action == action {
			return true
		}
	}
	return d.Mode == modeText && action == t.action("form")
}

func (t *turn) index(arg string, n int) (int, bool) {
	i, err := strconv.Atoi(arg)
	return i, err == nil && i >= 0 && i < n
}

func (t *turn) freeText(text string, now time.Time) {
	d := &t.c.Dialog
	if text == "" {
		t.note(t.T("hint.empty"))
		t.reask()
		return
	}
	switch d.Mode {
	case modeText, modeConfirm:
		if n := runeLen(text); n > maxMeasureLen {
			t.note(t.T("hint.toolong", "Len", n, "Max", maxMeasureLen))
			t.ask()
			return
		}
		d.Draft.Text = text
		t.to(modePriority)
		t.ask()
	case modeResp:
		if n := runeLen(text); n > maxNameLen {
			t.note(t.T("hint.toolong", "Len", n, "Max", maxNameLen))
			t.ask()
			return
		}
		d.Draft.Responsible, d.Draft.Me = text, false
		t.to(modeStart)
		t.ask()
	case modeStart, modeReview, modeMove:
		t.typedDate(text)
	case modeZone:
		t.setZone(text)
	case modeIdle:
		t.say(t.menu(t.T("hint.idle")))
	default:
		if len(d.Options) <= 1 {
			t.note(t.tapT("hint.button"))
		} else {
			t.note(t.tapT("hint.buttons", "Max", len(d.Options)))
		}
		t.ask()
	}
}

// The check.

func (t *turn) pressRate(verb, arg string, now time.Time) {
	f, r, d := t.flow(), t.c.Run, &t.c.Dialog
	if f == nil || r == nil {
		t.cmdCheck("")
		return
	}
	if r.Ratings == nil {
		r.Ratings = map[string]string{}
	}
	cp := f.Checkpoints[d.Cursor]
	switch verb {
	case "r":
		if _, ok := f.Level(arg); !ok {
			t.reask()
			return
		}
		r.Ratings[cp.ID] = arg
		r.Later = remove(r.Later, cp.ID)
		if d.Mode == modeRateEdit {
			t.note(t.T("rate.changed", "Title", t.T(f.CheckpointTitleID(cp)), "Level", t.T(flows.LevelID(f.Scale, arg))))
			t.to(modeSummary)
			t.ask()
			return
		}
		t.advance(now)
	case "ex":
		var lines []string
		for _, s := range cp.Suggestions {
			lines = append(lines, "• "+t.T(f.SuggestionID(cp, s)))
		}
		t.note(t.T("rate.examples", "Title", t.T(f.CheckpointTitleID(cp))) + "\n" + strings.Join(lines, "\n"))
		t.ask()
	case "later":
		r.Later = append(remove(r.Later, cp.ID), cp.ID)
		if len(r.Later) == 1 && t.unratedOutsideLater() == -1 {
			t.note(t.T("rate.last"))
			t.ask()
			return
		}
		t.advance(now)
	case "back":
		if d.Mode == modeRateEdit {
			t.to(modeSummary)
			t.ask()
			return
		}
		if d.Cursor == 0 {
			t.note(t.T("rate.first"))
			t.ask()
			return
		}
		d.Cursor--
		t.to(modeRate)
		t.ask()
	default:
		t.reask()
	}
}

// resumeCursor points the cursor at the checkpoint to continue with: the
// current one if it is still open, else the next open one.
func (t *turn) resumeCursor(f *flows.Flow) {
	d, r := &t.c.Dialog, t.c.Run
	if d.Cursor < 0 || d.Cursor >= len(f.Checkpoints) {
		d.Cursor = 0
	}
	if _, rated := r.Ratings[f.Checkpoints[d.Cursor].ID]; !rated {
		return
	}
	if i := t.unratedOutsideLater(); i >= 0 {
		d.Cursor = i
	} else if len(r.Later) > 0 {
		d.Cursor = f.Index(r.Later[0])
	}
}

func remove(list []string, s string) []string {
	out := list[:0:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

// unratedOutsideLater returns the next checkpoint after the cursor (wrapping)
// that is neither rated nor put off, or -1.
func (t *turn) unratedOutsideLater() int {
	f, r := t.flow(), t.c.Run
	n := len(f.Checkpoints)
	for k := 1; k <= n; k++ {
		i := (t.c.Dialog.Cursor + k) % n
		id := f.Checkpoints[i].ID
		if _, rated := r.Ratings[id]; !rated && !contains(r.Later, id) {
			return i
		}
	}
	return -1
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// advance asks the next open checkpoint: first those not put off, then those
// put off, in the order they were put off; when none is left, the result.
func (t *turn) advance(now time.Time) {
	f, r, d := t.flow(), t.c.Run, &t.c.Dialog
	if i := t.unratedOutsideLater(); i >= 0 {
		d.Cursor = i
		t.to(modeRate)
		t.ask()
		return
	}
	if len(r.Later) > 0 {
		if !contains(r.Later, f.Checkpoints[d.Cursor].ID) || d.Cursor != f.Index(r.Later[0]) {
			t.note(t.N("rate.later", len(r.Later)))
		}
		d.Cursor = f.Index(r.Later[0])
		t.to(modeRate)
		t.ask()
		return
	}
	r.Done = now.UTC()
	d.Op = "" // just finished: no offer to repeat it
	t.to(modeSummary)
	t.ask()
}

func (t *turn) pressSummary(verb string) {
	f, r := t.flow(), t.c.Run
	switch verb {
	case "plan":
		queue := t.needy(f, r)
		t.c.Dialog.Queue = queue
		t.c.Dialog.Prev = ""
		t.c.Dialog.Return = ""
		if len(queue) == 0 {
			t.note(t.T("plan.nothing"))
			t.to(modePlan)
			t.ask()
			return
		}
		// "The urgent ones first" only where the queue has an order of
		// urgency: not on a two-state scale, nor when all are yellow.
		first, _ := f.Level(r.Ratings[queue[0]])
		last, _ := f.Level(r.Ratings[queue[len(queue)-1]])
		if first.Need > last.Need {
			t.note(t.T("plan.begin.urgent", "Count", len(queue)))
		} else {
			t.note(t.N("plan.begin", len(queue)))
		}
		t.beginMeasure(queue[0])
	case "change":
		t.to(modeChange)
		t.ask()
	case "repeat":
		t.to(modeRepeat)
		t.ask()
	case "other":
		t.chooseCheck()
	default:
		t.reask()
	}
}

// needy lists the checkpoints that need action, most urgent first, then in
// the check's order, leaving out those that already have an open measure.
func (t *turn) needy(f *flows.Flow, r *Run) []string {
	has := map[string]bool{}
	for _, m := range t.c.Plan.Open() {
		if m.Flow == f.ID {
			has[m.Checkpoint] = true
		}
	}
	type item struct {
		id        string
		need, pos int
	}
	var items []item
	for i, cp := range f.Checkpoints {
		l, _ := f.Level(r.Ratings[cp.ID])
		if l.Need > 0 && !has[cp.ID] && !contains(r.NoMeasure, cp.ID) {
			items = append(items, item{cp.ID, l.Need, i})
		}
	}
	sort.SliceStable(items, func(a, b int) bool { return items[a].need > items[b].need })
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.id
	}
	return ids
}
