package slack

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/ampel-bot/ampel/adapters/internal/sendkit"
)

// tokenPattern matches Slack tokens of any kind (bot xoxb-, user xoxp-,
// app-level xapp-, configuration xoxe-, …), whosever they are.
var tokenPattern = regexp.MustCompile(`\b(?:xox[a-z]|xapp)-[A-Za-z0-9-]+`)

// redactor removes secrets from text: the tokens and the signing secret,
// literally, and anything shaped like a Slack token. slack-go sends the
// tokens in headers and form bodies rather than URLs, so its errors do not
// normally contain them; every error and log line still goes through
// here, as the library's debug output and future versions may differ.
type redactor struct {
	secrets []string
}

func newRedactor(secrets ...string) *redactor {
	r := &redactor{}
	for _, s := range secrets {
		if len(s) >= 8 { // shorter strings would blank out innocent text
			r.secrets = append(r.secrets, s)
		}
	}
	return r
}

func (r *redactor) redact(s string) string {
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, "<redacted>")
	}
	return tokenPattern.ReplaceAllString(s, "<redacted>")
}

// errorf builds a redacted error: format and args are rendered, then
// redacted; kinds are the sentinels the result wraps.
func (r *redactor) errorf(kinds []error, format string, args ...any) error {
	return sendkit.Redacted(r.redact(fmt.Sprintf(format, args...)), kinds...)
}

// libLogger receives the log lines of slack-go and its Socket Mode client
// (only written in debug mode, which the adapter leaves off) and passes
// them on, redacted, to the adapter's logger.
type libLogger struct{ a *Adapter }

// Output implements the libraries' logger interface.
func (l libLogger) Output(_ int, s string) error {
	l.a.log.Debug("slack library", "line", l.a.r.redact(strings.TrimSpace(s)))
	return nil
}
