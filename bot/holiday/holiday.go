// Package holiday knows the public holidays of the regions a person can
// choose in /reminders: Germany and its sixteen states, Austria,
// Switzerland, France, Spain and Russia from github.com/rickar/cal (a
// well-kept library of holiday rules, Easter-based and substitute days),
// corrected where its data is out of date; Vietnam, Kazakhstan and India
// from the table in table.go, whose sources it names. The core asks it
// through bot.Holidays and never sees the library.
package holiday

import (
	"sync"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/aa"
	"github.com/rickar/cal/v2/at"
	"github.com/rickar/cal/v2/ch"
	"github.com/rickar/cal/v2/de"
	"github.com/rickar/cal/v2/es"
	"github.com/rickar/cal/v2/fr"
	"github.com/rickar/cal/v2/ru"

	"github.com/ampel-bot/ampel/bot"
)

// Countries are the countries offered, in the picker's order; a country
// with States offers them too.
var Countries = []string{"DE", "AT", "CH", "FR", "ES", "RU", "VN", "KZ", "IN"}

// States are the regions within a country that have holidays of their own.
var States = map[string][]string{
	"DE": {"DE-BW", "DE-BY", "DE-BE", "DE-BB", "DE-HB", "DE-HH", "DE-HE", "DE-MV",
		"DE-NI", "DE-NW", "DE-RP", "DE-SL", "DE-SN", "DE-ST", "DE-SH", "DE-TH"},
}

// Valid reports whether region is one this package knows.
func Valid(region string) bool {
	_, lib := library[region]
	_, tab := tables[region]
	return lib || tab
}

// Country is the country of a region: "DE" for "DE-BY".
func Country(region string) string {
	if len(region) > 2 && region[2] == '-' {
		return region[:2]
	}
	return region
}

// Mecklenburg-Vorpommern keeps Women's Day since 2023 (Feiertagsgesetz
// M-V, § 2, as amended 2023); rickar/cal v2.1.32 does not know it yet.
var frauentagMV = &cal.Holiday{Name: "Internationaler Frauentag", Type: cal.ObservancePublic,
	Month: time.March, Day: 8, Func: cal.CalcDayOfMonth, StartYear: 2023}

// In Brandenburg Easter Sunday and Whit Sunday are public holidays
// (Feiertagsgesetz Brandenburg, § 2): they matter to those who allow
// reminders at weekends.
var (
	ostersonntag   = aa.Easter.Clone(&cal.Holiday{Name: "Ostersonntag", Type: cal.ObservancePublic})
	pfingstsonntag = aa.Pentecost.Clone(&cal.Holiday{Name: "Pfingstsonntag", Type: cal.ObservancePublic})
)

// Russia's New Year holidays are 1 to 8 January (Labour Code, art. 112),
// the library has only the 1st and the 7th. Days off that the government
// moves by its yearly decree are not known here.
var newYearRU = func() []*cal.Holiday {
	var hs []*cal.Holiday
	for _, d := range []int{2, 3, 4, 5, 6, 8} {
		hs = append(hs, &cal.Holiday{Name: "Новогодние каникулы", Type: cal.ObservancePublic, Month: time.January, Day: d, Func: cal.CalcDayOfMonth})
	}
	return hs
}()

// library are the regions rickar/cal covers. Switzerland's holidays are
// the cantons' business (the library's national list holds days kept in a
// few cantons only); the country as a whole is taken as the days every
// canton keeps: New Year, Ascension, the national day and Christmas.
var library = map[string][]*cal.Holiday{
	"DE":    de.Holidays,
	"DE-BW": de.HolidaysBW,
	"DE-BY": de.HolidaysBY,
	"DE-BE": de.HolidaysBE,
	"DE-BB": append(append([]*cal.Holiday{}, de.HolidaysBB...), ostersonntag, pfingstsonntag),
	"DE-HB": de.HolidaysHB,
	"DE-HH": de.HolidaysHH,
	"DE-HE": de.HolidaysHE,
	"DE-MV": append(append([]*cal.Holiday{}, de.HolidaysMV...), frauentagMV),
	"DE-NI": de.HolidaysNI,
	"DE-NW": de.HolidaysNW,
	"DE-RP": de.HolidaysRP,
	"DE-SL": de.HolidaysSL,
	"DE-SN": de.HolidaysSN,
	"DE-ST": de.HolidaysST,
	"DE-SH": de.HolidaysSH,
	"DE-TH": de.HolidaysTH,
	"AT":    at.Holidays,
	"CH":    {ch.Neujahr, ch.Auffahrt, ch.Bundesfeiertag, ch.Weihnachtstag},
	"FR":    fr.Holidays,
	"ES":    es.Holidays,
	"RU":    append(append([]*cal.Holiday{}, ru.Holidays...), newYearRU...),
}

