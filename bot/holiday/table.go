package holiday

import (
	"sort"
	"time"
)

// The regions rickar/cal lacks, as data. Each names its source; the dates
// of the lunar calendar are listed per year, and where the list ends Off
// knows only the fixed days (Covers says so, and the engine logs it once).

// tables are the regions kept here.
var tables = map[string]*table{
	// Vietnam. Source: Labour Code 2019 (Bộ luật Lao động số 45/2019/QH14),
	// art. 112 (public holidays) and art. 111(3) (a holiday on the weekly
	// day off is made up on the next working day), as published on
	// vanban.chinhphu.vn. Tết Nguyên Đán is five days whose exact span the
	// Prime Minister fixes each year; taken here as its eve and its first
	// four days, the usual choice. The national day is 2 September and one
	// day before or after it, also fixed each year: only the 2nd is listed.
	// Lunar dates (first day of Tết, 10th day of the 3rd month for Giỗ Tổ
	// Hùng Vương) for Vietnam's time zone (UTC+7), checked against new
	// moons computed after Meeus, Astronomical Algorithms, ch. 49; 2030 is
	// a year in which Vietnam's Tết (2 Feb) differs from China's (3 Feb).
	"VN": {
		substitute: true,
		fixed: []day{
			{time.January, 1, "Tết Dương lịch", false},
			{time.April, 30, "Ngày Chiến thắng", false},
			{time.May, 1, "Ngày Quốc tế Lao động", false},
			{time.September, 2, "Quốc khánh", false},
		},
		moving: map[int][]day{
			2026: append(tet(2026, time.February, 17), day{time.April, 26, hung, false}),
			2027: append(tet(2027, time.February, 6), day{time.April, 16, hung, false}),
			2028: append(tet(2028, time.January, 26), day{time.April, 4, hung, false}),
			2029: append(tet(2029, time.February, 13), day{time.April, 23, hung, false}),
			2030: append(tet(2030, time.February, 2), day{time.April, 12, hung, false}),
		},
	},
	// Kazakhstan. Source: Law of the Republic of Kazakhstan "On holidays in
	// the Republic of Kazakhstan" of 13 December 2001 No. 267-II, art. 1 and
	// 5, as amended in 2022 (Republic Day 25 October restored; Independence
	// Day 16 December only), on adilet.zan.kz; Labour Code of the Republic
	// of Kazakhstan, art. 85 (a holiday on a day off moves the day off to
	// the next working day, religious holidays excepted). Kurban Ait, a
	// day off whose date the government sets each year, is not included:
	// a reminder on it is not moved.
	"KZ": {
		substitute: true,
		fixed: []day{
			{time.January, 1, "Новый год", false},
			{time.January, 2, "Новый год", false},
			{time.January, 7, "Православное Рождество", true},
			{time.March, 8, "Международный женский день", false},
			{time.March, 21, "Наурыз мейрамы", false},
			{time.March, 22, "Наурыз мейрамы", false},
			{time.March, 23, "Наурыз мейрамы", false},
			{time.May, 1, "Праздник единства народа Казахстана", false},
			{time.May, 7, "День защитника Отечества", false},
			{time.May, 9, "День Победы", false},
			{time.July, 6, "День Столицы", false},
			{time.August, 30, "День Конституции", false},
			{time.October, 25, "День Республики", false},
			{time.December, 16, "День Независимости", false},
		},
	},
	// India: the three national holidays only, closed in every state by law
	// and listed first in every yearly holiday order of the Department of
	// Personnel and Training (dopt.gov.in) for central government offices.
	// The other holidays differ by state and by year (many follow lunar
	// calendars), and no single solid source lists them ahead: not kept.
	"IN": {
		fixed: []day{
			{time.January, 26, "Republic Day", false},
			{time.August, 15, "Independence Day", false},
			{time.October, 2, "Gandhi Jayanti", false},
		},
	},
}

const hung = "Giỗ Tổ Hùng Vương"

// tet is Tết Nguyên Đán of a year whose first lunar day is month/d: its eve
// and its first four days.
func tet(year int, month time.Month, d int) []day {
	first := time.Date(year, month, d, 0, 0, 0, 0, time.UTC)
	var days []day
	for i := -1; i <= 3; i++ {
		t := first.AddDate(0, 0, i)
		days = append(days, day{t.Month(), t.Day(), "Tết Nguyên Đán", false})
	}
	return days
}

// day is a holiday on a day of the month; noSubstitute: one on a weekend
// is not made up (a religious holiday in Kazakhstan).
type day struct {
	month        time.Month
	day          int
	name         string
	noSubstitute bool
}

type table struct {
	fixed []day
	// moving are the days that move from year to year, by year; a year
	// not listed is not covered.
	moving map[int][]day
	// substitute: a holiday on a Saturday or Sunday gives the next working
	// day off instead.
	substitute bool
}

// covers reports whether the table knows every holiday of year.
func (t *table) covers(year int) bool {
	if len(t.moving) == 0 {
		return true
	}
	_, ok := t.moving[year]
	return ok
}

// fill puts the table's holidays of year into days, with the working days
// given for those that fell on a weekend.
func (t *table) fill(days map[civil]string, year int) {
	all := append(append([]day{}, t.fixed...), t.moving[year]...)
	for _, h := range all {
		days[civil{h.month, h.day}] = h.name
	}
	if !t.substitute {
		return
	}
	sort.Slice(all, func(i, j int) bool {
		return all[i].month < all[j].month || all[i].month == all[j].month && all[i].day < all[j].day
	})
	for _, h := range all {
		d := time.Date(year, h.month, h.day, 0, 0, 0, 0, time.UTC)
		if h.noSubstitute || !weekend(d) {
			continue
		}
		for {
			d = d.AddDate(0, 0, 1)
			if _, taken := days[civil{d.Month(), d.Day()}]; !taken && !weekend(d) {
				break
			}
		}
		if d.Year() == year {
			days[civil{d.Month(), d.Day()}] = h.name
		}
	}
}

func weekend(d time.Time) bool { return d.Weekday() == time.Saturday || d.Weekday() == time.Sunday }
