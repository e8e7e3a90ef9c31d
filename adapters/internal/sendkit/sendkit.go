// Package sendkit holds what every platform adapter needs when it sends:
// telling a send that may have reached the platform from one that surely did
// not, and remembering how far a message of several parts got, so that the
// engine's retry of a failed message does not repeat the parts that went out.
package sendkit

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ampel-bot/ampel/bot"
)

// MayHaveArrived is the fallback for HTTP transports that report nothing
// through httptrace: a timeout or a connection cut after dialling may come
// after the platform read the request; a failed dial or name lookup cannot.
func MayHaveArrived(err error) bool {
	if op, ok := errors.AsType[*net.OpError](err); ok && op.Op == "dial" {
		return false
	}
	if _, ok := errors.AsType[*net.DNSError](err); ok {
		return false
	}
	ne, isNet := errors.AsType[net.Error](err)
	return (isNet && ne.Timeout()) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// ContainsAny reports whether s contains any of subs (platform error texts).
func ContainsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// Progress remembers, per chat and message, how far a send got (and what
// else an adapter keeps with it, E). The engine retries a message that
// failed as a whole, and its messages to a chat go in order, so the next
// send of the same message to the same chat is that retry. Memory only and
// bounded: after a restart a message is sent whole again, a duplicate the
// engine already counts. The zero value is ready to use.
type Progress[E any] struct {
	mu sync.Mutex
	m  map[[32]byte]progressEntry[E]
}

type progressEntry[E any] struct {
	e  E
	at time.Time
}

const (
	maxProgress = 4096
	progressTTL = 24 * time.Hour
)

// Key identifies a message to a chat.
func Key(chat string, m bot.Message) [32]byte {
	b, _ := json.Marshal(m) // plain data: cannot fail
	h := sha256.New()
	h.Write([]byte(chat))
	h.Write([]byte{0})
	h.Write(b)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// Get returns what was remembered for k, or the zero E.
func (p *Progress[E]) Get(k [32]byte) E {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.m[k]
	if !ok || time.Since(e.at) > progressTTL {
		var zero E
		return zero
	}
	return e.e
}

// Forget drops k: the message went out whole.
func (p *Progress[E]) Forget(k [32]byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, k)
}

// Set remembers e for k, forgetting the oldest entry when full.
func (p *Progress[E]) Set(k [32]byte, e E) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[[32]byte]progressEntry[E]{}
	}
	if len(p.m) >= maxProgress {
		var oldest [32]byte
		var at time.Time
		for k, e := range p.m {
			if at.IsZero() || e.at.Before(at) {
				oldest, at = k, e.at
			}
		}
		delete(p.m, oldest)
	}
	p.m[k] = progressEntry[E]{e: e, at: time.Now()}
}

// Split cuts s into parts whose cost (the sum of cost over their runes,
// e.g. UTF-16 units or escaped characters) is at most limit: at a
// paragraph, else a line, else a space in the part's second half, else
// between two characters that do not belong together (never inside a
// rune, nor between a character and its mark, skin tone, joiner or flag
// half). The newline or space at a cut is dropped; blank parts are left out.
func Split(s string, limit int, cost func(rune) int) []string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var out []string
	add := func(p string) {
		if strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
	}
	for {
		cut, total, fits := 0, 0, true
		for i, r := range s {
			c := cost(r)
			if total+c > limit {
				fits = false
				break
			}
			total += c
			cut = i + utf8.RuneLen(r)
		}
		if fits {
			break
		}
		head := s[:cut]
		half := len(head) / 2
		switch i, j, k := strings.LastIndex(head, "\n\n"), strings.LastIndexByte(head, '\n'), strings.LastIndexByte(head, ' '); {
		case i > half:
			add(head[:i])
			s = s[i+2:]
		case j > half:
			add(head[:j])
			s = s[j+1:]
		case k > half:
			add(head[:k])
			s = s[k+1:]
		default:
			cut = SafeCut(s, cut)
			add(s[:cut])
			s = s[cut:]
		}
	}
	add(s)
	return out
}

// SafeCut moves a cut at byte cut back so that it does not separate a
// character from a combining mark, variation selector, skin tone or zero
// width joiner that belongs to it, nor split a flag's pair of regional
// indicators. It gives up after a few characters (a pathological run of
// marks), keeping the original cut.
func SafeCut(s string, cut int) int {
	orig := cut
	for range 16 {
		if cut <= 0 {
			return orig
		}
		next, _ := utf8.DecodeRuneInString(s[cut:])
		prev, size := utf8.DecodeLastRuneInString(s[:cut])
		if !joins(prev, next) {
			return cut
		}
		cut -= size
	}
	return orig
}

func joins(prev, next rune) bool {
	switch {
	case prev == '\u200d' || next == '\u200d': // zero width joiner
		return true
	case next == '\ufe0e' || next == '\ufe0f': // variation selectors
		return true
	case next >= 0x1f3fb && next <= 0x1f3ff: // skin tones
		return true
	case next >= 0xe0020 && next <= 0xe007f: // tag sequences (subdivision flags)
		return true
	case isRegional(prev) && isRegional(next):
		return true // conservative: a flag is two of them
	case unicode.In(next, unicode.Mn, unicode.Me, unicode.Mc):
		return true
	}
	return false
}

