package bot_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
)

// planWith builds, through the dialogue, a plan with one measure for the
// first checkpoint starting on start and reviewed on review (typed dates).
func planWith(t *testing.T, h *harness, start, review string) {
	t.Helper()
	for _, in := range []string{"/check zo-kmu", "1", "3", "3", "3", "3", "3", "3", "1", "Workshop mit Betrieben", "1", "ich"} {
		h.Say(in)
	}
	if got := h.Say(start); !strings.Contains(got, "Start:") {
		t.Fatalf("start date %q not taken: %s", start, got)
	}
	if got := h.Say(review); !strings.Contains(got, "Gespeichert") {
		t.Fatalf("review date %q not taken: %s", review, got)
	}
}

func reminderOf(t *testing.T, h *harness, kind string) bot.Reminder {
	t.Helper()
	for _, r := range h.Conv().Reminders {
		if r.Kind == kind {
			return r
		}
	}
	t.Fatalf("no %s reminder in %+v", kind, h.Conv().Reminders)
	return bot.Reminder{}
}

// TestRemindersDST: reminders fire at 09:00 local on the days clocks change,
// in Berlin and New York, exactly once.
func TestRemindersDST(t *testing.T) {
	tests := []struct {
		zone, day string
		wantUTC   string
	}{
		{"Europe/Berlin", "2027-03-28", "2027-03-28T07:00:00Z"},    // spring: 09:00 CEST
		{"Europe/Berlin", "2027-10-31", "2027-10-31T08:00:00Z"},    // autumn: 09:00 CET
		{"America/New_York", "2027-03-14", "2027-03-14T13:00:00Z"}, // spring: 09:00 EDT
		{"America/New_York", "2027-11-07", "2027-11-07T14:00:00Z"}, // autumn: 09:00 EST
	}
	for _, tt := range tests {
		t.Run(tt.zone+"/"+tt.day, func(t *testing.T) {
			h := newHarness(t, 0)
			h.Say("/timezone " + tt.zone)
			h.Say("/reminders")
			h.Say("2") // allow weekends: clocks change on Sundays
			if !h.Conv().Weekends {
				t.Fatal("weekends not allowed")
			}
			planWith(t, h, "morgen", tt.day)
			r := reminderOf(t, h, bot.KindReview)
			if got := r.Due.Format(time.RFC3339); got != tt.wantUTC {
				t.Fatalf("due: got %s, want %s", got, tt.wantUTC)
			}
			if local := r.Due.In(mustZone(tt.zone)); local.Hour() != 9 || local.Minute() != 0 {
				t.Errorf("local time: got %s, want 09:00", local)
			}
			h.Clock.Set(r.Due.Add(-time.Second))
			h.RunDue() // the start reminder, long before
			for _, s := range h.RunDue() {
				t.Errorf("a second before it is due: got %q", s.Msg.Text)
			}
			h.Clock.Set(r.Due)
			got := h.RunDue()
			if len(got) != 1 || !strings.Contains(got[0].Msg.Text, "Zeit für die Kontrolle: Workshop mit Betrieben") {
				t.Fatalf("at 09:00: got %v, want one review reminder", got)
			}
			h.Clock.Add(time.Hour)
			if again := h.RunDue(); len(again) != 0 {
				t.Errorf("an hour later: got %d more, want none", len(again))
			}
		})
	}
}

// TestReminderInClockGap: an hour that does not exist on the day the clocks
// go forward still gives exactly one reminder.
func TestReminderInClockGap(t *testing.T) {
	h := newHarness(t, 0, func(c *bot.Config) { c.Reminders.Hour = 2 })
	h.Say("/reminders")
	h.Say("2") // weekends allowed
	planWith(t, h, "morgen", "28.3.2027")
	r := reminderOf(t, h, bot.KindReview)
	h.Clock.Set(time.Date(2027, 3, 27, 23, 0, 0, 0, time.UTC))
	h.RunDue()
	n := 0
	for step := 0; step < 24*6; step++ { // the whole day, every 10 minutes
		h.Clock.Add(10 * time.Minute)
		n += len(h.RunDue())
	}
	if n != 1 {
		t.Errorf("got %d reminders on the day 02:00 does not exist, want 1 (due %s)", n, r.Due)
	}
}

