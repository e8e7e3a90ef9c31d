package bot

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/locales"
)

// datesTexts renders the real shipped locales.
func datesTexts(t testing.TB) *Texts {
	t.Helper()
	return shippedTexts(t, slog.DiscardHandler)
}

// shippedTexts renders the real shipped locales, logging to h.
func shippedTexts(t testing.TB, h slog.Handler) *Texts {
	t.Helper()
	set, err := locales.Load(locales.Builtin)
	if err != nil {
		t.Fatalf("locales.Load(Builtin): %v", err)
	}
	return NewTexts(set.Bundle, set.Langs, slog.New(h))
}

func datesProblemName(p dateProblem) string {
	switch p {
	case dateOK:
		return "ok"
	case dateUnreadable:
		return "unreadable"
	case dateImpossible:
		return "impossible"
	case dateAmbiguous:
		return "ambiguous"
	case datePast:
		return "past"
	case dateNextYear:
		return "next year"
	}
	return fmt.Sprintf("dateProblem(%d)", int(p))
}

// datesDay formats a parsed day for messages; the zero time is "-".
func datesDay(d time.Time) string {
	if d.IsZero() {
		return "-"
	}
	return d.Format("2006-01-02 (Mon) 15:04 MST")
}

func TestDatesParse(t *testing.T) {
	v := newDateVocab(datesTexts(t))
	today := civil(2027, time.March, 10) // a Wednesday
	if today.Weekday() != time.Wednesday {
		t.Fatalf("today: got %v, want a Wednesday", today.Weekday())
	}
	const (
		ok         = dateOK
		unreadable = dateUnreadable
		impossible = dateImpossible
		ambiguous  = dateAmbiguous
		past       = datePast
		nextYear   = dateNextYear
	)
	tests := []struct {
		lang string // the user's language; "" is German
		in   string
		want string // the day, "" when none
		alt  string // the other reading of an ambiguous date
		p    dateProblem
		bug  string // why the code does not give the right answer yet
	}{
		// Numeric, day first.
		{in: "15.3.", want: "2027-03-15", p: ok},
		{in: "15.3", want: "2027-03-15", p: ok},
		{in: "15.03.", want: "2027-03-15", p: ok},
		{in: "1.3.", want: "2028-03-01", p: nextYear}, // already past this year
		{in: "9.3.", want: "2028-03-09", p: nextYear},
		{in: "1.1.", want: "2028-01-01", p: nextYear},
		{in: "10.3.", want: "2027-03-10", p: ok}, // today is not past
		{in: "11.3.", want: "2027-03-11", p: ok},
		{in: "15.03.2027", want: "2027-03-15", p: ok},
		{in: "15.3.27", want: "2027-03-15", p: ok},
		{in: "15.3.2026", want: "2026-03-15", p: past}, // a year given is kept, even if past
		{in: " 15. 3. 2027 ", want: "2027-03-15", p: ok},
		{in: "29.2.2028", want: "2028-02-29", p: ok},
		{in: "29.2.", want: "2028-02-29", p: nextYear},
		// ISO.
		{in: "2027-03-15", want: "2027-03-15", p: ok},
		{in: "2027-3-5", want: "2027-03-05", p: past},
		{in: "2027/03/15", want: "2027-03-15", p: ok},
		{in: "2027.03.15", want: "2027-03-15", p: ok},
		{in: "2027/03-15", p: unreadable}, // two kinds of separator
		// Dashes, day first (as slashes: only where day and month cannot be confused).
		{in: "15-03-2027", want: "2027-03-15", p: ok},
		{in: "15-3-27", want: "2027-03-15", p: ok},
		{in: "15-3", want: "2027-03-15", p: ok},
		{in: "3-4-2027", want: "2027-04-03", alt: "2027-03-04", p: ambiguous},
		{in: "15-03/2027", p: unreadable},
		// Slashes: only where day and month cannot be confused.
		{in: "3/15/2027", want: "2027-03-15", p: ok},
		{in: "15/03/2027", want: "2027-03-15", p: ok},
		{in: "15/3", want: "2027-03-15", p: ok},
		{in: "3/15/27", want: "2027-03-15", p: ok},
		{in: "4/4/2027", want: "2027-04-04", p: ok},
		{in: "3/4/2027", want: "2027-04-03", alt: "2027-03-04", p: ambiguous},
		{in: "12/1/2027", want: "2027-01-12", alt: "2027-12-01", p: ambiguous},
		{in: "3/4/2026", want: "2026-04-03", p: past}, // either way over
		// Impossible days.
		{in: "31.02.2027", p: impossible},
		{in: "29.2.2027", p: impossible},
		{in: "1.123", p: unreadable},
		{in: "15.327", p: unreadable},
		{in: "in -2 Wochen", p: unreadable},
		{in: "31.4.", p: impossible},
		{in: "2027-02-30", p: impossible},
		{in: "2027-13-01", p: impossible},
		{in: "32.1.", p: impossible},
		{in: "0.3.", p: impossible},
		{in: "15.13.", p: impossible},
		{in: "15.0.2027", p: impossible},
		{in: "13/13/2027", p: impossible},
		{in: "2/30/2027", p: impossible},
		{in: "31. Februar", p: impossible},
		// In n days, weeks, months.
		{in: "in 2 Wochen", want: "2027-03-24", p: ok},
		{in: "In 2 WOCHEN", want: "2027-03-24", p: ok},
		{in: "in zwei Wochen", want: "2027-03-24", p: ok},
		{in: "in einer Woche", want: "2027-03-17", p: ok},
		{in: "in 2 weeks", want: "2027-03-24", p: ok},
		// A bare span is from today too (the pause's buttons say "1 Woche"),
		// never calendar week 1.
		{in: "1 Woche", want: "2027-03-17", p: ok},
		{in: "1 week", want: "2027-03-17", p: ok},
		{in: "2 Wochen", want: "2027-03-24", p: ok},
		{in: "2 weeks", want: "2027-03-24", p: ok},
		{in: "3 Tage", want: "2027-03-13", p: ok},
		{in: "in two weeks", want: "2027-03-24", p: ok},
		{in: "in a week", want: "2027-03-17", p: ok},
		{in: "in 3 Tagen", want: "2027-03-13", p: ok},
		{in: "in 3 days", want: "2027-03-13", p: ok},
		{in: "in 1 Tag", want: "2027-03-11", p: ok},
		{in: "in 1 Monat", want: "2027-04-10", p: ok},
		{in: "in 1 month", want: "2027-04-10", p: ok},
		{in: "in einem Monat", want: "2027-04-10", p: ok},
		{in: "in 3 Monaten", want: "2027-06-10", p: ok},
		{in: "in 12 months", want: "2028-03-10", p: ok},
		{in: "in 30 Tagen", want: "2027-04-09", p: ok},
		// Weekdays: always ahead, never today.
		{in: "nächsten Montag", want: "2027-03-15", p: ok},
		{in: "naechsten Montag", want: "2027-03-15", p: ok},
		{in: "next Monday", want: "2027-03-15", p: ok},
		{in: "Montag", want: "2027-03-15", p: ok},
		{in: "monday", want: "2027-03-15", p: ok},
		{in: "Mo", want: "2027-03-15", p: ok},
		{in: "mon", want: "2027-03-15", p: ok},
		{in: "Dienstag", want: "2027-03-16", p: ok},
		{in: "am Freitag", want: "2027-03-12", p: ok},
		{in: "on Friday", want: "2027-03-12", p: ok},
		{in: "Sonntag", want: "2027-03-14", p: ok},
		{in: "Mittwoch", want: "2027-03-17", p: ok},
		{in: "next wednesday", want: "2027-03-17", p: ok},
		{in: "kommenden Mittwoch", want: "2027-03-17", p: ok},
		// Words for today and the next days.
		{in: "heute", want: "2027-03-10", p: ok},
		{in: "today", want: "2027-03-10", p: ok},
		{in: "Heute!", want: "2027-03-10", p: ok},
		{in: "morgen", want: "2027-03-11", p: ok},
		{in: "tomorrow", want: "2027-03-11", p: ok},
		{in: "übermorgen", want: "2027-03-12", p: ok},
		{in: "uebermorgen", want: "2027-03-12", p: ok},
		{in: "day after tomorrow", want: "2027-03-12", p: ok},
		{in: "the day after tomorrow", want: "2027-03-12", p: ok},
		// Next week: its Monday.
		{in: "nächste Woche", want: "2027-03-15", p: ok},
		{in: "Nächste Woche!", want: "2027-03-15", p: ok},
		{in: "kommende Woche", want: "2027-03-15", p: ok},
		{in: "next week", want: "2027-03-15", p: ok},
		{in: "in der nächsten Woche", p: unreadable},
		// This and next weekday.
		{in: "this Monday", want: "2027-03-15", p: ok},
		{in: "diesen Freitag", want: "2027-03-12", p: ok},
		// End of a month: its last day, the next one from today on.
		{in: "Ende März", want: "2027-03-31", p: ok},
		{in: "end of March", want: "2027-03-31", p: ok},
		{in: "Ende Mai", want: "2027-05-31", p: ok},
		{in: "end of feb", want: "2028-02-29", p: nextYear},
		{in: "Ende Februar 2027", want: "2027-02-28", p: past},
		{in: "Ende Dezember 2027", want: "2027-12-31", p: ok},
		{in: "end of April 27", want: "2027-04-30", p: ok},
		// Calendar weeks: the Monday of the ISO week, or today in the current week.
		{in: "KW 12", want: "2027-03-22", p: ok},
		{in: "KW12", want: "2027-03-22", p: ok},
		{in: "kw 12", want: "2027-03-22", p: ok},
		{in: "12. KW", want: "2027-03-22", p: ok},
		{in: "Kalenderwoche 12", want: "2027-03-22", p: ok},
		{in: "Woche 12", want: "2027-03-22", p: ok},
		{in: "in KW 12", want: "2027-03-22", p: ok},
		{in: "week 12", want: "2027-03-22", p: ok},
		{in: "wk 12", want: "2027-03-22", p: ok},
		{in: "week 12 of 2028", want: "2028-03-20", p: ok},
		{in: "KW 10", want: "2027-03-10", p: ok}, // this week: today
		{in: "KW 9", want: "2028-02-28", p: nextYear},
		{in: "KW 1", want: "2028-01-03", p: nextYear},
		{in: "KW 53", want: "2032-12-27", p: ok}, // the next year that has one
		{in: "KW 53 2026", want: "2026-12-28", p: past},
		{in: "KW 5 2027", want: "2027-02-01", p: past},
		{in: "KW 53 2027", p: impossible},
		{in: "KW 54", p: impossible},
		{in: "week 0", p: impossible},
		// Years and fortnights.
		{in: "in 1 Jahr", want: "2028-03-10", p: ok},
		{in: "in einem Jahr", want: "2028-03-10", p: ok},
		{in: "in 2 Jahren", want: "2029-03-10", p: ok},
		{in: "in a year", want: "2028-03-10", p: ok},
		{in: "in 2 years", want: "2029-03-10", p: ok},
		{in: "in a fortnight", want: "2027-03-24", p: ok},
		{in: "in two fortnights", want: "2027-04-07", p: ok},
		{in: "in 0 days", want: "2027-03-10", p: ok},
		// Yesterday is in the past, not unreadable.
		{in: "gestern", want: "2027-03-09", p: past},
		{in: "Gestern.", want: "2027-03-09", p: past},
		{in: "vorgestern", want: "2027-03-08", p: past},
		{in: "yesterday", want: "2027-03-09", p: past},
		{in: "the day before yesterday", want: "2027-03-08", p: past},
		// Ordinals.
		{in: "March 15th", want: "2027-03-15", p: ok},
		{in: "15th of March", want: "2027-03-15", p: ok},
		{in: "the 15th of March", want: "2027-03-15", p: ok},
		{in: "March 15th, 2027", want: "2027-03-15", p: ok},
		{in: "June 1st", want: "2027-06-01", p: ok},
		{in: "1st June", want: "2027-06-01", p: ok},
		{in: "March 2nd", want: "2028-03-02", p: nextYear},
		{in: "March 23rd", want: "2027-03-23", p: ok},
		{in: "am 15ten März", want: "2027-03-15", p: ok},
		// Month names.
		{in: "15. März", want: "2027-03-15", p: ok},
		{in: "am 15. März", want: "2027-03-15", p: ok},
		{in: "1. März", want: "2028-03-01", p: nextYear},
		{in: "15 March 2027", want: "2027-03-15", p: ok},
		{in: "March 15, 2027", want: "2027-03-15", p: ok},
		{in: "March 15", want: "2027-03-15", p: ok},
		{in: "15. Mär 2027", want: "2027-03-15", p: ok},
		{in: "3. Mai", want: "2027-05-03", p: ok},
		{in: "3 May 2027", want: "2027-05-03", p: ok},
		{in: "1. Dezember 27", want: "2027-12-01", p: ok},
		// What the bot itself shows ("Meinen Sie Sa, 03.04.2027 oder …?") is
		// what a user copies back.
		{in: "Sa, 03.04.2027", want: "2027-04-03", p: ok},
		{in: "Sat 3 Apr 2027", want: "2027-04-03", p: ok},
		// Unreadable.
		{in: "", p: unreadable},
		{in: "   ", p: unreadable},
		{in: "bald", p: unreadable},
		{in: "soon", p: unreadable},
		{in: "in Wochen 2", p: unreadable},
		{in: "in 2", p: unreadable},
		{in: "in", p: unreadable},
		{in: "in 1000 days", p: unreadable},
		{in: "this week", p: unreadable}, // this week's Monday is past, today needs no words
		{in: "diese Woche", p: unreadable},
		{in: "next month", p: unreadable},
		{in: "KW", p: unreadable},
		{in: "Ende", p: unreadable},
		{in: "end of", p: unreadable},
		{in: "Ende 2027", p: unreadable},
		{in: "th March", p: unreadable},
		{in: "week 12 123", p: unreadable},
		{in: "KW 12/28", want: "2028-03-20", p: ok},
		{in: "KW 12 20271", p: unreadable},
		{in: "🙂", p: unreadable},
		{in: strings.Repeat("a", 10<<10), p: unreadable},
		{in: strings.Repeat("15.3. ", 10<<10/6), p: unreadable},
		{in: "15.3.2027 14:00", p: unreadable},
		{in: "15.3.2027 oder 16.3.2027", p: unreadable},
		{in: "Montag Dienstag", p: unreadable},
		{in: "15 Hundert", p: unreadable},
		{in: "20270315", p: unreadable},
		// "mar" is March in English, Tuesday in French and Spanish: each
		// language reads its own words first.
		{lang: "en", in: "15 mar", want: "2027-03-15", p: ok},
		{lang: "en", in: "mar", p: unreadable},
		{lang: "en", in: "3/4/2027", want: "2027-04-03", alt: "2027-03-04", p: ambiguous},
		{lang: "en", in: "Monday next week", want: "2027-03-15", p: ok},
		{lang: "en", in: "2 weeks later", want: "2027-03-24", p: ok},
		{lang: "de", in: "Donnerstag nächste Woche", want: "2027-03-18", p: ok},
		{lang: "de", in: "am 15.3.", want: "2027-03-15", p: ok},
		// French.
		{lang: "fr", in: "15/03/2027", want: "2027-03-15", p: ok},
		{lang: "fr", in: "le 15 mars", want: "2027-03-15", p: ok},
		{lang: "fr", in: "15 mars 2027", want: "2027-03-15", p: ok},
		{lang: "fr", in: "le 1er avril", want: "2027-04-01", p: ok},
		{lang: "fr", in: "1er mars", want: "2028-03-01", p: nextYear},
		{lang: "fr", in: "15 sept", want: "2027-09-15", p: ok},
		{lang: "fr", in: "le 3 février", want: "2028-02-03", p: nextYear},
		{lang: "fr", in: "dans 2 semaines", want: "2027-03-24", p: ok},
		{lang: "fr", in: "dans deux semaines", want: "2027-03-24", p: ok},
		{lang: "fr", in: "dans sept semaines", want: "2027-04-28", p: ok},
		{lang: "fr", in: "dans une semaine", want: "2027-03-17", p: ok},
		{lang: "fr", in: "dans 3 jours", want: "2027-03-13", p: ok},
		{lang: "fr", in: "dans un mois", want: "2027-04-10", p: ok},
		{lang: "fr", in: "dans un an", want: "2028-03-10", p: ok},
		{lang: "fr", in: "d'ici 2 semaines", want: "2027-03-24", p: ok},
		{lang: "fr", in: "lundi prochain", want: "2027-03-15", p: ok},
		{lang: "fr", in: "Lundi", want: "2027-03-15", p: ok},
		{lang: "fr", in: "mardi", want: "2027-03-16", p: ok},
		{lang: "fr", in: "mar", want: "2027-03-16", p: ok},
		{lang: "fr", in: "mar.", want: "2027-03-16", p: ok},
		{lang: "fr", in: "ce vendredi", want: "2027-03-12", p: ok},
		{lang: "fr", in: "la semaine prochaine", want: "2027-03-15", p: ok},
		{lang: "fr", in: "jeudi de la semaine prochaine", want: "2027-03-18", p: ok},
		{lang: "fr", in: "aujourd'hui", want: "2027-03-10", p: ok},
		{lang: "fr", in: "demain", want: "2027-03-11", p: ok},
		{lang: "fr", in: "après-demain", want: "2027-03-12", p: ok},
		{lang: "fr", in: "apres demain", want: "2027-03-12", p: ok},
		{lang: "fr", in: "hier", want: "2027-03-09", p: past},
		{lang: "fr", in: "avant-hier", want: "2027-03-08", p: past},
		{lang: "fr", in: "fin mars", want: "2027-03-31", p: ok},
		{lang: "fr", in: "fin février", want: "2028-02-29", p: nextYear},
		{lang: "fr", in: "semaine 12", want: "2027-03-22", p: ok},
		{lang: "fr", in: "03/04/2027", want: "2027-04-03", p: ok}, // day first: no question
		{lang: "fr", in: "lun. 15/03/2027", want: "2027-03-15", p: ok},
		{lang: "fr", in: "31/02/2027", p: impossible},
		{lang: "fr", in: "next Monday", want: "2027-03-15", p: ok}, // English is understood from everyone
		{lang: "fr", in: "bientôt", p: unreadable},
		// Spanish.
		{lang: "es", in: "15/03/2027", want: "2027-03-15", p: ok},
		{lang: "es", in: "el 15 de marzo", want: "2027-03-15", p: ok},
		{lang: "es", in: "15 de marzo de 2027", want: "2027-03-15", p: ok},
		{lang: "es", in: "1º de junio", want: "2027-06-01", p: ok},
		{lang: "es", in: "dentro de 2 semanas", want: "2027-03-24", p: ok},
		{lang: "es", in: "en dos semanas", want: "2027-03-24", p: ok},
		{lang: "es", in: "dentro de una semana", want: "2027-03-17", p: ok},
		{lang: "es", in: "dentro de un mes", want: "2027-04-10", p: ok},
		{lang: "es", in: "el próximo lunes", want: "2027-03-15", p: ok},
		{lang: "es", in: "proximo lunes", want: "2027-03-15", p: ok},
		{lang: "es", in: "el lunes que viene", want: "2027-03-15", p: ok},
		{lang: "es", in: "el martes", want: "2027-03-16", p: ok},
		{lang: "es", in: "mar", want: "2027-03-16", p: ok},
		{lang: "es", in: "este viernes", want: "2027-03-12", p: ok},
		{lang: "es", in: "la semana que viene", want: "2027-03-15", p: ok},
		{lang: "es", in: "la próxima semana", want: "2027-03-15", p: ok},
		{lang: "es", in: "hoy", want: "2027-03-10", p: ok},
		{lang: "es", in: "mañana", want: "2027-03-11", p: ok},
		{lang: "es", in: "pasado mañana", want: "2027-03-12", p: ok},
		{lang: "es", in: "ayer", want: "2027-03-09", p: past},
		{lang: "es", in: "anteayer", want: "2027-03-08", p: past},
		{lang: "es", in: "fin de marzo", want: "2027-03-31", p: ok},
		{lang: "es", in: "a finales de mayo", want: "2027-05-31", p: ok},
		{lang: "es", in: "semana 12", want: "2027-03-22", p: ok},
		{lang: "es", in: "03/04/2027", want: "2027-04-03", p: ok},
		{lang: "es", in: "mié. 17/03/2027", want: "2027-03-17", p: ok},
		// Russian: months in the genitive, units in every case.
		{lang: "ru", in: "15 марта", want: "2027-03-15", p: ok},
		{lang: "ru", in: "15 марта 2027", want: "2027-03-15", p: ok},
		{lang: "ru", in: "15 марта 2027 г.", want: "2027-03-15", p: ok},
		{lang: "ru", in: "15 марта 2027 года", want: "2027-03-15", p: ok},
		{lang: "ru", in: "15-го марта", want: "2027-03-15", p: ok},
		{lang: "ru", in: "1 мая", want: "2027-05-01", p: ok},
		{lang: "ru", in: "15.03.2027", want: "2027-03-15", p: ok},
		{lang: "ru", in: "пн, 15.03.2027", want: "2027-03-15", p: ok},
		{lang: "ru", in: "через 2 недели", want: "2027-03-24", p: ok},
		{lang: "ru", in: "через две недели", want: "2027-03-24", p: ok},
		{lang: "ru", in: "через неделю", want: "2027-03-17", p: ok},
		{lang: "ru", in: "через 5 дней", want: "2027-03-15", p: ok},
		{lang: "ru", in: "через месяц", want: "2027-04-10", p: ok},
		{lang: "ru", in: "через 3 месяца", want: "2027-06-10", p: ok},
		{lang: "ru", in: "через год", want: "2028-03-10", p: ok},
		{lang: "ru", in: "через 5 лет", want: "2032-03-10", p: ok},
		{lang: "ru", in: "в следующий понедельник", want: "2027-03-15", p: ok},
		{lang: "ru", in: "в понедельник", want: "2027-03-15", p: ok},
		{lang: "ru", in: "во вторник", want: "2027-03-16", p: ok},
		{lang: "ru", in: "в среду", want: "2027-03-17", p: ok},
		{lang: "ru", in: "в следующую пятницу", want: "2027-03-12", p: ok},
		{lang: "ru", in: "в эту субботу", want: "2027-03-13", p: ok},
		{lang: "ru", in: "на следующей неделе", want: "2027-03-15", p: ok},
		{lang: "ru", in: "в четверг на следующей неделе", want: "2027-03-18", p: ok},
		{lang: "ru", in: "сегодня", want: "2027-03-10", p: ok},
		{lang: "ru", in: "завтра", want: "2027-03-11", p: ok},
		{lang: "ru", in: "послезавтра", want: "2027-03-12", p: ok},
		{lang: "ru", in: "вчера", want: "2027-03-09", p: past},
		{lang: "ru", in: "в конце марта", want: "2027-03-31", p: ok},
		{lang: "ru", in: "до конца мая", want: "2027-05-31", p: ok},
		{lang: "ru", in: "неделя 12", want: "2027-03-22", p: ok},
		{lang: "ru", in: "03/04/2027", want: "2027-04-03", p: ok},
		{lang: "ru", in: "30 февраля", p: impossible},
		// Vietnamese: names of several words, markers after the span.
		{lang: "vi", in: "ngày 15 tháng 3", want: "2027-03-15", p: ok},
		{lang: "vi", in: "15 tháng 3", want: "2027-03-15", p: ok},
		{lang: "vi", in: "ngày 15 tháng ba", want: "2027-03-15", p: ok},
		{lang: "vi", in: "ngày 15 tháng 03 năm 2027", want: "2027-03-15", p: ok},
		{lang: "vi", in: "ngày 2 tháng 3", want: "2028-03-02", p: nextYear},
		{lang: "vi", in: "15/3/2027", want: "2027-03-15", p: ok},
		{lang: "vi", in: "15/3", want: "2027-03-15", p: ok},
		{lang: "vi", in: "ngày 15/3", want: "2027-03-15", p: ok},
		{lang: "vi", in: "T2, 15/03/2027", want: "2027-03-15", p: ok},
		{lang: "vi", in: "thứ hai tuần sau", want: "2027-03-15", p: ok},
		{lang: "vi", in: "thứ 2 tuần sau", want: "2027-03-15", p: ok},
		{lang: "vi", in: "thứ năm tuần sau", want: "2027-03-18", p: ok},
		{lang: "vi", in: "thu hai tuan sau", want: "2027-03-15", p: ok},
		{lang: "vi", in: "thứ hai", want: "2027-03-15", p: ok},
		{lang: "vi", in: "thứ hai tới", want: "2027-03-15", p: ok},
		{lang: "vi", in: "thứ sáu này", want: "2027-03-12", p: ok},
		{lang: "vi", in: "chủ nhật", want: "2027-03-14", p: ok},
		{lang: "vi", in: "CN", want: "2027-03-14", p: ok},
		{lang: "vi", in: "2 tuần nữa", want: "2027-03-24", p: ok},
		{lang: "vi", in: "hai tuần nữa", want: "2027-03-24", p: ok},
		{lang: "vi", in: "sau 2 tuần", want: "2027-03-24", p: ok},
		{lang: "vi", in: "3 ngày nữa", want: "2027-03-13", p: ok},
		{lang: "vi", in: "1 tháng nữa", want: "2027-04-10", p: ok},
		{lang: "vi", in: "năm tuần nữa", want: "2027-04-14", p: ok},
		{lang: "vi", in: "2 năm nữa", want: "2029-03-10", p: ok},
		{lang: "vi", in: "tuần sau", want: "2027-03-15", p: ok},
		{lang: "vi", in: "tuần tới", want: "2027-03-15", p: ok},
		{lang: "vi", in: "hôm nay", want: "2027-03-10", p: ok},
		{lang: "vi", in: "ngày mai", want: "2027-03-11", p: ok},
		{lang: "vi", in: "mai", want: "2027-03-11", p: ok},
		{lang: "vi", in: "ngày kia", want: "2027-03-12", p: ok},
		{lang: "vi", in: "hôm qua", want: "2027-03-09", p: past},
		{lang: "vi", in: "hôm kia", want: "2027-03-08", p: past},
		{lang: "vi", in: "cuối tháng 3", want: "2027-03-31", p: ok},
		{lang: "vi", in: "cuối tháng 2", want: "2028-02-29", p: nextYear},
		{lang: "vi", in: "tuần 12", want: "2027-03-22", p: ok},
		{lang: "vi", in: "03/04/2027", want: "2027-04-03", p: ok},
		{lang: "vi", in: "tháng 3", p: unreadable},
		{lang: "vi", in: "ngày 31 tháng 2", p: impossible},
	}
	for _, tt := range tests {
		lang := tt.lang
		if lang == "" {
			lang = "de"
		}
		name := tt.in
		if len(name) > 40 {
			name = fmt.Sprintf("%.20s…(%d bytes)", name, len(name))
		}
		t.Run(lang+"/"+name, func(t *testing.T) {
			d, alt, p := v.parseDate(lang, tt.in, today)
			want, wantAlt := time.Time{}, time.Time{}
			if tt.want != "" {
				want, _ = parseCivil(tt.want)
			}
			if tt.alt != "" {
				wantAlt, _ = parseCivil(tt.alt)
			}
			if p == dateAmbiguous && tt.p == dateAmbiguous && d.Equal(wantAlt) && alt.Equal(want) {
				d, alt = alt, d // the user is offered both readings; their order does not matter
			}
			got := fmt.Sprintf("%s, %s, %s", datesDay(d), datesDay(alt), datesProblemName(p))
			wantS := fmt.Sprintf("%s, %s, %s", datesDay(want), datesDay(wantAlt), datesProblemName(tt.p))
			if got != wantS {
				if tt.bug != "" {
					t.Skipf("BUG: %s: parseDate(%q): got %s, want %s", tt.bug, tt.in, got, wantS)
				}
				t.Errorf("parseDate(%s, %q) on %s: got %s, want %s", lang, tt.in, today.Format(dateLayout), got, wantS)
			} else if tt.bug != "" {
				t.Errorf("parseDate(%q): got the right answer %s, want the bug note removed from this case", tt.in, got)
			}
		})
	}
}

