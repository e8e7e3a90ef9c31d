package bot

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
)

// The outbox dispatcher: how committed messages reach the platforms.
//
// A message is first committed to the store's outbox with the state change
// that caused it. Right after the commit, apply hands the queued messages to
// the dispatcher and returns: whoever called Handle (an adapter's receive
// loop, a webhook request, the reminder scheduler) never waits for a
// platform, and no send happens under a conversation's lock.
//
// The dispatcher keeps a lane per chat (Address.Key()): the chat's
// messages in commit order, sent one at a time. A lane with a message that
// may go now waits in its platform's ready queue, and up to maxRunners
// runners per platform take the ready lanes in turn, one message each
// time, so that a chat with many messages keeps no other waiting. A lane
// that must wait (its platform said so, or a send failed and it backs off)
// is in a timer queue that RunOutbox (or Flush) serves, and holds no
// runner.
//
// Why a small pool of runners per platform, not a goroutine per chat: the
// adapters keep to their platform's limits inside Send, but never wait
// long there: a turn further away than a second and a half (a Telegram
// group over its 20 messages a minute, a Slack channel over its post a
// second) is handed back as *RateLimited, and the chat waits in the timer
// queue. A runner is thus held up by one send for at most that, or for
// the platform's answer, and a platform that does not answer holds up
// only its own runners. Eight runners send faster than Telegram's 30
// messages a second allow at a quarter second a request. A goroutine per
// chat with messages, tried first, parks a goroutine for every chat that
// waits, and cost `ampel bench` (1,000 users) about 1.5 MB more goroutine
// stack at its peak than sending inside Handle did.
//
// Memory is bounded. A lane holds at most laneMax messages, and one
// platform's lanes at most shareMsgs messages of shareBytes in all. What
// does not fit stays in the store only: a chat over its cap (a group that
// sent hundreds of commands) is partial, a platform over its share (down,
// or far behind its limits) is in overflow, and their messages are read
// back in commit order by a scan of the outbox once there is room again.
// A scan that takes all of a chat's or a platform's messages ends its
// state. One busy chat thus never fills its platform's share, and a
// platform that is behind never holds up another. A process starts with
// every platform in overflow, so that the first scan sends what an earlier
// process left before anything newer of the same chat. Messages for a
// platform without an adapter are never held: they wait in the store, and
// nothing waits for them.

const (
	// laneMax bounds the messages a lane holds in memory, shareMsgs and
	// shareBytes those of one platform's lanes.
	laneMax    = 64
	shareMsgs  = 4096
	shareBytes = 16 << 20
	// maxRunners bounds the messages of one platform being sent at once.
	maxRunners = 8
	// scanBatch is how many outbox messages one read of a scan takes at
	// most, scanBytes about how many bytes: a read of 1,024 messages with
	// pictures (60-80 KB each) would bring some 70 MB into memory at once,
	// so a read takes as many as scanBytes holds at the size of the
	// messages read last, at least scanMin. The first read of a scan takes
	// scanMin: it does not know their size yet.
	scanBatch = 1024
	scanBytes = 4 << 20
	scanMin   = 32
	// closeGrace is how long Close lets sends in progress finish before it
	// cuts them short; what is left is in the store for the next start.
	closeGrace = 5 * time.Second
)

// outbox is the dispatcher's state.
type outbox struct {
	mu        sync.Mutex
	lanes     map[chatRef]*lane
	platforms map[string]*share
	known     map[uint64]struct{} // held in a lane (or being sent)
	running   int                 // lanes ready or being sent
	acks      []uint64            // delivered, to be recorded
	acking    bool                // recordDelivered runs
	marking   int                 // deliveries handed to the store whose marks are not yet written
	ackNow    chan struct{}       // asks it not to wait
	scanning  bool                // a scan runs or is about to
	rescan    bool                // another scan was asked for meanwhile
	closed    bool
	retries   retryQueue
	changed   chan struct{} // closed on progress, for Settle; nil if nobody waits
	kick      chan struct{} // wakes RunOutbox
	mine      map[uint64]bool
	live      map[liveKey]LiveRef // what live messages show (see live.go)
	// firstMine is the lowest outbox ID this process committed (0: none
	// yet). IDs grow across restarts, so a message a scan reads below it,
	// or before any commit, was left by an earlier process, which may have
	// sent it just before it stopped.
	firstMine uint64

	limits limits

	scanMu sync.Mutex // one scan at a time
	// commits orders scans against commits with messages: a commit and
	// the enqueue of its messages hold it shared, a scan's read of a batch
	// and its taking of messages hold it exclusively. A scan thus never
	// sees a message whose enqueue is still to come (it would take it,
	// and the enqueue would hold it a second time).
	commits sync.RWMutex
	workers sync.WaitGroup
	ctx     context.Context // the senders'; cancelled by Close
	cancel  context.CancelFunc
}