func TestReminderWeekendShift(t *testing.T) {
	h := newHarness(t, 0)
	planWith(t, h, "morgen", "3.4.2027") // a Saturday
	r := reminderOf(t, h, bot.KindReview)
	if r.Day != "2027-04-05" || r.For != "2027-04-03" {
		t.Errorf("Saturday review: got day %s for %s, want Monday 2027-04-05 for 2027-04-03", r.Day, r.For)
	}
	h.Say("/reminders")
	h.Say("2") // allow weekends
	if r := reminderOf(t, h, bot.KindReview); r.Day != "2027-04-03" {
		t.Errorf("with weekends allowed: got %s, want the Saturday", r.Day)
	}
}

// TestReminderClockSteps: the wall clock jumps forward and back; nothing
// fires twice and nothing is lost.
func TestReminderClockSteps(t *testing.T) {
	h := newHarness(t, 0)
	planWith(t, h, "15.3.2027", "17.3.2027")
	h.Clock.Set(time.Date(2027, 3, 18, 12, 0, 0, 0, time.UTC)) // jump past both
	first := h.RunDue()
	if len(first) != 2 {
		t.Fatalf("after the jump: got %d reminders, want start and review", len(first))
	}
	h.Clock.Set(time.Date(2027, 3, 14, 12, 0, 0, 0, time.UTC)) // back before both
	if got := h.RunDue(); len(got) != 0 {
		t.Errorf("after stepping back: got %d, want 0", len(got))
	}
	h.Clock.Set(time.Date(2027, 3, 30, 12, 0, 0, 0, time.UTC)) // forward again
	if got := h.RunDue(); len(got) != 0 {
		t.Errorf("forward again: got %d, want 0", len(got))
	}

	// Then many reminders, with steps of each kind around every one of them,
	// and all kinds mixed.
	for _, tt := range []struct {
		name  string
		kinds []time.Duration
	}{
		{"+1h over each", []time.Duration{time.Hour}},
		{"-1h back before each once sent", []time.Duration{-time.Hour}},
		{"+1 day over each", []time.Duration{24 * time.Hour}},
		{"mixed", []time.Duration{time.Hour, -time.Hour, 24 * time.Hour}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each its own engine and store; a minute-by-minute month is the suite's longest wait
			testReminderClockStepsMany(t, tt.kinds)
		})
	}
}

