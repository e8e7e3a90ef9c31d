package export

import (
	"bytes"
	"flag"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/ampel-bot/ampel/flows"
)

var update = flag.Bool("update", false, "rewrite the golden pictures in testdata")

// pictureCases are the golden pictures: every script, both scales, a plain
// result, a repeated check (arrows), a team run (spread), an unrated
// checkpoint and a team's name.
func pictureCases(tb testing.TB) map[string]Input {
	tb.Helper()
	catalog, texts := content(tb)
	netz := flow(tb, catalog, "netz-qualitaet")
	zo := flow(tb, catalog, "zo-kmu")
	bmo := flow(tb, catalog, "bmo-advocacy")
	now := at(2027, 3, 15, 11, 0)
	done, before := at(2027, 3, 15, 10, 30), at(2026, 9, 1, 16, 0)
	spread := map[string][]int{
		"mandate": {0, 1, 4}, "issues": {2, 2, 1}, "evidence": {5, 0, 0}, "strategy": {1, 3, 1},
		"dialogue": {0, 0, 5}, "communication": {3, 1, 1}, "capacity": {1, 1, 3}, "results": {0, 4, 1},
	}
	bmoNow := []string{"green", "yellow", "red", "yellow", "green", "red", "green", "yellow"}
	bmoBefore := []string{"yellow", "yellow", "red", "red", "green", "green", "red", "yellow"}
	in := func(lang string, f *flows.Flow, ratings ...string) Input {
		return Input{Texts: texts, Lang: lang, Zone: berlin, Now: now, Flow: f, Catalog: catalog, Run: rated(f, done, ratings...)}
	}
	cases := map[string]Input{}
	c := in("en", netz, "yes", "no", "yes", "yes", "no", "", "yes", "yes", "no", "yes", "yes", "no", "yes", "yes")
	cases["en-fulfilled"] = c
	c = in("de", zo, "green", "yellow", "red", "red", "yellow", "green", "yellow")
	c.Prev = rated(zo, before, "yellow", "yellow", "red", "yellow", "red", "", "green")
	cases["de-repeat"] = c
	c = in("fr", bmo, bmoNow...)
	c.Spread, c.Owner = spread, "Chambre de commerce et d’industrie de Lyon"
	cases["fr-team"] = c
	cases["es-plain"] = in("es", bmo, bmoNow...)
	c = in("ru", bmo, bmoNow...)
	c.Spread, c.Prev, c.Owner = spread, rated(bmo, before, bmoBefore...), "Торгово-промышленная палата Алматы"
	cases["ru-team-repeat"] = c
	c = in("vi", bmo, "green", "yellow", "red", "", "green", "red", "green", "yellow")
	c.Prev = rated(bmo, before, bmoBefore...)
	cases["vi-repeat"] = c
	return cases
}

// TestPictureGolden compares each picture with testdata/picture-<case>.png,
// pixel by pixel with a tolerance (anti-aliasing may differ a little on
// another processor). go test ./bot/export -run Picture -update rewrites
// them; look at them before committing.
func TestPictureGolden(t *testing.T) {
	for name, in := range pictureCases(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, err := Picture(in)
			if err != nil {
				t.Fatal(err)
			}
			if f.MIME != "image/png" || filepath.Ext(f.Name) != ".png" {
				t.Errorf("file: got %q (%s), want a .png of image/png", f.Name, f.MIME)
			}
			golden := filepath.Join("testdata", "picture-"+name+".png")
			if *update {
				if err := os.WriteFile(golden, f.Data, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to make it)", err)
			}
			if msg := comparePNG(f.Data, want); msg != "" {
				got := filepath.Join(t.TempDir(), "picture-"+name+".png")
				_ = os.WriteFile(got, f.Data, 0o644)
				t.Errorf("%s: %s; the new picture is %s", golden, msg, got)
			}
		})
	}
}