// TestDatesParseEveryDay reads every day of two years, leap year included,
// the German, ISO and English ways.
func TestDatesParseEveryDay(t *testing.T) {
	v := newDateVocab(datesTexts(t))
	today := civil(2027, time.January, 1)
	enMonths := []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	for d := today; d.Year() < 2029; d = d.AddDate(0, 0, 1) {
		for _, in := range []string{
			fmt.Sprintf("%d.%d.%d", d.Day(), d.Month(), d.Year()),
			fmt.Sprintf("%02d.%02d.%02d", d.Day(), d.Month(), d.Year()%100),
			d.Format(dateLayout),
			fmt.Sprintf("%d %s %d", d.Day(), enMonths[d.Month()-1], d.Year()),
		} {
			got, _, p := v.parseDate("de", in, today)
			if p != dateOK || !got.Equal(d) {
				t.Errorf("parseDate(%q): got %s, %s, want %s, ok", in, datesDay(got), datesProblemName(p), datesDay(d))
			}
		}
	}
}

// TestDatesEveryLanguageEveryDay reads every day of two years, in every
// language, as the bot confirms it and as people there write it with
// slashes or dots (day first): each is that day.
func TestDatesEveryLanguageEveryDay(t *testing.T) {
	texts := datesTexts(t)
	v := newDateVocab(texts)
	today := civil(2027, time.January, 1)
	for _, lang := range texts.Langs() {
		for d := today; d.Year() < 2029; d = d.AddDate(0, 0, 1) {
			ins := []string{texts.formatDate(lang, d)}
			if v.byLang[lang].dayFirst {
				ins = append(ins, fmt.Sprintf("%d/%d/%d", d.Day(), d.Month(), d.Year()), fmt.Sprintf("%02d/%02d/%d", d.Day(), d.Month(), d.Year()))
			}
			for _, in := range ins {
				got, _, p := v.parseDate(lang, in, today)
				if p != dateOK || !got.Equal(d) {
					t.Errorf("parseDate(%s, %q): got %s, %s, want %s, ok", lang, in, datesDay(got), datesProblemName(p), datesDay(d))
				}
			}
		}
	}
}