// testReminderClockStepsMany: 18 users in six zones with reminders over
// three weeks (across both daylight-saving changes of March 2027), a
// scheduler woken every minute, and the wall clock stepped around each
// reminder by one of kinds in turn (+1 h over it, −1 h back before it once
// it was sent, +1 day over it), plus 20 seeded random steps of those kinds.
// Every reminder comes exactly once, never before it is due.
func testReminderClockStepsMany(t *testing.T, kinds []time.Duration) {
	h := newHarness(t, 0)
	zones := []string{"Europe/Berlin", "Europe/London", "America/New_York", "Asia/Kolkata", "Asia/Tokyo", "Pacific/Auckland"}
	type key struct {
		chat, kind string
	}
	due := map[key]time.Time{}
	for i := range 3 * len(zones) {
		h.Addr = bot.Address{Platform: h.Addr.Platform, Chat: fmt.Sprintf("u%d", i), User: fmt.Sprintf("u%d", i)}
		h.Say("/timezone " + zones[i%len(zones)])
		h.Say("/reminders")
		h.Say("2") // weekends allowed: every day has reminders
		first := 11 + i
		planWith(t, h, fmt.Sprintf("%d.3.2027", first), fmt.Sprintf("%d.3.2027", first+2+i%4))
		for _, r := range h.Conv().Reminders {
			if r.Kind != bot.KindRepeat {
				due[key{h.Addr.Chat, r.Kind}] = r.Due
			}
		}
	}
	if len(due) != 36 {
		t.Fatalf("got %d reminders, want a start and a review for each of 18 users", len(due))
	}
	// Steps: at an instant (once, the first time the clock passes it), move
	// the clock by a duration.
	type step struct {
		at time.Time
		by time.Duration
	}
	var steps []step
	var instants []time.Time
	for _, d := range due {
		instants = append(instants, d)
	}
	slices.SortFunc(instants, time.Time.Compare)
	at := map[time.Duration]time.Duration{
		time.Hour:      -30 * time.Minute, // over it
		-time.Hour:     2 * time.Minute,   // back before it, once sent
		24 * time.Hour: -2 * time.Hour,    // a day over it
	}
	for i, d := range instants {
		by := kinds[i%len(kinds)]
		steps = append(steps, step{d.Add(at[by]), by})
	}
	rnd := rand.New(rand.NewPCG(18, 6))
	begin := time.Date(2027, 3, 10, 12, 0, 0, 0, time.UTC)
	end := time.Date(2027, 4, 10, 0, 0, 0, 0, time.UTC)
	for range 20 {
		at := begin.Add(time.Duration(rnd.Int64N(int64(end.Sub(begin)))))
		by := kinds[rnd.IntN(len(kinds))]
		steps = append(steps, step{at.Truncate(time.Minute), by})
	}
	used := make([]bool, len(steps))
	got := map[key]int{}
	exposed := map[string]int{}
	h.Clock.Set(begin)
	for now := begin; now.Before(end); now = h.Clock.Now() {
		for _, s := range h.RunDue() {
			kind := bot.KindReview
			if strings.Contains(s.Msg.Text, "Es geht los") {
				kind = bot.KindStart
			} else if !strings.Contains(s.Msg.Text, "Zeit für die Kontrolle") {
				t.Errorf("at %s: got %q, want only reminders", now, s.Msg.Text)
			}
			k := key{s.To.Chat, kind}
			got[k]++
			if d, ok := due[k]; !ok || now.Before(d) {
				t.Errorf("at %s: %s reminder of %s due at %s: early", now, kind, k.chat, d)
			}
			if got[k] > 1 {
				t.Errorf("at %s: %s reminder of %s (due %s) sent %d times", now, kind, k.chat, due[k], got[k])
			}
		}
		h.Clock.Add(time.Minute)
		for i, s := range steps {
			// A step is taken when the clock reaches its instant, not when
			// another step has carried the clock past it.
			if at := h.Clock.Now(); !used[i] && !at.Before(s.at) && at.Before(s.at.Add(time.Minute)) {
				used[i] = true
				h.Clock.Add(s.by)
				for _, d := range instants {
					switch {
					case at.Before(d) && h.Clock.Now().After(d) && s.by == time.Hour:
						exposed["stepped over by an hour"]++
					case at.Before(d) && h.Clock.Now().After(d):
						exposed["stepped over by a day"]++
					case !at.Before(d.Add(time.Minute)) && h.Clock.Now().Before(d):
						exposed["stepped back before it, once sent"]++
					}
				}
				break
			}
		}
	}
	for k, d := range due {
		if got[k] != 1 {
			t.Errorf("%s reminder of %s due at %s: sent %d times, want once", k.kind, k.chat, d, got[k])
		}
	}
	// Steps carry the clock past others' instants; each kind of step met
	// enough reminders.
	if len(exposed) != len(kinds) {
		t.Errorf("reminders met by the steps: %v, want some of each of %v", exposed, kinds)
	}
	for what, n := range exposed {
		if len(kinds) == 1 && n < 30 {
			t.Errorf("reminders %s: %d, want at least 30", what, n)
		}
	}
	t.Logf("reminders met by the steps: %v", exposed)
}