// comparePNG returns what differs between two PNGs beyond the tolerance:
// a channel differing by more than 48 counts a pixel, and 0.2% of the
// pixels may differ.
func comparePNG(got, want []byte) string {
	g, err := png.Decode(bytes.NewReader(got))
	if err != nil {
		return "the new picture does not decode: " + err.Error()
	}
	w, err := png.Decode(bytes.NewReader(want))
	if err != nil {
		return "the golden picture does not decode: " + err.Error()
	}
	if g.Bounds() != w.Bounds() {
		return "size " + g.Bounds().Size().String() + ", want " + w.Bounds().Size().String()
	}
	rgb := func(m image.Image) []uint8 { // the pixels as R, G, B
		b := m.Bounds()
		out := make([]uint8, 0, 3*b.Dx()*b.Dy())
		if p, ok := m.(*image.Paletted); ok {
			pal := make([][3]uint8, len(p.Palette))
			for i, c := range p.Palette {
				r, g, b, _ := c.RGBA()
				pal[i] = [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
			}
			for _, i := range p.Pix {
				out = append(out, pal[i][:]...)
			}
			return out
		}
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, b, _ := m.At(x, y).RGBA()
				out = append(out, uint8(r>>8), uint8(g>>8), uint8(b>>8))
			}
		}
		return out
	}
	gp, wp := rgb(g), rgb(w)
	differ, total := 0, len(gp)/3
	for i := 0; i < len(gp); i += 3 {
		for c := range 3 {
			if d := int(gp[i+c]) - int(wp[i+c]); d > 48 || d < -48 {
				differ++
				break
			}
		}
	}
	if differ*500 > total {
		return strconv.Itoa(differ) + " of " + strconv.Itoa(total) + " pixels differ"
	}
	return ""
}

// TestPictureNormalisesText: a title typed with combining accents (as some
// keyboards send Vietnamese) is drawn like the precomposed one, not as
// letters with accents floating beside them.
func TestPictureNormalisesText(t *testing.T) {
	in := pictureCases(t)["vi-repeat"]
	composed, err := Picture(in)
	if err != nil {
		t.Fatal(err)
	}
	in.Owner = norm.NFD.String("Phòng Thương mại và Công nghiệp Việt Nam")
	decomposed, err := Picture(in)
	if err != nil {
		t.Fatal(err)
	}
	in.Owner = norm.NFC.String(in.Owner)
	want, err := Picture(in)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(composed.Data, want.Data) {
		t.Fatal("the owner's name changed nothing in the picture")
	}
	if !bytes.Equal(decomposed.Data, want.Data) {
		t.Error("a decomposed name is drawn differently from the composed one, want the same picture")
	}
}

// BenchmarkPicture draws the largest case: eight checkpoints with the
// team's spread, arrows and a team's name.
func BenchmarkPicture(b *testing.B) {
	in := pictureCases(b)["ru-team-repeat"]
	if _, err := Picture(in); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Picture(in); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPictureConcurrent: chats ask for pictures at the same time; each gets
// the same picture as alone (the fonts are shared, the faces are not).
func TestPictureConcurrent(t *testing.T) {
	in := pictureCases(t)["ru-team-repeat"]
	alone, err := Picture(in)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 3)
	for range cap(got) {
		go func() {
			f, err := Picture(in)
			if err != nil {
				t.Error(err)
			}
			got <- f.Data
		}()
	}
	for range cap(got) {
		if !bytes.Equal(<-got, alone.Data) {
			t.Error("a picture drawn beside others differs from the one drawn alone")
		}
	}
}

// TestPictureOddInput: what an old record or a careless caller may hold
// (a rating no longer on the scale, spreads of the wrong length or with
// negative counts, a name longer than a line, emoji) still makes a picture.
func TestPictureOddInput(t *testing.T) {
	in := pictureCases(t)["de-repeat"]
	in.Run.Ratings[in.Flow.Checkpoints[0].ID] = "purple"
	in.Spread = map[string][]int{in.Flow.Checkpoints[0].ID: {-3, 2}, in.Flow.Checkpoints[1].ID: {1, 2, 3, 4, 5}, "gone": {1}}
	in.Owner = strings.Repeat("Sehr-lange-Vereinsbezeichnung-ohne-Leerzeichen", 5) + " 🎉🎉"
	f, err := Picture(in)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(f.Data))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != picWidth || b.Dy() < 800 {
		t.Errorf("picture is %v, want %d wide with every row", b.Size(), picWidth)
	}
}
