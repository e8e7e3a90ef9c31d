package bot

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestHolidayRuleComposes: a reminder on a public holiday moves to the
// next working day, with weekends, a pause and quiet hours: the day after
// a pause that is a holiday moves on; with weekends allowed a holiday on a
// Sunday still moves. (Holidays of Brandenburg 2027, as bot/holiday says:
// Easter Sunday 28.3. and Monday 29.3., Reformation Day Sunday 31.10.;
// 1.11. as in Baden-Württemberg, to have a Monday holiday.)
func TestHolidayRuleComposes(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	off := map[string]bool{"2027-03-28": true, "2027-03-29": true, "2027-10-31": true, "2027-11-01": true}
	holiday := func(d time.Time) bool { return off[d.Format(dateLayout)] }
	quiet, _ := ParseQuiet("22:00–09:30")
	e := &Engine{rem: ReminderConfig{Hour: 9}}
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		rules     reminderRules
		day, want string
		postponed bool
		at        string
	}{
		{"Saturday before a holiday Monday", reminderRules{}, "2027-10-30", "2027-11-02", false, "09:00"},
		{"holiday Monday", reminderRules{}, "2027-11-01", "2027-11-02", false, "09:00"},
		{"weekends allowed, holiday Sunday and Monday", reminderRules{weekends: true}, "2027-03-28", "2027-03-30", false, "09:00"},
		{"weekends allowed, a Saturday", reminderRules{weekends: true}, "2027-10-30", "2027-10-30", false, "09:00"},
		{"pause ending on a holiday eve", reminderRules{pause: "2027-10-29"}, "2027-10-28", "2027-11-02", true, "09:00"},
		{"pause ending on a holiday", reminderRules{pause: "2027-11-01", weekends: true}, "2027-10-31", "2027-11-02", true, "09:00"},
		{"quiet hours after a holiday", reminderRules{quiet: quiet}, "2027-03-29", "2027-03-30", false, "09:30"},
		{"a working day", reminderRules{}, "2027-11-03", "2027-11-03", false, "09:00"},
	} {
		rr := tc.rules
		rr.zone, rr.holiday = berlin, holiday
		r := e.newReminder("m1-1start", reminderSpec{1, KindStart, tc.day}, rr, now)
		if r.Day != tc.want || r.Postponed != tc.postponed || r.Due.In(berlin).Format("15:04") != tc.at || r.Status != ReminderPending {
			t.Errorf("%s: %s → %s %s postponed %v (%s), want %s %s postponed %v", tc.name, tc.day, r.Day, r.Due.In(berlin).Format("15:04"), r.Postponed, r.Status, tc.want, tc.at, tc.postponed)
		}
		if !rr.keeps(&r, now) {
			t.Errorf("%s: the rules do not keep the reminder they made", tc.name)
		}
	}
}

// fakeHolidays knows 1 January and nothing of years after 2030.
type fakeHolidays struct{}

func (fakeHolidays) Off(_ string, d time.Time) (string, bool) {
	return "New Year", d.Month() == time.January && d.Day() == 1
}
func (fakeHolidays) Covers(_ string, year int) bool { return year <= 2030 }

// TestHolidaysBeyondTableLogOnce: a day beyond what the holidays know is
// taken for what they say (here no holiday), and the engine logs it once
// per region and year, not on every reminder.
func TestHolidaysBeyondTableLogOnce(t *testing.T) {
	var buf strings.Builder
	e := &Engine{log: slog.New(slog.NewTextHandler(&buf, nil)), reg: &registry{holidays: fakeHolidays{}}}
	for _, d := range []time.Time{time.Date(2031, 2, 3, 0, 0, 0, 0, time.UTC), time.Date(2031, 2, 4, 0, 0, 0, 0, time.UTC)} {
		if _, ok := e.holiday("XV", d); ok {
			t.Errorf("%s: a holiday beyond the table", d)
		}
	}
	if _, ok := e.holiday("XV", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)); !ok {
		t.Error("1.1.2030 not a holiday")
	}
	if n := strings.Count(buf.String(), "holidays not known"); n != 1 || !strings.Contains(buf.String(), "year=2031") {
		t.Errorf("logged %d times, want once for 2031: %s", n, buf.String())
	}
}
