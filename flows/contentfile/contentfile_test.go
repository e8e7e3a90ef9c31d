package contentfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/BurntSushi/toml"
)

// TestCheckDepth: every way TOML can nest counts, what only looks like
// nesting (in strings and comments) does not, and real content passes.
func TestCheckDepth(t *testing.T) {
	deep := func(open, close string, n int) string {
		return strings.Repeat(open, n) + "1" + strings.Repeat(close, n)
	}
	dotted := func(n int) string { return "a" + strings.Repeat(".a", n) }
	tests := []struct {
		name, src string
		line      int // 0: accepted
	}{
		{"flow", "id = \"x\"\nversion = 1\n\n[[checkpoints]]\nid = \"a\"\nsuggestions = [\"b\", \"c\"]\n", 0},
		{"locale", "\"hint.stale\" = \"Alt {{.X}}\"\n[items]\none = \"ein [Ding]\"\nother = \"{{.Count}} {Dinge}\"\nplural = { one = \"x\", other = \"y\" }\n", 0},
		{"deepest inline tables", "a = " + deep("{b=", "}", MaxDepth), 0},
		{"inline tables too deep", "a = " + deep("{b=", "}", MaxDepth+1), 1},
		{"arrays too deep", "\n\na = " + deep("[", "]", MaxDepth+1), 3},
		{"deepest dotted key", dotted(MaxDepth) + " = 1", 0},
		{"dotted key too deep", dotted(MaxDepth+1) + " = 1", 1},
		{"header too deep", "x = 1\n[" + dotted(MaxDepth) + "]\ny = 1\n", 2},
		{"header then dotted key", "[" + dotted(MaxDepth/2) + "]\n" + dotted(MaxDepth/2) + " = 1\n", 2},
		{"dotted keys inside inline tables", "a = " + strings.Repeat("{"+dotted(2)+"=", 3) + "1" + strings.Repeat("}", 3), 1},
		{"brackets in strings", "a = \"" + strings.Repeat("{[", 100) + "\"\nb = '" + strings.Repeat("[", 100) + "'\n", 0},
		{"brackets in multi-line strings", "a = \"\"\"\n" + strings.Repeat("{\n", 100) + "\"\"\"\nb = '''" + strings.Repeat("[", 100) + "'''\n", 0},
		{"escaped quote", "a = \"\\\"" + strings.Repeat("[", 100) + "\"\n", 0},
		{"brackets in comments", "# " + strings.Repeat("[", 100) + "\na = 1 # {{{{{{{{{{{{{{{{{{{{{{{\n", 0},
		{"dots in values", "a = 1.5\nb = [1.5, 2.5]\nc = { d = 3.25 }\n", 0},
		{"quoted dots", "\"" + dotted(100) + "\" = 1\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckDepth([]byte(tt.src))
			var de *DepthError
			switch {
			case tt.line == 0 && err != nil:
				t.Errorf("CheckDepth: got %v, want it accepted", err)
			case tt.line != 0 && !errors.As(err, &de):
				t.Errorf("CheckDepth: got %v, want a DepthError on line %d", err, tt.line)
			case tt.line != 0 && de.Line != tt.line:
				t.Errorf("CheckDepth: got line %d, want %d", de.Line, tt.line)
			}
		})
	}
}

// TestHostileNestingRefusedQuickly: 40 KB of nesting, which the TOML parser
// takes minutes over, is refused at once; the bound is generous, the depth
// limit is the guard.
func TestHostileNestingRefusedQuickly(t *testing.T) {
	for name, src := range map[string]string{
		"inline tables": "a = " + strings.Repeat("{b=", 13000) + "1" + strings.Repeat("}", 13000),
		"dotted key":    "a" + strings.Repeat(".a", 20000) + " = 1",
		"header":        "[a" + strings.Repeat(".a", 20000) + "]",
	} {
		start := time.Now()
		err := CheckDepth([]byte(src))
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%s: took %s", name, took)
		}
		if err == nil {
			t.Errorf("%s of %d KB: accepted, want refused", name, len(src)>>10)
		}
	}
	// And what passes the limit parses fast: the deepest allowed file.
	src := "a = " + strings.Repeat("{b=", MaxDepth) + "1" + strings.Repeat("}", MaxDepth)
	if err := CheckDepth([]byte(src)); err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if _, err := toml.Decode(src, &v); err != nil {
		t.Fatal(err)
	}
}

// TestRead: only regular files of at most MaxSize are read; a named pipe,
// a link to /dev/zero, a directory and an oversized file are refused at
// once with the reason, a link to a regular file is read.
func TestRead(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("ok.toml", []byte("id = \"ok\"\n"))
	write("big.toml", make([]byte, MaxSize+1))
	write("max.toml", make([]byte, MaxSize))
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.toml"), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"zero.toml": "/dev/zero", "link.toml": "ok.toml", "dir.toml": "."} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	fsys := os.DirFS(dir)
	tests := []struct{ name, want string }{
		{"ok.toml", ""},
		{"link.toml", ""},
		{"max.toml", ""},
		{"fifo.toml", "named pipe"},
		{"zero.toml", "device"},
		{"dir.toml", "directory"},
		{"big.toml", "larger than 256 KiB"},
	}
	for _, tt := range tests {
		done := make(chan error, 1)
		go func() {
			_, err := Read(fsys, tt.name)
			done <- err
		}()
		var err error
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Read(%s) hangs", tt.name)
		}
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("Read(%s): %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("Read(%s): got %v, want an error saying %q", tt.name, err, tt.want)
		}
	}
	if _, err := Read(fstest.MapFS{"a.toml": {Data: []byte("x")}}, "a.toml"); err != nil {
		t.Errorf("Read from an in-memory FS: %v", err)
	}
}
