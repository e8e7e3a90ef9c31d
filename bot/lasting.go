package bot

import "strings"

// Lasting reports whether a button's action stays valid when the dialogue
// asks its next question: a command ("/plan") or a feature's lasting
// button, whose action starts with a word of its own ("rv:3:done", see
// Feature.Lasting). The buttons of a question are valid only while it is
// the open one; an adapter may take them off a question the next one
// superseded, and keep the lasting ones.
func Lasting(action string) bool {
	_, lasting := lastingWord(action)
	return strings.HasPrefix(action, "/") || lasting
}
