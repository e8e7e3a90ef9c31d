// Package store keeps Ampel's state in one bbolt file. It is the only package
// that knows bbolt.
//
// Every inbound event is committed in one transaction holding its dedupe key,
// the conversation's new state and the replies it caused, fsynced before any
// reply leaves. Commits of many conversations are grouped: one writer
// goroutine takes whatever is waiting, writes it in one transaction and one
// fsync, and only then releases each caller. That keeps every turn durable
// while the disk's fsync rate stops being the turn rate.
package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ampel-bot/ampel/bot"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

var (
	bucketMeta = []byte("meta")
	// bucketConvs maps a conversation's key to its state (compressed JSON,
	// see record.go), and key + NUL to its reminder keys and the IDs of its
	// recent events (the inbox, see inbox.go). The inbox sorts
	// right after its conversation, so remembering an event usually dirties
	// the page the state change dirties anyway: one random page per turn.
	bucketConvs  = []byte("conversations")
	bucketOutbox = []byte("outbox") // sequence -> outgoing message
	// bucketAttempts counts the recorded send attempts of outbox messages.
	bucketAttempts = []byte("outbox-attempts")
	// bucketDue is the reminder index: due instant (8 bytes, big-endian Unix
	// nanoseconds) + conversation key + NUL + reminder ID. Keys sort by time,
	// so the scheduler reads only what is due.
	bucketDue = []byte("due")
	keySchema = []byte("schema")
)

// ErrLocked is returned by Open when another process holds the database.
var ErrLocked = errors.New("database is in use by another process")

// Options tune Open.
type Options struct {
	// LockTimeout is how long Open waits for another process to let go of the file.
	LockTimeout time.Duration
	// InboxRetention is how long event IDs are remembered for deduplication
	// (up to inboxMax per conversation) when Redelivery does not say.
	InboxRetention time.Duration
	// Redelivery is, by platform name, how long that platform may deliver
	// an event again: its event IDs (which the engine commits as
	// "platform:ID") are remembered that long. See inbox.go.
	Redelivery map[string]time.Duration
	// Now is the clock used to stamp and prune the inbox.
	Now func() time.Time
	// Log receives what the store does on its own: records set aside.
	Log *slog.Logger
	// OnCommit, when set, hears how long each of the writer's transactions
	// took, durable write included (for metrics).
	OnCommit func(time.Duration)
}

// DB is the bbolt-backed store.
type DB struct {
	db   *bolt.DB
	path string
	opts Options

	reqs   chan *commitReq
	acks   chan ackReq
	wg     sync.WaitGroup
	closed chan struct{}
	once   sync.Once
	// gate orders sends to the writer against Close: senders hold it shared,
	// Close takes it exclusively to set shut, so no send can slip in after
	// the writer has drained and gone.
	gate sync.RWMutex
	shut bool

	jobs chan func() // encoding work, done by one worker per CPU

	scratch recScratch // the writer's, for bookkeeping records

	// acked holds outbox IDs whose removal is on its way to disk; Pending
	// leaves them out, so nothing delivered is offered for sending again.
	ackMu sync.Mutex
	acked map[uint64]struct{}
	// unwritten holds removals whose transaction failed (a full disk): the
	// writer's, written with the next commit that succeeds.
	unwritten []uint64

	log        *slog.Logger
	setAsideN  atomic.Int64
	outboxGaps atomic.Bool // logged once
	ages       outboxAges
	// writeHook, when set (by tests), runs at the start of every write
	// transaction with key "", and before each conversation's write with
	// its key: an error fails the transaction, as a full disk would; a
	// panic is what bbolt does on a damaged page.
	writeHook func(key string) error
}

var _ bot.Store = (*DB)(nil)

