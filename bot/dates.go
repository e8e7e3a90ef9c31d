package bot

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Dates are calendar days, kept as midnight UTC so that arithmetic never meets
// a daylight-saving gap; the owner's time zone only decides which day "today" is.

const dateLayout = "2006-01-02"

func civil(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func dayOf(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return civil(y, m, d)
}

func parseCivil(s string) (time.Time, bool) {
	t, err := time.Parse(dateLayout, s)
	return t, err == nil
}

// addMonths adds n calendar months, keeping the day but clamping it to the
// month's last day (31 Jan + 1 month = 28 or 29 Feb, not 3 Mar).
func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := civil(y, m+time.Month(n), 1)
	last := first.AddDate(0, 1, -1).Day()
	if d > last {
		d = last
	}
	return civil(first.Year(), first.Month(), d)
}

// dateVocab holds the words people type for dates, in every shipped language,
// taken from the locales so that a new language brings its own words.
type dateVocab struct {
	weekdays map[string]time.Weekday
	next     map[string]bool
	in       map[string]bool
	fillers  map[string]bool
	units    map[string]string // word -> "d", "w", "m"
	months   map[string]time.Month
	numbers  map[string]int
	phrases  map[string]int // "today" -> 0, "tomorrow" -> 1, …
}

func newDateVocab(t *Texts) *dateVocab {
	v := &dateVocab{
		weekdays: map[string]time.Weekday{}, next: map[string]bool{}, in: map[string]bool{},
		fillers: map[string]bool{}, units: map[string]string{}, months: map[string]time.Month{}, numbers: map[string]int{}, phrases: map[string]int{},
	}
	words := func(lang, id string) []string { return strings.Fields(strings.ToLower(t.T(lang, id))) }
	for _, lang := range t.Langs() {
		for i, group := range t.List(lang, "parse.weekdays") {
			for _, w := range strings.Fields(strings.ToLower(group)) {
				v.weekdays[w] = time.Weekday((i + 1) % 7) // the list starts with Monday
			}
		}
		for i, group := range t.List(lang, "parse.monthnames") {
			for _, w := range strings.Fields(strings.ToLower(group)) {
				v.months[w] = time.Month(i + 1)
			}
		}
		for i, group := range t.List(lang, "parse.numbers") {
			for _, w := range strings.Fields(strings.ToLower(group)) {
				v.numbers[w] = i + 1
			}
		}
		for _, w := range words(lang, "parse.next") {
			v.next[w] = true
		}
		for _, w := range words(lang, "parse.in") {
			v.in[w] = true
		}
		for _, w := range words(lang, "parse.fillers") {
			v.fillers[w] = true
		}
		for unit, id := range map[string]string{"d": "parse.days", "w": "parse.weeks", "m": "parse.months"} {
			for _, w := range words(lang, id) {
				v.units[w] = unit
			}
		}
		for days, id := range []string{"parse.today", "parse.tomorrow", "parse.dayafter"} {
			for _, p := range t.List(lang, id) {
				v.phrases[strings.Join(strings.Fields(strings.ToLower(p)), " ")] = days
			}
		}
	}
	return v
}

// dateProblem says why a typed date was not taken.
type dateProblem int

const (
	dateOK dateProblem = iota
	dateUnreadable
	dateImpossible // "31.02.2027"
	dateAmbiguous  // "3/4/2027": 3 April or 4 March
)

