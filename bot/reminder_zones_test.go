package bot

import (
	"archive/zip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// ianaZones loads every zone of the IANA database that Go ships
// ($GOROOT/lib/time/zoneinfo.zip, the data time/tzdata embeds), from that
// file, so the test does not depend on the machine's /usr/share/zoneinfo.
// A zone known by several names is read once. It skips the test when the
// file cannot be found.
func ianaZones(t *testing.T) []*time.Location {
	t.Helper()
	root := os.Getenv("GOROOT")
	if root == "" {
		out, err := exec.Command("go", "env", "GOROOT").Output()
		if err != nil {
			t.Skipf("no GOROOT to read the zone database from: %v", err)
		}
		root = strings.TrimSpace(string(out))
	}
	zr, err := zip.OpenReader(filepath.Join(root, "lib", "time", "zoneinfo.zip"))
	if err != nil {
		t.Skipf("no zone database: %v", err)
	}
	defer zr.Close()
	var zones []*time.Location
	seen := map[string]bool{}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if seen[string(data)] {
			continue // another name of a zone already read ("US/Eastern")
		}
		seen[string(data)] = true
		loc, err := time.LoadLocationFromTZData(f.Name, data)
		if err != nil {
			t.Fatalf("zone %s: %v", f.Name, err)
		}
		zones = append(zones, loc)
	}
	if len(zones) < 300 {
		t.Fatalf("read %d zones from the database, want the whole of it", len(zones))
	}
	return zones
}

// The ten years the property tests cover: those the bot will run in.
var (
	zoneYearsFrom = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	zoneYearsTo   = zoneYearsFrom.AddDate(10, 0, 0)
)

// wall is the wall-clock reading of t in its location, as a UTC instant,
// so that readings can be compared and subtracted.
func wall(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// checkDailySeries checks reminders asked for every day from first to last
// (civil days) at the engine's hour in zone: each comes exactly once (a
// pending reminder with its own instant, later than the day before's: none
// skipped, none doubled), at the hour asked for on its day; where a clock
// change skips that hour, after the gap, never before it.
func checkDailySeries(t *testing.T, e *Engine, zone *time.Location, first, last time.Time) (checked int) {
	t.Helper()
	now := first.AddDate(0, 0, -1)
	var prev time.Time
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		day := d.Format(dateLayout)
		r := e.newReminder("m1-2review", reminderSpec{1, KindReview, day}, reminderRules{zone: zone, weekends: true}, now)
		if r.Status != ReminderPending {
			t.Errorf("%s, %s %02d:00: status %q, want pending (skipped)", zone, day, e.rem.Hour, r.Status)
			return checked
		}
		if !prev.IsZero() && !r.Due.After(prev) {
			t.Errorf("%s, %s %02d:00: due %s, not after the day before's %s (doubled or out of order)", zone, day, e.rem.Hour, r.Due, prev)
		}
		prev = r.Due
		local := r.Due.In(zone)
		asked := time.Date(d.Year(), d.Month(), d.Day(), e.rem.Hour, 0, 0, 0, time.UTC) // wall clock
		late := wall(local).Sub(asked)
		if late != 0 {
			// Only where the hour asked for does not exist on that day: a
			// clock change skipped it, and the reminder comes after the gap
			// (by the gap's length), never before the hour. (Where the gap
			// ends at midnight, that is the next day's first moment.)
			_, before := r.Due.Add(-12 * time.Hour).In(zone).Zone()
			_, after := local.Zone()
			gap := time.Duration(after-before) * time.Second
			if late < 0 || gap <= 0 || late > gap {
				t.Errorf("%s, %s %02d:00: comes at %s (%v off the hour asked for, clock change %v)", zone, day, e.rem.Hour, local.Format(time.RFC3339), late, gap)
			}
		}
		checked++
	}
	return checked
}

