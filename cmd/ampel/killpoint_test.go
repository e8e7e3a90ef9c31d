package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestConsoleKillPoints (issue 18, item 1, where it applies to the
// console): the real ampel command, on a bbolt file, is given
// AMPEL_KILLPOINT and kills itself with SIGKILL there while a user answers
// the first question of a check; started again on the same file, it shows
// what the dead process committed and had not shown (after the commit: the
// second question), or shows again what it had shown and not yet marked
// (after the terminal took it: the second question again, logged as a
// possible duplicate). A terminal line is never read twice, so the console
// has no acknowledgement to lose; the platforms' kill points are tested on
// their fakes (adapters/*/killpoint_test.go).
func TestConsoleKillPoints(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	for _, tc := range []struct {
		point     string
		shownOnce bool // the second question shows before the crash
		dup       bool // and again after it, counted
	}{
		{"after-commit:2", false, false}, // the answer committed, its reply not yet sent
		{"after-accept:2", true, true},   // the reply shown, not yet marked
	} {
		t.Run(tc.point, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "ampel.db")
			run := func(stdin string, extra ...string) (string, string, error) {
				cmd := exec.Command(os.Args[0], "-test.run=^$", "--db", db)
				cmd.Env = append(append(cleanEnv(), "AMPEL_TEST_MAIN=1"), extra...)
				cmd.Dir = dir
				cmd.Stdin = strings.NewReader(stdin)
				var out, errOut bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &errOut
				err := cmd.Run()
				return out.String(), errOut.String(), err
			}
			out, errOut, err := run("/check zo-kmu\n1\n", "AMPEL_KILLPOINT="+tc.point)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != -1 && exit.ExitCode() != 137 {
				t.Fatalf("ampel with AMPEL_KILLPOINT=%s ended with %v, want killed; stderr:\n%s", tc.point, err, errOut)
			}
			if got := strings.Contains(out, "2/7"); got != tc.shownOnce {
				t.Errorf("before the crash: second question shown %v, want %v; output:\n%s", got, tc.shownOnce, out)
			}
			out, errOut, err = run("")
			if err != nil {
				t.Fatalf("restart: %v; stderr:\n%s", err, errOut)
			}
			if !strings.Contains(out, "2/7") {
				t.Errorf("restart: the reply to the committed answer is not shown; output:\n%s", out)
			}
			if got := strings.Contains(errOut, "resending a message that may have arrived already"); tc.dup && !got {
				t.Errorf("restart: the second question shown again without a possible duplicate logged; stderr:\n%s", errOut)
			}
		})
	}
}