type commitReq struct {
	// attempt, when set, asks to record a send attempt of that outbox message
	// instead of a commit; attempts is then the count before it.
	attempt  uint64
	attempts int

	eventID, key string
	// batch, when set, makes this a bot.Batch (see batch.go); live, a
	// record of where a live message is shown (see live.go).
	batch *batchReq
	live  *liveReq
	// from, when set, is a conversation that continues as key (a Telegram
	// group that became a supergroup): it is removed in the same commit.
	from string
	// due is the conversation's keys in the reminder index, as its
	// bookkeeping record lists them (see dueList).
	due    []byte
	conv   []byte
	arch   []archiveEntry
	outs   [][]byte
	msgs   []bot.Outgoing
	queued []bot.Queued
	err    error
	done   chan struct{}
	// vals, when set, holds conv and outs: a buffer from valueBufs,
	// given back when the writer answers (see answer).
	vals *[]byte
}

// valueBufs recycles the buffers a commit's state and messages are encoded
// into. bbolt reads them only until the transaction that writes them ends
// (it copies them into its pages), and nothing else keeps them, so the
// writer gives each back once it has answered its request.
var valueBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledVals bounds a buffer kept in valueBufs: a message with a file
// may be large, and is rare; and a request holds its pooled buffer while
// it waits for the writer, so a large one kept would pin its size for
// every turn in flight (384 × 64 KB), where a turn's state and messages
// take a few KB.
const maxPooledVals = 16 << 10

// answer ends the writer's work on r: its values' buffer goes back to
// valueBufs, and its caller is told (r.done).
func (r *commitReq) answer() {
	if r.vals != nil {
		if cap(*r.vals) <= maxPooledVals {
			valueBufs.Put(r.vals)
		}
		r.vals, r.conv, r.outs = nil, nil, nil
	}
	close(r.done)
}

// Open opens or creates the database at path, upgrades its schema and starts
// the writer. A second process on the same file gets ErrLocked after
// LockTimeout instead of hanging.
func Open(path string, opts Options) (*DB, error) {
	return open(path, opts, migrations)
}

func open(path string, opts Options, migs []migration) (*DB, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = 2 * time.Second
	}
	if opts.InboxRetention <= 0 {
		opts.InboxRetention = 8 * 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	opts.Redelivery = maps.Clone(opts.Redelivery)
	bdb, err := openBolt(path, &bolt.Options{
		Timeout:      opts.LockTimeout,
		FreelistType: bolt.FreelistMapType,
		// The freelist is written by every commit (NoFreelistSync false):
		// rebuilding it on open walks every page, 4.8 s for a file of a
		// million reminders read cold, against ~1 ms with it kept.
		// Mapping ahead means the file rarely needs remapping as it grows,
		// and a remap waits for every reader.
		InitialMmapSize: 256 << 20,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w (waited %s; is another ampel running?)", path, ErrLocked, opts.LockTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := safely(func() error { return migrate(bdb, migs) }); err != nil {
		bdb.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &DB{db: bdb, path: path, opts: opts, log: opts.Log, reqs: make(chan *commitReq, 4096), acks: make(chan ackReq, 1024), closed: make(chan struct{}), jobs: make(chan func()), acked: map[uint64]struct{}{}}
	s.ages.load(bdb, opts.Now())
	s.wg.Add(1)
	go s.writer()
	for range runtime.GOMAXPROCS(0) {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for {
				select {
				case job := <-s.jobs:
					job()
				case <-s.closed:
					return
				}
			}
		}()
	}
	return s, nil
}

// Close stops the writer after it has written what it was given, and closes
// the file. It is safe to call more than once.
func (s *DB) Close() error {
	var err error
	s.once.Do(func() {
		s.gate.Lock()
		s.shut = true
		s.gate.Unlock()
		close(s.closed)
		s.wg.Wait()
		err = s.db.Close()
	})
	return err
}

// Path returns the file the store lives in.
func (s *DB) Path() string { return s.path }

// Load implements bot.Store. A record that does not decode, or whose page
// cannot be read, is set aside (see quarantine.go) and reported as
// bot.ErrDamaged until a commit replaces it.
func (s *DB) Load(ctx context.Context, key string) (*bot.Conversation, error) {
	c := &bot.Conversation{}
	var bad []byte
	var badErr error
	held := false
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketConvs).Get([]byte(key))
		if v == nil {
			held = isHeld(tx, key)
			return nil
		}
		if err := decodeConversation(v, c); err != nil {
			bad, badErr = bytes.Clone(v), err
		}
		return nil
	})
	switch {
	case errors.Is(err, bot.ErrDamaged):
		return nil, s.setAside(key, nil, err)
	case err != nil:
		return nil, fmt.Errorf("load %s: %w", key, err)
	case badErr != nil:
		return nil, s.setAside(key, bad, badErr)
	case held:
		return nil, fmt.Errorf("load %s: %w (set aside)", key, bot.ErrDamaged)
	}
	return c, nil
}

