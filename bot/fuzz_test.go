package bot_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// FuzzDialogue plays a script of up to 40 lines, each typed text, or "#n"
// to press the n-th button of the bot's last message, in a private chat or
// a group, on a platform with slash commands or on one where commands are
// bare words (Mattermost's), with a clock that moves on between lines.
// Whatever is typed: the engine takes every line (no error), answers
// every line, never with its apology for an internal failure (a panic in a
// step, caught), only in valid UTF-8, and with buttons that have a label
// and an action that fits Telegram's 64 bytes of callback data.
func FuzzDialogue(f *testing.F) {
	for _, s := range []string{
		"/check\n1\n3\n3\n3\n3\n3\n3\n1\nWorkshop mit Betrieben\n1\nich\nmorgen\nin 2 Wochen\n/plan\n#1\n#2\n/reminders\n#1",
		"/start\n#1\n🔴\nrot\nzurück\n#9\n0\n-1\n/cancel\n#1",
		"/timezone\n+5:30\n/timezone Kathmandu\n/timezone UTC-12\n/reminders\n2",
		"/language\n2\n/help\n/language de\n/language xx",
		"hilfe\nplan\ncheck zo-kmu\nsprache en\ntimezone +3\nabbrechen",
		"/check zo-kmu\n/check nix\n/check@ampel_bot\n/CHECK\n/ \n/\x00",
		"/plan\n#4\n#1\n@all <!channel> *fett* <b>x</b> &amp;\n#1\n<@U0ABC123>\n31.02.2027\n1.1.2099\n15.3.\n#1",
		"",
	} {
		f.Add(s, false, false, uint8(0))
		f.Add(s, true, true, uint8(7))
	}
	h := newHarness(f, 0)
	bare := &bottest.Recorder{Name: "barefuzz", Bare: true}
	h.Engine.Register(bare)
	_, texts := bottest.Content(f)
	var apologies []string
	for _, lang := range texts.Langs() {
		apologies = append(apologies, texts.T(lang, "error.internal"))
	}
	chat := 0
	f.Fuzz(func(t *testing.T, script string, group, bareWords bool, minutes uint8) {
		chat++
		h.Clock.Set(start)
		rec := h.Rec
		addr := bot.Address{Platform: h.Addr.Platform, Chat: "fuzz" + strconv.Itoa(chat), User: "u" + strconv.Itoa(chat)}
		if bareWords {
			rec, addr.Platform = bare, bare.Name
		}
		var last []bot.Button
		lines := strings.Split(script, "\n")
		for i, line := range lines[:min(len(lines), 40)] {
			ev := bot.Event{ID: fmt.Sprintf("f%d-%d", chat, i), Addr: addr, Text: line, Group: group, UserName: "Eva <b>"}
			if n, err := strconv.Atoi(strings.TrimPrefix(line, "#")); err == nil && strings.HasPrefix(line, "#") {
				if n < 1 || n > len(last) {
					continue
				}
				ev.Text, ev.Action = "", last[n-1].Action
			}
			if err := h.Engine.Handle(context.Background(), ev); err != nil {
				t.Fatalf("line %d %q: %v", i+1, line, err)
			}
			if err := h.Engine.Settle(context.Background(), addr); err != nil { // replies leave after the commit
				t.Fatal(err)
			}
			sent := rec.Take()
			if len(sent) == 0 {
				t.Fatalf("line %d %q: no answer", i+1, line)
			}
			for _, s := range sent {
				for _, a := range apologies {
					if strings.Contains(s.Msg.Text, a) {
						t.Fatalf("line %d %q: the engine failed: %q", i+1, line, s.Msg.Text)
					}
				}
				if !utf8.ValidString(s.Msg.Text) {
					t.Fatalf("line %d %q: answer not valid UTF-8: %q", i+1, line, s.Msg.Text)
				}
				for _, b := range s.Msg.Flat() {
					if b.Label == "" || b.Action == "" || len(b.Action) > 64 || !utf8.ValidString(b.Label) {
						t.Fatalf("line %d %q: button %+v", i+1, line, b)
					}
				}
				if flat := s.Msg.Flat(); len(flat) > 0 {
					last = flat
				}
			}
			h.Clock.Add(time.Duration(minutes) * time.Minute)
		}
	})
}

// FuzzBareCommand: where commands are bare words (bot.BareCommander), a
// message typed at rest means what its command with a slash means where
// slash commands work ("Sprache en" is "/language en"), and a message that
// is no command word means there what it means here: the two
// conversations end in the same state with as many messages. A command word
// is one of any language's command.word.*, with arguments only for check,
// language and timezone, in a message of at most five words and 100 bytes.
func FuzzBareCommand(f *testing.F) {
	h := newHarness(f, 0)
	bare := &bottest.Recorder{Name: "barefuzz", Bare: true}
	h.Engine.Register(bare)
	_, texts := bottest.Content(f)
	words := map[string]string{}
	for _, lang := range texts.Langs() {
		for _, name := range []string{"start", "check", "plan", "reminders", "timezone", "language", "help", "cancel"} {
			w := texts.T(lang, "command.word."+name)
			words[strings.ToLower(w)] = name
			f.Add(w)
			f.Add(strings.ToUpper(w) + "!")
			f.Add(w + " en")
		}
	}
	for _, s := range []string{"Sprache en", "timezone +3", "check zo-kmu", "plan b", "help me", "hilfe.", "", "1"} {
		f.Add(s)
	}
	takesArgs := map[string]bool{"check": true, "language": true, "timezone": true}
	slash := func(text string) string {
		fields := strings.Fields(text)
		if len(text) > 100 || len(fields) == 0 || len(fields) > 5 {
			return text
		}
		name := words[strings.ToLower(strings.TrimRight(fields[0], ".!?"))]
		if name == "" || len(fields) > 1 && !takesArgs[name] {
			return text
		}
		return "/" + strings.Join(append([]string{name}, fields[1:]...), " ")
	}
	n := 0
	f.Fuzz(func(t *testing.T, text string) {
		unclean := func(r rune) bool { return r != ' ' && !unicode.IsPrint(r) }
		if strings.HasPrefix(strings.TrimSpace(text), "/") || !utf8.ValidString(text) || strings.IndexFunc(text, unclean) >= 0 {
			t.Skip("a slash command, or text the engine cleans before reading it (line breaks, control and format characters)")
		}
		n++
		h.Clock.Set(start)
		state := func(rec *bottest.Recorder, platform, text string) (string, int) {
			addr := bot.Address{Platform: platform, Chat: fmt.Sprintf("bc%d-%s", n, platform)}
			if err := h.Engine.Handle(context.Background(), bot.Event{ID: "1", Addr: addr, Text: text}); err != nil {
				t.Fatal(err)
			}
			if err := h.Engine.Settle(context.Background(), addr); err != nil { // replies leave after the commit
				t.Fatal(err)
			}
			c, err := h.Engine.Load(context.Background(), addr)
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("mode %q, lang %q, zone %q, run %v", c.Dialog.Mode, c.Lang, c.TZ, c.Run != nil), len(rec.Take())
		}
		got, gotN := state(bare, bare.Name, text)
		want, wantN := state(h.Rec, h.Addr.Platform, slash(text))
		if got != want || gotN != wantN {
			t.Fatalf("%q where commands are words: %s, %d messages; %q where they are slash commands: %s, %d messages", text, got, gotN, slash(text), want, wantN)
		}
	})
}
