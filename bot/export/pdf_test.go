package export

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot"
)

// need skips a test when a reader it checks with is not installed.
func need(t *testing.T, tool, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		t.Skipf("%s is not installed (Debian: apt-get install %s); this test reads the export with it", tool, pkg)
	}
	return path
}

// pdfText is what poppler's pdftotext reads from a PDF: in content order
// (-raw), pages first to last, whitespace folded to single spaces.
func pdfText(t *testing.T, pdf []byte, args ...string) string {
	t.Helper()
	tool := need(t, "pdftotext", "poppler-utils")
	file := filepath.Join(t.TempDir(), "plan.pdf")
	if err := os.WriteFile(file, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, append(append([]string{"-raw", "-enc", "UTF-8"}, args...), file, "-")...).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

// inOrder reports the first of want that text lacks, or holds before the
// one before it.
func inOrder(text string, want ...string) string {
	at := 0
	for _, w := range want {
		i := strings.Index(text[at:], w)
		if i < 0 {
			if strings.Contains(text, w) {
				return fmt.Sprintf("%q comes too early", w)
			}
			return fmt.Sprintf("%q is missing", w)
		}
		at += i + len(w)
	}
	return ""
}

// TestPDFReadsBack: an independent reader finds the heading and every
// measure of the plan, in the plan's order, with the user's labels and
// dates, and none of the dropped one.
func TestPDFReadsBack(t *testing.T) {
	in := planInput(t)
	f, err := PDF(in)
	if err != nil {
		t.Fatal(err)
	}
	if f.MIME != "application/pdf" || f.Name != "ampel-massnahmenplan-2027-03-15.pdf" {
		t.Errorf("file: got %q (%s), want ampel-massnahmenplan-2027-03-15.pdf (application/pdf)", f.Name, f.MIME)
	}
	text := pdfText(t, f.Data)
	if msg := inOrder(text,
		"Maßnahmenplan", "Zusammenarbeit mit KMU in der Region", "Vorstand des Fördervereins Kinderhaus e. V.", "Erstellt am Mo, 15.03.2027",
		"Seite 1 von 2", "Checkpunkt", "Maßnahme", "Priorität", "Verantwortlich", "Start", "Überprüfung", "Status",
		"Zusammenarbeit planen", "Arbeitsgruppe „KMU-Kontakte“ gründen", "hoch", "Jana Müller", "Mo, 22.03.2027", "Mo, 03.05.2027", "offen",
		"Glossar der wichtigsten Begriffe aus Wirtschaft und Ehrenamt anlegen, mit Beispielen aus unserer eigenen Arbeit und der Arbeit der Betriebe, damit beide Seiten einander verstehen", "mittel", "ich selbst",
		"Drei Betriebe zum Sommerfest einladen", "Ömer Şahin",
		"Ansprechperson für Kooperationen benennen", "niedrig", "erledigt",
		"Interessenvertretung für KMU: Auftrag und Mitgliederbefragung", "Mitgliederbefragung vorbereiten", "Kim",
		"Seite 2 von 2",
	); msg != "" {
		t.Errorf("pdftotext: %s; it read:\n%s", msg, text)
	}
	if strings.Contains(text, "Alte Idee") {
		t.Errorf("pdftotext: the dropped measure is in the PDF, want only open and done ones:\n%s", text)
	}
}

// TestPDFPages: a long plan breaks between rows onto more pages, each with
// the table's header and its page number.
func TestPDFPages(t *testing.T) {
	in := planInput(t)
	p := bot.Plan{}
	for i := range 45 {
		p.Measures = append(p.Measures, measure(i+1, in.Flow, i%7, fmt.Sprintf("Maßnahme Nummer %d mit etwas Text", i+1), "medium", "Team", "2027-04-01", "2027-05-01"))
	}
	in.Plan = &p
	f, err := PDF(in)
	if err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, f.Data)
	var want []string
	for i := range 45 {
		want = append(want, fmt.Sprintf("Maßnahme Nummer %d mit", i+1))
	}
	if msg := inOrder(text, want...); msg != "" {
		t.Errorf("pdftotext: %s", msg)
	}
	// Page 1 holds the result picture, the table starts on page 2.
	last := pdfText(t, f.Data, "-f", "4", "-l", "4")
	if msg := inOrder(last, "Checkpunkt", "Maßnahme", "Maßnahme Nummer 45", "Seite 4 von 4"); msg != "" {
		t.Errorf("page 4: %s; it read:\n%s", msg, last)
	}
}

// TestPDFScripts: Cyrillic and Vietnamese come out of the PDF as they went
// in (the font is embedded with its Unicode map, the text NFC).
func TestPDFScripts(t *testing.T) {
	for _, tt := range []struct{ lang, text, want string }{
		{"ru", "Провести опрос членов палаты о барьерах", "План мероприятий"},
		{"vi", "Tổ chức khảo sát hội viên về các rào cản", "Kế hoạch hành động"},
	} {
		in := planInput(t)
		in.Lang, in.Flow, in.Owner = tt.lang, flow(t, in.Catalog, "bmo-advocacy"), ""
		in.Run, in.Prev = nil, nil
		in.Plan = &bot.Plan{Measures: []bot.Measure{measure(1, in.Flow, 1, tt.text, "high", "", "2027-03-22", "2027-05-03")}}
		f, err := PDF(in)
		if err != nil {
			t.Fatal(err)
		}
		text := pdfText(t, f.Data)
		if msg := inOrder(text, tt.want, in.Texts.T(tt.lang, "bmo-advocacy.issues.title"), tt.text, in.Texts.FormatDate(tt.lang, date(2027, 3, 22))); msg != "" {
			t.Errorf("%s: pdftotext: %s; it read:\n%s", tt.lang, msg, text)
		}
	}
}

// TestPDFRendersPage1 renders the first page with poppler's pdftoppm: it
// must draw, and hold the result picture's colours. With
// AMPEL_EXPORT_LOOK=dir the page is kept there to look at.
func TestPDFRendersPage1(t *testing.T) {
	tool := need(t, "pdftoppm", "poppler-utils")
	f, err := PDF(planInput(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if d := os.Getenv("AMPEL_EXPORT_LOOK"); d != "" {
		dir = d
	}
	file := filepath.Join(dir, "plan.pdf")
	if err := os.WriteFile(file, f.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(tool, "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", file, filepath.Join(dir, "page1")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "page1.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	if w, h := b.Dx(), b.Dy(); h < 400 || w*100/h < 139 || w*100/h > 144 {
		t.Errorf("page 1 is %d×%d pixels, want A4 landscape (1.414:1)", w, h)
	}
	lamps := map[string]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			switch {
			case r > 180 && g < 90 && bl < 80:
				lamps["red"]++
			case r > 200 && g > 150 && bl < 60:
				lamps["yellow"]++
			case r < 90 && g > 130 && bl < 100:
				lamps["green"]++
			}
		}
	}
	for _, c := range []string{"red", "yellow", "green"} {
		if lamps[c] < 10 {
			t.Errorf("page 1 has %d %s pixels, want the result picture's lamps", lamps[c], c)
		}
	}
}
