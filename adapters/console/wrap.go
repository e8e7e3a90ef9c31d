package console

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// Width is how many columns s takes on a terminal: a character one, a wide
// one (CJK, emoji) two, a combining mark or joiner none. An emoji made of
// several (a flag, a family) is counted as the sum of its parts, so it is
// never thought narrower than it is.
func Width(s string) int {
	n, prev := 0, 0
	for _, r := range s {
		w := runeWidth(r)
		if r == 0xFE0F && prev == 1 { // emoji presentation of a narrow sign (✖️)
			w = 1
		}
		n += w
		prev = w
	}
	return n
}

func runeWidth(r rune) int {
	switch {
	case r < 0x300:
		return 1
	case r == 0x200D, r >= 0xFE00 && r <= 0xFE0F, unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0
	case r >= 0x1F000: // emoji and pictographs, including those newer than the tables
		return 2
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// listMarker is what starts an item of a list ("1) ", "12. ", "• "); its
// further lines are indented to the text after it.
var listMarker = regexp.MustCompile(`^(\d{1,3}[.)]|[•·–*-]) `)

// Wrap breaks every line of s wider than width columns at spaces, so that
// no word is cut unless it is wider than a line by itself. A line's
// further lines keep its indentation, and in a list (numbered buttons,
// a plan's measures) they start under the item's text. width 0 leaves s
// as it is.
func Wrap(s string, width int) string {
	if width <= 0 {
		return s
	}
	width = max(width, 8)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if Width(l) > width {
			lines[i] = wrapLine(l, width)
		}
	}
	return strings.Join(lines, "\n")
}

func wrapLine(l string, width int) string {
	body := strings.TrimLeft(l, " ")
	lead := len(l) - len(body)
	hang := lead
	if m := listMarker.FindString(body); m != "" {
		hang += Width(m)
	}
	if hang > width/2 {
		hang = min(lead, width/2)
	}
	indent := "\n" + strings.Repeat(" ", hang)
	var b strings.Builder
	b.WriteString(l[:lead])
	col, first, spaces := lead, true, 0
	for i, word := range strings.Split(body, " ") {
		if i > 0 {
			spaces++
		}
		if word == "" {
			continue
		}
		w := Width(word)
		if !first && col+spaces+w > width {
			b.WriteString(indent)
			col, first = hang, true
		}
		if !first {
			b.WriteString(strings.Repeat(" ", spaces))
			col += spaces
		}
		for col+w > width { // a word wider than a line by itself
			cut := fit(word, width-col)
			if cut == len(word) {
				break
			}
			b.WriteString(word[:cut] + indent)
			word = word[cut:]
			col, w = hang, Width(word)
		}
		b.WriteString(word)
		col += w
		first, spaces = false, 0
	}
	return b.String()
}

// fit returns how many bytes of s fill at most n columns, at least its
// first character; a mark or joiner stays with the character before it.
func fit(s string, n int) int {
	end := 0
	for i, r := range s {
		next := i + utf8.RuneLen(r)
		if end > 0 && Width(s[:next]) > n {
			break
		}
		end = next
	}
	return end
}
