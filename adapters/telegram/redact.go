package telegram

import (
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ampel-bot/ampel/adapters/internal/sendkit"
	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// tokenPattern matches a bot token as it appears in request URLs
// (".../bot123456:AAE.../getMe"), whosever it is.
var tokenPattern = regexp.MustCompile(`bot\d+:[A-Za-z0-9_-]{30,}`)

// bareTokenPattern matches a token printed without the "bot" prefix.
var bareTokenPattern = regexp.MustCompile(`\d{5,}:[A-Za-z0-9_-]{30,}`)

// redactor removes secrets from text. The library puts the token into
// every request URL, and net/http quotes that URL in every transport error
// ("Post \"https://api.telegram.org/bot123:AAE…/getMe\": dial tcp …"), so
// every error and every log line from or about the library goes through it.
type redactor struct {
	secrets []string // literal strings to hide, longest first
}

func newRedactor(token string, more ...string) *redactor {
	var secrets []string
	add := func(s string) {
		if len(s) >= 8 { // shorter strings would blank out innocent text
			secrets = append(secrets, s)
		}
	}
	for _, s := range append([]string{token}, more...) {
		add(s)
		add(url.PathEscape(s))
		add(url.QueryEscape(s))
	}
	// The part after the colon is the actual secret; hide it even when it
	// shows up on its own.
	if _, secret, ok := strings.Cut(token, ":"); ok {
		add(secret)
	}
	// Longest first, so that the whole token goes before its secret part.
	for i := range secrets {
		for j := i + 1; j < len(secrets); j++ {
			if len(secrets[j]) > len(secrets[i]) {
				secrets[i], secrets[j] = secrets[j], secrets[i]
			}
		}
	}
	return &redactor{secrets: secrets}
}

func (r *redactor) redact(s string) string {
	s = tokenPattern.ReplaceAllString(s, "bot<redacted>")
	s = bareTokenPattern.ReplaceAllString(s, "<redacted>")
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

// The library logs through a package-global logger (tgbotapi.SetLogger),
// and prints transport errors, token and all, from its own update loop.
// It is replaced once per process by one that redacts and writes to the
// logger of the most recently created adapter (there is one per process
// in practice), or nowhere.
var (
	libLoggerOnce sync.Once
	libLog        atomic.Pointer[libSink]
)

type libSink struct {
	log *slog.Logger
	r   *redactor
}

// libLogger implements tgbotapi.BotLogger.
type libLogger struct{}

func (libLogger) Println(v ...any) { libLogger{}.write(fmt.Sprintln(v...)) }

func (libLogger) Printf(format string, v ...any) { libLogger{}.write(fmt.Sprintf(format, v...)) }

func (libLogger) write(s string) {
	sink := libLog.Load()
	if sink == nil {
		return
	}
	// The generic redaction patterns apply even if this line is about
	// another adapter's token.
	sink.log.Warn("telegram library", "line", sink.r.redact(strings.TrimSpace(s)))
}

func installLibLogger(log *slog.Logger, r *redactor) {
	libLog.Store(&libSink{log: log, r: r})
	libLoggerOnce.Do(func() {
		_ = tgbotapi.SetLogger(libLogger{}) // fails only for nil
	})
}
