package export

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/flows"
)

// The picture's measures, in pixels. It is drawn 1000 pixels wide: sharp on
// a phone, small as a file, and what the chat apps show without scaling
// much.
const (
	picWidth = 1000
	picPad   = 48

	lampSize = 26 // a lamp's diameter
	lampGap  = 6
	housingW = lampSize + 2*lampGap
	rowPad   = 14
	textX    = picPad + housingW + 24

	trendW  = 140 // the arrow and its word
	spreadW = 220 // the team's bar and its caption
	colGap  = 24
)

var (
	white     = color.RGBA{0xff, 0xff, 0xff, 0xff}
	ink       = color.RGBA{0x1a, 0x1a, 0x1a, 0xff}
	grey      = color.RGBA{0x5c, 0x5c, 0x5c, 0xff}
	rule      = color.RGBA{0xe3, 0xe3, 0xe3, 0xff}
	housing   = color.RGBA{0x26, 0x26, 0x26, 0xff}
	lampOff   = color.RGBA{0x4d, 0x4d, 0x4d, 0xff}
	red       = color.RGBA{0xd6, 0x2d, 0x20, 0xff}
	yellow    = color.RGBA{0xf2, 0xb7, 0x07, 0xff}
	green     = color.RGBA{0x2e, 0x9e, 0x48, 0xff}
	sameColor = color.RGBA{0x80, 0x80, 0x80, 0xff}
)

// levelColor is the lamp of a level: no need for action is green, the most
// urgent need red, anything between yellow.
func levelColor(f *flows.Flow, l flows.Level) color.RGBA {
	most := 0
	for _, x := range f.Levels() {
		most = max(most, x.Need)
	}
	switch l.Need {
	case 0:
		return green
	case most:
		return red
	}
	return yellow
}

// Trends of a checkpoint since the previous run.
const (
	trendNone = iota
	trendBetter
	trendSame
	trendWorse
)

func trend(f *flows.Flow, prev, cur string) int {
	p, ok1 := f.Level(prev)
	c, ok2 := f.Level(cur)
	switch {
	case !ok1 || !ok2:
		return trendNone
	case c.Need < p.Need:
		return trendBetter
	case c.Need > p.Need:
		return trendWorse
	}
	return trendSame
}

// faces are the sizes the picture uses. A face is not safe for concurrent
// use, so each picture makes its own: that is cheap, the parsed fonts are
// shared.
type faces struct {
	*fonts
	title, body, note, small, smallBold font.Face
}

func newFaces(fs *fonts) (*faces, error) {
	fc := faces{fonts: fs}
	for _, s := range []struct {
		f    **opentype.Font
		size float64
		dst  *font.Face
	}{{&fs.bold, 36, &fc.title}, {&fs.regular, 26, &fc.body}, {&fs.regular, 21, &fc.note}, {&fs.regular, 18, &fc.small}, {&fs.bold, 18, &fc.smallBold}} {
		face, err := opentype.NewFace(*s.f, &opentype.FaceOptions{Size: s.size, DPI: 72, Hinting: font.HintingNone})
		if err != nil {
			return nil, err
		}
		*s.dst = face
	}
	return &fc, nil
}

// lineHeight leaves room for stacked Vietnamese accents above capitals.
func lineHeight(f font.Face) int { return f.Metrics().Height.Ceil() * 5 / 4 }

