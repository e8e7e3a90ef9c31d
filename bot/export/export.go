// Package export turns a check's result and an action plan into files a
// person can look at and take away: the result picture (PNG: one traffic
// light per checkpoint, with the team's spread and the change since the
// last run where there is one), the plan as a printable A4 PDF, as CSV for
// spreadsheets and as an iCalendar file of its start and review dates.
//
// It takes domain values (a flow, runs, a plan, the texts) and returns
// bot.Files; it sends nothing and stores nothing, so that every platform
// delivers what it makes as it delivers any message. Every label comes from
// the locales, dates are written the user's way (bot.Texts.FormatDate), and
// text is normalised to NFC and drawn with the embedded DejaVu Sans subset
// (fonts/), which covers Latin, Cyrillic and Vietnamese.
package export

import (
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/flows"
)

// Input is what the exports are made from. Texts, Lang and Flow are
// needed by all of them; Run by the picture, Plan by the plan's files.
type Input struct {
	Texts *bot.Texts
	Lang  string
	// Zone is the user's time zone: it decides the day of a run and of
	// Now. Nil means UTC.
	Zone *time.Location
	// Now is the moment of the export: its day in Zone is the date of a
	// plan's files, and the calendar's time stamp.
	Now time.Time

	// Flow is the check; Catalog, if set, names the checkpoints of a plan's
	// measures that belong to other checks.
	Flow    *flows.Flow
	Catalog *flows.Catalog
	// Run is the result to show; Prev, if set, the previous finished run
	// of the same check, to show the change per checkpoint.
	Run  *bot.Run
	Prev *bot.Run
	// Spread, for a team run, holds per checkpoint ID how many members gave
	// each level, in the order of Flow.Levels(); the light shows the
	// team's settled rating from Run.
	Spread map[string][]int

	Plan *bot.Plan
	// Owner is a team's or network's name, shown under the title; empty
	// for a person's own plan.
	Owner string
	// Ref is a stable reference to the conversation that owns the plan that
	// reveals nothing about it (bot.KeyHash of its key): it keeps calendar
	// UIDs unique across conversations and the same across exports.
	Ref string
}

func (in *Input) t(id string, kv ...any) string { return in.Texts.T(in.Lang, id, kv...) }

func (in *Input) zone() *time.Location {
	if in.Zone == nil {
		return time.UTC
	}
	return in.Zone
}

// dayOf is the calendar day of an instant in the user's zone, as the plan
// keeps days: midnight UTC.
func (in *Input) dayOf(t time.Time) time.Time {
	y, m, d := t.In(in.zone()).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (in *Input) today() time.Time { return in.dayOf(in.Now) }

func (in *Input) date(d time.Time) string { return in.Texts.FormatDate(in.Lang, d) }

// civilDate reads a plan's day ("2027-03-15").
func civilDate(s string) (time.Time, bool) {
	d, err := time.Parse(time.DateOnly, s)
	return d, err == nil
}

// shownDate is a plan's day the user's way, or empty when there is none.
func (in *Input) shownDate(s string) string {
	if d, ok := civilDate(s); ok {
		return in.date(d)
	}
	return ""
}

// flowOf returns the check a measure belongs to.
func (in *Input) flowOf(id string) (*flows.Flow, bool) {
	if in.Flow != nil && in.Flow.ID == id {
		return in.Flow, true
	}
	if in.Catalog != nil {
		return in.Catalog.Get(id)
	}
	return nil, false
}

// row is one measure as every plan export shows it.
type row struct {
	m                                       *bot.Measure
	check, checkpoint, text, priority, resp string
	start, review, status                   string
}

// rows returns the measures a plan view shows (open and done ones, in the
// plan's order), labelled in the user's language.
func (in *Input) rows() []row {
	if in.Plan == nil {
		return nil
	}
	var rows []row
	for _, m := range in.Plan.Visible() {
		r := row{m: m, checkpoint: m.Checkpoint, text: m.Text, resp: m.Responsible}
		if f, ok := in.flowOf(m.Flow); ok {
			r.check = in.t(f.TitleID())
			if i := f.Index(m.Checkpoint); i >= 0 {
				r.checkpoint = in.t(f.CheckpointTitleID(f.Checkpoints[i]))
			}
		}
		for _, p := range bot.Priorities {
			if m.Priority == p {
				r.priority = in.t("priority." + p)
			}
		}
		if m.Me && m.Responsible == "" {
			r.resp = in.t("export.me")
		}
		r.start, r.review = in.shownDate(m.Start), in.shownDate(m.Review)
		switch m.Status {
		case bot.StatusDone, bot.StatusDropped:
			r.status = in.t("export.status." + m.Status)
		default:
			r.status = in.t("export.status.open")
		}
		rows = append(rows, r)
	}
	return rows
}

// fileName is a localized base name ("ampel-massnahmenplan") with the day
// and extension; anything but letters, digits, '-' and '_' becomes '-', so
// that no platform and no file system stumbles over it.
func (in *Input) fileName(id, ext string) string {
	base := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, norm.NFC.String(in.t(id)))
	return base + "-" + in.today().Format(time.DateOnly) + "." + ext
}
