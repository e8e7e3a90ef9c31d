// Package httpkit holds what the adapters' HTTP endpoints share: a bound on
// the requests read before they are known to come from the platform, and
// the way values from requests go into logs.
package httpkit

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
)

// Opaque is how a value taken from a request goes into a log: its length
// and the first 8 hex digits of its SHA-256, never the value itself, which
// whoever sends the request chooses (a 60 KB "post ID", a line break that
// forges a log entry, a person's text). Equal values log equally, so that
// log lines still correlate.
type Opaque string

// LogValue implements slog.LogValuer.
func (o Opaque) LogValue() slog.Value {
	h := sha256.Sum256([]byte(o))
	return slog.GroupValue(slog.Int("len", len(o)), slog.String("sha256", hex.EncodeToString(h[:4])))
}

// Gate bounds how many requests are read and checked at once before it is
// known that they come from the platform: a request's body has to be read
// to check its signature (Slack) or the HMAC in it (Mattermost), and a
// client sending it one byte at a time would otherwise hold a goroutine,
// a buffer and a connection for as long as the server's read timeout,
// as many times over as it opens connections. When every slot is taken, a
// request is refused at once with 503 instead of waiting; the platforms
// retry. A request holds its slot only while its body is read, not while
// the engine handles it.
type Gate struct{ slots chan struct{} }

// DefaultSlots is the size of the gate the adapters share.
const DefaultSlots = 64

var shared = NewGate(DefaultSlots)

// Shared returns the process's gate, shared by every adapter's endpoints
// that read a body before they can authenticate it.
func Shared() *Gate { return shared }

// NewGate returns a gate of n slots.
func NewGate(n int) *Gate { return &Gate{slots: make(chan struct{}, max(n, 1))} }

// Enter takes a slot if one is free.
func (g *Gate) Enter() bool {
	select {
	case g.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// Leave gives back a slot taken by Enter.
func (g *Gate) Leave() { <-g.slots }

// ReadBody reads r's body, at most limit bytes, holding a slot of g while
// it reads. It answers the request itself and returns false:
//   - 413 if the declared length is over limit, before anything is read;
//   - 503 with Retry-After if no slot is free, before anything is read;
//   - 413 if the body turns out longer than limit, 400 if it cannot be
//     read (the client stopped sending, the server's read timeout passed).
//
// Refusals close the connection, so that a client does not keep it for
// the next try and the server does not wait for the rest of the body.
func (g *Gate) ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	refuse := func(status int, msg string) ([]byte, bool) {
		w.Header().Set("Connection", "close")
		http.Error(w, msg, status)
		return nil, false
	}
	if r.ContentLength > limit {
		return refuse(http.StatusRequestEntityTooLarge, "request too large")
	}
	if !g.Enter() {
		w.Header().Set("Retry-After", "1")
		return refuse(http.StatusServiceUnavailable, "busy")
	}
	defer g.Leave()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
			return refuse(http.StatusRequestEntityTooLarge, "request too large")
		}
		return refuse(http.StatusBadRequest, "bad request")
	}
	return body, true
}
