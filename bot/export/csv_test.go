package export

import (
	"bytes"
	"encoding/csv"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ampel-bot/ampel/bot"
)

// readCSV reads an export back as a spreadsheet would after the BOM.
func readCSV(t *testing.T, f bot.File, sep rune) [][]string {
	t.Helper()
	if !bytes.HasPrefix(f.Data, []byte(bom)) {
		t.Fatalf("the CSV starts with %q, want the UTF-8 byte order mark (Excel reads UTF-8 only with it)", f.Data[:min(3, len(f.Data))])
	}
	body := f.Data[len(bom):]
	if !utf8.Valid(body) {
		t.Fatal("the CSV is not valid UTF-8")
	}
	if n, crlf := bytes.Count(body, []byte("\n")), bytes.Count(body, []byte("\r\n")); n != crlf {
		t.Errorf("%d of %d line ends are CRLF, want all (RFC 4180)", crlf, n)
	}
	r := csv.NewReader(bytes.NewReader(body))
	r.Comma = sep
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("encoding/csv: %v", err)
	}
	return recs
}

// TestCSVReadsBack: every visible measure comes back field for field, under
// the German header, separated by semicolons, dates as spreadsheets read
// them, quotes, separators and line breaks in a measure intact.
func TestCSVReadsBack(t *testing.T) {
	in := planInput(t)
	in.Plan.Measures[0].Text = `Flyer "Gemeinsam stark"; 2 Seiten, mit Logo`
	in.Plan.Measures[3].Text = "Sommerfest:\nDrei Betriebe einladen"
	f, err := CSV(in)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "ampel-massnahmenplan-2027-03-15.csv" || !strings.HasPrefix(f.MIME, "text/csv") {
		t.Errorf("file: got %q (%s), want ampel-massnahmenplan-2027-03-15.csv as text/csv", f.Name, f.MIME)
	}
	zo := "Zusammenarbeit mit KMU in der Region"
	want := [][]string{
		{"Check", "Checkpunkt", "Maßnahme", "Priorität", "Verantwortlich", "Start", "Überprüfung", "Status"},
		{zo, "Zusammenarbeit planen", `Flyer "Gemeinsam stark"; 2 Seiten, mit Logo`, "hoch", "Jana Müller", "2027-03-22", "2027-05-03", "offen"},
		{zo, "Unterschiedliche Denk- und Sprachwelten", in.Plan.Measures[1].Text, "mittel", "ich selbst", "2027-04-01", "2027-06-30", "offen"},
		{zo, "Kontakte zu KMU entwickeln", "Sommerfest:\nDrei Betriebe einladen", "mittel", "Ömer Şahin", "2027-04-12", "2027-07-01", "offen"},
		{zo, "Interne Organisation der Zusammenarbeit", "Ansprechperson für Kooperationen benennen", "niedrig", "Vorstand", "2027-03-16", "2027-04-13", "erledigt"},
		{"Interessenvertretung für KMU", "Auftrag und Mitgliederbefragung", "Mitgliederbefragung vorbereiten", "hoch", "Kim", "2027-05-02", "2027-06-01", "offen"},
	}
	if got := readCSV(t, f, ';'); !reflect.DeepEqual(got, want) {
		t.Errorf("read back:\n%q\nwant:\n%q", got, want)
	}
}

// TestCSVSeparatorPerLanguage: English spreadsheets split on commas, so the
// English export uses them; the text still reads back whole.
func TestCSVSeparatorPerLanguage(t *testing.T) {
	in := planInput(t)
	in.Lang = "en"
	f, err := CSV(in)
	if err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, f, ',')
	if len(recs) != 6 || len(recs[0]) != 8 || recs[0][2] != "Measure" || recs[2][4] != "myself" {
		t.Errorf("read back with commas: got %q, want 6 rows of 8 fields with the English header", recs)
	}
}

// TestCSVNoFormulas: a measure a spreadsheet would run as a formula is
// written so that it shows as text.
func TestCSVNoFormulas(t *testing.T) {
	in := planInput(t)
	in.Plan.Measures[0].Text = `=HYPERLINK("http://example.invalid","Klick")`
	in.Plan.Measures[0].Responsible = "@Jana"
	f, err := CSV(in)
	if err != nil {
		t.Fatal(err)
	}
	row := readCSV(t, f, ';')[1]
	if row[2] != `'=HYPERLINK("http://example.invalid","Klick")` || row[4] != "'@Jana" {
		t.Errorf("got measure %q, responsible %q; want both behind an apostrophe", row[2], row[4])
	}
}