// TestDatesEveryWeekdayName reads every name of every weekday in every
// language's list ("thứ hai", "t2", "пятницу", "mié"), alone and as the
// next one, from every day of a week: that weekday, 1 to 7 days ahead.
func TestDatesEveryWeekdayName(t *testing.T) {
	texts := datesTexts(t)
	v := newDateVocab(texts)
	n := 0
	for _, lang := range texts.Langs() {
		next := strings.Fields(texts.T(lang, "parse.next"))[0]
		for i, group := range nameGroups(texts, lang, "parse.weekdays") {
			wd := time.Weekday((i + 1) % 7)
			for _, name := range group {
				for j := range 7 {
					today := civil(2027, time.March, 8+j)
					for _, in := range []string{name, name + " " + next} {
						n++
						got, _, p := v.parseDate(lang, in, today)
						ahead := int(got.Sub(today).Hours() / 24)
						if p != dateOK || got.Weekday() != wd || ahead < 1 || ahead > 7 {
							t.Errorf("parseDate(%s, %q) on %s: got %s, %s, want a %v 1 to 7 days ahead", lang, in, datesDay(today), datesDay(got), datesProblemName(p), wd)
						}
					}
				}
			}
		}
	}
	if n < 6*7*2*7 {
		t.Errorf("weekday names read: %d, want every name of six languages", n)
	}
}