// TestReviewConversation: the review reminder asks for the outcome; each
// answer updates the plan and the reminders.
func TestReviewConversation(t *testing.T) {
	h := newHarness(t, 0)
	planWith(t, h, "19.3.2027", "22.3.2027")
	h.Clock.Set(time.Date(2027, 3, 22, 8, 0, 0, 0, time.UTC))
	got := h.RunDue()
	if len(got) != 2 { // the start reminder (late) and the review
		t.Fatalf("got %d messages, want 2", len(got))
	}
	review := got[1].Msg // three answers and a row to snooze
	if len(review.Buttons) != 4 || !strings.Contains(review.Text, "Verantwortlich: ich") || !strings.Contains(review.Text, "Strategischer Nutzen") {
		t.Fatalf("review reminder: %q with %d buttons", review.Text, len(review.Buttons))
	}
	// "Still in progress": a new review date, a new reminder.
	if out := h.Say("2"); !strings.Contains(out, "neu kontrolliert") {
		t.Fatalf("typing 2 (still in progress): got %q", out)
	}
	if out := h.Say("in 4 Wochen"); !strings.Contains(out, "Mo, 19.04.2027") {
		t.Fatalf("new review date: got %q", out)
	}
	r := reminderOf(t, h, bot.KindReview)
	if r.Day != "2027-04-19" || r.Status != bot.ReminderPending {
		t.Errorf("moved review reminder: got %+v", r)
	}
	h.Clock.Set(time.Date(2027, 4, 19, 7, 0, 0, 0, time.UTC))
	got = h.RunDue()
	if len(got) != 1 {
		t.Fatalf("at the new date: got %d reminders, want 1", len(got))
	}
	// Pressing "done" on the reminder settles the measure; the plan is then
	// complete and the bot offers to repeat the check.
	var out string
	for _, s := range h.Send(bot.Event{Action: got[0].Msg.Buttons[0][0].Action}) {
		out += s.Msg.Text
	}
	if !strings.Contains(out, "Erledigt: Workshop mit Betrieben") || !strings.Contains(out, "wiederholen") {
		t.Errorf("done: got %q", out)
	}
	if len(h.Conv().Reminders) != 1 || h.Conv().Reminders[0].Kind != bot.KindRepeat {
		t.Errorf("after done, only the repeat offer should remain: %+v", h.Conv().Reminders)
	}
	// The same button again changes nothing.
	for _, s := range h.Send(bot.Event{Action: got[0].Msg.Buttons[0][0].Action}) {
		if !strings.Contains(s.Msg.Text, "bereits abgeschlossen") {
			t.Errorf("pressing done twice: got %q", s.Msg.Text)
		}
	}
}

// TestRemindersLateAndMissed: after downtime, a reminder due within the last
// week is sent once, marked late; an older one is reported missed.
func TestRemindersLateAndMissed(t *testing.T) {
	h := newHarness(t, 0)
	planWith(t, h, "15.3.2027", "29.3.2027")
	h.Clock.Set(time.Date(2027, 3, 31, 10, 0, 0, 0, time.UTC)) // down since before the 15th
	got := h.RunDue()
	if len(got) != 1 || !strings.Contains(got[0].Msg.Text, "fällig seit Mo, 29.03.2027") {
		t.Fatalf("late review: got %v", got)
	}
	if r := reminderOf(t, h, bot.KindStart); r.Status != bot.ReminderMissed {
		t.Errorf("start reminder 16 days late: got status %q, want missed", r.Status)
	}
	if out := h.Say("/reminders"); !strings.Contains(out, "Verpasst") || !strings.Contains(out, "Start: Workshop mit Betrieben") {
		t.Errorf("/reminders does not show the missed one: %q", out)
	}
	if st := h.Engine.Stats(); st.RemindersMissed != 1 || st.RemindersSent != 1 {
		t.Errorf("stats: got %+v", st)
	}
}

