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
func (t *Turn) ShowsFiles() bool { return t.e.files(t.Platform()) }

// madeFiles returns m with the bytes of its files that are made when sent
// (File.Make); m itself is not changed, so the outbox keeps the spec, not
// the file. A file its maker cannot make (its check removed, a maker
// dropped) is left out: the text says it all. ok is false when nothing is
// left to send.
func (e *Engine) madeFiles(m Message) (Message, bool) {
	lazy := false
	for _, f := range m.Files {
		lazy = lazy || f.Make != ""
	}
	if !lazy {
		return m, true
	}
	files := make([]File, 0, len(m.Files))
	for _, f := range m.Files {
		if f.Make != "" {
			var mk Maker
			if e.reg != nil {
				mk = e.reg.makers[f.Make]
			}
			if mk == nil {
				e.log.Error("make file: no such maker", "maker", f.Make)
				continue
			}
			if e.drawing != nil {
				e.drawing <- struct{}{}
			}
			data, err := mk(e.texts, e.flows, f.Spec)
			if e.drawing != nil {
				<-e.drawing
			}
			if err != nil {
				e.log.Error("make file", "maker", f.Make, "err", err)
				continue
			}
			f = File{Name: f.Name, MIME: f.MIME, Data: data}
		}
		files = append(files, f)
	}
	m.Files = files
	return m, m.Text != "" || len(files) > 0
}