// TestDatesVocabQuiet: building the date words of the shipped locales logs
// nothing, so no list entry is passed over and no phrase reads as another.
func TestDatesVocabQuiet(t *testing.T) {
	var logged strings.Builder
	newDateVocab(shippedTexts(t, slog.NewTextHandler(&logged, nil)))
	if logged.Len() > 0 {
		t.Errorf("newDateVocab logged:\n%s", logged.String())
	}
}

// TestDatesWeekdayAhead checks "next <weekday>" from every day of a week:
// the day named, 1 to 7 days ahead.
func TestDatesWeekdayAhead(t *testing.T) {
	v := newDateVocab(datesTexts(t))
	names := map[time.Weekday][]string{
		time.Monday:    {"Montag", "next Monday"},
		time.Tuesday:   {"Dienstag", "next tuesday"},
		time.Wednesday: {"Mittwoch", "next Wed"},
		time.Thursday:  {"Donnerstag", "thursday"},
		time.Friday:    {"nächster Freitag", "Fri"},
		time.Saturday:  {"Samstag", "saturday"},
		time.Sunday:    {"Sonntag", "next sunday"},
	}
	for i := range 7 {
		today := civil(2027, time.March, 8+i)
		for wd, ins := range names {
			for _, in := range ins {
				got, _, p := v.parseDate("de", in, today)
				ahead := int(got.Sub(today).Hours() / 24)
				if p != dateOK || got.Weekday() != wd || ahead < 1 || ahead > 7 {
					t.Errorf("parseDate(%q) on %s: got %s, %s (%d days ahead), want a %v 1 to 7 days ahead", in, datesDay(today), datesDay(got), datesProblemName(p), ahead, wd)
				}
			}
		}
	}
}