// Seen implements bot.Store.
func (s *DB) Seen(ctx context.Context, key, eventID string) (bool, error) {
	var seen bool
	err := s.view(func(tx *bolt.Tx) error {
		var sc recScratch
		_, inbox := splitRecord(sc.open(tx.Bucket(bucketConvs).Get(recordKey(key))))
		seen = inboxHas(inbox, eventID)
		return nil
	})
	return seen, err
}

func recordKey(key string) []byte {
	return []byte(key + "\x00")
}

// Commit implements bot.Store. It returns after the transaction holding the
// event is fsynced, together with every other commit waiting at that moment.
func (s *DB) Commit(ctx context.Context, eventID, key string, conv *bot.Conversation, outs []bot.Outgoing) ([]bot.Queued, error) {
	r, encode, err := s.commitReq(eventID, key, "", conv, outs)
	if err != nil {
		return nil, err
	}
	return s.run(ctx, r, encode)
}

// Move implements bot.Store.
func (s *DB) Move(ctx context.Context, eventID, from, to string, conv *bot.Conversation) error {
	if from == "" || strings.IndexByte(from, 0) >= 0 {
		return fmt.Errorf("move: bad key")
	}
	r, encode, err := s.commitReq(eventID, to, from, conv, nil)
	if err != nil {
		return err
	}
	_, err = s.run(ctx, r, encode)
	return err
}

// commitReq makes the request of a commit and the encoding it needs. It
// returns before the caller waits, so that its frame is not under the wait
// (see run).
//
//go:noinline
func (s *DB) commitReq(eventID, key, from string, conv *bot.Conversation, outs []bot.Outgoing) (*commitReq, func() error, error) {
	if eventID == "" || key == "" || len(eventID)+len(key) >= bolt.MaxKeySize || strings.IndexByte(key, 0) >= 0 {
		// Refused here: inside the shared transaction it would fail the
		// whole batch, other users' turns included.
		return nil, nil, fmt.Errorf("commit: event ID and key must be non-empty, short, and the key without NUL")
	}
	r := &commitReq{eventID: eventID, key: key, from: from, msgs: outs, done: make(chan struct{})}
	return r, func() error {
		// The values go into one buffer from valueBufs, each in a slice
		// of its own length: a slice made before the buffer grew stays
		// in the array it was written to.
		vals := valueBufs.Get().(*[]byte)
		buf := (*vals)[:0]
		if len(outs) > 0 {
			r.outs = make([][]byte, 0, len(outs))
		}
		for _, o := range outs {
			start := len(buf)
			buf = appendOutgoing(buf, o)
			r.outs = append(r.outs, buf[start:len(buf):len(buf)])
		}
		*vals, r.vals = buf, vals
		if conv == nil {
			return nil // the stored state stays as it is
		}
		start := len(buf)
		buf, err := appendConversation(buf, conv)
		if err != nil {
			return err
		}
		r.conv = buf[start:len(buf):len(buf)]
		*vals = buf
		if r.arch, err = encodeArchive(key, conv.Archive); err != nil {
			return err
		}
		r.due = dueList(key, conv)
		return nil
	}, nil
}

