// Package contentfiletest makes the hostile content files the tests of
// flows, locales and the ampel command refuse.
package contentfiletest

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Hostile puts into dir a named pipe, a link to /dev/zero and a file over
// the size limit, named pipe<ext>, zero<ext> and big<ext>, and returns what
// the refusal of each must say.
func Hostile(t testing.TB, dir, ext string) []string {
	t.Helper()
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"+ext), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero"+ext)); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("# a comment line, again and again\n", 8000)
	if err := os.WriteFile(filepath.Join(dir, "big"+ext), []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{
		"pipe" + ext + ": not a regular file but a named pipe",
		"zero" + ext + ": not a regular file but a device",
		"big" + ext + ": larger than 256 KiB",
	}
}

// Quick runs check, which reads hostile files, and returns its error. It
// fails the test if check takes more than 5 s (it should take a moment; the
// bound is generous for a busy machine), and gives up waiting after 30 s,
// as the code before the limits hung for good.
func Quick(t testing.TB, check func() error) error {
	t.Helper()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- check() }()
	select {
	case err := <-done:
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("checking hostile files took %s, want a moment", took)
		}
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("checking hostile files still running after 30 s")
		return nil
	}
}

// Refused fails the test unless err says every one of want.
func Refused(t testing.TB, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatal("got no error, want every hostile file refused")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q; got\n%.2000s", w, err)
		}
	}
}