func TestDatesAddMonths(t *testing.T) {
	tests := []struct {
		from string
		n    int
		want string
	}{
		{"2027-01-31", 1, "2027-02-28"},
		{"2028-01-31", 1, "2028-02-29"},
		{"2027-03-31", 1, "2027-04-30"},
		{"2027-10-31", 4, "2028-02-29"},
		{"2027-03-10", 1, "2027-04-10"},
		{"2027-03-10", 0, "2027-03-10"},
		{"2027-12-15", 1, "2028-01-15"},
		{"2027-01-15", 12, "2028-01-15"},
		{"2027-01-31", 25, "2029-02-28"},
		{"2027-03-31", -1, "2027-02-28"},
		{"2027-01-10", -1, "2026-12-10"},
	}
	for _, tt := range tests {
		from, _ := parseCivil(tt.from)
		if got := addMonths(from, tt.n).Format(dateLayout); got != tt.want {
			t.Errorf("addMonths(%s, %d): got %s, want %s", tt.from, tt.n, got, tt.want)
		}
	}
}

func TestDatesFormat(t *testing.T) {
	texts := datesTexts(t)
	tests := []struct {
		lang, day, want string
	}{
		{"de", "2027-03-15", "Mo, 15.03.2027"},
		{"en", "2027-03-15", "Mon 15 Mar 2027"},
		{"de", "2027-01-03", "So, 03.01.2027"},
		{"en", "2027-01-03", "Sun 3 Jan 2027"},
		{"de", "2027-12-31", "Fr, 31.12.2027"},
		{"en", "2027-12-31", "Fri 31 Dec 2027"},
		{"de", "2028-02-29", "Di, 29.02.2028"},
		{"en", "2028-02-29", "Tue 29 Feb 2028"},
		{"de", "2027-03-10", "Mi, 10.03.2027"},
		{"en", "2027-03-13", "Sat 13 Mar 2027"},
		{"de", "2027-03-18", "Do, 18.03.2027"},
		{"en", "2027-09-16", "Thu 16 Sep 2027"},
		{"fr", "2027-03-15", "lun. 15/03/2027"},
		{"fr", "2027-01-03", "dim. 03/01/2027"},
		{"es", "2027-03-17", "mié. 17/03/2027"},
		{"es", "2027-01-03", "dom. 03/01/2027"},
		{"ru", "2027-03-15", "пн, 15.03.2027"},
		{"ru", "2027-01-03", "вс, 03.01.2027"},
		{"vi", "2027-03-15", "T2, 15/03/2027"},
		{"vi", "2027-01-03", "CN, 03/01/2027"},
	}
	for _, tt := range tests {
		d, _ := parseCivil(tt.day)
		if got := texts.formatDate(tt.lang, d); got != tt.want {
			t.Errorf("formatDate(%s, %s): got %q, want %q", tt.lang, tt.day, got, tt.want)
		}
	}
}

