package bottest

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot"
)

// Canaries are what a user writes and is called that no log line may
// carry: logs hold neither message contents nor personal data. Every
// platform's test walks a dialogue with them and then searches its logs.
// They are ASCII, so that no log encoding can hide them.
var Canaries = struct {
	Name    string // a person: the user's name on the platform, and the responsible typed
	Measure string // a measure's text
	Answer  string // a typed answer the bot does not understand
}{
	Name:    "Quirinus Zwetschgenkanari",
	Measure: "Kanarienmassnahme 7Q3X Stiftung",
	Answer:  "kanarienantwort 9X2K vielleicht",
}

// CanaryLog is the most talkative logger: JSON, debug level, into buf.
func CanaryLog(buf *Buffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// NoCanaries fails tb for each canary, or a word of one, found in logs.
func NoCanaries(tb testing.TB, logs string) {
	tb.Helper()
	for _, c := range []string{Canaries.Name, Canaries.Measure, Canaries.Answer} {
		for _, word := range strings.Fields(c) {
			if len(word) < 6 { // "9X2K" could be anything; the long words are not
				continue
			}
			if strings.Contains(strings.ToLower(logs), strings.ToLower(word)) {
				tb.Errorf("the logs carry %q (from %q):\n%s", word, c, logs)
			}
		}
	}
}

// Walker is how a platform's test acts for a user: typing, pressing the
// button whose label starts with a given text (or typing its number),
// using a command ("start", "plan"), making the next reply fail once, and
// retrying what failed.
type Walker struct {
	Say, Tap, Command func(string)
	FailNext, Retry   func()
}

// WalkCanaries goes through the whole check and a plan of one measure in
// sc's language with the Canaries: one typed answer the bot does not
// understand, the measure, and the responsible. The reply that quotes
// the measure fails once and is sent again, so that a failure is logged.
func WalkCanaries(sc Script, w Walker) {
	w.Command("start")
	w.Tap(sc.StartCheck)
	w.Tap(sc.Check)
	w.Say(Canaries.Answer) // not a rating: the hint, the same question
	w.Tap(sc.Red)
	w.Say("2")
	for range 2 {
		w.Tap(sc.Green)
		w.Say("3")
	}
	w.Tap(sc.Green)
	w.Tap(sc.BuildPlan)
	w.FailNext()
	w.Say(Canaries.Measure)
	w.Retry()
	w.Tap(sc.High)
	w.Say(Canaries.Name)
	w.Say(sc.InTwoWeeks)
	w.Tap(sc.FourWeeks)
	w.Tap(sc.Next) // no other measure for this checkpoint
	w.Tap(sc.NoMeasure)
	w.Command("plan")
}

// CheckCanaryLogs checks that the walk went through (conv holds the
// canary measure), that the failed send was logged (or the test would
// prove nothing), and that no canary is in logs.
func CheckCanaryLogs(tb testing.TB, conv *bot.Conversation, logs string) {
	tb.Helper()
	if m := conv.Plan.Measures; len(m) != 1 || m[0].Text != Canaries.Measure || m[0].Responsible != Canaries.Name {
		tb.Fatalf("plan %+v: the dialogue did not go through", m)
	}
	if !strings.Contains(logs, "send failed") {
		tb.Errorf("the failed send was not logged:\n%s", logs)
	}
	NoCanaries(tb, logs)
}