// limits bound what the dispatcher holds (tests lower them).
type limits struct {
	lane, msgs, bytes int
}

// share is one platform's part of the dispatcher.
type share struct {
	msgs, bytes int
	// overflow says the store may hold messages of this platform that no
	// lane holds; skips counts the messages left to the store since.
	overflow bool
	skips    uint64
	// ready are the lanes with a message to send now, in turn; runners
	// send them, at most maxRunners at once. idle runners wait for wake.
	// later are those whose next message is Low: they are sent when no
	// lane is ready.
	ready, later  []*lane
	runners, idle int
	wake          *sync.Cond
}

// lane is one chat's queue.
// chatRef names a lane's chat: an Address without its user. A struct, not
// Address.Key's string, so that finding a lane builds no string on the
// committing caller's stack (see Engine.compute).
type chatRef struct{ platform, workspace, chat string }

func refOf(a Address) chatRef { return chatRef{a.Platform, a.Workspace, a.chat()} }

// recheck has the messages the lanes hold for the conversations keys
// (erased: the store no longer has them) asked for at the store before
// they are sent, as a scan's are, so that none goes out.
func (o *outbox) recheck(keys []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for ref, l := range o.lanes {
		k := Address{Platform: ref.platform, Workspace: ref.workspace, Chat: ref.chat}.Key()
		if slices.Contains(keys, k) {
			for i := range l.q {
				l.q[i].checked = true
			}
		}
	}
}

type lane struct {
	key      chatRef
	platform string
	q        []held // by ID
	running  bool   // ready or being sent
	retryAt  time.Time
	backoff  time.Duration
	// partial says the store holds messages of this chat that the lane
	// does not; skips counts the messages left to the store since.
	partial bool
	skips   uint64
}

// held is a message in a lane.
type held struct {
	Queued
	size int
	// checked says the message was read by a scan, from a list that may be
	// older than its delivery: the store is asked before it is sent.
	checked bool
	// earlier says an earlier process left it: it may have been sent.
	earlier bool
}

func newOutbox() outbox {
	ctx, cancel := context.WithCancel(context.Background())
	return outbox{
		lanes: map[chatRef]*lane{}, platforms: map[string]*share{}, known: map[uint64]struct{}{},
		kick: make(chan struct{}, 1), ackNow: make(chan struct{}, 1), ctx: ctx, cancel: cancel,
		limits: limits{lane: laneMax, msgs: shareMsgs, bytes: shareBytes},
	}
}

// register gives a platform its share; its messages in the store are read
// by the next scan.
func (o *outbox) register(platform string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.platforms[platform] == nil {
		o.platforms[platform] = &share{overflow: true}
	}
}

func sizeOf(m *Message) int {
	n := 256 + len(m.Text)
	for _, row := range m.Buttons {
		for _, b := range row {
			n += len(b.Label) + len(b.Action)
		}
	}
	for _, f := range m.Files {
		n += len(f.Data)
	}
	return n
}

// room reports whether s can hold a message of size more.
func (o *outbox) room(s *share, size int) bool {
	return s.msgs < o.limits.msgs && (s.bytes+size <= o.limits.bytes || s.msgs == 0)
}

// low reports whether s has room enough again to read back what it left
// to the store: half its messages and half its bytes free. A share full of
// files (pictures, exports) is full by its bytes with few messages; were
// only messages counted, every event and every send would read the whole
// outbox again, to find no room.
func (o *outbox) low(s *share) bool {
	return s.msgs < o.limits.msgs/2 && s.bytes < o.limits.bytes/2
}

