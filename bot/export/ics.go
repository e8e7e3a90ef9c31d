package export

import (
	"errors"
	"strconv"
	"strings"

	ics "github.com/arran4/golang-ical"
	"golang.org/x/text/unicode/norm"

	"github.com/ampel-bot/ampel/bot"
)

// Calendar writes the open measures' start and review dates as all-day
// events (iCalendar, METHOD:PUBLISH, CRLF line ends, lines folded at 75
// octets). Each event's UID names the conversation (Ref), the measure and
// the kind of date, so that importing a newer export again updates the
// events instead of doubling them. Events are marked free time: a reminder
// that a measure starts should not block a day.
func Calendar(in Input) (bot.File, error) {
	if in.Texts == nil {
		return bot.File{}, errors.New("export: a calendar needs texts")
	}
	ref := in.Ref
	if ref == "" {
		ref = "plan"
	}
	cal := ics.NewCalendarFor("Ampel")
	cal.SetProductId("-//Ampel//Ampel//" + strings.ToUpper(in.Lang))
	cal.SetMethod(ics.MethodPublish)
	cal.SetCalscale("GREGORIAN")
	cal.SetXWRCalName(norm.NFC.String(in.t("export.ics.name")))
	for _, r := range in.rows() {
		if r.m.Status != bot.StatusOpen {
			continue
		}
		details := in.t("export.ics.details", "Check", r.check, "Checkpoint", r.checkpoint, "Priority", r.priority, "Responsible", r.resp)
		for _, d := range []struct{ kind, day, summary string }{
			{bot.KindStart, r.m.Start, "export.ics.start"},
			{bot.KindReview, r.m.Review, "export.ics.review"},
		} {
			day, ok := civilDate(d.day)
			if !ok {
				continue
			}
			ev := cal.AddEvent("ampel-" + ref + "-m" + strconv.Itoa(r.m.ID) + "-" + d.kind)
			ev.SetDtStampTime(in.Now)
			ev.SetAllDayStartAt(day)
			ev.SetAllDayEndAt(day.AddDate(0, 0, 1))
			ev.SetSummary(norm.NFC.String(in.t(d.summary, "Text", r.text)))
			ev.SetDescription(norm.NFC.String(details))
			ev.SetTimeTransparency(ics.TransparencyTransparent)
		}
	}
	var b strings.Builder
	if err := cal.SerializeTo(&b, ics.WithNewLineWindows); err != nil {
		return bot.File{}, err
	}
	return bot.File{Name: in.fileName("export.file.plan", "ics"), MIME: "text/calendar; charset=utf-8", Data: []byte(b.String())}, nil
}
