package mattermost

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/ampel-bot/ampel/adapters/internal/sendkit"
)

// redactor removes secrets from text. The token travels only in the
// Authorization header, so it should never reach an error; this is the
// second line of defence, for a proxy or a library that quotes headers.
type redactor struct {
	secrets []string // literal strings to hide, longest first
}

func newRedactor(secrets ...string) *redactor {
	var out []string
	for _, s := range secrets {
		// Shorter strings would blank out innocent text.
		for _, v := range []string{s, url.QueryEscape(s)} {
			if len(v) >= 8 {
				out = append(out, v)
			}
		}
	}
	for i := range out { // longest first
		for j := i + 1; j < len(out); j++ {
			if len(out[j]) > len(out[i]) {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return &redactor{secrets: out}
}

func (r *redactor) redact(s string) string {
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, "<redacted>")
	}
	return s
}

// errorf builds a redacted error: format and args are rendered, then
// redacted; kinds are the sentinels the result wraps.
func (r *redactor) errorf(kinds []error, format string, args ...any) error {
	return sendkit.Redacted(r.redact(fmt.Sprintf(format, args...)), kinds...)
}
