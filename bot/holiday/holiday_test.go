package holiday

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// offDays lists the days of year that are off in region, as "02.01.".
func offDays(c *Calendar, region string, year int) []string {
	var days []string
	for d := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == year; d = d.AddDate(0, 0, 1) {
		if _, ok := c.Off(region, d); ok {
			days = append(days, d.Format("02.01."))
		}
	}
	return days
}

// The public holidays of 2027, listed from the regions' own sources, not
// from the library: the German states' holiday laws (Feiertagsgesetze; as
// summarised by the Federal Ministry of the Interior's "Gesetzliche
// Feiertage" page), Austria's Arbeitsruhegesetz § 7, the Swiss federal
// "Bundesfeiertag" law and the days every canton keeps, France's Code du
// travail art. L3133-1, Spain's yearly BOE resolution on fiestas laborales
// (national days), Russia's Labour Code art. 112 (with its rule that a
// holiday on a day off moves to the next working day), Vietnam's Labour
// Code 2019 art. 111–112, Kazakhstan's law on holidays and Labour Code
// art. 85, and India's three national holidays. Easter 2027 is 28 March.
var want2027 = map[string]string{
	// Germany: 3 October is a Sunday in 2027, Christmas a weekend.
	"DE":    "01.01. 26.03. 29.03. 01.05. 06.05. 17.05. 03.10. 25.12. 26.12.",
	"DE-BW": "01.01. 06.01. 26.03. 29.03. 01.05. 06.05. 17.05. 27.05. 03.10. 01.11. 25.12. 26.12.",
	"DE-BY": "01.01. 06.01. 26.03. 29.03. 01.05. 06.05. 17.05. 27.05. 03.10. 01.11. 25.12. 26.12.",
	"DE-BE": "01.01. 08.03. 26.03. 29.03. 01.05. 06.05. 17.05. 03.10. 25.12. 26.12.",
	"DE-BB": "01.01. 26.03. 28.03. 29.03. 01.05. 06.05. 16.05. 17.05. 03.10. 31.10. 25.12. 26.12.",
	"DE-HB": "01.01. 26.03. 29.03. 01.05. 06.05. 17.05. 03.10. 31.10. 25.12. 26.12.",
	"DE-HH": "01.01. 26.03. 29.03. 01.05. 06.05. 17.05. 03.10. 31.10. 25.12. 26.12.",
	"DE-HE": "01.01. 26.03. 29.03. 01.05. 06.05. 17.05. 27.05. 03.10. 25.12. 26.12.",
	"DE-MV": "01.01. 08.03. 26.03. 29.03. 01.05. 06.05. 17.05. 03.10. 31.10. 25.12. 26.12.",
	"DE-NI": "01.01. 26.03. 29.03. 01.05. 06.05. 17.05. 03.10. 31.10. 25.12. 26.12.",
	"DE-NW": "01.01. 26.03. 29.03. 01.05. 06.05. 17.05. 27.05. 03.10. 01.11. 25.12. 26.12.",
	"DE-RP": "01.01. 26.03. 29.03. 01.05. 06.05. 17.05. 27.05. 03.10. 01.11. 25.12. 26.12.",
	"DE-SL": "01.01. 26.03. 29.03. 01.05. 06.05. 17.05. 27.05. 15.08. 03.10. 01.11. 25.12. 26.12.",
	"DE-SN": "01.01. 26.03. 29.03. 01.05. 06.05. 17.05. 03.10. 31.10. 17.11. 25.12. 26.12.",
	"DE-ST": "01.01. 06.01. 26.03. 29.03. 01.05. 06.05. 17.05. 03.10. 31.10. 25.12. 26.12.",
	"DE-SH": "01.01. 26.03. 29.03. 01.05. 06.05. 17.05. 03.10. 31.10. 25.12. 26.12.",
	"DE-TH": "01.01. 26.03. 29.03. 01.05. 06.05. 17.05. 20.09. 03.10. 31.10. 25.12. 26.12.",
	"AT":    "01.01. 06.01. 29.03. 01.05. 06.05. 17.05. 27.05. 15.08. 26.10. 01.11. 08.12. 25.12. 26.12.",
	"CH":    "01.01. 06.05. 01.08. 25.12.",
	"FR":    "01.01. 29.03. 01.05. 06.05. 08.05. 17.05. 14.07. 15.08. 01.11. 11.11. 25.12.",
	"ES":    "01.01. 06.01. 26.03. 01.05. 15.08. 12.10. 01.11. 06.12. 08.12. 25.12.",
	// Russia: 1 May and 12 June fall on a Saturday, 9 May on a Sunday:
	// the Mondays after them are off.
	"RU": "01.01. 02.01. 03.01. 04.01. 05.01. 06.01. 07.01. 08.01. 23.02. 08.03. 01.05. 03.05. 09.05. 10.05. 12.06. 14.06. 04.11.",
	// Vietnam: Tết is 6 February (a Saturday): 5–9 February, and the
	// Wednesday and Thursday after for the weekend; Giỗ Tổ 16 April;
	// 1 May a Saturday, made up on Monday 3 May.
	"VN": "01.01. 05.02. 06.02. 07.02. 08.02. 09.02. 10.02. 11.02. 16.04. 30.04. 01.05. 03.05. 02.09.",
	// Kazakhstan: 2 January a Saturday (→ 4 Jan), Nauryz from Sunday
	// 21 March (→ 24 Mar), 1 May a Saturday (→ 3 May), 9 May a Sunday
	// (→ 10 May); Orthodox Christmas is not made up.
	"KZ": "01.01. 02.01. 04.01. 07.01. 08.03. 21.03. 22.03. 23.03. 24.03. 01.05. 03.05. 07.05. 09.05. 10.05. 06.07. 30.08. 25.10. 16.12.",
	"IN": "26.01. 15.08. 02.10.",
}

