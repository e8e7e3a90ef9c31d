package export

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot"
)

// icalendarPython is a Python that has Debian's python3-icalendar.
func icalendarPython(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if path, err := exec.LookPath(py); err == nil && exec.Command(path, "-c", "import icalendar").Run() == nil {
			return path
		}
	}
	t.Skip("no python3 with the icalendar module (Debian: apt-get install python3-icalendar); this test reads the calendar with it")
	return ""
}

// readICS is what python3-icalendar reads from a calendar: its method and
// each event's UID, dates, summary and description.
const readICS = `
import json, sys, icalendar
cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())
events = []
for ev in cal.walk('VEVENT'):
    events.append({'uid': str(ev['UID']), 'start': ev.decoded('DTSTART').isoformat(),
        'end': ev.decoded('DTEND').isoformat(), 'allday': ev['DTSTART'].params.get('VALUE') == 'DATE',
        'summary': str(ev['SUMMARY']), 'description': str(ev['DESCRIPTION']), 'transp': str(ev['TRANSP'])})
print(json.dumps({'method': str(cal['METHOD']), 'name': str(cal['X-WR-CALNAME']), 'events': events}))
`

type icsEvent struct {
	UID, Start, End, Summary, Description, Transp string
	AllDay                                        bool
}

func parseICS(t *testing.T, data []byte) (method, name string, events []icsEvent) {
	t.Helper()
	py := icalendarPython(t)
	file := filepath.Join(t.TempDir(), "plan.ics")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", readICS, file).Output()
	if err != nil {
		t.Fatalf("python3-icalendar: %v\n%s", err, out)
	}
	var got struct {
		Method, Name string
		Events       []icsEvent
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return got.Method, got.Name, got.Events
}

// TestCalendarParses: an independent parser reads every open measure's
// start and review day as an all-day event on the right date, with its
// text, and nothing of the done or dropped ones.
func TestCalendarParses(t *testing.T) {
	in := planInput(t)
	f, err := Calendar(in)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "ampel-massnahmenplan-2027-03-15.ics" || !strings.HasPrefix(f.MIME, "text/calendar") {
		t.Errorf("file: got %q (%s), want ampel-massnahmenplan-2027-03-15.ics as text/calendar", f.Name, f.MIME)
	}
	method, name, events := parseICS(t, f.Data)
	if method != "PUBLISH" || name != "Ampel – Maßnahmenplan" {
		t.Errorf("calendar: method %q, name %q; want PUBLISH, %q", method, name, "Ampel – Maßnahmenplan")
	}
	long := in.Plan.Measures[1].Text
	ev := func(id, kind, start, end, summary, details string) icsEvent {
		return icsEvent{UID: "ampel-3f9a1c0b2d4e-m" + id + "-" + kind, Start: start, End: end, AllDay: true,
			Summary: summary, Description: details, Transp: "TRANSPARENT"}
	}
	zo := "Zusammenarbeit mit KMU in der Region · "
	want := []icsEvent{
		ev("1", "start", "2027-03-22", "2027-03-23", "Start: Arbeitsgruppe „KMU-Kontakte“ gründen", zo+"Zusammenarbeit planen\nPriorität: hoch · Verantwortlich: Jana Müller"),
		ev("1", "review", "2027-05-03", "2027-05-04", "Überprüfen: Arbeitsgruppe „KMU-Kontakte“ gründen", zo+"Zusammenarbeit planen\nPriorität: hoch · Verantwortlich: Jana Müller"),
		ev("2", "start", "2027-04-01", "2027-04-02", "Start: "+long, zo+"Unterschiedliche Denk- und Sprachwelten\nPriorität: mittel · Verantwortlich: ich selbst"),
		ev("2", "review", "2027-06-30", "2027-07-01", "Überprüfen: "+long, zo+"Unterschiedliche Denk- und Sprachwelten\nPriorität: mittel · Verantwortlich: ich selbst"),
		ev("4", "start", "2027-04-12", "2027-04-13", "Start: Drei Betriebe zum Sommerfest einladen 🎉", zo+"Kontakte zu KMU entwickeln\nPriorität: mittel · Verantwortlich: Ömer Şahin"),
		ev("4", "review", "2027-07-01", "2027-07-02", "Überprüfen: Drei Betriebe zum Sommerfest einladen 🎉", zo+"Kontakte zu KMU entwickeln\nPriorität: mittel · Verantwortlich: Ömer Şahin"),
		ev("6", "start", "2027-05-02", "2027-05-03", "Start: Mitgliederbefragung vorbereiten", "Interessenvertretung für KMU · Auftrag und Mitgliederbefragung\nPriorität: hoch · Verantwortlich: Kim"),
		ev("6", "review", "2027-06-01", "2027-06-02", "Überprüfen: Mitgliederbefragung vorbereiten", "Interessenvertretung für KMU · Auftrag und Mitgliederbefragung\nPriorität: hoch · Verantwortlich: Kim"),
	}
	if !reflect.DeepEqual(events, want) {
		t.Errorf("events:\n%+v\nwant:\n%+v", events, want)
	}
}

// TestCalendarWire: the file is what RFC 5545 asks for, whatever a lenient
// parser accepts: CRLF line ends and lines of at most 75 octets, folded
// where a long UTF-8 text needs it.
func TestCalendarWire(t *testing.T) {
	in := planInput(t)
	in.Lang = "ru"
	in.Plan.Measures[0].Text = strings.Repeat("Провести опрос членов палаты о барьерах ", 5)
	f, err := Calendar(in)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(f.Data, []byte("\r\n"))
	if last := lines[len(lines)-1]; len(last) != 0 {
		t.Errorf("the file ends in %q, want CRLF", last)
	}
	folded := 0
	for i, l := range lines[:len(lines)-1] {
		if bytes.ContainsAny(l, "\r\n") {
			t.Errorf("line %d holds a bare CR or LF: %q", i+1, l)
		}
		if len(l) > 75 {
			t.Errorf("line %d has %d octets, want at most 75: %q", i+1, len(l), l)
		}
		if bytes.HasPrefix(l, []byte(" ")) {
			folded++
		}
	}
	if folded == 0 {
		t.Error("no folded line, want the long summary folded")
	}
	if !bytes.Contains(f.Data, []byte("\r\nMETHOD:PUBLISH\r\n")) {
		t.Error("no METHOD:PUBLISH line")
	}
	_, _, events := parseICS(t, f.Data)
	if len(events) == 0 || events[0].Summary != "Начало: "+in.Plan.Measures[0].Text {
		t.Errorf("first event read back as %+v, want the long Russian summary whole", events[:min(1, len(events))])
	}
}

// TestCalendarUIDsStable: an export after the plan changed keeps the UIDs
// of the measures that stayed, so a calendar updates them in place; another
// conversation's plan has other UIDs.
func TestCalendarUIDsStable(t *testing.T) {
	uids := func(in Input) map[string]bool {
		f, err := Calendar(in)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, l := range strings.Split(string(f.Data), "\r\n") {
			if u, ok := strings.CutPrefix(l, "UID:"); ok {
				if m[u] {
					t.Errorf("UID %s twice", u)
				}
				m[u] = true
			}
		}
		return m
	}
	in := planInput(t)
	before := uids(in)
	in.Now = in.Now.AddDate(0, 1, 0)
	in.Plan.Measures = append([]bot.Measure{measure(9, in.Flow, 0, "Neue Maßnahme", "high", "", "2027-05-01", "2027-06-01")}, in.Plan.Measures...)
	after := uids(in)
	for u := range before {
		if !after[u] {
			t.Errorf("UID %s is gone after a measure was added, want it kept", u)
		}
	}
	if len(after) != len(before)+2 {
		t.Errorf("%d UIDs after adding a measure, want %d", len(after), len(before)+2)
	}
	in.Ref = "0123456789ab"
	for u := range uids(in) {
		if before[u] {
			t.Errorf("UID %s is shared by two conversations' plans", u)
		}
	}
}
