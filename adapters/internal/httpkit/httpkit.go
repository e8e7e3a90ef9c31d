// Package httpkit holds what the adapters' HTTP endpoints share: a bound on
// the requests read before they are known to come from the platform, and
// the way values from requests go into logs.
package httpkit

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
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
