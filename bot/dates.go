package bot

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
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
// taken from the locales so that a new language brings its own words. It
// also holds the names people type for time zones and languages, which come
// from the locales the same way.
type dateVocab struct {
	weekdays   map[string]time.Weekday
	next       map[string]bool // "next Monday", "next week"
	this       map[string]bool // "this Monday": the next one too, but not "this week"
	in         map[string]bool
	fillers    map[string]bool
	ordinals   map[string]bool // "15th": a suffix after a number
	end        map[string]bool // "end of March"
	weekNumber map[string]bool // "KW 12", "week 12"
	units      map[string]span // "weeks" -> 7 days, "fortnight" -> 14 days, "year" -> 12 months
	months     map[string]time.Month
	numbers    map[string]int
	phrases    map[string]int // "today" -> 0, "tomorrow" -> 1, "yesterday" -> -1, …
	zones      map[string]string
	langs      map[string]string
}

// span is a length of time a unit word stands for.
type span struct{ days, months int }

// phraseDays are the locale lists of fixed phrases and the day each means.
var phraseDays = map[string]int{"parse.daybefore": -2, "parse.yesterday": -1, "parse.today": 0, "parse.tomorrow": 1, "parse.dayafter": 2}

func newDateVocab(t *Texts) *dateVocab {
	v := &dateVocab{
		weekdays: map[string]time.Weekday{}, next: map[string]bool{}, this: map[string]bool{}, in: map[string]bool{},
		fillers: map[string]bool{}, ordinals: map[string]bool{}, end: map[string]bool{}, weekNumber: map[string]bool{},
		units: map[string]span{}, months: map[string]time.Month{}, numbers: map[string]int{}, phrases: map[string]int{},
		zones: map[string]string{}, langs: map[string]string{},
	}
	words := func(lang, id string) []string { return strings.Fields(strings.ToLower(t.T(lang, id))) }
	set := func(m map[string]bool, lang, id string) {
		for _, w := range words(lang, id) {
			m[w] = true
		}
	}
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
		set(v.next, lang, "parse.next")
		set(v.this, lang, "parse.this")
		set(v.in, lang, "parse.in")
		set(v.fillers, lang, "parse.fillers")
		set(v.ordinals, lang, "parse.ordinals")
		set(v.end, lang, "parse.end")
		set(v.weekNumber, lang, "parse.weeknumber")
		// "tag tage tagen = 1d | woche wochen = 1w | …": d days, w weeks,
		// m months, y years.
		for _, group := range t.List(lang, "parse.units") {
			ws, n, ok := strings.Cut(group, "=")
			sp, good := parseSpan(strings.TrimSpace(n))
			if !ok || !good {
				t.log.Error("locale list parse.units: want \"words = <n>d|w|m|y\"", "lang", lang, "entry", group)
				continue
			}
			for _, w := range strings.Fields(strings.ToLower(ws)) {
				v.units[w] = sp
			}
		}
		for id, days := range phraseDays {
			for _, p := range t.List(lang, id) {
				v.phrases[strings.Join(strings.Fields(strings.ToLower(p)), " ")] = days
			}
		}
		// "Europe/Vienna: Wien | Europe/Berlin: München, Muenchen, MEZ | …"
		nameList(t, v.zones, lang, "parse.zones")
		// "de: Deutsch | en: Englisch"; every language is known by its code
		// and its own name, too.
		v.langs[lang] = lang
		v.langs[nameKey(t.T(lang, "language.name"))] = lang
		nameList(t, v.langs, lang, "parse.languages")
	}
	return v
}

// nameList reads a locale list "key: name, name | key: name" into m, which
// maps each name's nameKey to its key.
func nameList(t *Texts, m map[string]string, lang, id string) {
	for _, group := range t.List(lang, id) {
		key, names, ok := strings.Cut(group, ":")
		if !ok {
			t.log.Error("locale list: want \"key: name, name\"", "id", id, "lang", lang, "entry", group)
			continue
		}
		for _, n := range strings.Split(names, ",") {
			if k := nameKey(n); k != "" {
				m[k] = strings.TrimSpace(key)
			}
		}
	}
}

