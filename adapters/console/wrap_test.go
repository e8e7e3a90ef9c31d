package console

import (
	"strings"
	"testing"
)

func TestWidth(t *testing.T) {
	tests := []struct {
		s    string
		want int
	}{
		{"Hallo", 5},
		{"Größe", 5},
		{"🔴 2 · 🟡 1 · 🟢 4", 18},
		{"✅ Erledigt", 11},
		{"✖️ Gestrichen", 13}, // a narrow sign shown as emoji
		{"e\u0301", 1},        // e + combining acute
		{"日本語", 6},
		{"👩‍👩‍👧", 6}, // a family: never counted narrower than it is
	}
	for _, tt := range tests {
		if got := Width(tt.s); got != tt.want {
			t.Errorf("Width(%q) = %d, want %d", tt.s, got, tt.want)
		}
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		name, in string
		width    int
		want     string
	}{
		{"no width, no wrapping", "ein langer Satz", 0, "ein langer Satz"},
		{"fits", "ein Satz", 8, "ein Satz"},
		{"at a space", "eins zwei drei", 9, "eins zwei\ndrei"},
		{"emoji count two", "🔴🔴🔴 ab cd", 10, "🔴🔴🔴 ab\ncd"},
		{"wide letters", "日本語 日本語", 8, "日本語\n日本語"},
		{"a word wider than the line", "abcdefghijkl xy", 8, "abcdefgh\nijkl xy"},
		{"an emoji is not split", "ab🔴🔴🔴🔴 x", 9, "ab🔴🔴🔴\n🔴 x"},
		{"indentation kept", "    eins zwei drei vier", 14, "    eins zwei\n    drei vier"},
		{"button's label under its text", "  12) eins zwei drei", 14, "  12) eins\n      zwei\n      drei"},
		{"a bullet", "• eins zwei drei", 10, "• eins\n  zwei\n  drei"},
		{"blank lines and spaces kept", "a  b\n\nc", 8, "a  b\n\nc"},
		{"no spaces at the break", "eins   zwei", 8, "eins\nzwei"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Wrap(tt.in, tt.width)
			if got != tt.want {
				t.Errorf("Wrap(%q, %d) =\n%q\nwant\n%q", tt.in, tt.width, got, tt.want)
			}
			if tt.width == 0 {
				return
			}
			for _, l := range strings.Split(got, "\n") {
				if Width(l) > tt.width {
					t.Errorf("line %q is %d wide, want at most %d", l, Width(l), tt.width)
				}
			}
		})
	}
}