func TestRemindersOffAndOn(t *testing.T) {
	h := newHarness(t, 0)
	planWith(t, h, "15.3.2027", "29.3.2027")
	h.Say("/reminders")
	if out := h.Say("1"); !strings.Contains(out, "ausgeschaltet") {
		t.Fatalf("switching off: %q", out)
	}
	h.Clock.Set(time.Date(2027, 3, 16, 10, 0, 0, 0, time.UTC))
	if got := h.RunDue(); len(got) != 0 {
		t.Errorf("switched off: got %d reminders", len(got))
	}
	h.Say("1") // on again
	h.Clock.Set(time.Date(2027, 3, 29, 10, 0, 0, 0, time.UTC))
	got := h.RunDue()
	if len(got) != 1 || !strings.Contains(got[0].Msg.Text, "Zeit für die Kontrolle") {
		t.Errorf("switched on again: got %d, want the review", len(got))
	}
	// What fell due while reminders were off is not sent late, nor called
	// missed: the user chose not to hear it.
	if r := reminderOf(t, h, bot.KindStart); r.Status != bot.ReminderSkipped {
		t.Errorf("the start reminder, due while switched off: got %q, want skipped", r.Status)
	}
}

func TestTimezone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Europe/Vienna", "Europe/Vienna"},
		{"new york", "America/New_York"},
		{"Ho Chi Minh", "Asia/Ho_Chi_Minh"},
		{"+3", "Etc/GMT-3"},
		{"UTC-5", "Etc/GMT+5"},
		{"UTC", "UTC"},
	}
	for _, tt := range tests {
		h := newHarness(t, 0)
		h.Say("/timezone " + tt.in)
		if got := h.Conv().TZ; got != tt.want {
			t.Errorf("/timezone %s: got %q, want %q", tt.in, got, tt.want)
		}
	}
	h := newHarness(t, 0)
	h.Say("/timezone")
	if out := h.Say("Atlantis"); !strings.Contains(out, "kenne ich nicht") {
		t.Errorf("unknown zone: %q", out)
	}
	h.Say("/timezone")
	h.Say("3") // a suggestion button
	if got := h.Conv().TZ; got != "Europe/Zurich" {
		t.Errorf("suggestion 3: got %q", got)
	}
}

func TestRepeatOffer(t *testing.T) {
	h := newHarness(t, 0)
	planWith(t, h, "15.3.2027", "29.3.2027")
	h.Clock.Set(time.Date(2027, 9, 10, 7, 0, 0, 0, time.UTC))
	var repeat string
	for _, s := range h.RunDue() {
		if strings.Contains(s.Msg.Text, "6 Monate her") {
			repeat = s.Msg.Text
		}
	}
	if repeat == "" {
		t.Fatal("no offer to repeat the check six months after it")
	}
	if out := h.Say("1"); !strings.Contains(out, "neu beginnen?") {
		t.Errorf("accepting the offer: got %q, want the question whether to start again", out)
	}
	if out := h.Say("1"); !strings.Contains(out, "1/7") {
		t.Errorf("confirming: got %q", out)
	}
}

