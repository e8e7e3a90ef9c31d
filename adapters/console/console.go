// Package console is the adapter for a terminal: it reads one message per
// line from its input and prints replies with their buttons as a numbered
// list, so that a whole check can be done, or scripted, without any platform.
package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/ampel-bot/ampel/bot"
)

// Platform is the name of this adapter in addresses.
const Platform = "console"

// Config configures the adapter.
type Config struct {
	In  io.Reader
	Out io.Writer
	// Lang is the language the terminal reports (from $LANG), a hint only.
	Lang string
	// RunID makes event IDs unique across runs on the same database.
	RunID string
	// Interactive prints a prompt; otherwise each input line is echoed, so
	// that the output of a piped script reads as a transcript.
	Interactive bool
}

// Adapter is the console adapter.
type Adapter struct {
	cfg Config
	mu  sync.Mutex
}

// New returns a console adapter.
func New(cfg Config) *Adapter { return &Adapter{cfg: cfg} }

// Address is the one conversation a console has.
func Address() bot.Address {
	return bot.Address{Platform: Platform, Chat: "local", User: "local"}
}

// Platform implements bot.Adapter.
func (a *Adapter) Platform() string { return Platform }

// maxLine bounds one input line; longer lines are cut by the engine anyway.
const maxLine = 1 << 20

// Run reads lines until the input ends (then it returns nil) or ctx is done.
func (a *Adapter) Run(ctx context.Context, h bot.Handler) error {
	lines := make(chan string)
	errc := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(a.cfg.In)
		sc.Buffer(make([]byte, 64<<10), maxLine)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		errc <- sc.Err()
		close(lines)
	}()
	n := 0
	for {
		a.prompt()
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines:
			if !ok {
				if err := <-errc; err != nil {
					return fmt.Errorf("read console input: %w", err)
				}
				return nil
			}
			n++
			if !a.cfg.Interactive {
				a.printf("> %s\n", line)
			}
			ev := bot.Event{ID: a.cfg.RunID + "-" + strconv.Itoa(n), Addr: Address(), Text: line, LangHint: a.cfg.Lang}
			if err := h.Handle(ctx, ev); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("handle console input: %w", err)
			}
			if s, ok := h.(bot.Settler); ok {
				// The replies come before the next prompt (or echoed line).
				if err := s.Settle(ctx, ev.Addr); err != nil {
					return nil
				}
			}
		}
	}
}

func (a *Adapter) prompt() {
	if a.cfg.Interactive {
		a.printf("> ")
	}
}

func (a *Adapter) printf(format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	fmt.Fprintf(a.cfg.Out, format, args...)
}

// Send implements bot.Adapter.
func (a *Adapter) Send(ctx context.Context, to bot.Address, m bot.Message) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, err := io.WriteString(a.cfg.Out, Render(m)+"\n")
	return err
}

// Render writes a message as text: its text, then its buttons numbered in
// reading order, one row per line, then its files by name.
func Render(m bot.Message) string {
	var b strings.Builder
	b.WriteString(m.Text)
	n := 0
	for _, row := range m.Buttons {
		b.WriteString("\n  ")
		for i, btn := range row {
			n++
			if i > 0 {
				b.WriteString("   ")
			}
			fmt.Fprintf(&b, "%d) %s", n, btn.Label)
		}
	}
	for _, f := range m.Files {
		fmt.Fprintf(&b, "\n  [%s, %d bytes]", f.Name, len(f.Data))
	}
	b.WriteString("\n")
	return b.String()
}
