package bot

import (
	"fmt"

	"github.com/ampel-bot/ampel/flows"
	"regexp"
	"strings"
)

// A Feature is one part of the dialogue, in a package of its own under
// bot/ (bot/check, bot/plan, …): the questions it asks, its commands, its
// lasting buttons, what it does when another feature announces something,
// and, for one feature, what reminders say. The engine knows no feature; it
// dispatches through what the features of Config.Features registered.
type Feature struct {
	// Name names the feature in errors.
	Name string
	// Modes are the feature's questions, each a value of Dialog.Mode.
	Modes []Mode
	// Commands are the feature's commands, in menu order.
	Commands []Cmd
	// Lasting handles the feature's buttons that stay valid whatever the
	// dialogue asks next, keyed by the word before their first colon
	// ("rv" for "rv:3:done"); see Lasting.
	Lasting map[string]func(t *Turn, action string)
	// On answers what other features announce with Turn.Fire; true: handled.
	On map[string]func(t *Turn) bool
	// Reminder writes a reminder that fell due: the message, or false when
	// what it reminds of is gone. One feature writes the reminders the
	// core derives from the plan; others name the kinds they write in
	// ReminderKinds.
	Reminder func(t *Turn, r Reminder, late bool) (Message, bool)
	// Makers make files when they are sent (File.Make names one): from
	// the file's Spec alone, with the engine's texts and checks.
	Makers map[string]Maker
	// ReminderKinds are the kinds of Reminder this feature puts into
	// conversations itself (a meeting's): Reminder writes them, and the
	// core keeps them when it derives the plan's reminders anew.
	ReminderKinds []string
	// About names what one of the feature's own reminders is about, for
	// the list /reminders shows (a meeting's title); "" when it cannot
	// say.
	About func(t *Turn, r Reminder) string
	// Personal exports and erases what the feature's records hold about a
	// person (/export, /delete); nil: its records hold nobody.
	Personal *Personal
	// Holidays are the public holidays reminders avoid; one feature at
	// most provides them.
	Holidays Holidays
	// Chores do the feature's timed work, by reminder kind: a Reminder
	// with Chore set, put into any conversation, fires at its Due whatever
	// that conversation's quiet hours, pause or /reminders say, and what
	// its chore returns is sent with its commit (a meeting's counts shown
	// anew in every member's copy once the answers have settled). The
	// chore reads records with Turn.ReadRecord.
	Chores map[string]func(t *Turn, r Reminder) []Outgoing
}

// A Maker makes a file's bytes from its File.Spec.
type Maker func(texts *Texts, catalog *flows.Catalog, spec []byte) ([]byte, error)

// A Mode is one question of the dialogue: how it is asked and what a
// pressed button or a typed answer does there. Only Name is required.
type Mode struct {
	Name string
	// Ask renders the question from stored state alone, so that it can be
	// repeated at any time; false when its data is gone (a flow removed):
	// the idle menu is shown instead.
	Ask func(t *Turn) (Message, bool)
	// Press handles a button of the question, "seq:verb[:arg]", pressed
	// or chosen by typing; the engine has checked that it was offered.
	Press func(t *Turn, verb, arg string)
	// Back handles the "back" button; nil or false: Press gets it.
	Back func(t *Turn) bool
	// Text takes typed text that names none of the buttons as the answer;
	// nil: such text gets a hint to tap a button.
	Text func(t *Turn, text string)
	// Claim reports whether typed text is the answer to Text even though
	// it reads as a button's number ("+3" at the time-zone question).
	Claim func(t *Turn, text string) bool
	// Typed finds the button meant by a typed word that is not its label
	// (a colour while rating).
	Typed func(t *Turn, text string) (action string, ok bool)
	// Command may take a command over while the question is open (a
	// half-entered measure is not thrown away); true: handled.
	Command func(t *Turn, name string) bool
	// Words: Text takes words but not a bare number (a measure called "4"
	// is a slip for a button that is not there).
	Words bool
	// Calm: nothing is being entered, so a side trip need not come back.
	Calm bool
	// Lull: a reminder's buttons may take over what typed numbers pick.
	Lull bool
	// SideTrip: the question is a side trip itself (a language, a time
	// zone), never one to come back to.
	SideTrip bool
	// Draft: the question needs Dialog.Draft; without it, it is not
	// come back to.
	Draft bool
	// Form: the question offers a form, whose submission is "seq:form".
	Form bool
	// Cancel is the text ID /cancel answers with here (default cancel.done).
	Cancel string
}

// Cmd is a command ("/check zo-kmu"). Its words to type without a slash
// are the locales' command.word.<Name>, its line in a platform's command
// menu command.desc.<Name>.
type Cmd struct {
	Name string
	Run  func(t *Turn, args []string)
	// Args: typed as a bare word, it may have arguments after it.
	Args bool
	// Main: a new main course; nothing a side trip interrupted is resumed
	// after it.
	Main bool
}