// TestTimezoneTyped: what the time-zone question suggests ("+3") and what
// people type at it is read as a zone before it is read as a button number:
// a signed offset or a name wins, a bare number stays a button.
func TestTimezoneTyped(t *testing.T) {
	tests := []struct{ in, want, shown string }{
		{"+3", "Etc/GMT-3", "Zeitzone: UTC+3 (dort ist es jetzt 11:00 Uhr)"},
		{"-4", "Etc/GMT+4", "Zeitzone: UTC-4 (dort ist es jetzt 04:00 Uhr)"},
		{"+5", "Etc/GMT-5", "Zeitzone: UTC+5"}, // a button number with a sign: still the offset
		{"UTC+3", "Etc/GMT-3", "Zeitzone: UTC+3"},
		{"GMT-4", "Etc/GMT+4", "Zeitzone: UTC-4"},
		{"+5:30", "UTC+5:30", "Zeitzone: UTC+5:30 (dort ist es jetzt 13:30 Uhr)"},
		{"CET", "Europe/Berlin", "Zeitzone: Europe/Berlin"},
		{"CEST", "Europe/Berlin", "Zeitzone: Europe/Berlin"},
		{"EST", "America/New_York", "Zeitzone: America/New_York (dort ist es jetzt 03:00 Uhr)"},
		{"Wien", "Europe/Vienna", "Zeitzone: Europe/Vienna"},
		{"München", "Europe/Berlin", "Zeitzone: Europe/Berlin"},
		{"Moskau", "Europe/Moscow", "Zeitzone: Europe/Moscow"},
		{"Vienna", "Europe/Vienna", "Zeitzone: Europe/Vienna"},
		{"Munich", "Europe/Berlin", "Zeitzone: Europe/Berlin"},
		{"Moscow", "Europe/Moscow", "Zeitzone: Europe/Moscow"},
		{"3", "Europe/Zurich", "Zeitzone: Europe/Zurich"}, // a bare number is the button
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			h := newHarness(t, 0)
			if tt.in != "3" { // there is no button behind a command's argument
				h.Say("/timezone " + tt.in)
				if got := h.Conv().TZ; got != tt.want {
					t.Errorf("/timezone %s: got %q, want %q", tt.in, got, tt.want)
				}
				h = newHarness(t, 0)
			}
			h.Say("/timezone")
			out := h.Say(tt.in)
			if got := h.Conv().TZ; got != tt.want {
				t.Errorf("/timezone, then %q: got %q, want %q", tt.in, got, tt.want)
			}
			if !strings.Contains(out, tt.shown) {
				t.Errorf("/timezone, then %q: got %q, want it to say %q", tt.in, out, tt.shown)
			}
		})
	}
}

// TestReminderHalfHourZone: a zone of a fixed offset that is no whole hour
// (+5:30) is stored and loaded back by the reminders: they come at 09:00 there.
func TestReminderHalfHourZone(t *testing.T) {
	h := newHarness(t, 0)
	h.Say("/timezone +5:30")
	planWith(t, h, "morgen", "22.3.2027")
	r := reminderOf(t, h, bot.KindReview)
	if r.Zone != "UTC+5:30" || r.Due.Format(time.RFC3339) != "2027-03-22T03:30:00Z" {
		t.Errorf("review reminder at +5:30: got zone %q at %s, want UTC+5:30 at 2027-03-22T03:30:00Z", r.Zone, r.Due.Format(time.RFC3339))
	}
	if out := h.Say("/reminders"); !strings.Contains(out, "22.03.2027 09:00") || !strings.Contains(out, "Zeitzone: UTC+5:30") {
		t.Errorf("/reminders at +5:30: got %q, want the review at 09:00 and the zone shown as UTC+5:30", out)
	}
	h.Clock.Set(r.Due)
	if got := h.RunDue(); len(got) != 1 || !strings.Contains(got[0].Msg.Text, "Zeit für die Kontrolle") {
		t.Errorf("at 09:00 in UTC+5:30: got %d messages, want the review reminder", len(got))
	}
}

// TestZoneFromPlatform: until the user sets one, the platform's time zone
// decides when reminders come; the user's choice wins over it.
func TestZoneFromPlatform(t *testing.T) {
	h := newHarness(t, 0)
	h.Send(bot.Event{Text: "/start", ZoneHint: "America/New_York"})
	planWith(t, h, "morgen", "22.3.2027")
	if r := reminderOf(t, h, bot.KindReview); r.Zone != "America/New_York" || r.Due.Format(time.RFC3339) != "2027-03-22T13:00:00Z" {
		t.Errorf("with the platform's zone: got %s at %s", r.Zone, r.Due)
	}
	h.Say("/timezone Berlin")
	if r := reminderOf(t, h, bot.KindReview); r.Zone != "Europe/Berlin" || r.Due.Format(time.RFC3339) != "2027-03-22T08:00:00Z" {
		t.Errorf("after /timezone Berlin: got %s at %s", r.Zone, r.Due)
	}
}

