package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot/bottest"
)

// syncBuffer collects output from several goroutines.
type syncBuffer = bottest.Buffer

// waitFor waits until the output contains want, up to a real-time limit.
func waitFor(t *testing.T, out *syncBuffer, want string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %q; output so far:\n%s", limit, want, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestConsoleReminderDemo is the README's demonstration: in simulated time
// starting two minutes before nine, make a plan whose review is today, watch
// the reminder arrive at nine, answer it, and see the plan change. The run
// is the real one, with --clock-start and --clock-speed 600, but the real
// time its clock follows moves only when the test steps it: however slow
// the machine, the dialogue takes no simulated time, and nine o'clock comes
// when the test says so. (At real speed, a busy machine took longer than
// the 0.2 s to nine for the dialogue, and that day's reminders were
// skipped.) The pause in the middle stands for such a machine.
func TestConsoleReminderDemo(t *testing.T) {
	d := startDemo(t, "600")
	out, real, say, feed, done := d.out, d.real, d.say, d.feed, d.done
	say("/check zo-kmu", "1", "3", "3", "3", "3", "3", "3")
	waitFor(t, out, "Ergebnis · ", 30*time.Second)
	time.Sleep(300 * time.Millisecond) // three simulated minutes at real speed: past nine
	say("1", "Workshop mit zwei Betrieben", "1", "ich", "heute", "heute")
	waitFor(t, out, "Kontrolle: Mo, 15.03.2027", 30*time.Second)
	if strings.Contains(out.String(), "Es geht los") {
		t.Fatalf("a reminder arrived before nine:\n%s", out.String())
	}
	real.Add(300 * time.Millisecond) // three simulated minutes: 09:01
	waitFor(t, out, "Zeit für die Kontrolle: Workshop mit zwei Betrieben", 30*time.Second)
	if !strings.Contains(out.String(), "Es geht los: Workshop mit zwei Betrieben") {
		t.Errorf("the start reminder did not arrive:\n%s", out.String())
	}
	say("1") // ✅ Done
	waitFor(t, out, "Erledigt: Workshop mit zwei Betrieben", 30*time.Second)
	say("/plan")
	waitFor(t, out, "0 offene Maßnahmen", 30*time.Second)
	feed.Close()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if n := strings.Count(out.String(), "Zeit für die Kontrolle"); n != 1 {
		t.Errorf("review reminder arrived %d times, want once", n)
	}
}

// demo is the console bot of the README's demonstration, run in simulated
// time from 08:58 at the given speed.
type demo struct {
	out  *syncBuffer
	real *bottest.Clock // the real time as the simulated clock sees it
	say  func(lines ...string)
	feed *io.PipeWriter
	done chan error
}

func startDemo(t *testing.T, speed string) demo {
	in, feed := io.Pipe()
	d := demo{out: &syncBuffer{}, feed: feed, done: make(chan error, 1)}
	// The real time stands still until the test steps it.
	d.real = bottest.NewClock(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
	ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), realTimeKey{}, d.real.Now), 60*time.Second)
	t.Cleanup(cancel)
	db := filepath.Join(t.TempDir(), "demo.db")
	go func() {
		d.done <- run(ctx, []string{"--db", db, "--clock-start", "2027-03-15T08:58:00+01:00", "--clock-speed", speed},
			german, in, d.out, io.Discard)
	}()
	d.say = func(lines ...string) {
		for _, l := range lines {
			if _, err := io.WriteString(feed, l+"\n"); err != nil {
				t.Fatal(err)
			}
		}
	}
	return d
}

// TestConsoleReminderDemoByHand is the README's demonstration typed by
// hand at --clock-speed 60: the two real seconds to nine are gone before
// the measure is saved. Its reminders, for today, come at once, and the
// saved measure says so.
func TestConsoleReminderDemoByHand(t *testing.T) {
	d := startDemo(t, "60")
	d.say("/check zo-kmu", "1", "3", "3", "3", "3", "3", "3")
	waitFor(t, d.out, "Ergebnis · ", 30*time.Second)
	d.real.Add(20 * time.Second) // a person reads and types: 09:18
	d.say("1", "Workshop mit zwei Betrieben", "1", "ich", "heute", "heute")
	waitFor(t, d.out, "Die Erinnerung „Kontrolle“ kommt gleich", 30*time.Second)
	waitFor(t, d.out, "Zeit für die Kontrolle: Workshop mit zwei Betrieben", 30*time.Second)
	if !strings.Contains(d.out.String(), "Es geht los: Workshop mit zwei Betrieben") {
		t.Errorf("the start reminder did not arrive:\n%s", d.out.String())
	}
	d.say("1") // ✅ Done
	waitFor(t, d.out, "Erledigt: Workshop mit zwei Betrieben", 30*time.Second)
	d.feed.Close()
	if err := <-d.done; err != nil {
		t.Fatalf("run: %v", err)
	}
}