// run has encode run on the store's workers, one per CPU, for the same
// reasons as the engine's computing (the writer is not starved, and
// waiting callers keep small stacks), then hands r to the writer and
// returns once it is committed.
//
// The worker reports through r itself, its error in r.err and its end as
// a send on r.done, which run receives: r.done is closed only by the
// writer, after r is submitted below. So the hand-over costs no channel
// or variable of its own.
func (s *DB) run(ctx context.Context, r *commitReq, encode func() error) ([]bot.Queued, error) {
	job := func() {
		r.err = encode()
		r.done <- struct{}{}
	}
	select {
	case s.jobs <- job:
	case <-s.closed:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	<-r.done
	if r.err != nil {
		return nil, fmt.Errorf("encode: %w", r.err)
	}
	if err := s.submit(ctx, r); err != nil {
		return nil, err
	}
	// Once handed over, the commit happens whatever the caller's context does;
	// waiting for it keeps "returned error" meaning "not committed".
	<-r.done
	return r.queued, r.err
}

// ackReq is a removal from the outbox handed to the writer; done is
// closed once the write it rode in ended.
type ackReq struct {
	ids  []uint64
	done chan struct{}
}

// Delivered implements bot.Store. The removal rides along with the
// writer's next transaction (it costs no fsync of its own while others
// commit), and Delivered returns once that is written: a crash after it
// returns does not send the message again (the kill point after the
// delivered mark, issue 18). If the write fails, the message stays left
// out of Pending and is written with the next transaction; a crash before
// sends it again.
func (s *DB) Delivered(ctx context.Context, ids ...uint64) error {
	s.ackMu.Lock()
	for _, id := range ids {
		s.acked[id] = struct{}{}
	}
	s.ackMu.Unlock()
	a := ackReq{ids: ids, done: make(chan struct{})}
	err := s.send(ctx, func() bool {
		select {
		case s.acks <- a:
			return true
		case <-ctx.Done():
			return false
		}
	})
	if err != nil {
		return err
	}
	<-a.done // the writer, or Close's drain, ends every write it takes
	return nil
}

// StillPending implements bot.Store.
func (s *DB) StillPending(ctx context.Context, id uint64) (bool, error) {
	s.ackMu.Lock()
	defer s.ackMu.Unlock() // held across the read, as in Pending
	if _, gone := s.acked[id]; gone {
		return false, nil
	}
	var ok bool
	err := s.view(func(tx *bolt.Tx) error {
		k := make([]byte, 8)
		binary.BigEndian.PutUint64(k, id)
		ok = tx.Bucket(bucketOutbox).Get(k) != nil
		return nil
	})
	return ok, err
}

// Attempt implements bot.Store: it returns once the attempt is durable.
func (s *DB) Attempt(ctx context.Context, id uint64) (int, error) {
	r := &commitReq{attempt: id, done: make(chan struct{})}
	if err := s.submit(ctx, r); err != nil {
		return 0, err
	}
	<-r.done
	return r.attempts, r.err
}

// Due implements bot.Store.
func (s *DB) Due(ctx context.Context, now time.Time, after bot.DueRef, limit int) ([]bot.DueRef, error) {
	var refs []bot.DueRef
	err := s.view(func(tx *bolt.Tx) error {
		held := heldKeys(tx) // a conversation set aside has no readable reminders
		var from []byte
		if after.Key != "" {
			from = dueKey(after.Key, after.ID, after.Due)
		}
		scan(tx.Bucket(bucketDue), from, func(k, _ []byte) bool {
			if from != nil && bytes.Equal(k, from) {
				return true // the cursor: what comes after it
			}
			ref, ok := parseDueKey(k)
			switch {
			case !ok || held[ref.Key]:
				return true
			case ref.Due.After(now):
				return false
			}
			refs = append(refs, ref)
			return len(refs) < limit
		})
		return nil
	})
	return refs, err
}

// NextDue implements bot.Store.
func (s *DB) NextDue(ctx context.Context) (time.Time, bool, error) {
	var next time.Time
	var ok bool
	err := s.view(func(tx *bolt.Tx) error {
		held := heldKeys(tx)
		scan(tx.Bucket(bucketDue), nil, func(k, _ []byte) bool {
			ref, valid := parseDueKey(k)
			if !valid || held[ref.Key] {
				return true
			}
			next, ok = ref.Due, true
			return false
		})
		return nil
	})
	return next, ok, err
}

func dueKey(key, id string, due time.Time) []byte {
	return appendDueKey(make([]byte, 0, 8+len(key)+1+len(id)), key, id, due)
}

func appendDueKey(b []byte, key, id string, due time.Time) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(due.UnixNano()))
	b = append(b, key...)
	b = append(b, 0)
	return append(b, id...)
}