// TestDatesVocabLists guards the locale lists the parser and formatter index
// into: a list one short would shift every weekday or month.
func TestDatesVocabLists(t *testing.T) {
	texts := datesTexts(t)
	for _, lang := range texts.Langs() {
		for id, n := range map[string]int{"date.weekdays": 7, "date.months": 12, "parse.weekdays": 7, "parse.monthnames": 12, "parse.numbers": 12} {
			if got := len(texts.List(lang, id)); got != n {
				t.Errorf("%s %s: got %d entries, want %d", lang, id, got, n)
			}
		}
		// "words = 2w", "Europe/Vienna: Wien, …", "de: Deutsch": an entry
		// that does not read would be passed over without a word.
		for _, e := range texts.List(lang, "parse.units") {
			if ws, n, ok := strings.Cut(e, "="); !ok || strings.TrimSpace(ws) == "" {
				t.Errorf("%s parse.units: entry %q, want \"words = <n>d|w|m|y\"", lang, e)
			} else if _, ok := parseSpan(strings.TrimSpace(n)); !ok {
				t.Errorf("%s parse.units: entry %q: length %q, want <n>d|w|m|y", lang, e, n)
			}
		}
		for _, e := range texts.List(lang, "parse.zones") {
			if zone, names, ok := strings.Cut(e, ":"); !ok || strings.TrimSpace(names) == "" {
				t.Errorf("%s parse.zones: entry %q, want \"Zone/Name: name, name\"", lang, e)
			} else if _, err := time.LoadLocation(strings.TrimSpace(zone)); err != nil {
				t.Errorf("%s parse.zones: entry %q: %v", lang, e, err)
			}
		}
		for _, e := range texts.List(lang, "parse.languages") {
			if code, names, ok := strings.Cut(e, ":"); !ok || strings.TrimSpace(names) == "" || !slices.Contains(texts.Langs(), strings.TrimSpace(code)) {
				t.Errorf("%s parse.languages: entry %q, want \"<shipped language code>: name, name\"", lang, e)
			}
		}
	}
}

