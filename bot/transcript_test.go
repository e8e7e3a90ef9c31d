package bot_test

import (
	"flag"
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
// "~ +DUR" advances the clock, "~ due" sends the reminders due then,
// "# …" are comments. Everything else is the
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
		case line == "~ due":
			out.WriteString(line + "\n")
			for _, s := range h.RunDue() {
				out.WriteString(console.Render(s.Msg))
			}
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
	dialogtest.Goldens(t, *update, "go test ./bot -update", func(t *testing.T, _, script string) string {
		got := runTranscript(t, newHarness(t, 0), script)
		if uncached := runTranscript(t, newHarness(t, -1), script); uncached != got {
			t.Errorf("output differs with the conversation cache off:\n%s", firstDiff(uncached, got))
		}
		return got
	})
}

// firstDiff shows the first differing line with some context.
var firstDiff = dialogtest.FirstDiff