// dueList returns the keys in the reminder index of conv's pending
// reminders in the form its bookkeeping record holds them (uvarint(len(k))
// k, …; see inbox.go), in one slice sized exactly: it is what is stored,
// and what reindex compares with the list stored before.
func dueList(key string, conv *bot.Conversation) []byte {
	n := 0
	conv.EachPending(func(rem *bot.Reminder) {
		l := 8 + len(key) + 1 + len(rem.ID)
		n += uvarintLen(uint64(l)) + l
	})
	if n == 0 {
		return nil
	}
	b := make([]byte, 0, n)
	conv.EachPending(func(rem *bot.Reminder) {
		b = binary.AppendUvarint(b, uint64(8+len(key)+1+len(rem.ID)))
		b = appendDueKey(b, key, rem.ID, rem.Due)
	})
	return b
}

// nextDue splits the first key off a list in the form dueList makes; ok
// is false at its end, or where it is damaged.
func nextDue(list []byte) (k, rest []byte, ok bool) {
	n, w := binary.Uvarint(list)
	if w <= 0 || n > uint64(len(list)-w) {
		return nil, nil, false
	}
	return list[w : w+int(n)], list[w+int(n):], true
}

func parseDueKey(k []byte) (bot.DueRef, bool) {
	if len(k) < 10 {
		return bot.DueRef{}, false
	}
	rest := k[8:]
	i := bytes.IndexByte(rest, 0)
	if i < 0 {
		return bot.DueRef{}, false
	}
	return bot.DueRef{
		Due: time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))).UTC(),
		Key: string(rest[:i]), ID: string(rest[i+1:]),
	}, true
}

// reindex replaces a conversation's entries in the reminder index: old is
// the list stored in its record, due the new one (both as dueList makes them).
func reindex(idx *bolt.Bucket, old, due []byte) error {
	keep := map[string]bool{}
	for k, rest, ok := nextDue(due); ok; k, rest, ok = nextDue(rest) {
		keep[string(k)] = true
	}
	for k, rest, ok := nextDue(old); ok; k, rest, ok = nextDue(rest) {
		if keep[string(k)] {
			delete(keep, string(k))
			continue
		}
		if err := idx.Delete(k); err != nil {
			return err
		}
	}
	for k := range keep {
		if err := idx.Put([]byte(k), nil); err != nil {
			return err
		}
	}
	return nil
}

// ErrClosed is returned for work handed to a closed store.
var ErrClosed = errors.New("store closed")

// submit hands a request to the writer.
func (s *DB) submit(ctx context.Context, r *commitReq) error {
	return s.send(ctx, func() bool {
		select {
		case s.reqs <- r:
			return true
		case <-ctx.Done():
			return false
		}
	})
}

// send runs one hand-over to the writer unless the store is closed. The
// writer keeps reading until Close has the gate, so a send cannot block
// forever.
func (s *DB) send(ctx context.Context, try func() bool) error {
	s.gate.RLock()
	defer s.gate.RUnlock()
	if s.shut {
		return ErrClosed
	}
	if !try() {
		return ctx.Err()
	}
	return nil
}

