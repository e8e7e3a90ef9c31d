package bot

// FileAdapter is an Adapter whose platform shows the files of a message
// (Message.Files): a picture in the chat, a document to open. What the
// dialogue makes unasked, the result picture beside the result's text, it
// makes only for conversations on such a platform, as forms are offered
// only where a FormAdapter shows them; the text says it all without.
// Files a user asks for (an export) are sent on any platform.
type FileAdapter interface {
	Adapter
	Files() bool
}

// files reports whether a platform's adapter shows files.
func (e *Engine) files(platform string) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	fa, ok := e.adapters[platform].(FileAdapter)
	return ok && fa.Files()
}

// ShowsFiles reports whether the conversation's platform shows files (see
// FileAdapter).
func (t *Turn) ShowsFiles() bool { return t.e.files(t.c.Addr.Platform) }
