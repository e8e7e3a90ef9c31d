package main

import (
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// dockerBuild reads the build command of the Dockerfile's build stage:
// its environment assignments and the go build arguments up to -o.
var dockerBuild = regexp.MustCompile(`(?m)^RUN ((?:[A-Z_]+=\S+ )*)go build (.*?) -o (\S+) (\./\S+)`)

// TestContainerBinary builds ampel exactly as the Dockerfile's build stage
// does (same environment, same flags), and checks what the image relies
// on: the binary is static (no interpreter, no shared libraries: the
// distroless image has no libc), it answers --help, runs a check piped
// through the console, and `ampel health` — the image's HEALTHCHECK —
// passes while it serves and fails once it stopped. The Dockerfile keeps
// its promises: two stages, a non-root user, data on a volume, the
// health check.
func TestContainerBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go build is not available here: the container's build is not checked")
	}
	dockerfile, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(dockerfile)
	for _, want := range []string{"FROM golang:", " AS build", "FROM gcr.io/distroless/static", "USER 65532:65532",
		`VOLUME ["/data"]`, `HEALTHCHECK`, `CMD ["/ampel", "health"]`, "ENV AMPEL_HTTP_ADDR="} {
		if !strings.Contains(df, want) {
			t.Errorf("the Dockerfile lacks %q", want)
		}
	}
	m := dockerBuild.FindStringSubmatch(df)
	if m == nil {
		t.Fatal("no go build line in the Dockerfile")
	}
	bin := filepath.Join(t.TempDir(), "ampel")
	args := append([]string{"build"}, splitArgs(m[2])...)
	args = append(args, "-o", bin, m[4])
	build := exec.Command(goTool, args...)
	build.Dir = "../.."
	build.Env = append(os.Environ(), strings.Fields(m[1])...)
	if !strings.Contains(m[1], "CGO_ENABLED=0") {
		t.Errorf("the Dockerfile builds with %q, want CGO_ENABLED=0", m[1])
	}
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has an interpreter (PT_INTERP): it is dynamically linked")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary needs shared libraries (DT_NEEDED): %v", libs)
	}
	if f.Section(".symtab") != nil {
		t.Error("the binary has a symbol table: -ldflags -s was not applied")
	}
	f.Close()

	dir := t.TempDir()
	run := func(stdin io.Reader, args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(cleanEnv(), "AMPEL_DB="+filepath.Join(dir, "ampel.db"))
		cmd.Dir = dir
		cmd.Stdin = stdin
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(nil, "--help"); err != nil || !strings.Contains(out, "--http-addr") || !strings.Contains(out, "ampel backup") {
		t.Errorf("ampel --help: %v\n%s", err, out)
	}
	if out, err := run(lines("/check zo-kmu", "1", "2")); err != nil || !strings.Contains(out, "3/7 · ") {
		t.Errorf("a piped console check: %v\n%s", err, out)
	}

	addr := freeAddr(t)
	server := exec.Command(bin, "--db", filepath.Join(dir, "served.db"), "--http-addr", addr)
	server.Env = cleanEnv()
	in, err := server.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	defer server.Process.Kill()
	for deadline := time.Now().Add(hangGuard); ; time.Sleep(20 * time.Millisecond) {
		out, err := run(nil, "health", "--http-addr", addr)
		if err == nil {
			if strings.TrimSpace(out) != "ok" {
				t.Errorf("ampel health printed %q", out)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ampel health never passed: %v\n%s", err, out)
		}
	}
	in.Close() // the console's input ends: the bot stops
	if err := server.Wait(); err != nil {
		t.Fatalf("the served bot: %v", err)
	}
	out, err := run(nil, "health", "--http-addr", addr)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(out, "unhealthy") {
		t.Errorf("ampel health with nothing listening: %v, %q; want exit code 1 saying unhealthy", err, out)
	}
}

// splitArgs splits the Dockerfile's go build flags as the shell does,
// for the quoting they use (-ldflags="-s -w").
func splitArgs(s string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`(\S+?)="([^"]*)"|\S+`).FindAllStringSubmatch(s, -1) {
		if m[1] != "" {
			out = append(out, m[1]+"="+m[2])
		} else {
			out = append(out, m[0])
		}
	}
	return out
}