// TestReviewMidDialogue: answering a review reminder while entering a new
// measure keeps the measure being entered and comes back to it.
func TestReviewMidDialogue(t *testing.T) {
	h := newHarness(t, 0)
	planWith(t, h, "19.3.2027", "22.3.2027")
	h.Clock.Set(time.Date(2027, 3, 22, 8, 0, 0, 0, time.UTC))
	var review bot.Message
	for _, s := range h.RunDue() {
		if strings.Contains(s.Msg.Text, "Zeit für die Kontrolle") {
			review = s.Msg
		}
	}
	h.Say("/plan")
	h.Say("4")             // add a measure
	h.Say("2")             // for checkpoint 2
	h.Say("Neue Maßnahme") // its text
	h.Say("2")             // priority medium
	out := ""
	for _, s := range h.Send(bot.Event{Action: review.Buttons[1][0].Action}) { // still in progress
		out += s.Msg.Text
	}
	if !strings.Contains(out, "neu kontrolliert") {
		t.Fatalf("still in progress: %q", out)
	}
	if out := h.Say("in 2 Wochen"); !strings.Contains(out, "Wer ist verantwortlich?") {
		t.Errorf("after the new review date, the measure being entered should continue: %q", out)
	}
	if d := h.Conv().Dialog.Draft; d == nil || d.Text != "Neue Maßnahme" || d.Priority != "medium" {
		t.Errorf("the measure being entered was lost: %+v", d)
	}
	// "Done" from the reminder while entering: noted, and the question stays.
	h.Say("/cancel") // the measure half entered is discarded only when confirmed
	h.Say("1")
	h.Say("/plan")
	h.Say("4")
	h.Say("3")
	out = ""
	for _, s := range h.Send(bot.Event{Action: review.Buttons[0][0].Action}) {
		out += s.Msg.Text
	}
	if !strings.Contains(out, "Erledigt: Workshop mit Betrieben") || !strings.Contains(out, "Maßnahme für") {
		t.Errorf("done mid-dialogue: %q", out)
	}
}

// TestZoneChangeAfterSend: a reminder sent at nine in Berlin does not come
// again when the user moves to a zone where it is not nine yet.
func TestZoneChangeAfterSend(t *testing.T) {
	h := newHarness(t, 0)
	planWith(t, h, "22.3.2027", "29.3.2027")
	h.Clock.Set(time.Date(2027, 3, 22, 8, 0, 0, 0, time.UTC)) // 09:00 Berlin
	if got := h.RunDue(); len(got) != 1 {
		t.Fatalf("start reminder: got %d", len(got))
	}
	h.Say("/timezone New York")
	h.Clock.Set(time.Date(2027, 3, 22, 14, 0, 0, 0, time.UTC)) // 10:00 New York
	if got := h.RunDue(); len(got) != 0 {
		t.Errorf("after moving west: got %d reminders again", len(got))
	}
	if r := reminderOf(t, h, bot.KindReview); r.Zone != "America/New_York" {
		t.Errorf("the pending review should follow the new zone: %s", r.Zone)
	}
}

func TestLanguageTwice(t *testing.T) {
	h := newHarness(t, 0)
	h.Say("/check zo-kmu")
	h.Say("/language")
	h.Say("/language")
	if out := h.Say("2"); !strings.Contains(out, "1/7 · Strategic benefit") {
		t.Errorf("after choosing English, the check should continue in English: %q", out)
	}
}