// TestDatesNextWeek: "next week" from every day of a week is the Monday of
// the week after, 1 to 7 days ahead.
func TestDatesNextWeek(t *testing.T) {
	v := newDateVocab(datesTexts(t))
	for i := range 7 {
		today := civil(2027, time.March, 8+i) // Monday to Sunday
		for _, in := range []string{"nächste Woche", "next week"} {
			got, _, p := v.parseDate("de", in, today)
			if p != dateOK || !got.Equal(civil(2027, time.March, 15)) {
				t.Errorf("parseDate(%q) on %s: got %s, %s, want Monday 2027-03-15", in, datesDay(today), datesDay(got), datesProblemName(p))
			}
		}
	}
}

// FuzzParseDate: whatever is typed, in whichever language, parseDate does
// not panic, and a day it returns is never before today unless it says the
// day is past; a day it says is next year's is next year's; and a day it
// takes, shown as the bot shows it in any language, reads back in that
// language as that day.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{
		"15.3.", "15.03.2027", "2027-03-15", "2027/03/15", "15-03-2027", "3/4/2027", "3/4/2026", "31.02.2027", "29.2.",
		"in 2 Wochen", "in a fortnight", "in 1 Jahr", "in 999 years", "in -2 Wochen", "nächste Woche", "next week",
		"Ende März", "end of February 2027", "KW 12", "KW 53", "week 0", "12. KW", "KW 12/28", "gestern", "yesterday",
		"vorgestern", "March 15th", "15th of March", "June 1st", "am 15ten März", "Sa, 03.04.2027", "nächsten Montag",
		"übermorgen", "in KW 12", "🙂", "", "1.1.0000", "31.12.9999", "KW 52 9999", "Ende Dezember 9999",
		"le 15 mars", "dans 2 semaines", "lundi prochain", "jeudi de la semaine prochaine", "après-demain", "lun. 15/03/2027",
		"el 15 de marzo", "dentro de 2 semanas", "el próximo lunes", "la semana que viene", "pasado mañana",
		"15 марта", "через 2 недели", "в следующий понедельник", "15 марта 2027 года", "15-го марта", "пн, 15.03.2027",
		"ngày 15 tháng 3", "thứ hai tuần sau", "2 tuần nữa", "ngày 15 tháng 03 năm 2027", "T2, 15/03/2027", "tháng 3",
		"thứ", "thứ hai thứ hai", "tháng 3 tháng 3", "-1 tuần nữa", "ngày", "năm năm nữa",
	} {
		f.Add(s, uint16(9565), uint8(0))  // 2026-03-10 … as days after 2000-01-01, varied by the fuzzer
		f.Add(s, uint16(10199), uint8(5)) // 2027-12-04
	}
	texts := datesTexts(f)
	v := newDateVocab(texts)
	f.Fuzz(func(t *testing.T, text string, days uint16, langNo uint8) {
		today := civil(2000, time.January, 1).AddDate(0, 0, int(days)%40000)
		typed := texts.Langs()[int(langNo)%len(texts.Langs())]
		d, alt, p := v.parseDate(typed, text, today)
		midnight := func(x time.Time) bool {
			return x.Location() == time.UTC && x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0
		}
		switch p {
		case dateOK, dateNextYear:
			if d.IsZero() || d.Before(today) || !midnight(d) || !alt.IsZero() {
				t.Fatalf("parseDate(%q) on %s: got %s, %s, %s: a day taken must be today or later", text, datesDay(today), datesDay(d), datesDay(alt), datesProblemName(p))
			}
			if p == dateNextYear && d.Year() != today.Year()+1 {
				t.Fatalf("parseDate(%q) on %s: got %s said to be next year's", text, datesDay(today), datesDay(d))
			}
			// The day as the bot confirms it, in every language, typed
			// back, is that day.
			for _, lang := range texts.Langs() {
				shown := texts.formatDate(lang, d)
				if back, _, p := v.parseDate(lang, shown, today); p != dateOK || !back.Equal(d) {
					t.Fatalf("parseDate(%q) on %s: %s, shown as %q, which reads back as %s, %s", text, datesDay(today), datesDay(d), shown, datesDay(back), datesProblemName(p))
				}
			}
		case datePast:
			if !d.Before(today) || !midnight(d) {
				t.Fatalf("parseDate(%q) on %s: got %s said to be past", text, datesDay(today), datesDay(d))
			}
		case dateAmbiguous:
			if d.IsZero() || alt.IsZero() || d.Equal(alt) || d.Before(today) && alt.Before(today) {
				t.Fatalf("parseDate(%q) on %s: got ambiguous %s or %s", text, datesDay(today), datesDay(d), datesDay(alt))
			}
		case dateUnreadable, dateImpossible:
			if !d.IsZero() || !alt.IsZero() {
				t.Fatalf("parseDate(%q) on %s: got %s, %s with %s", text, datesDay(today), datesDay(d), datesDay(alt), datesProblemName(p))
			}
		default:
			t.Fatalf("parseDate(%q): got %s", text, datesProblemName(p))
		}
	})
}

// BenchmarkParseDate reads the dates of TestDatesParse's kinds, each typed in
// its own language, as a turn that takes a date does: a per-language parser
// must not slow a turn.
func BenchmarkParseDate(b *testing.B) {
	v := newDateVocab(datesTexts(b))
	today := civil(2027, time.March, 10)
	type typed struct{ lang, in string }
	for _, bb := range []struct {
		name string
		ins  []typed
	}{
		{"de-en", []typed{ // as before the words were split by language
			{"de", "15.3."}, {"de", "in 2 Wochen"}, {"de", "nächsten Montag"}, {"de", "15. März"},
			{"en", "March 15th"}, {"en", "next Monday"}, {"en", "2027-03-15"}, {"de", "bald"},
		}},
		{"fr-es-ru-vi", []typed{
			{"fr", "le 15 mars"}, {"fr", "dans 2 semaines"}, {"es", "el próximo lunes"}, {"es", "15/03/2027"},
			{"ru", "15 марта"}, {"ru", "через 2 недели"}, {"vi", "thứ hai tuần sau"}, {"vi", "ngày 15 tháng 3"},
		}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				in := bb.ins[i%len(bb.ins)]
				v.parseDate(in.lang, in.in, today)
			}
		})
	}
}