// registry is what the features registered, looked up on every turn.
type registry struct {
	modes    map[string]*Mode
	cmds     map[string]*Cmd
	names    []string       // commands in menu order
	ref      *regexp.Regexp // the commands named in a text: "/check", "mit /plan"
	lasting  map[string]func(*Turn, string)
	on       map[string][]func(*Turn) bool
	reminder func(*Turn, Reminder, bool) (Message, bool)
	makers   map[string]Maker
	// kinds are the writers of the features' own reminder kinds.
	kinds    map[string]func(*Turn, Reminder, bool) (Message, bool)
	about    map[string]func(*Turn, Reminder) string
	chores   map[string]func(*Turn, Reminder) []Outgoing
	personal []namedPersonal // in the features' order
	holidays Holidays
}

type namedPersonal struct {
	name string
	p    *Personal
}

// newRegistry gathers the features: the core's /start first and /help and
// /cancel last in the command menu, the features' commands between them.
func newRegistry(features []Feature) (*registry, error) {
	r := &registry{modes: map[string]*Mode{}, cmds: map[string]*Cmd{}, lasting: map[string]func(*Turn, string){}, on: map[string][]func(*Turn) bool{}, makers: map[string]Maker{},
		kinds: map[string]func(*Turn, Reminder, bool) (Message, bool){}, about: map[string]func(*Turn, Reminder) string{}, chores: map[string]func(*Turn, Reminder) []Outgoing{}}
	start, end := coreCommands()
	all := append(append([]Feature{{Name: "core", Commands: start}}, features...), Feature{Name: "core", Commands: end})
	for _, f := range all {
		for i := range f.Modes {
			m := &f.Modes[i]
			if _, dup := r.modes[m.Name]; dup || m.Name == ModeIdle {
				return nil, fmt.Errorf("feature %s: mode %q registered twice", f.Name, m.Name)
			}
			r.modes[m.Name] = m
		}
		for i := range f.Commands {
			c := &f.Commands[i]
			if _, dup := r.cmds[c.Name]; dup {
				return nil, fmt.Errorf("feature %s: command /%s registered twice", f.Name, c.Name)
			}
			r.cmds[c.Name] = c
			r.names = append(r.names, c.Name)
		}
		for word, fn := range f.Lasting {
			if _, dup := r.lasting[word]; dup || word == "" || strings.ContainsAny(word, ":/0123456789") {
				return nil, fmt.Errorf("feature %s: lasting actions %q taken or not a word", f.Name, word)
			}
			r.lasting[word] = fn
		}
		for name, fn := range f.On {
			r.on[name] = append(r.on[name], fn)
		}
		for name, mk := range f.Makers {
			if _, dup := r.makers[name]; dup || name == "" || mk == nil {
				return nil, fmt.Errorf("feature %s: file maker %q taken or empty", f.Name, name)
			}
			r.makers[name] = mk
		}
		for _, k := range f.ReminderKinds {
			if _, dup := r.kinds[k]; dup || f.Reminder == nil || k == KindStart || k == KindReview || k == KindRepeat {
				return nil, fmt.Errorf("feature %s: reminder kind %q taken or without a writer", f.Name, k)
			}
			r.kinds[k] = f.Reminder
			if f.About != nil {
				r.about[k] = f.About
			}
		}
		if f.Holidays != nil {
			if r.holidays != nil {
				return nil, fmt.Errorf("feature %s: holidays are provided by another feature", f.Name)
			}
			r.holidays = f.Holidays
		}
		for k, fn := range f.Chores {
			if _, dup := r.chores[k]; dup || fn == nil || r.kinds[k] != nil || k == KindStart || k == KindReview || k == KindRepeat {
				return nil, fmt.Errorf("feature %s: chore %q taken or empty", f.Name, k)
			}
			r.chores[k] = fn
		}
		if f.Personal != nil {
			r.personal = append(r.personal, namedPersonal{f.Name, f.Personal})
		}
		if f.Reminder != nil && len(f.ReminderKinds) == 0 {
			if r.reminder != nil {
				return nil, fmt.Errorf("feature %s: reminders are written by another feature", f.Name)
			}
			r.reminder = f.Reminder
		}
	}
	r.ref = regexp.MustCompile(`(^|[\s(„“"'])/(` + strings.Join(r.names, "|") + `)\b`)
	return r, nil
}

// idleMode is the mode when no question is open: the main menu.
var idleMode = Mode{Calm: true, Lull: true}

// unknownMode stands for a mode no feature registered (one stored by a
// feature since removed): its buttons are stale, its question the menu.
var unknownMode = Mode{}

// mode returns the registered mode called name.
func (r *registry) mode(name string) *Mode {
	if name == ModeIdle {
		return &idleMode
	}
	if m := r.modes[name]; m != nil {
		return m
	}
	return &unknownMode
}