func isRegional(r rune) bool { return r >= 0x1f1e6 && r <= 0x1f1ff }

// Backoff is the pause before the next attempt after attempt failures in
// a row: doubling from lo up to hi, with jitter between half and all of
// it, so that many instances do not retry in step.
func Backoff(lo, hi time.Duration, attempt int) time.Duration {
	d := lo
	for range min(attempt, 30) {
		if d >= hi {
			break
		}
		d *= 2
	}
	d = min(d, hi)
	return d/2 + rand.N(d/2+1)
}

// Sleep waits for d, or returns ctx's error if ctx ends first.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Redacted returns an error with message msg, from which the caller has
// already removed every secret. It wraps only kinds, the sentinels callers
// test for (bot.ErrUnknownOutcome, bot.ErrRecipientGone, context errors),
// never the original error, which may still hold a token in a URL: whoever
// unwraps the result finds nothing secret.
func Redacted(msg string, kinds ...error) error {
	return &redactedError{msg: msg, kinds: kinds}
}

type redactedError struct {
	msg   string
	kinds []error
}

func (e *redactedError) Error() string   { return e.msg }
func (e *redactedError) Unwrap() []error { return e.kinds }

// Keyboards remembers, per chat, the newest message this process sent with
// buttons (K a chat, V a message reference). The engine accepts only the
// buttons of the open question, which is the newest one asked; a press on an
// older message gets the engine's "that button belongs to an earlier
// question", and the pressed message must then not be marked as answered.
// Memory only and bounded: when it knows nothing (after a restart, or after
// forgetting everything when full), a press is taken to be on the newest,
// which is harmless because the engine still checks the button. The zero
// value is ready to use.
type Keyboards[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]V
}

const maxKeyboards = 1 << 16

// Set records v as the newest message with buttons in chat.
func (k *Keyboards[K, V]) Set(chat K, v V) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil || len(k.m) >= maxKeyboards {
		k.m = map[K]V{}
	}
	k.m[chat] = v
}

// Newest returns the newest message with buttons in chat, if known.
func (k *Keyboards[K, V]) Newest(chat K) (V, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[chat]
	return v, ok
}

// Alarm reports a trouble that concerns the platform as a whole rather
// than one recipient (the token refused, the server unreachable, a proxy
// answering in its place) once when it starts and once when a request
// succeeds again, instead of on every send it fails: the sends are retried
// with back-off, and each retry would otherwise say the same. A different
// trouble is reported when it replaces the first. The zero value is ready
// to use.
type Alarm struct {
	raised atomic.Bool // fast path for Clear, called on every success
	mu     sync.Mutex
	kind   string
}

// Raise logs msg with attrs at warning level, unless the trouble of this
// kind is already reported.
func (a *Alarm) Raise(log *slog.Logger, kind, msg string, attrs ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.kind == kind {
		return
	}
	a.kind = kind
	a.raised.Store(true)
	log.Warn(msg, append([]any{"trouble", kind}, attrs...)...)
}

// Clear logs msg at info level if a trouble was reported: the platform
// answers again.
func (a *Alarm) Clear(log *slog.Logger, msg string) {
	if !a.raised.Load() {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.kind == "" {
		return
	}
	log.Info(msg, "trouble", a.kind)
	a.kind = ""
	a.raised.Store(false)
}

// Link keeps an adapter's connection state for readiness (bot.Linked).
// The zero value is up.
type Link struct {
	mu    sync.Mutex
	down  bool
	since time.Time
	grace time.Duration
}

// Up notes that the platform answered.
func (l *Link) Up() {
	l.mu.Lock()
	l.down = false
	l.mu.Unlock()
}

// Down notes a failure at now; grace is how long the adapter may be down
// before readiness says so (its first back-off). A failure while down
// keeps the first one's time.
func (l *Link) Down(now time.Time, grace time.Duration) {
	l.mu.Lock()
	if !l.down {
		l.down, l.since = true, now
	}
	l.grace = grace
	l.mu.Unlock()
}

// Get returns the state.
func (l *Link) Get() bot.Link {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bot.Link{Up: !l.down, Since: l.since, Grace: l.grace}
}

// LiveRefs remembers the live messages (bot.Message.Live) this process
// posted or edited, by K (a chat and a message reference), so that a
// press of one of their buttons does not mark the message as answered:
// the engine edits it to its next state. Memory only and bounded: after a
// restart, a live message is known again from its first edit. The zero
// value is ready to use.
type LiveRefs[K comparable] struct {
	mu sync.Mutex
	m  map[K]struct{}
}

// Add notes k as a live message.
func (l *LiveRefs[K]) Add(k K) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil || len(l.m) >= maxKeyboards {
		l.m = map[K]struct{}{}
	}
	l.m[k] = struct{}{}
}

// Has reports whether k is known as a live message.
func (l *LiveRefs[K]) Has(k K) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.m[k]
	return ok
}