// laneFor returns the lane of a chat, made if need be. o.mu is held.
func (o *outbox) laneFor(to Address) *lane {
	key := refOf(to)
	l := o.lanes[key]
	if l == nil {
		l = &lane{key: key, platform: to.Platform}
		o.lanes[key] = l
	}
	return l
}

// warnOverflow is apart from enqueue, as hold is, to keep enqueue's frame
// small: it runs on the stack of every caller waiting for a commit.
//
//go:noinline
func (e *Engine) warnOverflow(platform string) {
	e.log.Warn("outbox: platform far behind; its new messages wait in the store", "platform", platform)
}

// hold puts q into lane l, in ID order. o.mu is held.
//
//go:noinline
func (o *outbox) hold(s *share, l *lane, q *Queued, size int, checked bool) *lane {
	h := held{Queued: *q, size: size, checked: checked}
	i := len(l.q)
	for i > 0 && l.q[i-1].ID > q.ID {
		i--
	}
	l.q = append(l.q, held{})
	copy(l.q[i+1:], l.q[i:])
	l.q[i] = h
	o.known[q.ID] = struct{}{}
	s.msgs++
	s.bytes += size
	return l
}

// index is the position of message id in the lane, or -1.
func (l *lane) index(id uint64) int {
	for i := range l.q {
		if l.q[i].ID == id {
			return i
		}
	}
	return -1
}

// remove takes message id out of the lane.
func (l *lane) remove(id uint64) {
	switch i := l.index(id); {
	case i == 0: // the usual case: the head went out
		l.q[0] = held{}
		l.q = l.q[1:]
	case i > 0:
		l.q = append(l.q[:i], l.q[i+1:]...)
	}
}

// enqueue hands committed messages to the dispatcher. It is called under
// the conversation's lock, right after the commit, so that a chat's
// messages reach their lane in commit order; it never waits for a send.
func (e *Engine) enqueue(queued []Queued) {
	if len(queued) == 0 {
		return
	}
	o := &e.out
	o.mu.Lock()
	defer o.mu.Unlock()
	scan := false
	for i := range queued {
		q := &queued[i]
		if o.firstMine == 0 || q.ID < o.firstMine {
			o.firstMine = q.ID
		}
		s := o.platforms[q.To.Platform]
		if s == nil {
			continue // no adapter: it waits in the store
		}
		if _, dup := o.known[q.ID]; dup {
			continue // a scan was quicker
		}
		size := sizeOf(&q.Msg)
		if !s.overflow && !o.room(s, size) {
			s.overflow = true
			e.warnOverflow(q.To.Platform)
		}
		if s.overflow {
			s.skips++
			scan = scan || o.low(s)
			continue
		}
		l := o.lanes[refOf(q.To)]
		if l != nil && !l.partial && len(l.q) >= o.limits.lane {
			l.partial = true
		}
		if l != nil && l.partial {
			l.skips++
			continue // read back when the lane has room
		}
		if l == nil {
			l = o.laneFor(q.To)
		}
		e.startLocked(o.hold(s, l, q, size, false))
	}
	if scan {
		e.scanLocked()
	}
}

// startLocked hands l to its platform's runners if it has something to
// send now: to an idle one, or to a new one if fewer than maxRunners run.
// o.mu is held.
func (e *Engine) startLocked(l *lane) {
	o := &e.out
	if l.running || o.closed || len(l.q) == 0 || e.clock.Now().Before(l.retryAt) {
		return
	}
	s := o.platforms[l.platform]
	l.running = true
	o.running++
	s.queue(l)
	switch {
	case s.idle > 0:
		s.wake.Signal()
	case s.runners < maxRunners:
		if s.wake == nil {
			s.wake = sync.NewCond(&o.mu)
		}
		s.runners++
		o.workers.Add(1)
		go e.runner(s)
	}
}

// runner is one of a platform's senders: it takes the lanes ready to send
// in turn, one message each time, and waits for more when none is left,
// until the engine closes. Runners are made as needed, up to maxRunners,
// and stay: a goroutine made and ended for every message would cost more.
func (e *Engine) runner(s *share) {
	o := &e.out
	defer o.workers.Done()
	o.mu.Lock()
	defer o.mu.Unlock()
	for {
		for len(s.ready)+len(s.later) == 0 && !o.closed {
			s.idle++
			s.wake.Wait()
			s.idle--
		}
		if o.closed {
			for _, l := range append(s.ready, s.later...) {
				e.stopLocked(l)
			}
			s.ready, s.later = nil, nil
			s.runners--
			return
		}
		l := s.next()
		o.mu.Unlock()
		e.sendNext(l)
		o.mu.Lock()
	}
}

