package mattermost

import (
	"fmt"
	"net/url"
	"strings"
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

// redactedError carries an error's message with secrets removed. It keeps
// only the sentinels callers test for (bot.ErrUnknownOutcome,
// errNotFound, context errors), never the original error.
type redactedError struct {
	msg  string
	kind []error
}

func (e *redactedError) Error() string   { return e.msg }
func (e *redactedError) Unwrap() []error { return e.kind }

// errorf builds a redacted error: format and args are rendered, then
// redacted; kinds are the sentinels the result wraps.
func (r *redactor) errorf(kinds []error, format string, args ...any) error {
	return &redactedError{msg: r.redact(fmt.Sprintf(format, args...)), kind: kinds}
}