// language reads a language as people name it: its code ("en", "en-GB"),
// its own name or its name in any shipped language ("Deutsch", "German",
// "englisch"), also after a word ("auf Deutsch", "in English").
func (v *dateVocab) language(text string) (string, bool) {
	f := strings.Fields(text)
	if len(f) == 0 {
		return "", false
	}
	for _, s := range []string{text, f[len(f)-1]} {
		if l, ok := v.langs[nameKey(s)]; ok {
			return l, true
		}
		if code, _, ok := strings.Cut(strings.ReplaceAll(s, "_", "-"), "-"); ok {
			if l, ok := v.langs[strings.ToLower(code)]; ok && l == strings.ToLower(code) {
				return l, true
			}
		}
	}
	return "", false
}

// parseSpan reads a unit's length: "1d", "2w", "1m", "1y".
func parseSpan(s string) (span, bool) {
	if len(s) < 2 {
		return span{}, false
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n < 1 {
		return span{}, false
	}
	switch s[len(s)-1] {
	case 'd':
		return span{days: n}, true
	case 'w':
		return span{days: 7 * n}, true
	case 'm':
		return span{months: n}, true
	case 'y':
		return span{months: 12 * n}, true
	}
	return span{}, false
}

// nameKey makes a typed name comparable to the names in a list: case,
// accents, spaces, hyphens and dots do not matter ("Ho-Chi-Minh-Stadt",
// "ho chi minh stadt"; "München", "Munchen").
func nameKey(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		switch {
		case r == 'ß':
			b.WriteString("ss")
		case r == 'đ':
			b.WriteByte('d')
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// dateProblem says why a typed date was not taken, or what to say about it.
type dateProblem int

const (
	dateOK dateProblem = iota
	dateUnreadable
	dateImpossible // "31.02.2027"
	dateAmbiguous  // "3/4/2027": 3 April or 4 March
	datePast       // "gestern", "1.1.2020": the day is read, and it lies before today
	dateNextYear   // "3.12." typed on 4 December: the day is next year's, and the confirmation says so
)

// read reports whether a day was read, whether or not it can be taken.
func (p dateProblem) read() bool { return p == dateOK || p == datePast || p == dateNextYear }

var (
	reDotted = regexp.MustCompile(`^(\d{1,2})\.(\d{1,2})(?:\.(\d{4}|\d{2})?)?$`)
	reISO    = regexp.MustCompile(`^(\d{4})([-/.])(\d{1,2})([-/.])(\d{1,2})$`)
	reSlash  = regexp.MustCompile(`^(\d{1,2})([/-])(\d{1,2})(?:([/-])(\d{4}|\d{2}))?$`)
)

// isoDay is the day's number in an ISO week: Monday 1 … Sunday 7.
func isoDay(t time.Time) int { return (int(t.Weekday())+6)%7 + 1 }

// isoWeekMonday is the Monday of ISO week w of year y, if the year has it.
func isoWeekMonday(y, w int) (time.Time, bool) {
	jan4 := civil(y, time.January, 4) // always in week 1
	mon := jan4.AddDate(0, 0, 1-isoDay(jan4)+7*(w-1))
	gy, gw := mon.ISOWeek()
	return mon, gy == y && gw == w
}

// parseDate reads a date as people type it: "15.3.", "15.03.2027", "2027-03-15",
// "2027/03/15", "3/15/2027", "15/3/2027" and "15-03-2027" (only where day and
// month cannot be confused), "in 2 weeks", "in a year", "next Monday", "next
// week", "tomorrow", "yesterday", "end of March", "KW 12", "March 15th", in
// any shipped language. A date without a year is the next such day from
// today on (dateNextYear when that is next year's). A day before today is
// returned with datePast. alt is the other reading of an ambiguous date.
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
	year := func(x string) (int, bool) {
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
			return t, pastOr(t, today, dateOK)
		}
		// Without a year: the next such day from today on; a 29 February
		// may be up to four years ahead.
		for y := today.Year(); y <= today.Year()+4; y++ {
			if t := civil(y, time.Month(m), dd); t.Day() == dd && !t.Before(today) {
				return t, rolled(t, today)
			}
		}
		return time.Time{}, dateImpossible
	}
	if m := reDotted.FindStringSubmatch(compact); m != nil {
		y, has := year(m[3])
		d, p = build(y, num(m[2]), num(m[1]), has)
		return d, time.Time{}, p
	}
	if m := reISO.FindStringSubmatch(compact); m != nil && m[2] == m[4] {
		d, p = build(num(m[1]), num(m[3]), num(m[5]), true)
		return d, time.Time{}, p
	}
	if m := reSlash.FindStringSubmatch(compact); m != nil && (m[4] == "" || m[2] == m[4]) {
		a, b := num(m[1]), num(m[3])
		y, has := year(m[5])
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
			switch {
			case p1 == dateImpossible || p2 == dateImpossible:
				return time.Time{}, time.Time{}, dateImpossible
			case p1 == datePast && p2 == datePast: // either way it is over
				return d1, time.Time{}, datePast
			}
			return d1, d2, dateAmbiguous
		}
		return d, time.Time{}, p
	}
	toks := v.tokens(s)
	if len(toks) == 0 {
		return time.Time{}, time.Time{}, dateUnreadable
	}
	if days, ok := v.phrases[strings.Join(toks, " ")]; ok {
		d = today.AddDate(0, 0, days)
		return d, time.Time{}, pastOr(d, today, dateOK)
	}
	if d, p, ok := v.words(toks, today, build); ok {
		return d, time.Time{}, p
	}
	// "in KW 12", "in der nächsten Woche": "in" before what is no span.
	if len(toks) > 1 && v.in[toks[0]] {
		if d, p, ok := v.words(toks[1:], today, build); ok {
			return d, time.Time{}, p
		}
	}
	return time.Time{}, time.Time{}, dateUnreadable
}