// queue puts l, which has a message to send now, behind the ready lanes,
// or behind the lanes of low priority if that message is Low. o.mu is
// held.
func (s *share) queue(l *lane) {
	if l.q[0].Low {
		s.later = append(s.later, l)
	} else {
		s.ready = append(s.ready, l)
	}
}

// next takes the first ready lane, else the first of low priority. o.mu
// is held.
func (s *share) next() *lane {
	q := &s.ready
	if len(s.ready) == 0 {
		q = &s.later
	}
	l := (*q)[0]
	(*q)[0] = nil
	*q = (*q)[1:]
	return l
}

// stopLocked takes l off the runners: it is empty (and goes, unless the
// store holds more of its messages), waits for a retry, or the engine
// closes. o.mu is held.
func (e *Engine) stopLocked(l *lane) {
	o := &e.out
	l.running = false
	o.running--
	switch {
	case len(l.q) == 0 && !l.partial:
		delete(o.lanes, l.key)
	case len(l.q) == 0:
		// Its messages wait in the store: a scan reads them back.
	case !o.closed:
		heap.Push(&o.retries, retryAt{at: l.retryAt, l: l})
		select {
		case o.kick <- struct{}{}:
		default:
		}
	}
	o.notifyLocked()
}

// sendNext sends the first message of lane l and hands the lane back to the
// runners if it has more to send now.
func (e *Engine) sendNext(l *lane) {
	o := &e.out
	o.mu.Lock()
	if o.closed || len(l.q) == 0 || e.clock.Now().Before(l.retryAt) {
		e.stopLocked(l)
		o.mu.Unlock()
		return
	}
	h := l.q[0]
	superseded := l.supersededInLane()
	o.mu.Unlock()

	res, err := sent, error(nil)
	if !superseded { // else a newer state of the live message follows
		res, err = e.sendHeld(o.ctx, &h)
	}

	o.mu.Lock()
	s := o.platforms[l.platform]
	switch res {
	case sent, skipped:
		l.remove(h.ID)
		if res == sent {
			o.acks = append(o.acks, h.ID) // known until recorded
		} else {
			delete(o.known, h.ID)
		}
		s.msgs--
		s.bytes -= h.size
		l.retryAt, l.backoff = time.Time{}, 0
		if s.overflow && o.low(s) || l.partial && len(l.q) <= o.limits.lane/2 {
			e.scanLocked()
		}
	default:
		h.checked = false
		if i := l.index(h.ID); i >= 0 {
			l.q[i] = h // it may know more now (Attempts, earlier)
		}
		if soon, ok := errors.AsType[*tooSoon](err); ok {
			l.retryAt, err = soon.until, nil // a live message waits its second
			break
		}
		e.stats.retries.Add(1)
		l.retryAt, l.backoff = nextTry(l.backoff, err, e.clock.Now())
	}
	if o.closed || len(l.q) == 0 || e.clock.Now().Before(l.retryAt) {
		e.stopLocked(l)
	} else {
		s.queue(l) // behind the other chats: each gets its turn
	}
	if len(o.acks) > 0 && !o.acking {
		o.acking = true
		o.workers.Add(1)
		go e.recordDelivered()
	}
	o.mu.Unlock()
	if res == retryLater && err != nil && o.ctx.Err() == nil {
		e.log.Warn("send failed; kept in outbox", "platform", l.platform, "ref", KeyHash(Address{Platform: l.key.platform, Workspace: l.key.workspace, Chat: l.key.chat}.Key()), "outbox_id", h.ID, "err", err)
	}
}

// ackDelay is how long deliveries are gathered before they are recorded
// (unless Settle asks for them sooner).
const ackDelay = 20 * time.Millisecond

