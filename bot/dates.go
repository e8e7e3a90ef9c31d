package bot

import (
	"maps"
	"regexp"
	"slices"
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

// dateVocab holds the words people type for dates, one set per shipped
// language, taken from the locales so that a new language brings its own
// words: "mar" is March in English and Tuesday in French and Spanish, so a
// date is read with the words of the user's language first. It also holds
// the names people type for time zones and languages, which come from the
// locales the same way and are understood in every language.
type dateVocab struct {
	byLang map[string]*langDates
	// also lists, for each language, the languages whose words are tried
	// when its own read nothing: English, then the reference language, so
	// that "next Monday" is understood from everyone, as it was before
	// the words were split by language.
	also  map[string][]string
	def   string
	zones map[string]string
	langs map[string]string
}

// langDates are one language's words for dates.
type langDates struct {
	weekdays   map[string]time.Weekday
	leading    []string        // weekday names as written, for a confirmation copied back ("lun. 15/03/2027")
	next       map[string]bool // "next Monday", "lundi prochain", "next week", "tuần sau"
	this       map[string]bool // "this Monday", "thứ sáu này": the next one too, but not "this week"
	in         map[string]bool // "in 2 weeks", "dans 2 semaines", "через 2 недели"
	later      map[string]bool // after a span: "2 tuần nữa"
	fillers    map[string]bool
	ordinals   map[string]bool // "15th", "1er": a suffix after a number
	end        map[string]bool // "end of March"
	weekNumber map[string]bool // "KW 12", "week 12"
	units      map[string]span // "weeks" -> 7 days, "fortnight" -> 14 days, "year" -> 12 months
	months     map[string]time.Month
	numbers    map[string]int
	phrases    map[string]int // "today" -> 0, "tomorrow" -> 1, "yesterday" -> -1, …
	// multi maps the first word of a name of several words ("thứ hai",
	// "tháng 3", "mười hai") to those names, longest first.
	multi map[string][][]string
	// dayFirst: a date with slashes or dashes has the day first ("03/04/2027"
	// is 3 April), as everyone writes it in this language.
	dayFirst bool
}

// span is a length of time a unit word stands for.
type span struct{ days, months int }

// phraseDays are the locale lists of fixed phrases and the day each means.
var phraseDays = map[string]int{"parse.daybefore": -2, "parse.yesterday": -1, "parse.today": 0, "parse.tomorrow": 1, "parse.dayafter": 2}

func newDateVocab(t *Texts) *dateVocab {
	v := &dateVocab{byLang: map[string]*langDates{}, also: map[string][]string{}, def: t.Langs()[0],
		zones: map[string]string{}, langs: map[string]string{}}
	for _, lang := range t.Langs() {
		v.byLang[lang] = newLangDates(t, lang)
		// "Europe/Vienna: Wien | Europe/Berlin: München, Muenchen, MEZ | …"
		nameList(t, v.zones, lang, "parse.zones")
		// "de: Deutsch | en: Englisch"; every language is known by its code
		// and its own name, too.
		v.langs[lang] = lang
		v.langs[nameKey(t.T(lang, "language.name"))] = lang
		nameList(t, v.langs, lang, "parse.languages")
	}
	for _, lang := range t.Langs() {
		for _, o := range []string{fallbackLang, v.def} {
			if o != lang && v.byLang[o] != nil && !slices.Contains(v.also[lang], o) {
				v.also[lang] = append(v.also[lang], o)
			}
		}
	}
	return v
}

// nameGroups splits a locale list into its groups ("|") and each group into
// its names: at commas where the list has any ("thứ hai, thứ 2, t2 | …",
// names of several words), else at spaces ("monday mon | tuesday tue").
func nameGroups(t *Texts, lang, id string) [][]string {
	s := strings.ToLower(t.T(lang, id))
	sep := strings.Fields
	if strings.Contains(s, ",") {
		sep = func(g string) []string {
			var names []string
			for _, n := range strings.Split(g, ",") {
				if n = strings.TrimSpace(n); n != "" {
					names = append(names, n)
				}
			}
			return names
		}
	}
	var groups [][]string
	for _, g := range strings.Split(s, "|") {
		groups = append(groups, sep(g))
	}
	return groups
}

func newLangDates(t *Texts, lang string) *langDates {
	v := &langDates{
		weekdays: map[string]time.Weekday{}, next: map[string]bool{}, this: map[string]bool{}, in: map[string]bool{},
		later: map[string]bool{}, fillers: map[string]bool{}, ordinals: map[string]bool{}, end: map[string]bool{},
		weekNumber: map[string]bool{}, units: map[string]span{}, months: map[string]time.Month{}, numbers: map[string]int{},
		phrases: map[string]int{}, multi: map[string][][]string{},
		dayFirst: strings.TrimSpace(t.T(lang, "parse.slashorder")) == "dm",
	}
	// name registers a name of one word or several, and returns its key.
	name := func(n string) string {
		ws := splitWords(n)
		if len(ws) > 1 {
			v.multi[ws[0]] = append(v.multi[ws[0]], ws)
		}
		return strings.Join(ws, " ")
	}
	for i, group := range nameGroups(t, lang, "parse.weekdays") {
		for _, n := range group {
			v.weekdays[name(n)] = time.Weekday((i + 1) % 7) // the list starts with Monday
			v.leading = append(v.leading, strings.TrimSuffix(n, "."))
		}
	}
	for i, group := range nameGroups(t, lang, "parse.monthnames") {
		for _, n := range group {
			v.months[name(n)] = time.Month(i + 1)
		}
	}
	for i, group := range nameGroups(t, lang, "parse.numbers") {
		for _, n := range group {
			v.numbers[name(n)] = i + 1
		}
	}
	for _, ws := range v.multi {
		slices.SortStableFunc(ws, func(a, b []string) int { return len(b) - len(a) })
	}
	set := func(m map[string]bool, id string) {
		for _, w := range strings.Fields(strings.ToLower(t.T(lang, id))) {
			m[w] = true
		}
	}
	set(v.next, "parse.next")
	set(v.this, "parse.this")
	set(v.in, "parse.in")
	set(v.later, "parse.later")
	set(v.fillers, "parse.fillers")
	set(v.ordinals, "parse.ordinals")
	set(v.end, "parse.end")
	set(v.weekNumber, "parse.weeknumber")
	// "tag tage tagen = 1d|woche wochen = 1w|…": d days, w weeks, m months,
	// y years.
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
	// Phrases are read as typed dates are: "aujourd'hui", "ngày mai". A
	// phrase that reads as another (a filler dropped from it) is refused.
	for _, id := range slices.Sorted(maps.Keys(phraseDays)) {
		days := phraseDays[id]
		for _, p := range t.List(lang, id) {
			key := strings.Join(v.tokens(strings.ToLower(p)), " ")
			if d, dup := v.phrases[key]; dup && d != days {
				t.log.Error("locale date phrase reads as another: a filler in it?", "lang", lang, "id", id, "phrase", p)
				continue
			}
			v.phrases[key] = days
		}
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

// parseDate reads a date as people type it in lang: "15.3.", "15.03.2027",
// "2027-03-15", "2027/03/15", "3/15/2027", "15/3/2027" and "15-03-2027"
// (where day and month cannot be confused, or the language writes the day
// first), "in 2 weeks", "in a year", "next Monday", "lundi prochain", "thứ
// hai tuần sau", "next week", "tomorrow", "yesterday", "end of March", "KW
// 12", "March 15th", "15 марта", "ngày 15 tháng 3". What lang's words do not
// read is read with English and German words (see dateVocab.also). A date
// without a year is the next such day from today on (dateNextYear when that
// is next year's). A day before today is returned with datePast. alt is the
// other reading of an ambiguous date.
func (v *dateVocab) parseDate(lang, text string, today time.Time) (d, alt time.Time, p dateProblem) {
	ld, ok := v.byLang[lang]
	if !ok {
		lang, ld = v.def, v.byLang[v.def]
	}
	s := strings.ToLower(strings.TrimSpace(text))
	if !isPlain(s) {
		s = norm.NFC.String(s) // "thứ" typed with combining marks
	}
	if d, alt, p = ld.parse(s, today); p != dateUnreadable {
		return d, alt, p
	}
	for _, o := range v.also[lang] {
		if d, alt, p := v.byLang[o].parse(s, today); p != dateUnreadable {
			return d, alt, p
		}
	}
	return d, alt, p
}

// parse reads a date, lower case, with this language's words.
func (v *langDates) parse(s string, today time.Time) (d, alt time.Time, p dateProblem) {
	s = v.leadingWeekday(s)
	// "le 15/03/2027", "am 15.3.", "ngày 15/3": a filler before a number.
	for {
		w, rest, ok := strings.Cut(s, " ")
		rest = strings.TrimLeft(rest, " ")
		if !ok || !v.fillers[w] || rest == "" || rest[0] < '0' || rest[0] > '9' {
			break
		}
		s = rest
	}
	compact := strings.Join(strings.Fields(s), "")
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
	if compact != "" && compact[0] >= '0' && compact[0] <= '9' { // as every pattern begins
		if d, alt, p, ok := v.numeric(compact, build); ok {
			return d, alt, p
		}
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

// numeric reads a date in digits: "15.3.", "2027-03-15", "15/3/2027".
func (v *langDates) numeric(compact string, build func(y, m, d int, hasYear bool) (time.Time, dateProblem)) (d, alt time.Time, p dateProblem, ok bool) {
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
	if m := reDotted.FindStringSubmatch(compact); m != nil {
		y, has := year(m[3])
		d, p = build(y, num(m[2]), num(m[1]), has)
		return d, time.Time{}, p, true
	}
	if m := reISO.FindStringSubmatch(compact); m != nil && m[2] == m[4] {
		d, p = build(num(m[1]), num(m[3]), num(m[5]), true)
		return d, time.Time{}, p, true
	}
	m := reSlash.FindStringSubmatch(compact)
	if m == nil || m[4] != "" && m[2] != m[4] {
		return time.Time{}, time.Time{}, 0, false
	}
	a, b := num(m[1]), num(m[3])
	y, has := year(m[5])
	switch {
	case a > 12 && b <= 12, v.dayFirst && a <= 12 && b <= 12: // 15/3, or where the day comes first: day first
		d, p = build(y, b, a, has)
	case b > 12 && a <= 12: // 3/15: month first
		d, p = build(y, a, b, has)
	case a == b:
		d, p = build(y, a, b, has)
	case a > 12 && b > 12:
		return time.Time{}, time.Time{}, dateImpossible, true
	default:
		d1, p1 := build(y, b, a, has)
		d2, p2 := build(y, a, b, has)
		switch {
		case p1 == dateImpossible || p2 == dateImpossible:
			return time.Time{}, time.Time{}, dateImpossible, true
		case p1 == datePast && p2 == datePast: // either way it is over
			return d1, time.Time{}, datePast, true
		}
		return d1, d2, dateAmbiguous, true
	}
	return d, time.Time{}, p, true
}

// leadingWeekday reads past a weekday before a date, as in the bot's own
// confirmations ("Sa, 03.04.2027", "Sat 3 Apr 2027", "lun. 15/03/2027",
// "T2, 15/03/2027"), so that a date copied back is understood.
func (v *langDates) leadingWeekday(s string) string {
	for _, name := range v.leading {
		if len(s) <= len(name) || !strings.HasPrefix(s, name) {
			continue
		}
		if c := s[len(name)]; c != ' ' && c != ',' && c != '.' {
			continue
		}
		if rest := strings.TrimLeft(s[len(name):], " ,."); rest != "" && strings.IndexFunc(rest, unicode.IsDigit) >= 0 {
			return rest
		}
	}
	return s
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

// splitWords splits typed text into words: letters and digits apart
// ("KW12", "15th", "t2"), punctuation gone ("aujourd'hui", "après-demain"),
// a minus before a digit kept ("-2" stays negative, and unreadable).
func splitWords(s string) []string {
	var b strings.Builder
	prev := 0 // 1 letter, 2 digit
	for i, r := range s {
		kind := 0
		switch {
		case unicode.IsLetter(r):
			kind = 1
		case unicode.IsDigit(r):
			kind = 2
		case r == '-' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			kind = 2
		}
		if kind == 0 || prev != 0 && kind != prev || r == '-' {
			b.WriteByte(' ')
		}
		if kind != 0 {
			b.WriteRune(r)
		}
		prev = kind
	}
	return strings.Fields(b.String())
}

// tokens splits what is left of a typed date into words (splitWords), a
// name of several words as one ("thứ hai", "tháng 3"), with fillers ("am",
// "the", "le", "de") and ordinal suffixes after a number ("15th", "1er")
// dropped. A filler that is also a unit or a number is one after a number
// or before a word ("3 ngày nữa", "năm tuần"), a filler before a number
// ("ngày 15", "năm 2027").
func (v *langDates) tokens(s string) []string {
	raw := splitWords(s)
	merged := raw[:0] // in place: a name of n words is written where its first was read
	for i := 0; i < len(raw); {
		w, n := raw[i], 1
		for _, name := range v.multi[raw[i]] {
			if startsWith(raw[i:], name) {
				w, n = strings.Join(name, " "), len(name)
				break
			}
		}
		merged = append(merged, w)
		i += n
	}
	var toks []string
	for i, w := range merged {
		if v.ordinals[w] && len(toks) > 0 && isNumber(toks[len(toks)-1]) {
			continue
		}
		if v.fillers[w] {
			_, unit := v.units[w]
			_, number := v.numbers[w]
			if !unit && !number || i+1 < len(merged) && isDigits(merged[i+1]) {
				continue
			}
		}
		toks = append(toks, w)
	}
	return toks
}

// startsWith reports whether words begin with name, numbers compared by
// value ("tháng 03" is "tháng 3").
func startsWith(words, name []string) bool {
	if len(words) < len(name) {
		return false
	}
	for i, n := range name {
		w := words[i]
		if w != n && !(isDigits(w) && isDigits(n) && strings.TrimLeft(w, "0") == strings.TrimLeft(n, "0")) {
			return false
		}
	}
	return true
}

func isNumber(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// count reads a number typed in digits or as a word ("2", "two", "deux").
func (v *langDates) count(s string) (int, bool) {
	if n, ok := v.numbers[s]; ok {
		return n, true
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0 && n <= 999
}

// week reports whether w is a unit of one week.
func (v *langDates) week(w string) bool { return v.units[w] == span{days: 7} }

// nextWeek reads "next week" ("nächste Woche", "la semaine prochaine", "la
// semana que viene", "на следующей неделе", "tuần sau"): its Monday.
func (v *langDates) nextWeek(toks []string, today time.Time) (time.Time, bool) {
	if len(toks) != 2 || !(v.next[toks[0]] && v.week(toks[1]) || v.week(toks[0]) && v.next[toks[1]]) {
		return time.Time{}, false
	}
	return today.AddDate(0, 0, 8-isoDay(today)), true
}

// words reads a date written in words: a span ("in 2 weeks", "2 tuần nữa"),
// next week, a weekday of next week ("thứ hai tuần sau"), the end of a
// month, a week number, a day of a named month or a weekday ("next Monday",
// "lundi prochain").
func (v *langDates) words(toks []string, today time.Time, build func(y, m, d int, hasYear bool) (time.Time, dateProblem)) (time.Time, dateProblem, bool) {
	inSpan := func(n string, unit string) (time.Time, dateProblem, bool) {
		c, ok := v.count(n)
		sp, unitOK := v.units[unit]
		if !ok || !unitOK {
			return time.Time{}, 0, false
		}
		return addMonths(today.AddDate(0, 0, c*sp.days), c*sp.months), dateOK, true
	}
	if v.in[toks[0]] && len(toks) >= 2 && len(toks) <= 3 {
		if len(toks) == 2 {
			return inSpan("1", toks[1])
		}
		return inSpan(toks[1], toks[2])
	}
	if len(toks) == 3 && v.later[toks[2]] {
		if d, p, ok := inSpan(toks[0], toks[1]); ok {
			return d, p, true
		}
	}
	// A bare span ("1 week", "2 Wochen", "3 days") is one from today, as
	// with "in": the pause's buttons say "1 Woche", and a week number
	// with its number first ("12. KW") has no unit word.
	if len(toks) == 2 {
		if d, p, ok := inSpan(toks[0], toks[1]); ok {
			return d, p, true
		}
	}
	if d, ok := v.nextWeek(toks, today); ok {
		return d, dateOK, true
	}
	if wd, ok := v.weekdays[toks[0]]; ok && len(toks) == 3 {
		if mon, ok := v.nextWeek(toks[1:], today); ok {
			return mon.AddDate(0, 0, (int(wd)+6)%7), dateOK, true
		}
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
	// "next Monday", "lundi prochain", "thứ sáu này".
	if len(toks) == 2 {
		switch {
		case v.next[toks[0]] || v.this[toks[0]]:
			toks = toks[1:]
		case v.next[toks[1]] || v.this[toks[1]]:
			toks = toks[:1]
		}
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
func (v *langDates) endOfMonth(toks []string, today time.Time) (time.Time, dateProblem, bool) {
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
func (v *langDates) weekNo(toks []string, today time.Time) (time.Time, dateProblem, bool) {
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
	l := t.loc[lang]
	if l == nil {
		return t.writeDate(lang, d)
	}
	day := d.Year()*10000 + int(d.Month())*100 + d.Day()
	l.datesMu.Lock()
	s, ok := l.dates[day]
	l.datesMu.Unlock()
	if ok {
		return s
	}
	s = t.writeDate(lang, d)
	l.datesMu.Lock()
	if l.dates == nil {
		l.dates = map[int]string{}
	}
	if len(l.dates) < maxDates {
		l.dates[day] = s
	}
	l.datesMu.Unlock()
	return s
}

func (t *Texts) writeDate(lang string, d time.Time) string {
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

// namedMonth reads "15 March 2027", "15. März", "March 15, 2027", "15 марта",
// "ngày 15 tháng 3".
func (v *langDates) namedMonth(toks []string, build func(y, m, d int, hasYear bool) (time.Time, dateProblem)) (time.Time, dateProblem, bool) {
	if len(toks) == 4 && v.units[toks[3]] == (span{months: 12}) { // "15 марта 2027 года"
		toks = toks[:3]
	}
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