// pastOr is datePast for a day before today, else p.
func pastOr(d, today time.Time, p dateProblem) dateProblem {
	if d.Before(today) {
		return datePast
	}
	return p
}

// rolled is the problem of a day found for a date typed without a year:
// dateNextYear when it is next year's, which the confirmation says.
func rolled(d, today time.Time) dateProblem {
	if d.Year() == today.Year()+1 {
		return dateNextYear
	}
	return dateOK
}

// tokens splits what is left of a typed date into words: letters and digits
// apart ("KW12", "15th"), punctuation gone, fillers ("am", "the", "of") and
// ordinal suffixes after a number ("15th") dropped.
func (v *dateVocab) tokens(s string) []string {
	var b strings.Builder
	prev := 0 // 1 letter, 2 digit
	for _, r := range s {
		kind := 0
		switch {
		case unicode.IsLetter(r):
			kind = 1
		case unicode.IsDigit(r):
			kind = 2
		case r == '-': // "-2" stays negative, and unreadable
			kind = 2
		}
		if kind == 0 || prev != 0 && kind != prev {
			b.WriteByte(' ')
		}
		if kind != 0 {
			b.WriteRune(r)
		}
		prev = kind
	}
	var toks []string
	for _, w := range strings.Fields(b.String()) {
		if v.fillers[w] || v.ordinals[w] && len(toks) > 0 && isNumber(toks[len(toks)-1]) {
			continue
		}
		toks = append(toks, w)
	}
	return toks
}

