// Package dialogtest plays dialogues in tests, the core's and the
// features': an engine with every feature of bot/features on an in-memory
// store, with a fake clock and a recording console adapter.
package dialogtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/adapters/console"
	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/features"
)

// Start is a Wednesday morning in Berlin; every dialogue begins there.
var Start = time.Date(2027, 3, 10, 9, 0, 0, 0, bottest.Zone("Europe/Berlin"))

// Chat is one console chat with an engine, as a test needs it.
type Chat struct {
	T      testing.TB
	Engine *bot.Engine
	Store  *bottest.MemStore
	Clock  *bottest.Clock
	Rec    *bottest.Recorder
	Addr   bot.Address
	// Lang is the language the platform reports for the user.
	Lang string
	n    int
}

// New starts a chat in German at Start; cacheSize is the engine's, and
// opts change its configuration before it is built.
func New(t testing.TB, cacheSize int, opts ...func(*bot.Config)) *Chat {
	t.Helper()
	catalog, texts := bottest.Content(t)
	h := &Chat{
		T: t, Store: bottest.NewMemStore(), Clock: bottest.NewClock(Start),
		Rec:  &bottest.Recorder{Name: console.Platform},
		Addr: console.Address(), Lang: "de",
	}
	cfg := bot.Config{
		Store: h.Store, Flows: catalog, Texts: texts,
		Clock: h.Clock, Zone: bottest.Zone("Europe/Berlin"), CacheSize: cacheSize, Features: features.All(),
	}
	for _, o := range opts {
		o(&cfg)
	}
	var err error
	h.Engine, err = bot.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.Engine.Register(h.Rec)
	return h
}

// Send hands the chat's event to the engine and returns what was sent.
func (h *Chat) Send(ev bot.Event) []bottest.Sent {
	h.T.Helper()
	h.n++
	if ev.ID == "" {
		ev.ID = fmt.Sprint(h.n)
	}
	ev.Addr = h.Addr
	ev.LangHint = h.Lang
	if err := h.Engine.Handle(context.Background(), ev); err != nil {
		h.T.Fatalf("handle %q: %v", ev.Text, err)
	}
	return h.Take()
}

// Take returns what was sent since the last take, once the engine has
// sent all it could.
func (h *Chat) Take() []bottest.Sent {
	h.T.Helper()
	if err := h.Engine.Settle(context.Background()); err != nil {
		h.T.Fatal(err)
	}
	return h.Rec.Take()
}

// Say sends typed text and returns the text of all replies.
func (h *Chat) Say(text string) string {
	h.T.Helper()
	var b strings.Builder
	for _, s := range h.Send(bot.Event{Text: text}) {
		b.WriteString(console.Render(s.Msg))
	}
	return b.String()
}

// Conv is the chat's stored conversation.
func (h *Chat) Conv() *bot.Conversation {
	h.T.Helper()
	c, err := h.Engine.Load(context.Background(), h.Addr)
	if err != nil {
		h.T.Fatal(err)
	}
	return c
}

// RunDue fires what is due at the chat's clock and returns what was sent.
func (h *Chat) RunDue() []bottest.Sent {
	h.T.Helper()
	if _, err := h.Engine.RunDue(context.Background(), h.Clock.Now()); err != nil {
		h.T.Fatal(err)
	}
	return h.Take()
}

// FirstDiff shows the first differing line with some context.
func FirstDiff(got, want string) string {
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

// Goldens plays every testdata/*.txt with play and compares what it
// returns with the file, or with update rewrites the file; how names the
// command that does.
func Goldens(t *testing.T, update bool, how string, play func(t *testing.T, file, script string) string) {
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
			got := play(t, file, string(want))
			if update {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != string(want) {
				t.Errorf("transcript differs from %s (%s rewrites it):\n%s", file, how, FirstDiff(got, string(want)))
			}
		})
	}
}
