package bot

import (
	"sync"
	"time"
)

// Holidays knows the public holidays of regions ("DE-BY", "FR"): a
// feature provides them (Feature.Holidays), so that the core needs no
// calendar library. A reminder that falls on a holiday of its
// conversation's Region moves to the next working day, as at weekends.
type Holidays interface {
	// Off reports whether day (its year, month and day) is a public
	// holiday in region, or a working day given in place of one, and its
	// name.
	Off(region string, day time.Time) (name string, ok bool)
	// Covers reports whether Off knows every holiday of region in year (a
	// table of dates has an end); if not, what it does not know is taken
	// as no holiday.
	Covers(region string, year int) bool
}

// uncovered remembers the regions and years already logged as beyond what
// the holidays know, so each is logged once.
var uncovered sync.Map

// holiday reports whether day is a public holiday in the conversation's
// region, and its name.
func (e *Engine) holiday(region string, day time.Time) (string, bool) {
	if region == "" || e.reg == nil || e.reg.holidays == nil {
		return "", false
	}
	h := e.reg.holidays
	if !h.Covers(region, day.Year()) {
		type key struct {
			region string
			year   int
		}
		if _, seen := uncovered.LoadOrStore(key{region, day.Year()}, true); !seen {
			e.log.Warn("holidays not known beyond this year's fixed days; a reminder may fall on a holiday", "region", region, "year", day.Year())
		}
	}
	return h.Off(region, day)
}

// holidayRule is reminderRules.holiday for a region; nil when none is set.
func (e *Engine) holidayRule(region string) func(time.Time) bool {
	if region == "" || e.reg == nil || e.reg.holidays == nil {
		return nil
	}
	return func(d time.Time) bool {
		_, ok := e.holiday(region, d)
		return ok
	}
}

// MovedBy reports whether r comes later than its day because of a public
// holiday: the first holiday from its day on, and the holiday's name.
func (t *Turn) MovedBy(r Reminder) (time.Time, string, bool) {
	from, ok1 := parseCivil(r.For)
	to, ok2 := parseCivil(r.Day)
	if !ok1 || !ok2 || r.Postponed {
		return time.Time{}, "", false
	}
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		if name, ok := t.e.holiday(t.c.Region, d); ok {
			return d, name, true
		}
	}
	return time.Time{}, "", false
}
