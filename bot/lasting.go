package bot

import "strings"

// Lasting reports whether a button's action stays valid when the dialogue
// asks its next question: a command ("/plan") or a reminder's answer. The
// buttons of a question are valid only while it is the open one; an
// adapter may take them off a question the next one superseded, and keep
// the lasting ones.
func Lasting(action string) bool {
	return strings.HasPrefix(action, "/") || strings.HasPrefix(action, "rv:")
}
