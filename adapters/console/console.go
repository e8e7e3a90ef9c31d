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
	// Width tells at how many columns to wrap what the bot says (see Wrap);
	// it is asked for each message, as a terminal may be resized. nil, or 0,
	// does not wrap.
	Width func() int
	// Dir is where the files of messages (the result picture, the plan's
	// exports) are written: beside the database. Empty: the working
	// directory.
	Dir string
}

// Adapter is the console adapter.
type Adapter struct {
	cfg Config
	mu  sync.Mutex
	// waiting: the prompt is shown and the user may be typing after it.
	waiting bool
}

// New returns a console adapter.
func New(cfg Config) *Adapter { return &Adapter{cfg: cfg} }

// Address is the one conversation a console has.
func Address() bot.Address {
	return bot.Address{Platform: Platform, Chat: "local", User: "local"}
}

// Platform implements bot.Adapter.
func (a *Adapter) Platform() string { return Platform }

// TypesButtons implements bot.Typer: a terminal has nothing to tap, the
// user types a button's number.
func (a *Adapter) TypesButtons() bool { return true }

// Files implements bot.FileAdapter: a message's files are written to disk
// (see Config.Dir) and their paths printed.
func (a *Adapter) Files() bool { return true }

const (
	// maxLine is what is kept of one input line; the rest of a longer line
	// is read and dropped, so the input after it still works. It is more than
	// the engine reads of a message (16 KiB), so the engine still sees that
	// the line was too long and says so.
	maxLine = 64 << 10
	// maxEcho is the longest line a transcript echoes whole; a longer one is
	// echoed cut, with its size.
	maxEcho = 4 << 10
	prompt  = "> "
)

// line is one line of input: what was kept of it, and its length in bytes.
type line struct {
	text string
	size int
}

// readLine reads one line of any length without its line break ("\n" or
// "\r\n") and keeps its first max bytes. At the end of the input it returns
// io.EOF, after a last line without a line break.
func readLine(r *bufio.Reader, max int) (line, error) {
	var kept []byte
	size := 0
	for {
		chunk, err := r.ReadSlice('\n')
		size += len(chunk)
		if room := max - len(kept); room > 0 {
			kept = append(kept, chunk[:min(room, len(chunk))]...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && (err != io.EOF || size == 0) {
			return line{}, err
		}
		if err == nil { // ended by a line break
			size--
		}
		break
	}
	s := strings.TrimSuffix(string(kept), "\n")
	if t, ok := strings.CutSuffix(s, "\r"); ok {
		s = t
		size--
	}
	return line{s, size}, nil
}

// Run reads lines until the input ends (then it returns nil) or ctx is done.
func (a *Adapter) Run(ctx context.Context, h bot.Handler) error {
	lines := make(chan line)
	errc := make(chan error, 1)
	go func() {
		r := bufio.NewReader(a.cfg.In)
		for {
			l, err := readLine(r, maxLine)
			if err != nil {
				if err == io.EOF {
					err = nil
				}
				errc <- err
				close(lines)
				return
			}
			select {
			case lines <- l:
			case <-ctx.Done():
				return
			}
		}
	}()
	n := 0
	for {
		a.prompt()
		select {
		case <-ctx.Done():
			return nil
		case l, ok := <-lines:
			if !ok {
				if err := <-errc; err != nil {
					return fmt.Errorf("read console input: %w", err)
				}
				return nil
			}
			n++
			a.mu.Lock()
			a.waiting = false
			a.mu.Unlock()
			if !a.cfg.Interactive {
				a.printf("%s%s\n", prompt, echo(l))
			}
			ev := bot.Event{ID: a.cfg.RunID + "-" + strconv.Itoa(n), Addr: Address(), Text: l.text, LangHint: a.cfg.Lang}
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

// echo is how a transcript shows an input line: whole, or a long one cut
// with its size.
func echo(l line) string {
	if l.size <= maxEcho {
		return l.text
	}
	s := strings.ToValidUTF8(l.text[:min(len(l.text), 60)], "")
	return fmt.Sprintf("%s… [%d bytes]", s, l.size)
}

func (a *Adapter) prompt() {
	if a.cfg.Interactive {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.waiting = true
		io.WriteString(a.cfg.Out, prompt)
	}
}

func (a *Adapter) printf(format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	fmt.Fprintf(a.cfg.Out, format, args...)
}

// Send implements bot.Adapter. A message's files are written first (see
// save), and printed by their paths, unwrapped, under the text: a path
// broken over two lines could not be copied. A message that arrives while
// the prompt is shown (a reminder while the user types) goes on a line of
// its own, and the prompt is shown again after it.
func (a *Adapter) Send(ctx context.Context, to bot.Address, m bot.Message) error {
	width := 0
	if a.cfg.Width != nil {
		width = a.cfg.Width()
	}
	paths, err := save(a.cfg.Dir, m.Files)
	if err != nil {
		return err
	}
	s := Wrap(render(m, width, nil), width) + fileLines(paths) + "\n"
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.waiting {
		s = "\n" + s + prompt
	}
	_, err = io.WriteString(a.cfg.Out, s)
	return err
}

// Render writes a message as text: its text, then its buttons numbered in
// reading order, one row per line, then its files by name. A file's size
// is left out: a picture's bytes differ a little from one processor to
// another, and transcripts are compared on all of them.
func Render(m bot.Message) string { return render(m, 0, names(m.Files)) }

// names are the files' names.
func names(files []bot.File) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.Name
	}
	return out
}

// render is Render for a screen width columns wide (0: any), with the
// files shown as files (their names, or where they were written): a row
// of buttons too wide for it goes on as many lines as it needs.
func render(m bot.Message, width int, files []string) string {
	var b strings.Builder
	b.WriteString(m.Text)
	n := 0
	for _, row := range m.Buttons {
		b.WriteString("\n  ")
		col := 2
		for i, btn := range row {
			n++
			item := fmt.Sprintf("%d) %s", n, btn.Label)
			w := Width(item)
			if i > 0 {
				if width > 0 && col+3+w > width {
					b.WriteString("\n  ")
					col = 2
				} else {
					b.WriteString("   ")
					col += 3
				}
			}
			b.WriteString(item)
			col += w
		}
	}
	b.WriteString("\n")
	b.WriteString(fileLines(files))
	return b.String()
}

// fileLines shows files, a line each.
func fileLines(files []string) string {
	var b strings.Builder
	for _, f := range files {
		fmt.Fprintf(&b, "  [%s]\n", f)
	}
	return b.String()
}