// recordDelivered records the deliveries noted in o.acks, gathered for
// ackDelay and then in batches, so that the store writes them with the
// commits of that time rather than each on its own. The store returns once
// they are durable; what is delivered meanwhile waits for the next batch.
// A crash before the record sends them again (counted: see send), one
// after it does not (the kill point after the mark). A delivery is recorded
// even when the engine is shutting down: losing the record would send the
// message again after a restart. Until its record is handed over, a
// message stays known, so that no scan of the outbox takes it for one
// still to send; afterwards, Pending leaves it out.
func (e *Engine) recordDelivered() {
	o := &e.out
	defer o.workers.Done()
	t := time.NewTimer(ackDelay)
	select {
	case <-t.C:
	case <-o.ackNow:
		t.Stop()
	case <-o.ctx.Done():
		t.Stop()
	}
	for {
		o.mu.Lock()
		ids := o.acks
		o.acks = nil
		if len(ids) == 0 {
			o.acking = false
			o.notifyLocked()
			o.mu.Unlock()
			return
		}
		// The store returns once the marks are written; waiting for that
		// here would keep this loop busy while more deliveries come, and
		// each would then take a write of its own (a lone user's commits
		// would queue behind a write per reply). So the wait is on its
		// own, and what comes meanwhile waits ackDelay for the next batch.
		o.marking++
		o.mu.Unlock()
		o.workers.Add(1)
		go func(ids []uint64) {
			defer o.workers.Done()
			if err := e.store.Delivered(context.WithoutCancel(o.ctx), ids...); err != nil {
				e.log.Warn("mark delivered", "err", err)
			} else {
				passKillPoint(KillAfterMark)
			}
			o.mu.Lock()
			for _, id := range ids {
				delete(o.known, id)
				delete(o.mine, id)
			}
			o.marking--
			o.notifyLocked() // Settle waits for the marks
			o.mu.Unlock()
		}(ids)
	}
}

// notifyLocked wakes whoever waits in Settle. o.mu is held.
func (o *outbox) notifyLocked() {
	if o.changed != nil {
		close(o.changed)
		o.changed = nil
	}
}

type sendResult int

const (
	sent       sendResult = iota // delivered, or dropped for good: record it
	skipped                      // delivered already: nothing to do
	retryLater                   // not now; the lane waits
)

// sendHeld sends one message of a lane.
func (e *Engine) sendHeld(ctx context.Context, h *held) (sendResult, error) {
	e.mu.RLock()
	a := e.adapters[h.To.Platform]
	e.mu.RUnlock()
	if a == nil {
		return retryLater, errors.New("no adapter")
	}
	if h.checked {
		ok, err := e.store.StillPending(ctx, h.ID)
		if err != nil {
			return retryLater, fmt.Errorf("check outbox: %w", err)
		}
		if !ok {
			return skipped, nil
		}
	}
	if h.Msg.Live != "" {
		if err := e.liveGate(ctx, h); errors.Is(err, errSuperseded) {
			return sent, nil // recorded as delivered: nothing to send
		} else if err != nil {
			return retryLater, err
		}
	}
	err := e.send(ctx, a, h)
	e.observe().Sent(h.To.Platform, SendResult(err)) // metrics hook
	switch {
	case err == nil:
		return sent, nil
	case errors.Is(err, ErrRecipientGone):
		e.dropForGone(ctx, h.To, h.ID)
		return sent, errGone
	}
	return retryLater, err
}

var errGone = errors.New("recipient gone")

// nextTry is when a lane tries again after err: when the platform said,
// else after a back-off doubling from 1 s to 5 min.
func nextTry(backoff time.Duration, err error, now time.Time) (time.Time, time.Duration) {
	if rl, ok := errors.AsType[*RateLimited](err); ok {
		return now.Add(rl.RetryAfter), backoff // the platform said how long; no more, no less
	}
	if backoff == 0 {
		backoff = time.Second
	} else {
		backoff = min(2*backoff, 5*time.Minute)
	}
	return now.Add(backoff), backoff
}

// dropForGone drops a message that can never be delivered instead of
// retrying it forever, and stops the conversation's reminders: a state
// change, made on a goroutine of its own.
func (e *Engine) dropForGone(ctx context.Context, to Address, id uint64) {
	e.stats.undeliverable.Add(1)
	e.log.Warn("recipient gone; message dropped", "platform", to.Platform, "ref", KeyHash(to.Key()), "outbox_id", id)
	e.background(func() { e.recipientGone(context.WithoutCancel(ctx), to, id) })
}