// Feature provides the holidays to the engine (bot.Feature.Holidays); the
// region is chosen in /reminders (bot/remind).
func Feature() bot.Feature {
	return bot.Feature{Name: "holiday", Holidays: &Calendar{}}
}

// Calendar answers bot.Holidays for every region of this package. The zero
// value is ready; it keeps each region's year once computed.
type Calendar struct {
	mu    sync.Mutex
	years map[yearKey]map[civil]string
}

type yearKey struct {
	region string
	year   int
}

type civil struct {
	m time.Month
	d int
}

var _ bot.Holidays = (*Calendar)(nil)

// Off reports whether day (its year, month and day; the location does not
// matter) is a public holiday in region, or a working day given in place of
// one that fell on a weekend, and the holiday's name in its country's
// language. An unknown region has none.
func (c *Calendar) Off(region string, day time.Time) (string, bool) {
	name, ok := c.year(region, day.Year())[civil{day.Month(), day.Day()}]
	return name, ok
}

// Covers reports whether Off knows every holiday of region in year: false
// where the table of dates that move (the lunar calendar's) has ended.
func (c *Calendar) Covers(region string, year int) bool {
	if t, ok := tables[region]; ok {
		return t.covers(year)
	}
	return true
}

// year is region's holidays in year, computed once.
func (c *Calendar) year(region string, year int) map[civil]string {
	if !Valid(region) || year < 1900 || year > 2200 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := yearKey{region, year}
	if days, ok := c.years[k]; ok {
		return days
	}
	days := map[civil]string{}
	if t, ok := tables[region]; ok {
		t.fill(days, year)
	}
	for _, h := range library[region] {
		actual, observed := h.Calc(year)
		for _, d := range []time.Time{actual, observed} {
			if !d.IsZero() && d.Year() == year {
				if _, taken := days[civil{d.Month(), d.Day()}]; !taken {
					days[civil{d.Month(), d.Day()}] = h.Name
				}
			}
		}
	}
	if c.years == nil {
		c.years = map[yearKey]map[civil]string{}
	}
	c.years[k] = days
	return days
}

// zoneCountries are the time zones of the countries offered (IANA's
// zone1970.tab), for the region a person's zone suggests.
var zoneCountries = map[string]string{
	"Europe/Berlin": "DE", "Europe/Busingen": "DE", "Europe/Vienna": "AT", "Europe/Zurich": "CH",
	"Europe/Paris": "FR", "Europe/Madrid": "ES", "Africa/Ceuta": "ES", "Atlantic/Canary": "ES",
	"Asia/Ho_Chi_Minh": "VN", "Asia/Saigon": "VN", "Asia/Kolkata": "IN", "Asia/Calcutta": "IN",
	"Asia/Almaty": "KZ", "Asia/Qostanay": "KZ", "Asia/Qyzylorda": "KZ", "Asia/Aqtobe": "KZ",
	"Asia/Aqtau": "KZ", "Asia/Atyrau": "KZ", "Asia/Oral": "KZ",
	"Europe/Moscow": "RU", "Europe/Kaliningrad": "RU", "Europe/Samara": "RU", "Europe/Volgograd": "RU",
	"Europe/Kirov": "RU", "Europe/Astrakhan": "RU", "Europe/Saratov": "RU", "Europe/Ulyanovsk": "RU",
	"Asia/Yekaterinburg": "RU", "Asia/Omsk": "RU", "Asia/Novosibirsk": "RU", "Asia/Barnaul": "RU",
	"Asia/Tomsk": "RU", "Asia/Novokuznetsk": "RU", "Asia/Krasnoyarsk": "RU", "Asia/Irkutsk": "RU",
	"Asia/Chita": "RU", "Asia/Yakutsk": "RU", "Asia/Khandyga": "RU", "Asia/Vladivostok": "RU",
	"Asia/Ust-Nera": "RU", "Asia/Magadan": "RU", "Asia/Sakhalin": "RU", "Asia/Srednekolymsk": "RU",
	"Asia/Kamchatka": "RU", "Asia/Anadyr": "RU",
}

// langCountries are the countries a language suggests when the zone does
// not (English suggests none).
var langCountries = map[string]string{"de": "DE", "fr": "FR", "es": "ES", "ru": "RU", "vi": "VN"}

// Suggest is the country to offer first: that of a time zone the person
// or their platform set, else that of their language, else that of the
// bot's default zone; "" when none of them is one offered.
func Suggest(lang, zone string, zoneSet bool) string {
	if c, ok := zoneCountries[zone]; ok && zoneSet {
		return c
	}
	if c, ok := langCountries[lang]; ok {
		return c
	}
	return zoneCountries[zone]
}
