package console

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot"
)

// TestSendWritesFiles: a message's files are written into the directory
// beside the database, and the console prints their absolute paths under
// the text, unwrapped; a file of the same name already there (an earlier
// export, maybe edited) is kept and the new one numbered; a name cannot
// reach outside the directory.
func TestSendWritesFiles(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "ampel-massnahmenplan-2027-03-10.csv")
	if err := os.WriteFile(old, []byte("meine Notizen"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	a := New(Config{Out: &out, Dir: dir, Width: func() int { return 20 }})
	files := []bot.File{
		{Name: "ampel-ergebnis-2027-03-10.png", MIME: "image/png", Data: []byte("\x89PNG picture")},
		{Name: "ampel-massnahmenplan-2027-03-10.csv", MIME: "text/csv", Data: []byte("Check;Maßnahme\r\n")},
		{Name: "../../escape.ics", MIME: "text/calendar", Data: []byte("BEGIN:VCALENDAR")},
	}
	if err := a.Send(context.Background(), Address(), bot.Message{Text: "Hier ist Ihr Maßnahmenplan.", Files: files}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		filepath.Join(dir, "ampel-ergebnis-2027-03-10.png"),
		filepath.Join(dir, "ampel-massnahmenplan-2027-03-10-2.csv"),
		filepath.Join(dir, "escape.ics"),
	}
	for i, path := range want {
		data, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(data, files[i].Data) {
			t.Errorf("%s: %q, %v; want the bytes of %s", path, data, err, files[i].Name)
		}
		if !strings.Contains(out.String(), "\n  ["+path+"]\n") {
			t.Errorf("output lacks the path %s on a line of its own:\n%s", path, out.String())
		}
	}
	if data, _ := os.ReadFile(old); string(data) != "meine Notizen" {
		t.Errorf("the earlier file now holds %q, want it kept", data)
	}
	if !strings.HasPrefix(out.String(), "Hier ist Ihr\nMaßnahmenplan.\n") {
		t.Errorf("the text is not wrapped at 20 columns as before:\n%s", out.String())
	}
}

// TestSendWritesFilesIntoWorkingDirectory: without a directory (no
// database), the files go into the working directory.
func TestSendWritesFilesIntoWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var out bytes.Buffer
	a := New(Config{Out: &out})
	f := bot.File{Name: "ampel-ergebnis-2027-03-10.png", MIME: "image/png", Data: []byte("\x89PNG")}
	if err := a.Send(context.Background(), Address(), bot.Message{Text: "Ergebnis", Files: []bot.File{f}}); err != nil {
		t.Fatal(err)
	}
	real, _ := filepath.EvalSymlinks(dir)
	got := strings.TrimSpace(strings.TrimPrefix(out.String(), "Ergebnis\n"))
	path := strings.Trim(got, "[]")
	if resolved, _ := filepath.EvalSymlinks(filepath.Dir(path)); resolved != real || filepath.Base(path) != f.Name {
		t.Errorf("printed %q, want the file's path in the working directory %s", got, dir)
	}
	if data, err := os.ReadFile(filepath.Join(dir, f.Name)); err != nil || string(data) != "\x89PNG" {
		t.Errorf("working directory: %q, %v; want the file", data, err)
	}
}

// TestSendFileNotWritten: a file that cannot be written fails the send
// (the message stays in the outbox) and prints nothing, leaving no part of
// the message behind.
func TestSendFileNotWritten(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	a := New(Config{Out: &out, Dir: filepath.Join(dir, "missing")})
	m := bot.Message{Text: "Ergebnis", Files: []bot.File{{Name: "a.png", Data: []byte("x")}}}
	if err := a.Send(context.Background(), Address(), m); err == nil {
		t.Fatal("Send into a missing directory: got no error")
	}
	if out.Len() != 0 {
		t.Errorf("printed %q, want nothing until the files are written", out.String())
	}
}
