package export

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/text/unicode/norm"
)

// The fonts: DejaVu Sans subset to the scripts of the shipped languages
// (fonts/README.md says how).
var (
	//go:embed fonts/DejaVuSans.ttf
	regularTTF []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	boldTTF []byte
)

// maxCovered bounds the runes the subset can hold (fonts/README.md).
const maxCovered = 0x2800

type fonts struct {
	regular, bold *opentype.Font
	// covered marks the runes below maxCovered both fonts draw.
	covered [maxCovered]bool
}

var loadFonts = sync.OnceValues(func() (*fonts, error) {
	var f fonts
	var err error
	if f.regular, err = opentype.Parse(regularTTF); err != nil {
		return nil, err
	}
	if f.bold, err = opentype.Parse(boldTTF); err != nil {
		return nil, err
	}
	var buf sfnt.Buffer
	for r := rune(0); r < maxCovered; r++ {
		a, _ := f.regular.GlyphIndex(&buf, r)
		b, _ := f.bold.GlyphIndex(&buf, r)
		f.covered[r] = a != 0 && b != 0
	}
	return &f, nil
})

// clean makes a text drawable: NFC (so that "ệ" typed as e + two accents
// meets the font's one glyph), without what the fonts cannot draw (emoji,
// the symbols in scale labels, other scripts: a gap reads better than a
// box), control characters as spaces, runs of spaces as one.
func (f *fonts) clean(s string) string {
	s = norm.NFC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r):
			space = b.Len() > 0
			continue
		case r >= maxCovered || !f.covered[r]:
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}
