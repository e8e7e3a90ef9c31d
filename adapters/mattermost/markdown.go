package mattermost

import (
	"strings"
	"unicode"
)

// Escaping for Mattermost's web and desktop client.
//
// The client renders a post with its fork of marked (github.com/mattermost/
// marked: GFM with tables, HTML sanitized, inline LaTeX where the server
// enables it), and then, on the rendered text, links @mentions, ~channels,
// #hashtags and e-mail addresses and turns :name: and text smileys into
// emoji (webapp utils/text_formatting and emoticons). marked resolves a
// backslash only before one of markedEscapable (and a backslash before a
// backslash only when no letter, digit or "_" follows); before anything
// else, a ":" or "&" or "$" or "<", the backslash stays visible. So:
//
//   - Characters that are syntax wherever they stand ("*", "_", "`", "[",
//     "]") get a backslash; those that are syntax only at the start of a
//     line ("#" heading, ">" quote, "-", "+" bullets and rules, "|" tables,
//     the "." or ")" after a number) get one there only. "(", ")", "!", "."
//     and the like elsewhere stay as they are: nothing to read in them.
//   - What a backslash cannot quiet gets a zero width space where it would
//     start something: after "@" (a mention: nobody is notified), after a
//     ":" or ";" that could start an emoji or a smiley, after "#" before a
//     letter (a hashtag), after "~" (strike-through, a channel link), and
//     before a line starting with spaces (a code block; marked reads a
//     no-break space as a space), "=" or ":" (a heading's or table's rule).
//   - "<" before anything but a space is written "&lt;" (a tag or an
//     autolink otherwise), "&" that would start a character reference is
//     written "&amp;", and "$" is written "&#36;" (inline LaTeX); marked
//     keeps character references as they are, and the browser shows the
//     character.
//   - A web address that marked links by itself (http, https, ftp, mailto,
//     tel, or www.) is left as it is but for the zero width spaces of text
//     after "@", "~", "#" and ":" (the client looks for mentions, channel
//     links, hashtags and emoji in the address too): a backslash in it
//     would show, and be part of the link. An address followed, before the
//     next space, by a character written otherwise (a backslash before it,
//     an entity for it) is not left as it is but written as text: marked
//     would read what is written after it as part of it. A scheme or "www" that starts no
//     address (or such an address) gets a zero width space after it
//     (before the "." of "www."), so that what is written after it cannot
//     make one.
//
// Mattermost's mobile app (commonmark.js) resolves backslashes before
// every ASCII punctuation character and character references, so the same
// text shows the same there.

// markedEscapable are the characters a backslash makes literal in
// Mattermost's marked (its inline "escape" rule with GFM).
const markedEscapable = "\\`*{}[]()#+-.!_>|~"

const zwsp = '\u200b'