// Pending implements bot.Store. A record that does not decode is passed
// over and set aside; a page that cannot be read is passed over.
func (s *DB) Pending(ctx context.Context, after uint64, limit int) ([]bot.Queued, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []bot.Queued
	var bad map[uint64][]byte
	// Holding ackMu across the read: the writer forgets an ID only after its
	// removal is committed, and waits for this lock to do so, so the snapshot
	// read here either lacks the ID or the ID is still in acked.
	s.ackMu.Lock()
	err := s.view(func(tx *bolt.Tx) error {
		from := make([]byte, 8)
		binary.BigEndian.PutUint64(from, after+1)
		gaps := scan(tx.Bucket(bucketOutbox), from, func(k, v []byte) bool {
			if len(k) != 8 {
				return true
			}
			q := bot.Queued{ID: binary.BigEndian.Uint64(k)}
			if _, gone := s.acked[q.ID]; gone {
				return true
			}
			if a, _ := safeGet(tx.Bucket(bucketAttempts), k); len(a) == 8 {
				q.Attempts = int(binary.BigEndian.Uint64(a))
			}
			o, err := decodeOutgoing(v)
			if err != nil {
				if bad == nil {
					bad = map[uint64][]byte{}
				}
				bad[q.ID] = bytes.Clone(v)
				return true
			}
			q.Outgoing = o
			out = append(out, q)
			return len(out) < limit
		})
		if len(gaps) > 0 && s.outboxGaps.CompareAndSwap(false, true) {
			s.log.Error("outbox: a page of the file cannot be read; the messages on it are passed over (see ampel db check)", "pages", len(gaps))
		}
		return nil
	})
	s.ackMu.Unlock()
	if len(bad) > 0 {
		s.setAsideOutbox(bad)
	}
	return out, err
}

// maxBatch bounds the commits of one transaction. Past a couple of hundred
// a larger batch saves little (its fsync is shared already) but holds more
// of bbolt's dirty pages at once and leaves more freed pages behind, which
// grow the file and the part of it mapped. The engine lets twice as many
// turns be in flight (bot.Config.MaxInFlight), so that the next batch is
// computed while one commits.
const maxBatch = 192

// writer is the single goroutine that writes. It never waits to fill a
// batch: it takes what is queued right now, so a lone user pays one fsync and
// a crowd shares one.
func (s *DB) writer() {
	defer s.wg.Done()
	for {
		var batch []*commitReq
		var acks []uint64
		var acked []chan struct{}
		select {
		case r := <-s.reqs:
			batch = append(batch, r)
		case a := <-s.acks:
			acks, acked = append(acks, a.ids...), append(acked, a.done)
		case <-s.closed:
			s.drain()
			return
		}
	more:
		for len(batch) < maxBatch {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
			case a := <-s.acks:
				acks, acked = append(acks, a.ids...), append(acked, a.done)
			default:
				break more
			}
		}
		s.write(batch, acks)
		closeAll(acked)
	}
}

// drain writes what was queued before Close.
func (s *DB) drain() {
	for {
		var batch []*commitReq
		var acks []uint64
		var acked []chan struct{}
	more:
		for len(batch) < maxBatch {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
			case a := <-s.acks:
				acks, acked = append(acks, a.ids...), append(acked, a.done)
			default:
				break more
			}
		}
		if len(batch) == 0 && len(acks) == 0 {
			if len(s.unwritten) > 0 {
				// One more try; removals still unwritten are sent again
				// after a restart.
				s.write(nil, nil)
			}
			return
		}
		s.write(batch, acks)
		closeAll(acked)
	}
}

func closeAll(chans []chan struct{}) {
	for _, c := range chans {
		close(c)
	}
}

