// Package teamscript plays a team dialogue (bot/team's transcripts) through
// a platform's fake, with the real engine and adapter, and writes down what
// each member and the channel see as the platform holds it: the channel's
// messages first, then each member's private chat, new messages ("→") and
// messages changed in place ("✎": a live message edited, a pressed message
// marked), each in the platform's own rendering. The adapters' tests share
// it; each gives a Platform.
package teamscript

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/dialogtest"
)

// Message is one message of the bot as the platform holds it now.
type Message struct {
	Chat    string // "#" for the channel, else the member whose private chat it is
	ID      string // the platform's reference to it
	Shown   string // as the platform renders it, ending in a line break
	Buttons int    // how many buttons it has now
}

// Platform is one platform's fake with the engine and the adapter. Users
// are named as in the scripts ("anna"); the platform makes them its
// members on first use, with the name dialogtest.Name gives and the
// script's language.
type Platform interface {
	// Type has user type text in the channel or (private) in their
	// private chat, a command if it starts with "/", and returns the line
	// as the user typed it on this platform.
	Type(user string, private bool, text string) string
	// Press has user press the n-th button (from 1, row by row) under m
	// and returns the button's label.
	Press(user string, m Message, n int) string
	// Leave has user leave the channel.
	Leave(user string)
	// Advance moves the engine's clock on.
	Advance(d time.Duration)
	// Due sends what is due now (reminders).
	Due()
	// Settle waits until everything the last input caused was sent and
	// the adapter's calls after it were made, then lets a second pass
	// (the live messages' edits that waited go out) and waits again.
	Settle()
	// Messages returns every message of the bot, in the order sent.
	Messages() []Message
}

// Goldens plays bot/team's transcripts, team-de.txt and team-en.txt (only
// their input lines), on the platform newPlatform makes for a language,
// and
// compares what was seen with testdata/team-<lang>.txt of the calling
// package; update rewrites them.
func Goldens(t *testing.T, platform string, update bool, how string, newPlatform func(t *testing.T, lang string) Platform) {
	Scripts(t, platform, "bot/team/testdata", "team", update, how, newPlatform)
}

// Scripts is Goldens for other scripts: it plays <dir>/<name>-de.txt and
// <name>-en.txt (dir from the module's root) and compares what was seen
// with testdata/<name>-<lang>.txt of the calling package.
func Scripts(t *testing.T, platform, dir, name string, update bool, how string, newPlatform func(t *testing.T, lang string) Platform) {
	for _, lang := range []string{"de", "en"} {
		t.Run(lang, func(t *testing.T) {
			src := dir + "/" + name + "-" + lang + ".txt"
			script, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(src)))
			if err != nil {
				t.Fatal(err)
			}
			got := "# Played through " + platform + "'s fake from " + src + ".\n" +
				Play(t, newPlatform(t, lang), string(script))
			file := filepath.Join("testdata", name+"-"+lang+".txt")
			if update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (%s writes it)", err, how)
			}
			if got != string(want) {
				t.Errorf("transcript differs from %s (%s rewrites it):\n%s", file, how, dialogtest.FirstDiff(got, string(want)))
			}
		})
	}
}

// player is a script being played.
type player struct {
	t      testing.TB
	p      Platform
	seen   map[string]string  // message ID -> as shown after the last step
	newest map[string]Message // per chat, the newest message sent or changed with buttons
	chats  []string           // members in the order they first acted or got a message
}

// Play plays the input lines of a dialogtest.Group script (the bot's
// output in it is ignored) and returns the platform's transcript: each
// input line as typed on the platform, then what each chat saw.
func Play(t testing.TB, p Platform, script string) string {
	t.Helper()
	pl := &player{t: t, p: p, seen: map[string]string{}, newest: map[string]Message{}}
	var out strings.Builder
	defer func() {
		if t.Failed() {
			t.Logf("the transcript so far:\n%s", out.String())
		}
	}()
	for _, line := range strings.Split(script, "\n") {
		switch {
		case strings.HasPrefix(line, "["):
			out.WriteString(pl.line(line) + "\n")
			out.WriteString(pl.step())
		case strings.HasPrefix(line, "~ +"):
			d, err := time.ParseDuration(strings.TrimPrefix(line, "~ +"))
			if err != nil {
				t.Fatalf("bad clock step %q: %v", line, err)
			}
			out.WriteString(line + "\n")
			p.Advance(d)
		case line == "~ due":
			out.WriteString(line + "\n")
			p.Due()
			out.WriteString(pl.step())
		case strings.HasPrefix(line, "#"):
			out.WriteString(line + "\n")
		}
	}
	return out.String()
}

