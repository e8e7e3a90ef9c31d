package bot_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/adapters/console"
	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/dialogtest"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata/")

// start is a Wednesday morning in Berlin; every transcript begins there.
var start = dialogtest.Start

var mustZone = bottest.Zone

// harness is a chat with an engine, as a test needs it.
type harness = dialogtest.Chat

func newHarness(t testing.TB, cacheSize int, opts ...func(*bot.Config)) *harness {
	t.Helper()
	return dialogtest.New(t, cacheSize, opts...)
}

// runTranscript plays a transcript: "> text" lines are typed, "~ press A"
// presses a button with action A, "~ lang L" sets the platform's language,
// "~ +DUR" advances the clock, "# …" are comments. Everything else is the
// bot's output and is regenerated.
func runTranscript(t *testing.T, h *harness, script string) string {
	var out strings.Builder
	for _, line := range strings.Split(script, "\n") {
		switch {
		case strings.HasPrefix(line, "> "):
			out.WriteString(line + "\n")
			out.WriteString(h.Say(strings.TrimPrefix(line, "> ")))
		case strings.HasPrefix(line, "~ press "):
			out.WriteString(line + "\n")
			for _, s := range h.Send(bot.Event{Action: strings.TrimPrefix(line, "~ press ")}) {
				out.WriteString(console.Render(s.Msg))
			}
		case strings.HasPrefix(line, "~ lang "):
			out.WriteString(line + "\n")
			h.Lang = strings.TrimPrefix(line, "~ lang ")
		case strings.HasPrefix(line, "~ +"):
			out.WriteString(line + "\n")
			d, err := time.ParseDuration(strings.TrimPrefix(line, "~ +"))
			if err != nil {
				t.Fatalf("bad clock step %q: %v", line, err)
			}
			h.Clock.Add(d)
		case strings.HasPrefix(line, "#"):
			out.WriteString(line + "\n")
		}
	}
	return out.String()
}

// TestTranscripts replays every dialogue in testdata/ and compares what the
// user would see with the golden file; -update rewrites them. Each runs with
// the engine's conversation cache on and off, which must not differ.
func TestTranscripts(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	if len(files) == 0 {
		t.Fatal("no transcripts in testdata/")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got := runTranscript(t, newHarness(t, 0), string(want))
			if uncached := runTranscript(t, newHarness(t, -1), string(want)); uncached != got {
				t.Errorf("output differs with the conversation cache off:\n%s", firstDiff(uncached, got))
			}
			if *update {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != string(want) {
				t.Errorf("transcript differs from %s (go test ./bot -update rewrites it):\n%s", file, firstDiff(got, string(want)))
			}
		})
	}
}

// firstDiff shows the first differing line with some context.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			from := max(0, i-3)
			return fmt.Sprintf("line %d:\ncontext: %s\ngot:  %q\nwant: %q", i+1, strings.Join(w[from:i], "\n         "), gl, wl)
		}
	}
	return "(no difference)"
}