// TestRegions2027: every region offered has its holidays of 2027, as the
// regions' own sources list them.
func TestRegions2027(t *testing.T) {
	var c Calendar
	regions := slices.Clone(Countries)
	for _, states := range States {
		regions = append(regions, states...)
	}
	if len(regions) != len(want2027) {
		t.Errorf("%d regions offered, %d with holidays listed", len(regions), len(want2027))
	}
	for _, r := range regions {
		if got := strings.Join(offDays(&c, r, 2027), " "); got != want2027[r] {
			t.Errorf("%s 2027:\ngot  %s\nwant %s", r, got, want2027[r])
		}
		if !c.Covers(r, 2027) {
			t.Errorf("%s: 2027 not covered", r)
		}
	}
}

// TestNamedDays: the days the task names, with their names.
func TestNamedDays(t *testing.T) {
	var c Calendar
	for _, tc := range []struct{ region, day, name string }{
		{"DE-HE", "2027-10-03", "Tag der Deutschen Einheit"},
		{"DE-SN", "2027-10-31", "Reformationstag"},
		{"DE-MV", "2027-03-08", "Internationaler Frauentag"},
		{"CH", "2027-08-01", "Bundesfeiertag"},
		{"FR", "2027-07-14", "Fête Nationale"},
		{"RU", "2027-06-12", "День России"},
		{"VN", "2027-09-02", "Quốc khánh"},
		{"KZ", "2027-12-16", "День Независимости"},
		{"IN", "2027-01-26", "Republic Day"},
	} {
		d, _ := time.Parse("2006-01-02", tc.day)
		if name, ok := c.Off(tc.region, d); !ok || !strings.EqualFold(name, tc.name) {
			t.Errorf("%s %s: got %q, %v; want %q", tc.region, tc.day, name, ok, tc.name)
		}
	}
	// Reformation Day is no holiday in the states that do not keep it.
	for _, r := range []string{"DE", "DE-BY", "DE-BW", "DE-NW", "DE-BE"} {
		if name, ok := c.Off(r, time.Date(2027, 10, 31, 0, 0, 0, 0, time.UTC)); ok {
			t.Errorf("%s: 31.10.2027 is %q, want a working day", r, name)
		}
	}
}

// TestVietnamLunarTable: Tết and Giỗ Tổ are known for 2026–2030; after the
// table ends the fixed days still count, the lunar ones are not guessed,
// and Covers says so.
func TestVietnamLunarTable(t *testing.T) {
	var c Calendar
	tet := map[int]string{2026: "17.02.", 2027: "06.02.", 2028: "26.01.", 2029: "13.02.", 2030: "02.02."}
	for year := 2026; year <= 2030; year++ {
		if !c.Covers("VN", year) {
			t.Errorf("VN %d not covered", year)
		}
		days := strings.Join(offDays(&c, "VN", year), " ")
		if !strings.Contains(days, tet[year]) {
			t.Errorf("VN %d: Tết %s missing in %s", year, tet[year], days)
		}
	}
	if c.Covers("VN", 2031) {
		t.Error("VN 2031 covered, want the table's end said")
	}
	if got := strings.Join(offDays(&c, "VN", 2031), " "); got != "01.01. 30.04. 01.05. 02.09." {
		t.Errorf("VN 2031: %s, want only the fixed days", got)
	}
	for _, r := range []string{"DE-BY", "KZ", "IN", "RU"} {
		if !c.Covers(r, 2031) {
			t.Errorf("%s 2031 not covered: its rules have no end", r)
		}
	}
	if _, ok := c.Off("XX", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)); ok || Valid("XX") {
		t.Error("an unknown region has holidays")
	}
}
