package bot

// SetHoldLimits lowers what the dispatcher holds in memory per chat and per
// platform, so that tests reach what does not fit with a few messages.
func SetHoldLimits(e *Engine, lane, platform int) {
	e.out.mu.Lock()
	defer e.out.mu.Unlock()
	e.out.limits.lane, e.out.limits.msgs = lane, platform
}

// Held is how many messages the dispatcher holds for a platform.
func Held(e *Engine, platform string) int {
	e.out.mu.Lock()
	defer e.out.mu.Unlock()
	if s := e.out.platforms[platform]; s != nil {
		return s.msgs
	}
	return 0
}