// wrap breaks s into lines no wider than w; a word wider than a line is
// broken between letters.
func wrap(f font.Face, s string, w int) []string {
	var lines []string
	line := ""
	fits := func(s string) bool { return font.MeasureString(f, s).Ceil() <= w }
	for _, word := range strings.Fields(s) {
		switch try := strings.TrimSpace(line + " " + word); {
		case fits(try):
			line = try
			continue
		case line != "":
			lines = append(lines, line)
		}
		line = ""
		for _, r := range word {
			if line != "" && !fits(line+string(r)) {
				lines = append(lines, line)
				line = ""
			}
			line += string(r)
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// block is some lines of text in one face and colour.
type block struct {
	face  font.Face
	col   color.RGBA
	lines []string
}

func (b block) height() int { return len(b.lines) * lineHeight(b.face) }

// draw writes the block with its first line's top at y, and returns the y
// below it.
func (b block) draw(dst *image.RGBA, x, y int) int {
	lh := lineHeight(b.face)
	m := b.face.Metrics()
	// Centre the glyphs' height in the taller line.
	top := (lh - m.Height.Ceil()) / 2
	d := font.Drawer{Dst: dst, Src: image.NewUniform(b.col), Face: b.face}
	for _, l := range b.lines {
		d.Dot = fixed.P(x, y+top+m.Ascent.Ceil())
		d.DrawString(l)
		y += lh
	}
	return y
}

// centred draws one line centred on cx.
func centred(dst *image.RGBA, face font.Face, col color.RGBA, s string, cx, y int) {
	w := font.MeasureString(face, s).Ceil()
	block{face, col, []string{s}}.draw(dst, cx-w/2, y)
}

// pictureRow is one checkpoint, laid out.
type pictureRow struct {
	lit    int // the index of the lit lamp, or -1
	text   []block
	trend  int
	spread []int
	height int
}

// Picture draws the result of Run: the check's title, the date (and the
// previous run's, with Prev), and one traffic light per checkpoint with
// its title and rating; with Prev an arrow per checkpoint (better, same,
// worse), with Spread the team's votes per level.
func Picture(in Input) (bot.File, error) {
	if in.Flow == nil || in.Run == nil || in.Texts == nil {
		return bot.File{}, errors.New("export: a picture needs texts, a flow and a run")
	}
	fs, err := loadFonts()
	if err != nil {
		return bot.File{}, err
	}
	img, err := in.draw(fs)
	if err != nil {
		return bot.File{}, err
	}
	data, err := encodePNG(img)
	if err != nil {
		return bot.File{}, err
	}
	return bot.File{Name: PictureName(in), MIME: "image/png", Data: data}, nil
}

// PictureName is the name of the file Picture makes of in.
func PictureName(in Input) string { return in.fileName("export.file.result", "png") }

func (in *Input) draw(fs *fonts) (*image.RGBA, error) {
	fc, err := newFaces(fs)
	if err != nil {
		return nil, err
	}
	f, run := in.Flow, in.Run
	levels := f.Levels()
	full := picWidth - 2*picPad

	// The header.
	var head []block
	head = append(head, block{fc.title, ink, wrap(fc.title, fs.clean(in.t(f.TitleID())), full)})
	if in.Owner != "" {
		head = append(head, block{fc.body, grey, wrap(fc.body, fs.clean(in.Owner), full)})
	}
	done := run.Done
	if done.IsZero() {
		done = in.Now
	}
	head = append(head, block{fc.note, grey, wrap(fc.note, fs.clean(in.t("export.date", "Date", in.date(in.dayOf(done)))), full)})
	if in.Prev != nil && !in.Prev.Done.IsZero() {
		head = append(head, block{fc.note, grey, wrap(fc.note, fs.clean(in.t("export.previous", "Date", in.date(in.dayOf(in.Prev.Done)))), full)})
	}

	// The rows: their right-hand columns first, so the titles know their width.
	right := 0
	if in.Prev != nil {
		right += trendW + colGap
	}
	if in.Spread != nil {
		right += spreadW + colGap
	}
	textW := picWidth - picPad - right - textX
	housingH := len(levels)*lampSize + (len(levels)+1)*lampGap
	rows := make([]pictureRow, len(f.Checkpoints))
	for i, cp := range f.Checkpoints {
		r := &rows[i]
		r.lit = -1
		rating := run.Ratings[cp.ID]
		for j, l := range levels {
			if l.ID == rating {
				r.lit = j
			}
		}
		label := in.t("export.unrated")
		if r.lit >= 0 {
			label = in.t(flows.LevelID(f.Scale, rating))
		}
		r.text = []block{
			{fc.body, ink, wrap(fc.body, fs.clean(in.t(f.CheckpointTitleID(cp))), textW)},
			{fc.note, grey, wrap(fc.note, fs.clean(label), textW)},
		}
		if in.Prev != nil {
			r.trend = trend(f, in.Prev.Ratings[cp.ID], rating)
		}
		if in.Spread != nil {
			r.spread = in.Spread[cp.ID]
		}
		h := 0
		for _, b := range r.text {
			h += b.height()
		}
		r.height = max(h, housingH) + 2*rowPad
	}

	height := picPad
	for _, b := range head {
		height += b.height()
	}
	height += 20
	for _, r := range rows {
		height += r.height
	}
	height += picPad

	img := &image.RGBA{Pix: getPix(4 * picWidth * height), Stride: 4 * picWidth, Rect: image.Rect(0, 0, picWidth, height)}
	fill(img, img.Bounds(), white)
	y := picPad
	for _, b := range head {
		y = b.draw(img, picPad, y)
	}
	y += 20
	var z vector.Rasterizer
	for _, r := range rows {
		fill(img, image.Rect(picPad, y, picWidth-picPad, y+1), rule)
		// The traffic light, centred in the row.
		hy := y + (r.height-housingH)/2
		shape(img, &z, picPad, hy, housingW, housingH, housing, func(z *vector.Rasterizer) {
			roundRect(z, 0, 0, housingW, float32(housingH), 10)
		})
		for j, l := range levels {
			col := lampOff
			if j == r.lit {
				col = levelColor(f, l)
			}
			ly := hy + lampGap + j*(lampSize+lampGap)
			shape(img, &z, picPad+lampGap, ly, lampSize, lampSize, col, func(z *vector.Rasterizer) {
				circle(z, lampSize/2, lampSize/2, lampSize/2)
			})
		}
		// Title and rating, centred as a block.
		h := 0
		for _, b := range r.text {
			h += b.height()
		}
		ty := y + (r.height-h)/2
		for _, b := range r.text {
			ty = b.draw(img, textX, ty)
		}
		x := picWidth - picPad - right + colGap
		if in.Spread != nil {
			in.drawSpread(img, &z, fc, r.spread, x, y+r.height/2)
			x += spreadW + colGap
		}
		if in.Prev != nil {
			in.drawTrend(img, &z, fc, r.trend, x+trendW/2, y+r.height/2)
		}
		y += r.height
	}
	fill(img, image.Rect(picPad, y, picWidth-picPad, y+1), rule)
	return img, nil
}

// drawTrend draws an arrow (up: better, right: the same, down: worse) with
// its word below, centred on cx, cy.
func (in *Input) drawTrend(img *image.RGBA, z *vector.Rasterizer, fc *faces, t, cx, cy int) {
	const s = 40 // the arrow's box
	var col color.RGBA
	var word string
	var rot func(x, y float32) (float32, float32) // from an arrow pointing up
	switch t {
	case trendBetter:
		col, word = green, in.t("export.trend.better")
		rot = func(x, y float32) (float32, float32) { return x, y }
	case trendSame:
		col, word = sameColor, in.t("export.trend.same")
		rot = func(x, y float32) (float32, float32) { return s - y, x }
	case trendWorse:
		col, word = red, in.t("export.trend.worse")
		rot = func(x, y float32) (float32, float32) { return s - x, s - y }
	default:
		return
	}
	lines := wrap(fc.small, fc.clean(word), trendW)
	top := cy - (s+len(lines)*lineHeight(fc.small))/2
	shape(img, z, cx-s/2, top, s, s, col, func(z *vector.Rasterizer) {
		pts := [][2]float32{{20, 2}, {38, 20}, {27, 20}, {27, 38}, {13, 38}, {13, 20}, {2, 20}}
		for i, p := range pts {
			x, y := rot(p[0], p[1])
			if i == 0 {
				z.MoveTo(x, y)
			} else {
				z.LineTo(x, y)
			}
		}
		z.ClosePath()
	})
	for i, l := range lines {
		centred(img, fc.small, grey, l, cx, top+s+i*lineHeight(fc.small))
	}
}

// drawSpread draws the team's votes as a bar split by level, each part with
// its count, and the number of votes below.
func (in *Input) drawSpread(img *image.RGBA, z *vector.Rasterizer, fc *faces, counts []int, x, cy int) {
	levels := in.Flow.Levels()
	total := 0
	for i := range min(len(counts), len(levels)) {
		total += max(counts[i], 0)
	}
	if total == 0 {
		return
	}
	const barH = 30
	top := cy - (barH+lineHeight(fc.small))/2
	at := 0
	for i := range min(len(counts), len(levels)) {
		n := max(counts[i], 0)
		if n == 0 {
			continue
		}
		w := n * spreadW / total
		if at+w > spreadW || i == len(levels)-1 {
			w = spreadW - at
		}
		col := levelColor(in.Flow, levels[i])
		fill(img, image.Rect(x+at, top, x+at+w, top+barH), col)
		label := ink
		if col != yellow {
			label = white
		}
		if s := strconv.Itoa(n); font.MeasureString(fc.smallBold, s).Ceil()+8 <= w {
			centred(img, fc.smallBold, label, s, x+at+w/2, top+(barH-lineHeight(fc.smallBold))/2)
		}
		at += w
	}
	centred(img, fc.small, grey, fc.clean(in.Texts.N(in.Lang, "export.votes", total)), x+spreadW/2, top+barH)
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	if r.Empty() {
		return
	}
	first := img.Pix[img.PixOffset(r.Min.X, r.Min.Y):img.PixOffset(r.Max.X, r.Min.Y)]
	for i := 0; i < len(first); i += 4 {
		first[i], first[i+1], first[i+2], first[i+3] = c.R, c.G, c.B, c.A
	}
	for y := r.Min.Y + 1; y < r.Max.Y; y++ {
		copy(img.Pix[img.PixOffset(r.Min.X, y):], first)
	}
}

// shape fills the path that build draws in a w×h box whose top left is
// x, y, anti-aliased.
func shape(img *image.RGBA, z *vector.Rasterizer, x, y, w, h int, c color.RGBA, build func(z *vector.Rasterizer)) {
	z.Reset(w, h)
	build(z)
	z.Draw(img, image.Rect(x, y, x+w, y+h), image.NewUniform(c), image.Point{})
}

// kappa places the control points of a cubic Bézier quarter circle.
const kappa = 0.5522847

func circle(z *vector.Rasterizer, cx, cy, r float32) {
	k := kappa * r
	z.MoveTo(cx+r, cy)
	z.CubeTo(cx+r, cy+k, cx+k, cy+r, cx, cy+r)
	z.CubeTo(cx-k, cy+r, cx-r, cy+k, cx-r, cy)
	z.CubeTo(cx-r, cy-k, cx-k, cy-r, cx, cy-r)
	z.CubeTo(cx+k, cy-r, cx+r, cy-k, cx+r, cy)
	z.ClosePath()
}

func roundRect(z *vector.Rasterizer, x0, y0, x1, y1, r float32) {
	k := kappa * r
	z.MoveTo(x0+r, y0)
	z.LineTo(x1-r, y0)
	z.CubeTo(x1-r+k, y0, x1, y0+r-k, x1, y0+r)
	z.LineTo(x1, y1-r)
	z.CubeTo(x1, y1-r+k, x1-r+k, y1, x1-r, y1)
	z.LineTo(x0+r, y1)
	z.CubeTo(x0+r-k, y1, x0, y1-r+k, x0, y1-r)
	z.LineTo(x0, y0+r)
	z.CubeTo(x0, y0+r-k, x0+r-k, y0, x0+r, y0)
	z.ClosePath()
}

// The picture is sent with a palette: it has few colours, and the edges
// between them. A paletted PNG is a third of the size, and several times
// faster to encode, since PNG filters are not tried on it.

// blends are the pairs of colours the picture puts next to each other, the
// foreground's edges anti-aliased over the background, with how many steps
// the palette has between them; text gets the most.
var blends = []struct {
	fg, bg color.RGBA
	steps  int
}{
	{ink, white, 32}, {grey, white, 32},
	{rule, white, 12}, {housing, white, 12}, {lampOff, housing, 12},
	{red, housing, 12}, {yellow, housing, 12}, {green, housing, 12},
	{white, red, 12}, {white, green, 12}, {ink, yellow, 12},
	{red, white, 12}, {green, white, 12}, {sameColor, white, 12},
}

var palette = sync.OnceValue(func() color.Palette {
	seen := map[color.RGBA]bool{}
	var p color.Palette
	for _, b := range blends {
		for i := 0; i <= b.steps; i++ {
			mix := func(f, g uint8) uint8 { return uint8((int(f)*i + int(g)*(b.steps-i) + b.steps/2) / b.steps) }
			c := color.RGBA{mix(b.fg.R, b.bg.R), mix(b.fg.G, b.bg.G), mix(b.fg.B, b.bg.B), 0xff}
			if !seen[c] {
				seen[c] = true
				p = append(p, c)
			}
		}
	}
	return p
})

// paletted maps each pixel to the nearest colour of the palette. Most
// pixels repeat the one before (the white background, the lamps), and the
// few distinct colours are looked up once, through a small cache.
func paletted(img *image.RGBA) *image.Paletted {
	pal := palette()
	b := img.Bounds()
	out := &image.Paletted{Pix: getPix(b.Dx() * b.Dy()), Stride: b.Dx(), Rect: b, Palette: pal}
	type slot struct {
		key uint32 // 1<<24 | RGB, so that the empty slot matches nothing
		idx uint8
	}
	var cache [1024]slot
	last, lastIdx := uint32(0), uint8(0)
	for i, j := 0, 0; i < len(img.Pix); i, j = i+4, j+1 {
		key := 1<<24 | uint32(img.Pix[i])<<16 | uint32(img.Pix[i+1])<<8 | uint32(img.Pix[i+2])
		if key != last {
			s := &cache[(key*2654435761)>>22]
			if s.key != key {
				*s = slot{key, uint8(pal.Index(color.RGBA{img.Pix[i], img.Pix[i+1], img.Pix[i+2], 0xff}))}
			}
			last, lastIdx = key, s.idx
		}
		out.Pix[j] = lastIdx
	}
	return out
}

// pixels keeps picture buffers between pictures: an RGBA picture is some
// 5 MB, and fresh memory of that size costs more to clear and fault in than
// the drawing. Whoever gets a buffer overwrites all of it.
var pixels sync.Pool // *[]byte

func getPix(n int) []byte {
	if p, ok := pixels.Get().(*[]byte); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]byte, n)
}

func putPix(b []byte) { pixels.Put(&b) }

// pngBuffers reuses the encoder's compression state between pictures.
type pngBuffers struct{ sync.Pool }

func (p *pngBuffers) Get() *png.EncoderBuffer {
	b, _ := p.Pool.Get().(*png.EncoderBuffer)
	return b
}

func (p *pngBuffers) Put(b *png.EncoderBuffer) { p.Pool.Put(b) }

var pngEncoder = png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &pngBuffers{}}

// encodePNG writes a drawn picture as a paletted PNG. The picture's pixels
// go back to the pool: img must not be drawn on or read afterwards.
func encodePNG(img *image.RGBA) ([]byte, error) {
	p := paletted(img)
	putPix(img.Pix)
	var buf bytes.Buffer
	err := pngEncoder.Encode(&buf, p)
	putPix(p.Pix)
	return buf.Bytes(), err
}
