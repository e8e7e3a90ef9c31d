package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

func TestRender(t *testing.T) {
	tests := []struct {
		name string
		msg  bot.Message
		want string
	}{
		{
			name: "text only",
			msg:  bot.Message{Text: "Hallo"},
			want: "Hallo\n",
		},
		{
			name: "multi-line text is kept",
			msg:  bot.Message{Text: "1/7 · Nutzen\n\nWie sieht es aus?"},
			want: "1/7 · Nutzen\n\nWie sieht es aus?\n",
		},
		{
			name: "one button",
			msg:  bot.Message{Text: "Los?", Buttons: [][]bot.Button{{{Label: "a", Action: "x"}}}},
			want: "Los?\n  1) a\n",
		},
		{
			name: "buttons are numbered across rows",
			msg: bot.Message{Text: "Was nun?", Buttons: [][]bot.Button{
				{{Label: "a", Action: "1"}},
				{{Label: "b", Action: "2"}, {Label: "c", Action: "3"}},
			}},
			want: "Was nun?\n  1) a\n  2) b   3) c\n",
		},
		{
			name: "three rows with three in the last",
			msg: bot.Message{Text: "Wie?", Buttons: [][]bot.Button{
				{{Label: "rot", Action: "r"}},
				{{Label: "gelb", Action: "y"}},
				{{Label: "Beispiele", Action: "e"}, {Label: "Später", Action: "l"}, {Label: "Zurück", Action: "b"}},
			}},
			want: "Wie?\n  1) rot\n  2) gelb\n  3) Beispiele   4) Später   5) Zurück\n",
		},
		{
			name: "files by name",
			msg: bot.Message{Text: "Ihr Plan", Files: []bot.File{
				{Name: "plan.csv", MIME: "text/csv", Data: []byte("a,b\n1,2\n")},
				{Name: "plan.ics", MIME: "text/calendar", Data: nil},
			}},
			want: "Ihr Plan\n  [plan.csv]\n  [plan.ics]\n",
		},
		{
			name: "buttons then files",
			msg: bot.Message{Text: "T", Buttons: [][]bot.Button{{{Label: "ok", Action: "o"}}},
				Files: []bot.File{{Name: "x.png", Data: make([]byte, 1234)}}},
			want: "T\n  1) ok\n  [x.png]\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Render(tt.msg); got != tt.want {
				t.Errorf("Render() =\n%q\ngot that, want\n%q", got, tt.want)
			}
		})
	}
}

// recorder is a bot.Handler that records every event and may fail.
type recorder struct {
	mu     sync.Mutex
	events []bot.Event
	err    error
	onCall func(bot.Event)
}

func (r *recorder) Handle(ctx context.Context, ev bot.Event) error {
	r.mu.Lock()
	r.events = append(r.events, ev)
	on := r.onCall
	r.mu.Unlock()
	if on != nil {
		on(ev)
	}
	return r.err
}

func (r *recorder) got() []bot.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bot.Event(nil), r.events...)
}

// syncBuffer collects output from several goroutines.
type syncBuffer = bottest.Buffer

func runWithTimeout(t *testing.T, a *Adapter, ctx context.Context, h bot.Handler) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, h) }()
	select {
	case err := <-done:
		return err
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not return within 5s")
		return nil
	}
}

func TestRunPipedInput(t *testing.T) {
	in := "/check\n1\n\nmein eigener Text\n"
	var out syncBuffer
	a := New(Config{In: strings.NewReader(in), Out: &out, Lang: "en-GB", RunID: "r42"})
	h := &recorder{}
	if err := runWithTimeout(t, a, context.Background(), h); err != nil {
		t.Fatalf("Run() = %v, want nil at the end of input", err)
	}
	evs := h.got()
	wantTexts := []string{"/check", "1", "", "mein eigener Text"}
	if len(evs) != len(wantTexts) {
		t.Fatalf("got %d events, want %d (one per line)", len(evs), len(wantTexts))
	}
	seen := map[string]bool{}
	for i, ev := range evs {
		if ev.Text != wantTexts[i] {
			t.Errorf("event %d: got text %q, want %q", i, ev.Text, wantTexts[i])
		}
		if !strings.HasPrefix(ev.ID, "r42") {
			t.Errorf("event %d: got ID %q, want it prefixed with the run ID %q", i, ev.ID, "r42")
		}
		if seen[ev.ID] {
			t.Errorf("event %d: got ID %q a second time, want unique IDs", i, ev.ID)
		}
		seen[ev.ID] = true
		if ev.Addr != Address() {
			t.Errorf("event %d: got address %+v, want %+v", i, ev.Addr, Address())
		}
		if ev.LangHint != "en-GB" {
			t.Errorf("event %d: got LangHint %q, want %q", i, ev.LangHint, "en-GB")
		}
		if ev.Action != "" {
			t.Errorf("event %d: got Action %q, want none for typed text", i, ev.Action)
		}
	}
	if got, want := out.String(), "> /check\n> 1\n> \n> mein eigener Text\n"; got != want {
		t.Errorf("output = %q, want %q (each line echoed as a transcript)", got, want)
	}
}