var (
	reDotted = regexp.MustCompile(`^(\d{1,2})\.(\d{1,2})(?:\.(\d{4}|\d{2})?)?$`)
	reISO    = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})$`)
	reSlash  = regexp.MustCompile(`^(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?$`)
)

// parseDate reads a date as people type it: "15.3.", "15.03.2027", "2027-03-15",
// "3/15/2027" and "15/3/2027" (only where day and month cannot be confused),
// "in 2 weeks", "next Monday", "tomorrow", in any shipped language. A date
// without a year is the next such day from today on. alt is the other reading
// of an ambiguous date.
func (v *dateVocab) parseDate(text string, today time.Time) (d, alt time.Time, p dateProblem) {
	s := strings.ToLower(strings.TrimSpace(text))
	// A leading weekday, as in the bot's own confirmations ("Sa, 03.04.2027",
	// "Sat 3 Apr 2027"), is read past, so a date copied back is understood.
	if i := strings.IndexFunc(s, func(r rune) bool { return r == ' ' || r == ',' }); i > 0 {
		if _, ok := v.weekdays[strings.TrimSuffix(s[:i], ".")]; ok {
			if rest := strings.TrimLeft(s[i:], " ,"); rest != "" && strings.IndexFunc(rest, unicode.IsDigit) >= 0 {
				s = rest
			}
		}
	}
	compact := strings.Join(strings.Fields(s), "")
	num := func(x string) int { n, _ := strconv.Atoi(x); return n }
	year := func(x string, day, month int) (int, bool) {
		switch len(x) {
		case 0:
			return 0, false
		case 2:
			return 2000 + num(x), true
		}
		return num(x), true
	}
	build := func(y, m, dd int, hasYear bool) (time.Time, dateProblem) {
		if m < 1 || m > 12 || dd < 1 || dd > 31 {
			return time.Time{}, dateImpossible
		}
		if hasYear {
			t := civil(y, time.Month(m), dd)
			if t.Day() != dd { // 31.02. rolled over into March
				return time.Time{}, dateImpossible
			}
			return t, dateOK
		}
		// Without a year: the next such day from today on; a 29 February
		// may be up to four years ahead.
		for y := today.Year(); y <= today.Year()+4; y++ {
			if t := civil(y, time.Month(m), dd); t.Day() == dd && !t.Before(today) {
				return t, dateOK
			}
		}
		return time.Time{}, dateImpossible
	}
	if m := reDotted.FindStringSubmatch(compact); m != nil {
		y, has := year(m[3], 0, 0)
		d, p = build(y, num(m[2]), num(m[1]), has)
		return d, time.Time{}, p
	}
	if m := reISO.FindStringSubmatch(compact); m != nil {
		d, p = build(num(m[1]), num(m[2]), num(m[3]), true)
		return d, time.Time{}, p
	}
	if m := reSlash.FindStringSubmatch(compact); m != nil {
		a, b := num(m[1]), num(m[2])
		y, has := year(m[3], 0, 0)
		switch {
		case a > 12 && b <= 12: // 15/3: day first
			d, p = build(y, b, a, has)
		case b > 12 && a <= 12: // 3/15: month first
			d, p = build(y, a, b, has)
		case a == b:
			d, p = build(y, a, b, has)
		case a > 12 && b > 12:
			return time.Time{}, time.Time{}, dateImpossible
		default:
			d1, p1 := build(y, b, a, has)
			d2, p2 := build(y, a, b, has)
			if p1 != dateOK || p2 != dateOK {
				return time.Time{}, time.Time{}, dateImpossible
			}
			return d1, d2, dateAmbiguous
		}
		return d, time.Time{}, p
	}
	// Words.
	s = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' { // "-2" stays negative, and unreadable
			return r
		}
		return ' '
	}, s)
	var toks []string
	for _, w := range strings.Fields(s) {
		if !v.fillers[w] {
			toks = append(toks, w)
		}
	}
	if len(toks) == 0 {
		return time.Time{}, time.Time{}, dateUnreadable
	}
	if days, ok := v.phrases[strings.Join(toks, " ")]; ok {
		return today.AddDate(0, 0, days), time.Time{}, dateOK
	}
	if v.in[toks[0]] && len(toks) >= 2 && len(toks) <= 3 {
		n, unit := 1, ""
		if len(toks) == 3 {
			var ok bool
			if n, ok = v.numbers[toks[1]]; !ok {
				var err error
				if n, err = strconv.Atoi(toks[1]); err != nil || n < 0 || n > 999 {
					return time.Time{}, time.Time{}, dateUnreadable
				}
			}
		}
		unit = v.units[toks[len(toks)-1]]
		switch unit {
		case "d":
			return today.AddDate(0, 0, n), time.Time{}, dateOK
		case "w":
			return today.AddDate(0, 0, 7*n), time.Time{}, dateOK
		case "m":
			return addMonths(today, n), time.Time{}, dateOK
		}
		return time.Time{}, time.Time{}, dateUnreadable
	}
	if d, p, ok := v.namedMonth(toks, build); ok {
		return d, time.Time{}, p
	}
	if len(toks) == 2 && v.next[toks[0]] {
		toks = toks[1:]
	}
	if len(toks) == 1 {
		if wd, ok := v.weekdays[toks[0]]; ok {
			ahead := (int(wd) - int(today.Weekday()) + 7) % 7
			if ahead == 0 {
				ahead = 7
			}
			return today.AddDate(0, 0, ahead), time.Time{}, dateOK
		}
	}
	return time.Time{}, time.Time{}, dateUnreadable
}

// formatDate writes a day unambiguously the local way ("Mo, 15.03.2027",
// "Mon 15 Mar 2027").
func (t *Texts) formatDate(lang string, d time.Time) string {
	wd := t.List(lang, "date.weekdays")[(int(d.Weekday())+6)%7]
	mon := t.List(lang, "date.months")[int(d.Month())-1]
	return t.T(lang, "date.format",
		"Weekday", wd, "Day", d.Day(), "DD", two(d.Day()), "MM", two(int(d.Month())), "Month", mon, "Year", d.Year())
}

func two(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// namedMonth reads "15 March 2027", "15. März", "March 15, 2027".
func (v *dateVocab) namedMonth(toks []string, build func(y, m, d int, hasYear bool) (time.Time, dateProblem)) (time.Time, dateProblem, bool) {
	if len(toks) < 2 || len(toks) > 3 {
		return time.Time{}, 0, false
	}
	day, month := toks[0], toks[1]
	if _, ok := v.months[day]; ok { // month first
		day, month = month, day
	}
	m, ok := v.months[month]
	if !ok {
		return time.Time{}, 0, false
	}
	d, err := strconv.Atoi(day)
	if err != nil {
		return time.Time{}, 0, false
	}
	if len(toks) == 3 {
		y, err := strconv.Atoi(toks[2])
		if err != nil || (len(toks[2]) != 4 && len(toks[2]) != 2) {
			return time.Time{}, 0, false
		}
		if y < 100 {
			y += 2000
		}
		t, p := build(y, int(m), d, true)
		return t, p, true
	}
	t, p := build(0, int(m), d, false)
	return t, p, true
}
