package slack

// Files implements bot.FileAdapter: the adapter sends a message's files,
// so the result picture comes with a check's result.
func (a *Adapter) Files() bool { return true }