func TestRunInteractivePromptsWithoutEcho(t *testing.T) {
	var out syncBuffer
	a := New(Config{In: strings.NewReader("hallo\n"), Out: &out, RunID: "r", Interactive: true})
	if err := runWithTimeout(t, a, context.Background(), &recorder{}); err != nil {
		t.Fatalf("Run() = %v, want nil", err)
	}
	if got := out.String(); strings.Contains(got, "hallo") || !strings.HasPrefix(got, "> ") {
		t.Errorf("output = %q, want prompts \"> \" and no echo of the typed line", got)
	}
}

func TestRunLastLineWithoutNewline(t *testing.T) {
	a := New(Config{In: strings.NewReader("a\nb"), Out: io.Discard, RunID: "r"})
	h := &recorder{}
	if err := runWithTimeout(t, a, context.Background(), h); err != nil {
		t.Fatalf("Run() = %v, want nil", err)
	}
	if evs := h.got(); len(evs) != 2 || evs[1].Text != "b" {
		t.Errorf("got events %+v, want 2 with the last one %q", evs, "b")
	}
}

func TestRunEmptyInput(t *testing.T) {
	a := New(Config{In: strings.NewReader(""), Out: io.Discard, RunID: "r"})
	h := &recorder{}
	if err := runWithTimeout(t, a, context.Background(), h); err != nil {
		t.Fatalf("Run() = %v, want nil", err)
	}
	if n := len(h.got()); n != 0 {
		t.Errorf("got %d events, want 0", n)
	}
}

// TestRunLongLineThenMore: a line of 2 MB (a pasted file) neither stops
// the console nor swallows what comes after it. What is kept of it is more
// than the engine reads, so the engine can tell the user it was too long;
// the transcript echoes it cut, with its size.
func TestRunLongLineThenMore(t *testing.T) {
	long := strings.Repeat("x", 2<<20)
	var out syncBuffer
	a := New(Config{In: strings.NewReader(long + "\n/check\r\nnext"), Out: &out, RunID: "r"})
	h := &recorder{}
	if err := runWithTimeout(t, a, context.Background(), h); err != nil {
		t.Fatalf("Run() = %v, want nil", err)
	}
	evs := h.got()
	if len(evs) != 3 {
		t.Fatalf("got %d events, want 3", len(evs))
	}
	if n := len(evs[0].Text); n <= 16<<10 || n > 1<<20 {
		t.Errorf("got a long line of %d bytes, want it cut to more than the engine reads (16 KiB) and at most 1 MiB", n)
	}
	if evs[1].Text != "/check" || evs[2].Text != "next" {
		t.Errorf("got lines %q, %q after the long one, want %q, %q", evs[1].Text, evs[2].Text, "/check", "next")
	}
	want := "> " + strings.Repeat("x", 60) + "… [2097152 bytes]\n> /check\n> next\n"
	if got := out.String(); got != want {
		t.Errorf("transcript = %.200q, want %q", got, want)
	}
}

func TestRunHandlerErrorIsReturnedWrapped(t *testing.T) {
	boom := errors.New("disk full")
	a := New(Config{In: strings.NewReader("1\n2\n3\n"), Out: io.Discard, RunID: "r"})
	h := &recorder{err: boom}
	err := runWithTimeout(t, a, context.Background(), h)
	if !errors.Is(err, boom) {
		t.Fatalf("Run() = %v, want an error wrapping %v", err, boom)
	}
	if err == boom {
		t.Errorf("Run() = the bare handler error, want it wrapped with context")
	}
	if n := len(h.got()); n != 1 {
		t.Errorf("got %d events handled, want 1 (Run stops at the first error)", n)
	}
}

func TestRunCancelWhileInputBlocks(t *testing.T) {
	pr, pw := io.Pipe() // never written
	defer pw.Close()
	a := New(Config{In: pr, Out: io.Discard, RunID: "r"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, &recorder{}) }()
	time.Sleep(20 * time.Millisecond)
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run() = %v after cancel, want nil", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("Run returned %s after cancel, want promptly", d)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not return within 3s of ctx cancel while input blocked")
	}
}