func (s *DB) write(batch []*commitReq, acks []uint64) {
	if len(batch) == 0 && len(acks) == 0 && len(s.unwritten) == 0 {
		return
	}
	if len(s.unwritten) > 0 {
		acks, s.unwritten = append(s.unwritten, acks...), nil
	}
	now := s.opts.Now()
	keep := &retention{now: now.UnixNano(), def: s.opts.InboxRetention, by: s.opts.Redelivery}
	sc := &s.scratch
	sc.startTx()
	cur := -1 // what is being written: a request, then len(batch)+i for acks[i]
	t0 := time.Now()
	err := s.update(func(tx *bolt.Tx) error {
		if s.writeHook != nil {
			if err := s.writeHook(""); err != nil {
				return err
			}
		}
		// Buckets are opened where they are used, not all up front: opening
		// one costs a cursor and a Bucket with two maps, and most turns
		// touch only the conversations and the outbox. bbolt keeps a bucket
		// opened in the transaction, so using tx.Bucket again is a map
		// lookup. The quarantine is looked up once, on the first state
		// written: it usually does not exist, and bbolt keeps no note of that.
		convs, outbox := tx.Bucket(bucketConvs), tx.Bucket(bucketOutbox)
		var quarantine *bolt.Bucket
		quarantineLooked := false
		for i, r := range batch {
			cur = i
			r.queued, r.err = nil, nil
			if r.attempt != 0 {
				k := make([]byte, 8)
				binary.BigEndian.PutUint64(k, r.attempt)
				if outbox.Get(k) == nil {
					continue // delivered meanwhile: nothing to record
				}
				attempts := tx.Bucket(bucketAttempts)
				if v := attempts.Get(k); len(v) == 8 {
					r.attempts = int(binary.BigEndian.Uint64(v))
				}
				v := make([]byte, 8)
				binary.BigEndian.PutUint64(v, uint64(r.attempts+1))
				if err := attempts.Put(k, v); err != nil {
					return err
				}
				continue
			}
			if r.live != nil {
				if err := tx.Bucket(bucketLive).Put(r.live.k, r.live.v); err != nil {
					return err
				}
				continue
			}
			if r.batch != nil {
				if err := s.writeBatch(tx, r, keep); err != nil {
					return err
				}
				continue
			}
			if s.writeHook != nil {
				if err := s.writeHook(r.key); err != nil {
					return err
				}
			}
			rk := sc.recordKey(r.key)
			old, err := safeGet(convs, rk)
			if err != nil {
				// Its page cannot be read: nothing of this conversation can
				// be written. An apology to a conversation set aside (conv
				// nil) still goes out, without its event remembered.
				if r.conv != nil {
					r.err = fmt.Errorf("commit %s: %w", r.key, err)
					continue
				}
				if err := queue(outbox, r, sc); err != nil {
					return err
				}
				continue
			}
			oldDue, inbox := splitRecord(sc.open(old))
			if inboxHas(inbox, r.eventID) || old == nil && erasedBy(tx, r.eventID) {
				r.err = bot.ErrDuplicate
				continue
			}
			if r.from != "" {
				var fromSc recScratch // sc holds this conversation's record
				fromDue, _ := splitRecord(fromSc.open(convs.Get(recordKey(r.from))))
				if err := reindex(tx.Bucket(bucketDue), fromDue, nil); err != nil {
					return err
				}
				if err := convs.Delete(recordKey(r.from)); err != nil {
					return err
				}
				if err := convs.Delete([]byte(r.from)); err != nil {
					return err
				}
				if err := moveArchive(tx.Bucket(bucketArchive), r.from, r.key); err != nil {
					return err
				}
			}
			due := r.due
			if r.conv == nil {
				due = oldDue // the state stays, and with it its reminders
			}
			if !bytes.Equal(oldDue, due) { // most turns change no reminder
				if err := reindex(tx.Bucket(bucketDue), oldDue, r.due); err != nil {
					return err
				}
			}
			rec := binary.AppendUvarint(sc.build[:0], uint64(len(due)))
			rec = append(rec, due...)
			sc.build = inboxAdd(rec, inbox, r.eventID, keep)
			sealed, err := sc.sealKept(sc.build)
			if err != nil {
				return err
			}
			if err := convs.Put(rk, sealed); err != nil {
				return err
			}
			if r.conv != nil {
				if err := convs.Put(sc.convKey(r.key), r.conv); err != nil {
					return err
				}
				if !quarantineLooked {
					quarantine, quarantineLooked = tx.Bucket(bucketQuarantine), true
				}
				if quarantine != nil {
					if err := release(quarantine, r.key); err != nil {
						return err
					}
				}
			}
			for _, a := range r.arch {
				if err := tx.Bucket(bucketArchive).Put(a.k, a.v); err != nil {
					return err
				}
			}
			if err := queue(outbox, r, sc); err != nil {
				return err
			}
		}
		var attempts *bolt.Bucket
		if len(acks) > 0 {
			// Most messages go out at the first try, with no attempt
			// recorded: while none is, no removal looks one up (each
			// lookup is a cursor). A damaged first page does not count as
			// empty, nor fail every removal: then each looks its own up,
			// and only those whose keys sit on bad pages fail, as before.
			cur = len(batch)
			if attempts = tx.Bucket(bucketAttempts); attempts != nil {
				if k, _, err := safeSeek(attempts.Cursor(), nil); err == nil && k == nil {
					attempts = nil
				}
			}
		}
		k := sc.seq[:]
		for j, id := range acks {
			cur = len(batch) + j
			binary.BigEndian.PutUint64(k, id)
			if err := outbox.Delete(k); err != nil {
				return err
			}
			if attempts == nil {
				continue
			}
			if err := attempts.Delete(k); err != nil {
				return err
			}
		}
		cur = -1 // committing
		return nil
	})
	if errors.Is(err, bot.ErrDamaged) && s.isolate(batch, acks, cur) {
		return
	}
	for _, r := range batch {
		if err != nil {
			r.queued, r.err = nil, fmt.Errorf("commit: %w", err)
		}
		r.answer()
	}
	if err != nil {
		// Kept in acked, so Pending still leaves them out; written with
		// the next transaction that succeeds.
		s.unwritten = append(s.unwritten, acks...)
		return
	}
	if s.opts.OnCommit != nil {
		s.opts.OnCommit(time.Since(t0))
	}
	s.ages.written(batch, acks, now)
	if len(acks) > 0 {
		s.ackMu.Lock()
		for _, id := range acks {
			delete(s.acked, id)
		}
		s.ackMu.Unlock()
	}
}