// line plays one "[#user] …" or "[@user] …" line and returns it as played.
func (pl *player) line(line string) string {
	pl.t.Helper()
	who, what, ok := strings.Cut(line[1:], "] ")
	if !ok || len(who) < 2 || who[0] != '#' && who[0] != '@' {
		pl.t.Fatalf("bad line %q", line)
	}
	private, user := who[0] == '@', who[1:]
	pl.chat(user)
	chat := "#"
	if private {
		chat = user
	}
	prefix := "[" + who + "] "
	switch {
	case strings.HasPrefix(what, "> "):
		return prefix + "> " + pl.p.Type(user, private, strings.TrimPrefix(what, "> "))
	case strings.HasPrefix(what, "~ press "):
		n, err := strconv.Atoi(strings.TrimPrefix(what, "~ press "))
		if err != nil {
			pl.t.Fatalf("bad press %q", line)
		}
		m, ok := pl.newest[chat]
		if !ok {
			pl.t.Fatalf("%q: no message with buttons in %s", line, chat)
		}
		return prefix + what + " (" + pl.p.Press(user, m, n) + ")"
	case what == "~ left" && !private:
		pl.p.Leave(user)
		return line
	}
	pl.t.Fatalf("bad line %q", line)
	return ""
}

func (pl *player) chat(c string) {
	if c != "#" && !slices.Contains(pl.chats, c) {
		pl.chats = append(pl.chats, c)
	}
}

// step waits for what the input caused and renders the messages that are
// new or changed since the last step, the channel first.
func (pl *player) step() string {
	pl.p.Settle()
	var fresh, changed []Message
	shown := map[string]string{} // a changed message, as written down
	for _, m := range pl.p.Messages() {
		old, ok := pl.seen[m.ID]
		switch {
		case !ok:
			fresh = append(fresh, m)
		case old != m.Shown:
			changed = append(changed, m)
			shown[m.ID] = elide(old, m.Shown)
		default:
			continue
		}
		pl.seen[m.ID] = m.Shown
		pl.chat(m.Chat)
	}
	for _, m := range append(slices.Clip(fresh), changed...) {
		if m.Buttons > 0 {
			pl.newest[m.Chat] = m
		}
	}
	var b strings.Builder
	for _, chat := range append([]string{"#"}, pl.chats...) {
		name := "#"
		if chat != "#" {
			name = "@" + chat
		}
		for i, m := range append(slices.Clip(fresh), changed...) {
			if m.Chat != chat {
				continue
			}
			mark, text := "→ ", m.Shown
			if i >= len(fresh) {
				mark, text = "✎ ", shown[m.ID]
			}
			fmt.Fprintf(&b, "%s%s\n%s", mark, name, text)
		}
	}
	return b.String()
}

// Buttons renders rows of button labels as a line each: "  [a] [b]".
func Buttons(rows [][]string) string {
	var b strings.Builder
	for _, row := range rows {
		if len(row) == 0 {
			continue
		}
		b.WriteString(" ")
		for _, l := range row {
			b.WriteString(" [" + l + "]")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// elide writes a changed message whose first lines are as before (a
// pressed question marked with the choice) with those lines but the
// first left out: "  ⋯ 7 lines as before".
func elide(old, now string) string {
	o, n := strings.SplitAfter(old, "\n"), strings.SplitAfter(now, "\n")
	k := 0
	for k < len(o) && k < len(n) && o[k] == n[k] {
		k++
	}
	if k < 4 {
		return now
	}
	rest := strings.Join(n[k:], "")
	if rest == "" { // only taken away: say what
		what := "the rest"
		if strings.HasPrefix(strings.Join(o[k:], ""), "  [") {
			what = "its buttons"
		}
		rest = "  ✂ " + what + " taken away\n"
	}
	return n[0] + fmt.Sprintf("  ⋯ %d lines as before\n", k-1) + rest
}

// Engine is the part of a Platform that is the engine's: its clocks and
// outbox. A Platform embeds it.
type Engine struct {
	T      testing.TB
	Engine *bot.Engine
	Store  *bottest.MemStore
	// Wait waits until the engine has sent what it can and the adapter
	// has made its calls after events.
	Wait func()
	// Clocks are the engine's clock, then any of the adapter's (its
	// limiters'), moved on together.
	Clocks []*bottest.Clock
}

// Advance moves the clocks on.
func (e Engine) Advance(d time.Duration) {
	for _, c := range e.Clocks {
		c.Add(d)
	}
}

// Due sends the reminders due now.
func (e Engine) Due() {
	e.T.Helper()
	if _, err := e.Engine.RunDue(context.Background(), e.Clocks[0].Now()); err != nil {
		e.T.Fatal(err)
	}
}

// Settle waits until what was caused is sent, lets a second pass and
// sends what is due (the live messages' edits that waited), and lets more
// seconds pass while the outbox still holds messages that a platform's
// rate limit made wait (Telegram's 20 messages a minute in a group): a
// member sees them that much later.
func (e Engine) Settle() {
	e.T.Helper()
	ctx := context.Background()
	e.Wait()
	for i := 0; ; i++ {
		e.Advance(time.Second)
		if err := e.Engine.Flush(ctx); err != nil {
			e.T.Fatal(err)
		}
		e.Wait()
		p, err := e.Store.Pending(ctx, 0, 1)
		if err != nil {
			e.T.Fatal(err)
		}
		if len(p) == 0 {
			return
		}
		if i == 600 {
			e.T.Fatalf("after 10 minutes, the outbox still holds %+v", p[0])
		}
	}
}