func TestRunCancelDuringHandleReturnsNil(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	h := &recorder{err: context.Canceled}
	h.onCall = func(bot.Event) { cancel() }
	a := New(Config{In: strings.NewReader("1\n2\n"), Out: io.Discard, RunID: "r"})
	if err := runWithTimeout(t, a, ctx, h); err != nil {
		t.Errorf("Run() = %v, want nil when the handler failed because ctx was cancelled", err)
	}
}

func TestSendConcurrent(t *testing.T) {
	var out bytes.Buffer // deliberately not synchronised: Send must serialise writes
	a := New(Config{In: strings.NewReader(""), Out: &out, RunID: "r"})
	const n = 20
	msgs := make([]bot.Message, n)
	for i := range msgs {
		msgs[i] = bot.Message{
			Text: fmt.Sprintf("Nachricht %02d\nzweite Zeile %02d", i, i),
			Buttons: [][]bot.Button{
				{{Label: fmt.Sprintf("ja-%02d", i), Action: "y"}},
				{{Label: fmt.Sprintf("nein-%02d", i), Action: "n"}, {Label: fmt.Sprintf("später-%02d", i), Action: "l"}},
			},
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.Send(context.Background(), Address(), msgs[i]); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Send() = %v, want nil", err)
	}
	got := out.String()
	for i, m := range msgs {
		block := Render(m) + "\n"
		if c := strings.Count(got, block); c != 1 {
			t.Errorf("message %d appears whole %d times in the output, want 1:\n%s", i, c, got)
		}
	}
	total := 0
	for _, m := range msgs {
		total += len(Render(m)) + 1
	}
	if len(got) != total {
		t.Errorf("output has %d bytes, want %d (the renders and nothing else)", len(got), total)
	}
}

func TestSendWritesRender(t *testing.T) {
	var out bytes.Buffer
	a := New(Config{Out: &out})
	m := bot.Message{Text: "Was nun?", Buttons: [][]bot.Button{{{Label: "a", Action: "1"}}, {{Label: "b", Action: "2"}, {Label: "c", Action: "3"}}}}
	if err := a.Send(context.Background(), Address(), m); err != nil {
		t.Fatalf("Send() = %v, want nil", err)
	}
	if got, want := out.String(), "Was nun?\n  1) a\n  2) b   3) c\n\n"; got != want {
		t.Errorf("Send wrote %q, want %q", got, want)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestSendReportsWriteError(t *testing.T) {
	a := New(Config{Out: failingWriter{}})
	if err := a.Send(context.Background(), Address(), bot.Message{Text: "x"}); err == nil {
		t.Errorf("Send() = nil on a broken output, want an error so the message stays in the outbox")
	}
}

func TestAddressAndPlatform(t *testing.T) {
	a := New(Config{})
	if got := a.Platform(); got != Platform {
		t.Errorf("Platform() = %q, want %q", got, Platform)
	}
	if got := Address().Platform; got != a.Platform() {
		t.Errorf("Address().Platform = %q, want %q so replies find this adapter", got, a.Platform())
	}
}

// screen40 is a terminal 40 columns wide.
func screen40() int { return 40 }

// TestSendWrapsAtWidth: at 40 columns every line fits and words stay whole;
// a list item's further lines start under its text, and a row of buttons
// too wide for the screen goes on the next line.
func TestSendWrapsAtWidth(t *testing.T) {
	var out bytes.Buffer
	a := New(Config{Out: &out, Width: screen40})
	m := bot.Message{
		Text: "1/7 · Strategischer Nutzen\n\nWir haben besprochen, welchen strategischen Nutzen die Zusammenarbeit mit Unternehmen für uns hat – besonders mit KMU in der Region.\n\n" +
			"1. Workshop mit zwei Betrieben aus dem Landkreis vorbereiten\n   Priorität: hoch · Verantwortlich: Anna Musterfrau\n\n" +
			"Mehr unter https://example.org/ampel/hilfe/zusammenarbeit-mit-unternehmen\n\nWie sieht es bei Ihnen aus?",
		Buttons: [][]bot.Button{
			{{Label: "🔴 Dringend – hier fehlt noch das meiste", Action: "r"}},
			{{Label: "🟢 Gut", Action: "g"}},
			{{Label: "Beispiele ansehen", Action: "e"}, {Label: "Später", Action: "l"}, {Label: "Zurück", Action: "b"}},
		},
	}
	if err := a.Send(context.Background(), Address(), m); err != nil {
		t.Fatal(err)
	}
	want := `1/7 · Strategischer Nutzen

Wir haben besprochen, welchen
strategischen Nutzen die Zusammenarbeit
mit Unternehmen für uns hat – besonders
mit KMU in der Region.

1. Workshop mit zwei Betrieben aus dem
   Landkreis vorbereiten
   Priorität: hoch · Verantwortlich:
   Anna Musterfrau

Mehr unter
https://example.org/ampel/hilfe/zusammen
arbeit-mit-unternehmen

Wie sieht es bei Ihnen aus?
  1) 🔴 Dringend – hier fehlt noch das
     meiste
  2) 🟢 Gut
  3) Beispiele ansehen   4) Später
  5) Zurück

`
	if got := out.String(); got != want {
		t.Errorf("at 40 columns Send wrote\n%s\nwant\n%s", got, want)
	}
	for _, l := range strings.Split(out.String(), "\n") {
		if w := Width(l); w > 40 {
			t.Errorf("line %q is %d columns wide, want at most 40", l, w)
		}
	}
}

// notifyWriter is a terminal's screen: it collects output and signals each
// write, so a test can wait for the prompt without sleeping.
type notifyWriter struct {
	syncBuffer
	wrote chan struct{}
}

func (w *notifyWriter) Write(p []byte) (int, error) {
	n, err := w.syncBuffer.Write(p)
	select {
	case w.wrote <- struct{}{}:
	default:
	}
	return n, err
}

// waitScreen waits until the screen shows want at its end.
func waitScreen(t *testing.T, w *notifyWriter, want string) {
	t.Helper()
	deadline := time.After(60 * time.Second) // a hang guard
	for !strings.HasSuffix(w.String(), want) {
		select {
		case <-w.wrote:
		case <-deadline:
			t.Fatalf("the screen never ended in %q; it shows %q", want, w.String())
		}
	}
}

// TestReminderWhileTyping: a reminder that arrives while the user is typing
// after the prompt is printed on a line of its own, not after the typed
// letters, and the prompt is shown again; the typed line still arrives
// whole, and its answer comes as usual. A piped transcript stays as it was.
func TestReminderWhileTyping(t *testing.T) {
	in, keyboard := io.Pipe()
	screen := &notifyWriter{wrote: make(chan struct{}, 1)}
	a := New(Config{In: in, Out: screen, RunID: "r", Interactive: true})
	h := &recorder{}
	h.onCall = func(ev bot.Event) {
		a.Send(context.Background(), Address(), bot.Message{Text: "Gespeichert: " + ev.Text})
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(context.Background(), h) }()
	waitScreen(t, screen, "> ")
	screen.Write([]byte("Works")) // the terminal echoes what the user types
	reminder := bot.Message{Text: "Zeit für die Kontrolle: Workshop", Buttons: [][]bot.Button{{{Label: "✅ Erledigt", Action: "d"}}}}
	if err := a.Send(context.Background(), Address(), reminder); err != nil {
		t.Fatal(err)
	}
	screen.Write([]byte("hop\n"))
	io.WriteString(keyboard, "Workshop\n")
	waitScreen(t, screen, "Gespeichert: Workshop\n\n> ")
	keyboard.Close()
	if err := <-done; err != nil {
		t.Fatalf("Run() = %v", err)
	}
	want := "> Works\n" +
		"Zeit für die Kontrolle: Workshop\n  1) ✅ Erledigt\n\n" +
		"> hop\n" +
		"Gespeichert: Workshop\n\n> "
	if got := screen.String(); got != want {
		t.Errorf("the screen shows\n%s\nwant\n%s", got, want)
	}
	if evs := h.got(); len(evs) != 1 || evs[0].Text != "Workshop" {
		t.Errorf("got events %+v, want the one typed line %q", evs, "Workshop")
	}

	// Without a prompt (piped input) the transcript gets no extra lines.
	in, script := io.Pipe()
	var out syncBuffer
	a = New(Config{In: in, Out: &out, RunID: "r"})
	go func() { done <- a.Run(context.Background(), &recorder{}) }()
	if err := a.Send(context.Background(), Address(), bot.Message{Text: "Es geht los: Workshop"}); err != nil {
		t.Fatal(err)
	}
	script.Close()
	if err := <-done; err != nil {
		t.Fatalf("Run() = %v", err)
	}
	if got, want := out.String(), "Es geht los: Workshop\n\n"; got != want {
		t.Errorf("transcript = %q, want %q", got, want)
	}
}