// send delivers one message. A message the bot sends on its own, and any
// message tried before, is first recorded as attempted, durably: after a
// crash, a message with an attempt recorded by an earlier process may have
// reached the platform. A send whose outcome is unknown is recorded as an
// attempt too (a reply's first send is not, to spare a write), so its
// resend is known as well.
//
// A message that may have arrived already is a possible duplicate: an
// adapter that can look (an Arrivals) is asked first, and one found on the
// platform is not sent again; every other one is sent, counted and logged.
// A reply an earlier process left counts so without an attempt recorded:
// that process may have sent it and stopped before marking it delivered
// (delivered marks are gathered for ackDelay). A push without one was not
// sent: its attempt is recorded before.
func (e *Engine) send(ctx context.Context, a Adapter, h *held) error {
	var maybe bool
	switch {
	case h.Push || h.Attempts > 0:
		before, err := e.store.Attempt(ctx, h.ID)
		if err != nil {
			return fmt.Errorf("record attempt: %w", err)
		}
		maybe = !e.out.attempted(h.ID) && before > 0
		passKillPoint(KillAfterAttempt)
	case h.earlier:
		maybe = !e.out.attempted(h.ID)
	}
	if maybe {
		if found := e.arrived(ctx, a, h); found {
			return nil
		}
		e.stats.ambiguous.Add(1)
		e.observeDuplicate(h.To.Platform, DuplicateResent)
		e.log.Warn("resending a message that may have arrived already", "platform", h.To.Platform, "outbox_id", h.ID)
	}
	ctx = WithOutboxID(ctx, h.ID)
	var err error
	if h.Msg.Live != "" {
		err = e.sendLive(ctx, a, h)
	} else if msg, ok := e.madeFiles(h.Msg); ok {
		err = a.Send(ctx, h.To, msg)
	}
	if err == nil {
		passKillPoint(KillAfterAccept)
	}
	if errors.Is(err, ErrUnknownOutcome) {
		if !h.Push && h.Attempts == 0 {
			if _, aerr := e.store.Attempt(context.WithoutCancel(ctx), h.ID); aerr != nil {
				e.log.Warn("record attempt", "err", aerr)
			}
		}
		h.Attempts++
		e.out.unattempted(h.ID) // the retry is as ambiguous as a resend after a crash
	}
	return err
}

// arrived asks an adapter that can look whether a message that may have
// arrived did; an error of the look is logged, and the message is sent.
func (e *Engine) arrived(ctx context.Context, a Adapter, h *held) bool {
	ar, ok := a.(Arrivals)
	if !ok || h.Msg.Live != "" {
		return false // a live message found would need its ref: it is sent (counted)
	}
	found, err := ar.Arrived(WithOutboxID(ctx, h.ID), h.To, h.Msg)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("could not look for an earlier send; sending again", "platform", h.To.Platform, "outbox_id", h.ID, "err", err)
		}
		return false
	}
	if found {
		e.observeDuplicate(h.To.Platform, DuplicateFound)
		e.log.Info("message found delivered by an earlier attempt; not sent again", "platform", h.To.Platform, "outbox_id", h.ID)
	}
	return found
}

func (e *Engine) observeDuplicate(platform, outcome string) {
	if d, ok := e.observe().(DuplicateObserver); ok {
		d.PossibleDuplicate(platform, outcome)
	}
}

// attempted notes that this process tried id, and reports whether it had.
func (o *outbox) attempted(id uint64) (before bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.mine == nil {
		o.mine = map[uint64]bool{}
	}
	before, o.mine[id] = o.mine[id], true
	return before
}

// unattempted makes the next try of id count as a possible duplicate.
func (o *outbox) unattempted(id uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.mine, id)
}

// scanLocked has a scan of the outbox run soon, on a goroutine of its
// own. o.mu is held.
func (e *Engine) scanLocked() {
	o := &e.out
	if o.closed {
		return
	}
	if o.scanning {
		o.rescan = true
		return
	}
	o.scanning = true
	o.workers.Add(1)
	go func() {
		defer o.workers.Done()
		for {
			if err := e.scan(o.ctx); err != nil && o.ctx.Err() == nil {
				e.log.Error("outbox", "err", err)
			}
			o.mu.Lock()
			if !o.rescan || o.closed {
				o.scanning, o.rescan = false, false
				o.notifyLocked()
				o.mu.Unlock()
				return
			}
			o.rescan = false
			o.mu.Unlock()
		}
	}()
}

