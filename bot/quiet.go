package bot

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// QuietHours are the local hours in which the bot sends nothing on its own
// initiative (reminders): From up to To, in minutes after midnight; a span
// past midnight (20:00–08:00) has From after To. The zero value is none.
type QuietHours struct{ From, To int }

// None reports whether there are no quiet hours.
func (q QuietHours) None() bool { return q.From == q.To }

// String is how they are stored and shown: "20:00–08:00", or "" for none.
func (q QuietHours) String() string {
	if q.None() {
		return ""
	}
	return clock(q.From) + "–" + clock(q.To)
}

func clock(min int) string { return TwoDigits(min/60) + ":" + TwoDigits(min%60) }

// ParseQuiet reads quiet hours as typed or stored: "20:00–08:00", "20-8",
// "22.30 - 7"; a dash of any kind separates the two times. Every turn reads
// the stored ones (see syncReminders): what is stored is read without
// copying.
func ParseQuiet(text string) (QuietHours, bool) {
	text = strings.ReplaceAll(text, " ", "")
	i := strings.IndexFunc(text, isDash)
	if i < 0 {
		return QuietHours{}, false
	}
	_, w := utf8.DecodeRuneInString(text[i:])
	from, to := text[:i], text[i+w:]
	if strings.IndexFunc(to, isDash) >= 0 {
		return QuietHours{}, false
	}
	f, ok1 := parseClock(from)
	t, ok2 := parseClock(to)
	if !ok1 || !ok2 || f == t {
		return QuietHours{}, false
	}
	return QuietHours{f, t}, true
}

// parseClock reads "8", "08", "8:30", "08.30", "24" (midnight).
func parseClock(s string) (int, bool) {
	h, m, hasMin := strings.Cut(strings.ReplaceAll(strings.TrimSuffix(strings.ToLower(s), "h"), ".", ":"), ":")
	hh, err := strconv.Atoi(h)
	if err != nil || len(h) > 2 || hh < 0 || hh > 24 {
		return 0, false
	}
	mm := 0
	if hasMin {
		if mm, err = strconv.Atoi(m); err != nil || len(m) != 2 || mm > 59 {
			return 0, false
		}
	}
	if hh == 24 {
		if mm != 0 {
			return 0, false
		}
		hh = 0
	}
	return hh*60 + mm, true
}

// QuietHours returns the conversation's quiet hours.
func (c *Conversation) QuietHours() QuietHours {
	if c.Quiet == "" { // most people set none
		return QuietHours{}
	}
	q, _ := ParseQuiet(c.Quiet)
	return q
}

func isDash(r rune) bool { return r == '-' || r == '–' || r == '—' || r == '−' }

// quietEnd reports whether at, in zone, falls inside the quiet hours, and
// if so the instant they end: a reminder then waits for it.
func (q QuietHours) quietEnd(at time.Time, zone *time.Location) (time.Time, bool) {
	if q.None() {
		return at, false
	}
	l := at.In(zone)
	m := l.Hour()*60 + l.Minute()
	inside := q.From <= m && m < q.To
	if q.From > q.To {
		inside = m >= q.From || m < q.To
	}
	if !inside {
		return at, false
	}
	day := l.Day()
	if q.From > q.To && m >= q.From {
		day++ // the evening part: they end tomorrow morning
	}
	end := time.Date(l.Year(), l.Month(), day, q.To/60, q.To%60, 0, 0, zone)
	if !end.After(at) { // a daylight-saving change folded the end back
		end = at.Add(time.Minute)
	}
	return end.UTC(), true
}

// Held reports whether a message the bot sends on its own at at would
// fall into the conversation's pause or quiet hours, and if so when it
// may come instead: after the pause (on the day after it, at the same
// time of day), outside the quiet hours.
func (t *Turn) Held(at time.Time) (time.Time, bool) {
	zone, held := t.Zone(), false
	if last, ok := parseCivil(t.c.Pause); ok && !dayOf(at, zone).After(last) {
		l, d := at.In(zone), last.AddDate(0, 0, 1)
		at, held = time.Date(d.Year(), d.Month(), d.Day(), l.Hour(), l.Minute(), 0, 0, zone).UTC(), true
	}
	if end, in := t.c.QuietHours().quietEnd(at, zone); in {
		at, held = end, true
	}
	return at, held
}