// escape makes text literal in a post: all the engine's texts are plain,
// and users' input ("*bold*", "@channel") must show as typed and do
// nothing. See the comment above for how.
func escape(s string) string {
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	lineStart := true
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if r == '\n' {
			b.WriteRune(r)
			lineStart = true
			continue
		}
		first := lineStart
		lineStart = false
		if first {
			switch {
			case r == ' ' || r == '\t' || r == '\u00a0' || r == '=' || r == ':':
				b.WriteRune(zwsp)
			case r >= '0' && r <= '9':
				j := i
				for j < len(rs) && rs[j] >= '0' && rs[j] <= '9' {
					j++
				}
				if c := at(rs, j); c == '.' || c == ')' { // "1. " is a list
					b.WriteString(string(rs[i:j]))
					b.WriteByte('\\')
					b.WriteRune(c)
					i = j
					continue
				}
			case strings.ContainsRune("#>+-|", r):
				b.WriteByte('\\')
			}
		}
		if end := urlEnd(rs, i); end > i && !rewrittenBefore(rs, end) {
			for k, c := range rs[i:end] {
				k += i
				b.WriteRune(c)
				if zwspAfter(rs, k) {
					b.WriteRune(zwsp)
				}
			}
			i = end - 1
			continue
		}
		if end := schemeEnd(rs, i); end > i {
			// No address as typed, or one right before a character written
			// otherwise: what is written after it could make one, or make
			// it longer ("http:/*" as "http:/\*", linked with the
			// backslash). A zero width space keeps it text.
			b.WriteString(string(rs[i:end]))
			b.WriteRune(zwsp)
			i = end - 1
			continue
		}
		next := at(rs, i+1)
		switch {
		case r == '\\':
			if next >= 0 && strings.ContainsRune(markedEscapable, next) {
				b.WriteString(`\\`)
			} else {
				b.WriteByte('\\')
			}
		case r == '*' || r == '_' || r == '`' || r == '[' || r == ']':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '<':
			if next < 0 || unicode.IsSpace(next) {
				b.WriteRune(r)
				break
			}
			b.WriteString("&lt;")
			if next == '3' || next == '/' { // "<3", "</3": hearts
				b.WriteRune(zwsp)
			}
		case r == '&':
			if entityAt(rs, i) {
				b.WriteString("&amp;")
			} else {
				b.WriteRune(r)
			}
		case r == '$':
			b.WriteString("&#36;")
		case r == '@' || r == ':' || r == ';' || r == '#' || r == '~':
			b.WriteRune(r)
			if zwspAfter(rs, i) {
				b.WriteRune(zwsp)
			}
		case r == '-' && (at(rs, i-1) == 'x' || at(rs, i-1) == 'X') && !isWordChar(at(rs, i-2)) && (next == 'd' || next == 'D') && !isWordChar(at(rs, i+2)):
			b.WriteRune(r) // "x-d", a smiley
			b.WriteRune(zwsp)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// escapedLen is at most how many runes r takes once escaped.
func escapedLen(r rune) int {
	switch {
	case r == '&' || r == '$' || r == '<':
		return 5
	case r < 0x80 && (strings.ContainsRune(markedEscapable, r) || strings.ContainsRune("@:;=<$& \t", r) || r == '\u00a0' || r >= '0' && r <= '9'):
		return 2
	}
	return 1
}

// isWordChar reports a character of JavaScript's \w (ASCII), which the
// client's patterns use for word boundaries.
func isWordChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_'
}

// entityAt reports whether the "&" at rs[i] starts what marked keeps as a
// character reference: "&" then "#"?, word characters and ";".
func entityAt(rs []rune, i int) bool {
	j := i + 1
	if j < len(rs) && rs[j] == '#' {
		j++
	}
	k := j
	for k < len(rs) && isWordChar(rs[k]) {
		k++
	}
	return k > j && k < len(rs) && rs[k] == ';'
}

// linkedSchemes are the schemes the client links by default
// (AutolinkedUrlSchemes); others stay text.
var linkedSchemes = []string{"http", "https", "ftp", "mailto", "tel", "mattermost"}

// urlEnd returns where a web address that marked links by itself (its GFM
// "url" rule, reached where its "text" rule stops: before a lower-case
// scheme or "www" at a word boundary) ends if one starts at rs[i], else i.
func urlEnd(rs []rune, i int) int {
	// marked tries the rule at a word boundary, and after an escaped "_".
	if prev := at(rs, i-1); isWordChar(prev) && prev != '_' || rs[i] < 'a' || rs[i] > 'z' {
		return i
	}
	j := i
	switch {
	case len(rs)-i > 3 && string(rs[i:i+3]) == "www":
		j = i + 3
		for n := 0; n < 3 && isDigit(at(rs, j)); n++ {
			j++
		}
		if at(rs, j) != '.' {
			return i
		}
		j++
	default:
		for j < len(rs) && j-i <= 32 && (rs[j] >= 'a' && rs[j] <= 'z' || isDigit(rs[j]) || strings.ContainsRune(".+-", rs[j])) {
			j++
		}
		if at(rs, j) != ':' || !knownScheme(string(rs[i:j])) {
			return i
		}
		j++
		switch c := at(rs, j); {
		case c == '/':
			for n := 0; n < 3 && at(rs, j) == '/'; n++ {
				j++
			}
		case unicode.IsLetter(c) || unicode.IsDigit(c) || c == '%':
		default:
			return i
		}
	}
	start := j
	for j < len(rs) {
		c := rs[j]
		switch {
		case c == '(':
			k := parenEnd(rs, j)
			if k < 0 {
				goto done
			}
			j = k
		case unicode.IsSpace(c):
			goto done
		case strings.ContainsRune("`!()[]{;:'\",<>?«»“”‘’", c) || isFullWidthPunct(c):
			if !strings.ContainsRune("`![]{;:'\",<>?«»“”‘’", c) {
				goto done
			}
			n := at(rs, j+1)
			if n < 0 || unicode.IsSpace(n) || strings.ContainsRune("()<>", n) {
				goto done
			}
			j++
		default:
			j++
		}
	}
done:
	for j > start && strings.ContainsRune("?!.,:*_~'\"", rs[j-1]) {
		j--
	}
	if j == start {
		return i
	}
	return j
}

// zwspAfter reports whether a zero width space follows rs[i], so that the
// client does not read what starts there: a mention ("@"), an emoji or a
// smiley (":smile:", ":)", ";)"), a hashtag ("#" before a letter), a
// channel link ("~").
func zwspAfter(rs []rune, i int) bool {
	next := at(rs, i+1)
	switch r := rs[i]; r {
	case '@', '~':
		return next >= 0 && !unicode.IsSpace(next)
	case ':', ';':
		return !isWordChar(at(rs, i-1)) && next >= 0 && !unicode.IsSpace(next) && (r == ':' || next == ')' || next == '-')
	case '#':
		return unicode.IsLetter(next)
	}
	return false
}

// rewrittenBefore reports whether escape writes a character from rs[k] to
// the next white space as something else than itself (a backslash before
// it, an entity for it): written after a web address, that would be read
// as part of it ("http:0!*" as "http:0!\*" links "http:0!\").
func rewrittenBefore(rs []rune, k int) bool {
	for ; k < len(rs) && !unicode.IsSpace(rs[k]); k++ {
		if r := rs[k]; r == '\\' || r == '*' || r == '_' || r == '`' || r == '[' || r == ']' || r == '<' || r == '$' || r == '&' && entityAt(rs, k) {
			return true
		}
	}
	return false
}

// schemeEnd returns, where a web address could start at rs[i] as urlEnd
// reads one, the end of its "scheme:" or the "www" and digits before its
// "." (where a zero width space stops it), else i.
func schemeEnd(rs []rune, i int) int {
	if prev := at(rs, i-1); isWordChar(prev) && prev != '_' || rs[i] < 'a' || rs[i] > 'z' {
		return i
	}
	j := i
	if len(rs)-i > 3 && string(rs[i:i+3]) == "www" {
		j = i + 3
		for n := 0; n < 3 && isDigit(at(rs, j)); n++ {
			j++
		}
		if at(rs, j) != '.' {
			return i
		}
		return j
	}
	for j < len(rs) && j-i <= 32 && (rs[j] >= 'a' && rs[j] <= 'z' || isDigit(rs[j]) || strings.ContainsRune(".+-", rs[j])) {
		j++
	}
	if at(rs, j) != ':' || !knownScheme(string(rs[i:j])) {
		return i
	}
	return j + 1
}

// parenEnd returns the end of a balanced "(...)" at rs[i] in a web address
// (one level of nesting), or -1.
func parenEnd(rs []rune, i int) int {
	j := i + 1
	for j < len(rs) {
		switch c := rs[j]; {
		case c == ')':
			return j + 1
		case c == '(':
			k := j + 1
			for k < len(rs) && rs[k] != ')' && rs[k] != '(' && rs[k] != '<' && rs[k] != '>' && !unicode.IsSpace(rs[k]) {
				k++
			}
			if k == j+1 || at(rs, k) != ')' {
				return -1
			}
			j = k + 1
		case c == '<' || c == '>' || unicode.IsSpace(c):
			return -1
		default:
			j++
		}
	}
	return -1
}

func isFullWidthPunct(c rune) bool {
	return c >= 0xFF01 && c <= 0xFF0F || c >= 0xFF1A && c <= 0xFF20 || c >= 0xFF3B && c <= 0xFF40 ||
		c >= 0xFF5B && c <= 0xFF5E || c == 0x3001 || c == 0x3002 || c >= 0x300C && c <= 0x3011
}

func at(rs []rune, i int) rune {
	if i < 0 || i >= len(rs) {
		return -1
	}
	return rs[i]
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func knownScheme(s string) bool {
	for _, k := range linkedSchemes {
		if s == k {
			return true
		}
	}
	return false
}