// scan reads the whole outbox, oldest first, and hands to its lane every
// message that no lane holds of a platform in overflow or a partial chat,
// while there is room. A platform or chat whose messages were all taken,
// with none left to the store during the scan, is back to normal.
func (e *Engine) scan(ctx context.Context) error {
	o := &e.out
	o.scanMu.Lock()
	defer o.scanMu.Unlock()
	// What ran out of room in this scan, and the skips counted before the
	// last read: what was left to the store by then, that read sees.
	fullShare, fullLane := map[*share]bool{}, map[*lane]bool{}
	shareSkips, laneSkips := map[*share]uint64{}, map[*lane]uint64{}
	var after uint64
	limit := scanMin
	for {
		o.commits.Lock()
		o.mu.Lock()
		for _, s := range o.platforms {
			shareSkips[s] = s.skips
		}
		for _, l := range o.lanes {
			if l.partial {
				laneSkips[l] = l.skips
			}
		}
		o.mu.Unlock()
		pending, err := e.store.Pending(ctx, after, limit)
		if err != nil {
			o.commits.Unlock()
			return fmt.Errorf("read outbox: %w", err)
		}
		o.mu.Lock()
		for i := range pending {
			e.scanned(&pending[i], fullShare, fullLane)
		}
		o.commits.Unlock()
		if len(pending) < limit {
			for _, s := range o.platforms {
				if s.overflow && !fullShare[s] && s.skips == shareSkips[s] {
					s.overflow = false
				}
			}
			for _, l := range o.lanes {
				if skips, ok := laneSkips[l]; ok && l.partial && !fullLane[l] && l.skips == skips {
					l.partial = false
					if len(l.q) == 0 && !l.running {
						delete(o.lanes, l.key)
					}
				}
			}
			o.mu.Unlock()
			return nil
		}
		o.mu.Unlock()
		after = pending[len(pending)-1].ID
		limit = scanLimit(pending)
	}
}

// scanLimit is how many messages the next read of a scan takes, at the
// size of those read last (see scanBytes).
func scanLimit(read []Queued) int {
	size := 0
	for i := range read {
		size += sizeOf(&read[i].Msg)
	}
	return min(scanBatch, max(scanMin, scanBytes*len(read)/max(size, 1)))
}

// scanned takes one message a scan read, if it is one left to the store
// and there is room. o.mu is held.
func (e *Engine) scanned(q *Queued, fullShare map[*share]bool, fullLane map[*lane]bool) {
	o := &e.out
	s := o.platforms[q.To.Platform]
	if s == nil || fullShare[s] {
		return // no adapter; no room left in this scan
	}
	l := o.lanes[refOf(q.To)]
	if !s.overflow && (l == nil || !l.partial) || fullLane[l] {
		return // held already, or about to be (or delivered meanwhile)
	}
	if _, ok := o.known[q.ID]; ok {
		return
	}
	size := sizeOf(&q.Msg)
	if !o.room(s, size) {
		fullShare[s] = true
		return
	}
	if l == nil {
		l = o.laneFor(q.To)
	}
	if len(l.q) >= o.limits.lane {
		// The chat's later messages wait for another scan.
		l.partial = true
		fullLane[l] = true
		return
	}
	l = o.hold(s, l, q, size, true)
	if o.firstMine == 0 || q.ID < o.firstMine {
		l.q[l.index(q.ID)].earlier = true
	}
	e.startLocked(l)
}

// startDue starts the lanes whose retry is due. With all, it starts every
// lane that can send now, whatever the timer queue says.
func (e *Engine) startDue(now time.Time, all bool) {
	o := &e.out
	o.mu.Lock()
	defer o.mu.Unlock()
	for o.retries.Len() > 0 && !o.retries[0].at.After(now) {
		e.startLocked(heap.Pop(&o.retries).(retryAt).l)
	}
	if all {
		for _, l := range o.lanes {
			e.startLocked(l)
		}
	}
}

