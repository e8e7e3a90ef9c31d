package meeting

import (
	"strings"

	ics "github.com/arran4/golang-ical"
	"golang.org/x/text/unicode/norm"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/network"
)

// Calendar is the meeting as an iCalendar file (RFC 5545, CRLF line ends,
// lines folded at 75 octets, as bot/export writes the plan's): one event
// whose UID stays the meeting's through every change, its SEQUENCE the
// meeting's Seq, METHOD:REQUEST, or METHOD:CANCEL once it is cancelled.
// Times are in UTC, so that every calendar shows them in its owner's own
// zone; the texts are in the turn's language.
func Calendar(t *bot.Turn, n *network.Network, m *Meeting) (bot.File, error) {
	cal := ics.NewCalendarFor("Ampel")
	cal.SetProductId("-//Ampel//Ampel//" + strings.ToUpper(t.Lang()))
	cal.SetCalscale("GREGORIAN")
	method := ics.MethodRequest
	if m.Cancelled {
		method = ics.MethodCancel
	}
	cal.SetMethod(method)
	ev := cal.AddEvent(UID(m))
	ev.SetSequence(m.Seq)
	ev.SetDtStampTime(t.Now())
	ev.SetStartAt(m.Start)
	ev.SetEndAt(m.End)
	ev.SetSummary(norm.NFC.String(m.Title))
	if m.Place != "" {
		ev.SetLocation(norm.NFC.String(m.Place))
	}
	desc := t.T("meeting.head", "Network", n.Name)
	if m.Agenda != "" {
		desc += "\n" + t.T("meeting.agenda") + "\n" + m.Agenda
	}
	ev.SetDescription(norm.NFC.String(desc))
	ev.SetOrganizer("mailto:network-"+n.ID+"@ampel.invalid", ics.WithCN(norm.NFC.String(n.Name)))
	if m.Cancelled {
		ev.SetStatus(ics.ObjectStatusCancelled)
	} else {
		ev.SetStatus(ics.ObjectStatusConfirmed)
	}
	var b strings.Builder
	if err := cal.SerializeTo(&b, ics.WithNewLineWindows); err != nil {
		return bot.File{}, err
	}
	return bot.File{Name: "meeting-" + m.ID + ".ics", MIME: "text/calendar; charset=utf-8; method=" + string(method), Data: []byte(b.String())}, nil
}

// UID is the meeting's calendar UID, the same through every change.
func UID(m *Meeting) string { return "ampel-meeting-" + m.ID + "@ampel" }
