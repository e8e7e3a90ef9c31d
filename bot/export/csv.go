package export

import (
	"bytes"
	"encoding/csv"
	"errors"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/ampel-bot/ampel/bot"
)

// bom starts the CSV: without it Excel reads the file in the machine's
// legacy code page and garbles every umlaut; LibreOffice and encoding/csv
// users skip it.
const bom = "\ufeff"

// CSV writes the plan for spreadsheets: UTF-8 with a byte order mark, one
// row per measure (open and done ones, in the plan's order) under a header
// row, with the separator the language's spreadsheets expect
// (export.csv.separator: a semicolon where the comma is the decimal sign,
// as Excel's list separator follows it), CRLF line ends as RFC 4180 has
// them. Dates are ISO 8601 (2027-03-15): Excel and LibreOffice read them as
// dates in every locale and show them the user's way, where a written-out
// date would stay text.
func CSV(in Input) (bot.File, error) {
	if in.Texts == nil {
		return bot.File{}, errors.New("export: a CSV needs texts")
	}
	sep, _ := utf8.DecodeRuneInString(in.t("export.csv.separator"))
	if sep != ';' && sep != ',' && sep != '\t' {
		sep = ';'
	}
	var buf bytes.Buffer
	buf.WriteString(bom)
	w := csv.NewWriter(&buf)
	w.Comma, w.UseCRLF = sep, true
	head := []string{"export.col.check", "export.col.checkpoint", "export.col.measure", "export.col.priority",
		"export.col.responsible", "export.col.start", "export.col.review", "export.col.status"}
	for i, id := range head {
		head[i] = in.t(id)
	}
	records := [][]string{head}
	for _, r := range in.rows() {
		records = append(records, []string{r.check, r.checkpoint, r.text, r.priority, r.resp,
			isoDate(r.m.Start), isoDate(r.m.Review), r.status})
	}
	for _, rec := range records {
		for i, v := range rec {
			rec[i] = cell(v)
		}
		if err := w.Write(rec); err != nil {
			return bot.File{}, err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return bot.File{}, err
	}
	return bot.File{Name: in.fileName("export.file.plan", "csv"), MIME: "text/csv; charset=utf-8", Data: buf.Bytes()}, nil
}

// isoDate is a plan's day as spreadsheets read it, or empty.
func isoDate(s string) string {
	if d, ok := civilDate(s); ok {
		return d.Format(time.DateOnly)
	}
	return ""
}

// cell is a value as a spreadsheet may safely read it: NFC, and a value
// that a spreadsheet would run as a formula (=, +, -, @ first; OWASP's CSV
// injection) gets an apostrophe before it, so it shows as the text it is.
func cell(v string) string {
	v = norm.NFC.String(v)
	if v != "" {
		switch v[0] {
		case '=', '+', '-', '@', '\t', '\r':
			return "'" + v
		}
	}
	return v
}
