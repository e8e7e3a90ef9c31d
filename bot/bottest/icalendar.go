package bottest

import (
	"os/exec"
	"testing"
)

// ICalendarPython is a Python that has Debian's python3-icalendar, the
// independent reader the calendar files are checked with; without one the
// test skips and says so (.ci/run installs it).
func ICalendarPython(t testing.TB) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if path, err := exec.LookPath(py); err == nil && exec.Command(path, "-c", "import icalendar").Run() == nil {
			return path
		}
	}
	t.Skip("no python3 with the icalendar module (Debian: apt-get install python3-icalendar); this test reads the calendar with it")
	return ""
}
