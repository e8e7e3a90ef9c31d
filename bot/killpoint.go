package bot

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

// Kill points (issue 18, item 1): named places on the way event → commit →
// acknowledgement and outbox → attempt → send → delivered where a crash
// test ends the process, to show that a restart takes over with nothing
// lost and a duplicate only where one cannot be helped. They are compiled
// in always and cost a nil check when no test asks for one.
type KillPoint string

const (
	// KillAfterCommit: an event's change is committed, and whoever gave
	// the event (an adapter, for its platform) has not yet been told.
	KillAfterCommit KillPoint = "after-commit"
	// KillAfterAttempt: a send is recorded as attempted, not yet made.
	KillAfterAttempt KillPoint = "after-attempt"
	// KillAfterAccept: the platform accepted a send, and the message is
	// not yet marked delivered: the one place where a resend shows twice.
	KillAfterAccept KillPoint = "after-accept"
	// KillAfterMark: deliveries are marked in the store.
	KillAfterMark KillPoint = "after-mark"
)

// KillPoints lists every kill point.
var KillPoints = []KillPoint{KillAfterCommit, KillAfterAttempt, KillAfterAccept, KillAfterMark}

// killHook is called at every kill point; nil (always, but in crash tests)
// costs a nil check.
var killHook func(KillPoint)

// passKillPoint is a kill point on the way.
func passKillPoint(p KillPoint) {
	if killHook != nil {
		killHook(p)
	}
}

// KillAt arms a kill point from its spec, the value of AMPEL_KILLPOINT:
// "after-accept:3" ends the process with SIGKILL the third time it passes
// that point. An empty spec arms nothing. Call it before the engine runs.
func KillAt(spec string) error {
	if spec == "" {
		return nil
	}
	name, count, ok := strings.Cut(spec, ":")
	n, err := strconv.Atoi(count)
	if !ok || err != nil || n < 1 {
		return fmt.Errorf("AMPEL_KILLPOINT %q: want <point>:<count>, count ≥ 1", spec)
	}
	point := KillPoint(name)
	known := false
	for _, p := range KillPoints {
		known = known || p == point
	}
	if !known {
		return fmt.Errorf("AMPEL_KILLPOINT %q: no such point (%v)", spec, KillPoints)
	}
	var hits atomic.Int64
	killHook = func(p KillPoint) {
		if p == point && hits.Add(1) == int64(n) {
			die()
		}
	}
	return nil
}

// die ends the process at once, as a crash would: no deferred function
// runs, nothing is flushed.
func die() {
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		_ = p.Kill()
	}
	os.Exit(137)
}
