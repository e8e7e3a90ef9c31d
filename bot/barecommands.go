package bot

import "strings"

// Commands without a slash.
//
// On some platforms no slash command reaches the bot: Mattermost answers
// "/plan" itself ("command not found") unless an admin registered one for
// the bot. There the texts name the commands as words to type („plan“,
// from the locale's command.word.* and command.bare), and the dialogue
// takes those words as commands, in every language the bot speaks
// ("hilfe" and "help" alike):
//
//   - where the open question does not take free text (idle, or a question
//     with buttons), a message that is a command word, with arguments for
//     those that take one ("sprache en", "timezone +3", "check zo-kmu");
//   - where it does (a measure's text, a name, a date, a time zone), only a
//     message that is exactly the word for cancel or help: the ways out
//     the hints name, which nobody means as a measure or a name. "Plan" or
//     "Start" there stay the answer.
//
// In a group or channel the same holds on every platform: what reaches the
// bot there was addressed to it ("@ampel check", the mention cut out by
// the adapter), so "check" is the command, not a word for the menu.

// BareCommander is an Adapter whose platform passes no slash command to
// the bot: its users type the command words without a slash.
type BareCommander interface {
	Adapter
	BareCommands() bool
}

// bare reports whether a platform's users type commands without a slash.
func (e *Engine) bare(platform string) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	bc, ok := e.adapters[platform].(BareCommander)
	return ok && bc.BareCommands()
}

// bareCommand returns the command a message typed without a slash means
// ("/language en" for "Sprache en"), or "" (see the comment above).
func (t *Turn) bareCommand(text string) string {
	// Where slash commands reach the bot, a command word is one still in a
	// group: "@ampel check" (the adapter cut the mention) is said to the
	// bot, as a command.
	if len(text) > 100 || !t.e.bare(t.Platform()) && !t.ev.Group {
		return ""
	}
	fields := strings.Fields(text)
	if len(fields) == 0 || len(fields) > 5 {
		return ""
	}
	name := t.e.commandWord(strings.TrimRight(fields[0], ".!?"))
	switch {
	case name == "":
		return ""
	case len(fields) > 1 && !t.e.reg.cmds[name].Args:
		return "" // "plan b", "help me"
	case t.Mode().Text != nil && (len(fields) > 1 || name != "cancel" && name != "help"):
		return "" // an answer
	}
	return "/" + strings.Join(append([]string{name}, fields[1:]...), " ")
}

// commandWord returns the command a word names in any language, or "".
func (e *Engine) commandWord(word string) string {
	word = strings.ToLower(word)
	for _, lang := range e.texts.Langs() {
		for _, name := range e.reg.names {
			if strings.ToLower(e.texts.T(lang, "command.word."+name)) == word {
				return name
			}
		}
	}
	return ""
}

// commandRefs writes the commands a text names ("/check", "mit /plan") as
// the platform reaches them: "/ampel check" where they are subcommands,
// „check“ where no slash command reaches the bot; elsewhere as they are.
func (e *Engine) commandRefs(platform string, c *Conversation, text string) string {
	if prefix := e.commandPrefix(platform); prefix != "" {
		return e.reg.ref.ReplaceAllString(text, "${1}"+prefix+" ${2}")
	}
	if !e.bare(platform) {
		return text
	}
	lang := e.langOf(c, Event{})
	return e.reg.ref.ReplaceAllStringFunc(text, func(ref string) string {
		m := e.reg.ref.FindStringSubmatch(ref)
		return m[1] + e.texts.T(lang, "command.bare", "Word", e.texts.T(lang, "command.word."+m[2]))
	})
}