func isNumber(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// words reads a date written in words: a span ("in 2 weeks"), next week,
// the end of a month, a week number, a day of a named month or a weekday.
func (v *dateVocab) words(toks []string, today time.Time, build func(y, m, d int, hasYear bool) (time.Time, dateProblem)) (time.Time, dateProblem, bool) {
	if v.in[toks[0]] && len(toks) >= 2 && len(toks) <= 3 {
		n := 1
		if len(toks) == 3 {
			var ok bool
			if n, ok = v.numbers[toks[1]]; !ok {
				var err error
				if n, err = strconv.Atoi(toks[1]); err != nil || n < 0 || n > 999 {
					return time.Time{}, 0, false
				}
			}
		}
		if sp, ok := v.units[toks[len(toks)-1]]; ok {
			return addMonths(today.AddDate(0, 0, n*sp.days), n*sp.months), dateOK, true
		}
		return time.Time{}, 0, false
	}
	// "next week": its Monday.
	if len(toks) == 2 && v.next[toks[0]] && v.units[toks[1]] == (span{days: 7}) {
		return today.AddDate(0, 0, 8-isoDay(today)), dateOK, true
	}
	if d, p, ok := v.endOfMonth(toks, today); ok {
		return d, p, true
	}
	if d, p, ok := v.weekNo(toks, today); ok {
		return d, p, true
	}
	if d, p, ok := v.namedMonth(toks, build); ok {
		return d, p, true
	}
	if len(toks) == 2 && (v.next[toks[0]] || v.this[toks[0]]) {
		toks = toks[1:]
	}
	if len(toks) == 1 {
		if wd, ok := v.weekdays[toks[0]]; ok {
			ahead := (int(wd) - int(today.Weekday()) + 7) % 7
			if ahead == 0 {
				ahead = 7
			}
			return today.AddDate(0, 0, ahead), dateOK, true
		}
	}
	return time.Time{}, 0, false
}

// fullYear reads a year written with four digits, or two ("27").
func fullYear(s string) (int, bool) {
	y, err := strconv.Atoi(s)
	switch {
	case err != nil || y < 0:
		return 0, false
	case len(s) == 2:
		return 2000 + y, true
	case len(s) == 4:
		return y, true
	}
	return 0, false
}

// endOfMonth reads "Ende März", "end of March 2027": the month's last day,
// the next one from today on when no year is given.
func (v *dateVocab) endOfMonth(toks []string, today time.Time) (time.Time, dateProblem, bool) {
	if len(toks) < 2 || len(toks) > 3 || !v.end[toks[0]] {
		return time.Time{}, 0, false
	}
	m, ok := v.months[toks[1]]
	if !ok {
		return time.Time{}, 0, false
	}
	last := func(y int) time.Time { return civil(y, m+1, 0) }
	if len(toks) == 3 {
		y, ok := fullYear(toks[2])
		if !ok {
			return time.Time{}, 0, false
		}
		d := last(y)
		return d, pastOr(d, today, dateOK), true
	}
	d := last(today.Year())
	if d.Before(today) {
		d = last(today.Year() + 1)
	}
	return d, rolled(d, today), true
}

// weekNo reads a calendar week: "KW 12", "week 12", "12. KW", "KW 12 2028":
// the Monday of that ISO week, or today if that is the current week. Without
// a year it is the next such week from today on.
func (v *dateVocab) weekNo(toks []string, today time.Time) (time.Time, dateProblem, bool) {
	if len(toks) < 2 || len(toks) > 3 {
		return time.Time{}, 0, false
	}
	var n string
	switch {
	case v.weekNumber[toks[0]]:
		n = toks[1]
	case v.weekNumber[toks[1]]:
		n = toks[0]
	default:
		return time.Time{}, 0, false
	}
	w, err := strconv.Atoi(n)
	if err != nil {
		return time.Time{}, 0, false
	}
	if w < 1 || w > 53 {
		return time.Time{}, dateImpossible, true
	}
	from := func(mon time.Time) time.Time { // the week's first day not yet over
		if mon.Before(today) {
			return today
		}
		return mon
	}
	if len(toks) == 3 {
		y, ok := fullYear(toks[2])
		if !ok {
			return time.Time{}, 0, false
		}
		mon, ok := isoWeekMonday(y, w)
		switch {
		case !ok:
			return time.Time{}, dateImpossible, true
		case mon.AddDate(0, 0, 6).Before(today):
			return mon, datePast, true
		}
		return from(mon), dateOK, true
	}
	// Week 53 is in only some years; one comes at least every seven.
	for y := today.Year(); y <= today.Year()+7; y++ {
		if mon, ok := isoWeekMonday(y, w); ok && !mon.AddDate(0, 0, 6).Before(today) {
			d := from(mon)
			return d, rolled(d, today), true
		}
	}
	return time.Time{}, dateImpossible, true
}

// formatDate writes a day unambiguously the local way ("Mo, 15.03.2027",
// "Mon 15 Mar 2027").
func (t *Texts) formatDate(lang string, d time.Time) string {
	wd := t.List(lang, "date.weekdays")[(int(d.Weekday())+6)%7]
	mon := t.List(lang, "date.months")[int(d.Month())-1]
	return t.T(lang, "date.format",
		"Weekday", wd, "Day", d.Day(), "DD", two(d.Day()), "MM", two(int(d.Month())), "Month", mon, "Year", d.Year())
}

// shownDate is a day as confirmed back to the user: a day-month typed
// without a year that has passed this year says it means next year.
func (t *turn) shownDate(d time.Time, p dateProblem) string {
	s := t.e.texts.formatDate(t.lang, d)
	if p == dateNextYear {
		s += " " + t.T("date.nextyear")
	}
	return s
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
