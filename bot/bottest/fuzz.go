package bottest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"unicode"
)

// SameText reports whether parts (a message's text as an adapter cut it
// into posts, each decoded back to what the reader sees) hold exactly the
// characters of text, in order, apart from white space: a cut drops the
// space or line break it falls on, and a part that would be blank is left
// out. Text that is not valid UTF-8 is compared as the adapters send it,
// each invalid byte a U+FFFD.
func SameText(text string, parts []string) bool {
	squeeze := func(s string) string {
		return strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) {
				return -1
			}
			return r
		}, strings.ToValidUTF8(s, "\uFFFD"))
	}
	for _, p := range parts {
		if strings.TrimSpace(p) == "" {
			return false
		}
	}
	return squeeze(strings.Join(parts, "")) == squeeze(text)
}

// FuzzSeeds are texts users type that mean something to one platform or
// another: markup, mentions, entities, commands, long and odd runes.
var FuzzSeeds = []string{
	"", " ", "\n", "Workshop mit Betrieben", "Grüße 🚦 👨‍👩‍👧 🇩🇪",
	"<b>fett</b> & <i>", "&amp; &lt; &gt; &quot; &#39; &#x3C; &copy; &", "<!channel> <!here> <!everyone> <@U0ABC123> <#C123|x> <http://e.vil|click>",
	"@channel @here @all @someone", "*fett* _kursiv_ `code` ~weg~ [x](http://e.vil)", "# Titel\n> Zitat\n- Punkt\n1. Eins",
	"/check zo-kmu", "/plan", "/check@ampel_test_bot", "hilfe", "Sprache en", "timezone +3",
	"/<b>fett</b>", "/timezone <!here> @all <b>&amp; *x*", // echoed: an unknown command, an unknown zone
	"\x00\xff\xfe", "a\r\nb\rc", "\u2028\u2029\u200b\u00a0", strings.Repeat("x", 4100), strings.Repeat("ä ", 3000),
}

// ErrorSink is a testing.TB that keeps the errors a fake reports (a fake
// serving a fuzz target must not fail the *testing.F it was built with),
// for the target to check after each input.
type ErrorSink struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

// Errorf keeps the error.
func (s *ErrorSink) Errorf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, fmt.Sprintf(format, args...))
}

// Take returns the errors kept since the last Take.
func (s *ErrorSink) Take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	errs := s.errs
	s.errs = nil
	return errs
}