// queue puts a request's messages in the outbox; sc lends the key's bytes.
func queue(outbox *bolt.Bucket, r *commitReq, sc *recScratch) error {
	if r.queued == nil && len(r.outs) > 0 {
		r.queued = make([]bot.Queued, 0, len(r.outs))
	}
	for i, b := range r.outs {
		seq, err := outbox.NextSequence()
		if err != nil {
			return err
		}
		k := sc.seq[:]
		binary.BigEndian.PutUint64(k, seq)
		if err := outbox.Put(k, b); err != nil {
			return err
		}
		r.queued = append(r.queued, bot.Queued{ID: seq, Outgoing: r.msgs[i]})
	}
	return nil
}

// isolate handles a write that met a damaged page (a pageFault): the
// request being written then fails alone, with bot.ErrDamaged, and the
// rest is written again without it. A removal from the outbox that cannot
// be written is dropped (the message stays left out by Pending until the
// process ends). When the damage showed while committing, each request is
// written on its own, so that only those touching the damaged page fail.
// It reports whether it has answered the batch.
func (s *DB) isolate(batch []*commitReq, acks []uint64, cur int) bool {
	switch {
	case cur >= 0 && cur < len(batch):
		s.write(slices.Delete(slices.Clone(batch), cur, cur+1), acks)
		r := batch[cur]
		r.queued, r.err = nil, fmt.Errorf("commit %s: %w", r.describe(), bot.ErrDamaged)
		r.answer()
		return true
	case cur >= len(batch):
		s.write(batch, slices.Delete(slices.Clone(acks), cur-len(batch), cur-len(batch)+1))
		return true
	case len(batch)+len(acks) > 1:
		for _, r := range batch {
			s.write([]*commitReq{r}, nil)
		}
		for _, id := range acks {
			s.write(nil, []uint64{id})
		}
		return true
	}
	return false
}

func (r *commitReq) describe() string {
	if r.attempt != 0 {
		return fmt.Sprintf("attempt of outbox %d", r.attempt)
	}
	if r.live != nil {
		return "live message"
	}
	return r.key
}

// Backup writes a consistent copy of the database to path while it is in use.
func (s *DB) Backup(path string) error {
	return s.view(func(tx *bolt.Tx) error {
		return tx.CopyFile(path, 0o600)
	})
}