// nextRetry is the earliest instant a waiting lane may try again.
func (o *outbox) nextRetry() (time.Time, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for o.retries.Len() > 0 {
		r := o.retries[0]
		if o.lanes[r.l.key] == r.l && !r.l.running && r.l.retryAt.Equal(r.at) {
			return r.at, true
		}
		heap.Pop(&o.retries) // stale: the lane went on or went away
	}
	return time.Time{}, false
}

// retryQueue is a min-heap of lanes waiting for a retry.
type retryQueue []retryAt

type retryAt struct {
	at time.Time
	l  *lane
}

func (q retryQueue) Len() int           { return len(q) }
func (q retryQueue) Less(i, j int) bool { return q[i].at.Before(q[j].at) }
func (q retryQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *retryQueue) Push(x any)        { *q = append(*q, x.(retryAt)) }
func (q *retryQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// Settle waits until the dispatcher has nothing it could send now for the
// given chats (for every chat if none is given): each message held for them
// is sent, dropped, or waits for a retry, and no scan of the outbox is
// under way. Without chats, it also waits until the deliveries are handed
// to the store, so that its Pending no longer lists them. The console waits this way for its replies before it reads
// the next line; tests, to see what an event caused.
func (e *Engine) Settle(ctx context.Context, chats ...Address) error {
	o := &e.out
	for {
		o.mu.Lock()
		busy := o.scanning && !o.closed
		if len(chats) == 0 {
			busy = busy || o.running > 0 || o.acking || o.marking > 0
		}
		if o.acking && len(chats) == 0 {
			select { // whoever settles wants the store to know
			case o.ackNow <- struct{}{}:
			default:
			}
		}
		for _, c := range chats {
			if l := o.lanes[refOf(c)]; l != nil && l.running {
				busy = true
			}
		}
		if !busy {
			o.mu.Unlock()
			return nil
		}
		if o.changed == nil {
			o.changed = make(chan struct{})
		}
		ch := o.changed
		o.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Flush reads the outbox and sends what is due: messages an earlier
// process left, and those whose retry time has come. It returns once
// nothing more can be sent now (see Settle). Messages for a platform
// without an adapter stay in the store and hold nothing else up.
func (e *Engine) Flush(ctx context.Context) error {
	if err := e.scan(ctx); err != nil {
		return err
	}
	e.startDue(e.clock.Now(), true)
	return e.Settle(ctx)
}

// RunOutbox serves the dispatcher's timers until ctx is done: it reads what
// an earlier process left in the outbox, and starts each lane waiting for a
// retry when its time comes (the platform's retry-after honoured, else a
// back-off per chat). While a lane waits, it looks at least once a second,
// so that a step of the clock is noticed.
func (e *Engine) RunOutbox(ctx context.Context) error {
	e.out.mu.Lock()
	e.scanLocked()
	e.out.mu.Unlock()
	for {
		e.startDue(e.clock.Now(), false)
		wait := 30 * time.Second
		if next, ok := e.out.nextRetry(); ok {
			wait = min(time.Second, max(e.realDuration(next.Sub(e.clock.Now())), 50*time.Millisecond))
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-e.out.kick:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// close stops the dispatcher: no new send starts, sends in progress get
// closeGrace to finish, then they are cut short. Everything not sent is in
// the store for the next start.
func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	o.notifyLocked()
	for _, s := range o.platforms {
		if s.wake != nil {
			s.wake.Broadcast()
		}
	}
	o.mu.Unlock()
	done := make(chan struct{})
	go func() {
		o.workers.Wait()
		close(done)
	}()
	t := time.NewTimer(closeGrace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
	o.cancel()
	<-done
}

// recipientGone switches off the reminders of a conversation whose
// recipient can no longer be reached (blocked the bot, left the group).
func (e *Engine) recipientGone(ctx context.Context, to Address, outboxID uint64) {
	err := e.apply(ctx, to.Key(), "gone:"+strconv.FormatUint(outboxID, 10), func(c *Conversation) ([]Outgoing, error) {
		c.RemindersOff = true
		return nil, nil
	}, nil)
	if err != nil {
		e.log.Warn("switch off reminders of a gone recipient", "ref", KeyHash(to.Key()), "err", err)
	}
}