// TestRemindersEveryZone: in every IANA zone, a 09:00 reminder for every
// day of ten years comes exactly once, on its day, at 09:00 local time
// (never skipped, never doubled, across every daylight-saving change).
func TestRemindersEveryZone(t *testing.T) {
	zones := ianaZones(t)
	e := &Engine{rem: ReminderConfig{Hour: 9}}
	var total atomic.Int64
	// The zones in as many parts as there are processors, checked at once.
	parts := runtime.GOMAXPROCS(0)
	t.Run("zones", func(t *testing.T) {
		for p := range parts {
			t.Run(strconv.Itoa(p), func(t *testing.T) {
				t.Parallel()
				for i := p; i < len(zones); i += parts {
					total.Add(int64(checkDailySeries(t, e, zones[i], zoneYearsFrom, zoneYearsTo.AddDate(0, 0, -1))))
					if t.Failed() {
						t.FailNow() // one zone's failures are enough to read
					}
				}
			})
		}
	})
	t.Logf("%d zones, %d reminders at 09:00", len(zones), total.Load())
}

// TestRemindersInChangedHours: a reminder hour that a clock change skips or
// repeats, in every zone and at every change of ten years: the reminders of
// the days around the change still come once each, on their days, never
// early. (The reminder hour is the whole hour in the gap or overlap; hour 0
// cannot be configured, and changes of less than a whole hour that hold no
// full hour are passed over.)
func TestRemindersInChangedHours(t *testing.T) {
	zones := ianaZones(t)
	skipped, repeated := 0, 0
	for _, zone := range zones {
		for at := zoneYearsFrom.In(zone); at.Before(zoneYearsTo); {
			_, end := at.ZoneBounds()
			if end.IsZero() || !end.Before(zoneYearsTo) {
				break
			}
			if !end.After(at) {
				// Go splits zones ruled by a TZ string at the turn of the
				// year and may report that instant as its own end.
				at = at.Add(time.Minute)
				continue
			}
			at = end
			_, was := end.Add(-time.Nanosecond).In(zone).Zone()
			_, is := end.In(zone).Zone()
			if was == is {
				continue // only the zone's name changes
			}
			// The wall-clock readings that the change skips (spring) or
			// repeats (autumn): [from, to).
			from := end.UTC().Add(time.Duration(min(was, is)) * time.Second)
			to := end.UTC().Add(time.Duration(max(was, is)) * time.Second)
			hour := from.Truncate(time.Hour)
			if hour.Before(from) {
				hour = hour.Add(time.Hour)
			}
			if !hour.Before(to) || hour.Hour() == 0 {
				continue
			}
			if is > was {
				skipped++
			} else {
				repeated++
			}
			e := &Engine{rem: ReminderConfig{Hour: hour.Hour()}}
			day := time.Date(hour.Year(), hour.Month(), hour.Day(), 0, 0, 0, 0, time.UTC)
			checkDailySeries(t, e, zone, day.AddDate(0, 0, -2), day.AddDate(0, 0, 2))
			if t.Failed() {
				t.FailNow() // one change's failures are enough to read
			}
		}
	}
	if skipped == 0 || repeated == 0 {
		t.Fatalf("found %d skipped and %d repeated hours in ten years of every zone: the search is broken", skipped, repeated)
	}
	t.Logf("%d zones: %d skipped hours, %d repeated hours, each with the reminders of the days around it", len(zones), skipped, repeated)
}

// TestRemindersWeekdaysEveryZone: with weekends not allowed, a reminder for
// a Saturday or Sunday comes on the Monday after, at the hour, in every
// zone: never on a weekend, never before its day.
func TestRemindersWeekdaysEveryZone(t *testing.T) {
	zones := ianaZones(t)
	e := &Engine{rem: ReminderConfig{Hour: 9}}
	now := zoneYearsFrom.AddDate(0, 0, -1)
	for _, zone := range zones {
		for d := zoneYearsFrom; d.Before(zoneYearsFrom.AddDate(1, 0, 0)); d = d.AddDate(0, 0, 1) {
			day := d.Format(dateLayout)
			r := e.newReminder("m1-1start", reminderSpec{1, KindStart, day}, reminderRules{zone: zone}, now)
			local := r.Due.In(zone)
			asked := time.Date(d.Year(), d.Month(), d.Day(), 9, 0, 0, 0, zone)
			if wd := local.Weekday(); r.Status != ReminderPending || wd == time.Saturday || wd == time.Sunday || r.Due.Before(asked) || r.Due.Sub(asked) > 3*24*time.Hour {
				t.Fatalf("%s, %s without weekends: %s at %s", zone, day, r.Status, local.Format("Mon 2006-01-02 15:04 MST"))
			}
		}
	}
}
