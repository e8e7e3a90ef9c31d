// Package sendkit holds what every platform adapter needs when it sends:
// telling a send that may have reached the platform from one that surely did
// not, and remembering how far a message of several parts got, so that the
// engine's retry of a failed message does not repeat the parts that went out.
package sendkit

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

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