// TestConversationMoves: a group that becomes a supergroup keeps its check,
// plan and reminders under its new chat ID.
func TestConversationMoves(t *testing.T) {
	h := newHarness(t, 0)
	planWith(t, h, "morgen", "22.3.2027")
	old := h.Addr
	h.Send(bot.Event{ID: "mig", MovedTo: "-100123"})
	h.Send(bot.Event{ID: "mig", MovedTo: "-100123"}) // redelivered: no second move
	h.Addr = bot.Address{Platform: old.Platform, Chat: "-100123", User: old.User}
	c := h.Conv()
	if len(c.Plan.Open()) != 1 || c.Addr.Chat != "-100123" {
		t.Fatalf("after the move: %d measures, address %+v", len(c.Plan.Open()), c.Addr)
	}
	h.Addr = old
	if c := h.Conv(); len(c.Plan.Measures) != 0 {
		t.Errorf("the old chat still holds %d measures", len(c.Plan.Measures))
	}
	h.Clock.Set(time.Date(2027, 3, 22, 8, 0, 0, 0, time.UTC))
	got := h.RunDue()
	if len(got) != 1 || got[0].To.Chat != "-100123" { // the start reminder is long missed
		t.Errorf("reminders after the move: got %d, to %+v", len(got), got)
	}
}

// TestGroupReminderMentionsResponsible: in a group, "me" is the person who
// said so, and their reminder mentions them.
func TestGroupReminderMentionsResponsible(t *testing.T) {
	h := newHarness(t, 0)
	h.Addr = bot.Address{Platform: "console", Chat: "-100", User: "U0ANNA01"}
	group := func(text string) {
		t.Helper()
		h.Send(bot.Event{Text: text, Group: true, UserName: "Anna Berg"})
	}
	for _, in := range []string{"/check zo-kmu", "1", "3", "3", "3", "3", "3", "3", "1", "Workshop", "1", "1", "morgen", "22.3.2027"} {
		group(in)
	}
	m := h.Conv().Plan.Measures[0]
	if m.Me || m.Responsible != "Anna Berg" || m.ResponsibleUser != "U0ANNA01" {
		t.Fatalf("measure: %+v", m)
	}
	h.Clock.Set(time.Date(2027, 3, 22, 8, 0, 0, 0, time.UTC))
	got := h.RunDue()
	if len(got) != 1 || len(got[0].Msg.Mentions) != 1 || got[0].Msg.Mentions[0] != "U0ANNA01" || !strings.Contains(got[0].Msg.Text, "Verantwortlich: Anna Berg") {
		t.Errorf("review reminder: %+v", got)
	}
}

// TestStaleResume: a side trip begun while entering a measure does not
// bring back a measure given up meanwhile.
func TestStaleResume(t *testing.T) {
	h := newHarness(t, 0)
	for _, in := range []string{"/check zo-kmu", "1", "3", "3", "3", "3", "3", "3", "1"} {
		h.Say(in)
	}
	h.Say("/timezone")
	h.Say("/plan")
	h.Say("/timezone")
	if out := h.Say("2"); strings.Contains(out, "schiefgegangen") || !strings.Contains(out, "Europe/Vienna") {
		t.Errorf("choosing a zone after the measure was given up: %q", out)
	}
}

func TestFarDatesRefused(t *testing.T) {
	h := newHarness(t, 0)
	for _, in := range []string{"/check zo-kmu", "1", "3", "3", "3", "3", "3", "3", "1", "Workshop", "1", "ich"} {
		h.Say(in)
	}
	if out := h.Say("01.06.2554"); !strings.Contains(out, "mehr als 10 Jahre") {
		t.Errorf("a start in 2554: %q", out)
	}
	if d := h.Conv().Dialog.Draft; d == nil || d.Start != "" {
		t.Errorf("draft after a far date: %+v", d)
	}
}

// TestRemindersMidCheckComesBack: /reminders typed while rating is a side
// trip: back returns to the checkpoint being rated, not to the menu.
func TestRemindersMidCheckComesBack(t *testing.T) {
	h := newHarness(t, 0)
	h.Say("/check zo-kmu")
	h.Say("1")
	if out := h.Say("/reminders"); !strings.Contains(out, "Ihre Erinnerungen") {
		t.Fatalf("/reminders: %q", out)
	}
	if out := h.Say("zurück"); !strings.Contains(out, "2/7 · Möglichkeiten der Zusammenarbeit") {
		t.Errorf("back from /reminders in the middle of the check: %q; want the checkpoint being rated", out)
	}
}
