package dialogtest

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/adapters/console"
	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/features"
)

// Group is a channel with several users and each user's private chat with
// the bot, on one engine: a dialogue of many people (team mode).
//
// Users are named by their platform user ID ("anna"), and the platform
// gives their name ("Anna", see Name). A user's private chat is, as events come from it, the chat
// PrivateChat(user); the bot may also write to it by the user alone
// (bot.Address with Chat empty). Both are the user's private chat here.
type Group struct {
	T       testing.TB
	Engine  *bot.Engine
	Store   *bottest.MemStore
	Clock   *bottest.Clock
	Rec     Recording
	Channel bot.Address
	// Lang is the language the platform reports for every user.
	Lang string
	// PrivateChat is the chat ID of a user's private chat: on Telegram
	// the user's ID, on Slack a "D…" channel of its own.
	PrivateChat func(user string) string
	// Sent and Edits are every message sent and every edit of a live
	// message so far.
	Sent  []bottest.Sent
	Edits []bottest.Edit
	n     int
	// buttons holds, per chat ("#" or a user), the buttons of the newest
	// message with buttons it got.
	buttons map[string][]bot.Button
	// users in the order they first got a message or acted.
	users []string
}

// Recording is the adapter a Group records what is sent with: a
// bottest.Recorder, or a bottest.Editing, whose edits of live messages
// are taken too.
type Recording interface {
	bot.Adapter
	Take() []bottest.Sent
}

// editing is a Recording whose platform edits live messages.
type editing interface {
	TakeEdits() []bottest.Edit
}

// NewGroup starts a channel on the platform of rec (whose name and
// abilities matter: the texts follow them) at Start; opts change the
// engine's configuration before it is built.
func NewGroup(t testing.TB, rec Recording, opts ...func(*bot.Config)) *Group {
	t.Helper()
	catalog, texts := bottest.Content(t)
	g := &Group{
		T: t, Store: bottest.NewMemStore(), Clock: bottest.NewClock(Start), Rec: rec, Lang: "de",
		Channel:     bot.Address{Platform: rec.Platform(), Workspace: "w", Chat: "team-channel"},
		PrivateChat: func(user string) string { return "dm-" + user },
		buttons:     map[string][]bot.Button{},
	}
	cfg := bot.Config{
		Store: g.Store, Flows: catalog, Texts: texts,
		Clock: g.Clock, Zone: bottest.Zone("Europe/Berlin"), Features: features.All(),
	}
	for _, o := range opts {
		o(&cfg)
	}
	var err error
	if g.Engine, err = bot.New(cfg); err != nil {
		t.Fatal(err)
	}
	g.Engine.Register(rec)
	t.Cleanup(g.Engine.Close)
	return g
}

// Private is the address of user's private chat as its events come.
func (g *Group) Private(user string) bot.Address {
	return bot.Address{Platform: g.Channel.Platform, Workspace: g.Channel.Workspace, Chat: g.PrivateChat(user), User: user}
}

// In is the address of user in the channel.
func (g *Group) In(user string) bot.Address {
	a := g.Channel
	a.User = user
	return a
}

// Event hands ev, from user in the channel (private false) or in their
// private chat, to the engine, and returns what was sent, the edits of
// live messages last (see Take).
func (g *Group) Event(user string, private bool, ev bot.Event) []bottest.Sent {
	g.T.Helper()
	sent, edits := g.event(user, private, ev)
	return append(sent, edited(edits)...)
}

func (g *Group) event(user string, private bool, ev bot.Event) ([]bottest.Sent, []bottest.Edit) {
	g.T.Helper()
	g.n++
	if ev.ID == "" {
		ev.ID = "g" + strconv.Itoa(g.n)
	}
	ev.Addr, ev.Group = g.In(user), true
	if private {
		ev.Addr, ev.Group = g.Private(user), false
	}
	ev.UserName, ev.LangHint = Name(user), g.Lang
	g.user(user)
	if err := g.Engine.Handle(context.Background(), ev); err != nil {
		g.T.Fatalf("handle %+v: %v", ev, err)
	}
	return g.take()
}

// Take returns what was sent since the last take, and the edits of live
// messages as messages to their chats, last. A second passes meanwhile:
// people take that long to press the next button, and a live message
// changes at most once a second.
func (g *Group) Take() []bottest.Sent {
	g.T.Helper()
	sent, edits := g.take()
	return append(sent, edited(edits)...)
}

// take is Take with the edits apart; it remembers the newest buttons of
// each chat.
func (g *Group) take() ([]bottest.Sent, []bottest.Edit) {
	g.T.Helper()
	ctx := context.Background()
	if err := g.Engine.Settle(ctx); err != nil {
		g.T.Fatal(err)
	}
	g.Clock.Add(time.Second)
	if err := g.Engine.Flush(ctx); err != nil { // the live messages that waited
		g.T.Fatal(err)
	}
	sent := g.Rec.Take()
	var edits []bottest.Edit
	if e, ok := g.Rec.(editing); ok {
		edits = e.TakeEdits()
	}
	g.Sent, g.Edits = append(g.Sent, sent...), append(g.Edits, edits...)
	for _, s := range append(sent, edited(edits)...) {
		if len(s.Msg.Buttons) > 0 {
			g.buttons[g.chatOf(s.To)] = s.Msg.Flat()
		}
	}
	return sent, edits
}

func edited(edits []bottest.Edit) []bottest.Sent {
	sent := make([]bottest.Sent, len(edits))
	for i, e := range edits {
		sent[i] = bottest.Sent{To: e.To, Msg: e.Msg}
	}
	return sent
}

// Button returns the action of the n-th button (from 1) of the newest
// message with buttons that chat ("#" or a user) got.
func (g *Group) Button(chat string, n int) string {
	g.T.Helper()
	b := g.buttons[chat]
	if n < 1 || n > len(b) {
		g.T.Fatalf("%s has no button %d (has %d)", chat, n, len(b))
	}
	return b[n-1].Action
}

// chatOf names the chat of an address: "#" for the channel, else the
// user whose private chat it is.
func (g *Group) chatOf(a bot.Address) string {
	if a.Chat == g.Channel.Chat {
		return "#"
	}
	for _, u := range g.users {
		if a.Chat == g.PrivateChat(u) || a.Chat == "" && a.User == u {
			return u
		}
	}
	g.T.Fatalf("a message to %+v: no chat of the group", a)
	return ""
}

// Known makes users known before they act, in this order: the bot may
// write to them first (a meeting's announcement).
func (g *Group) Known(users ...string) {
	for _, u := range users {
		g.user(u)
	}
}

func (g *Group) user(u string) {
	if !slices.Contains(g.users, u) {
		g.users = append(g.users, u)
	}
}

// Render writes what was sent, the channel's messages first, then each
// private chat's in the order its user first appeared; each chat's
// messages in the order they were sent. (Chats are sent to in parallel:
// the order between them is not the bot's.)
//
// An edit of a live message is shown as "✎ #" (or "✎ @user"), after the
// chat's new messages.
func (g *Group) Render(sent []bottest.Sent, edits []bottest.Edit) string {
	var b strings.Builder
	all := append(slices.Clip(sent), edited(edits)...)
	for _, chat := range append([]string{"#"}, g.users...) {
		for i, s := range all {
			if g.chatOf(s.To) != chat {
				continue
			}
			mark := "→ "
			if i >= len(sent) {
				mark = "✎ "
			}
			if chat == "#" {
				b.WriteString(mark + "#\n")
			} else {
				b.WriteString(mark + "@" + chat + "\n")
			}
			b.WriteString(console.Render(s.Msg))
			if len(s.Msg.Mentions) > 0 {
				b.WriteString("  (mentions " + strings.Join(s.Msg.Mentions, ", ") + ")\n")
			}
		}
	}
	return b.String()
}

// Play plays a script of a group and returns the transcript: every input
// line, each followed by what the bot sent.
//
//	[#anna] > /team zo-kmu   anna types in the channel
//	[@anna] > 2              anna types in her private chat
//	[#bert] ~ press 1        bert presses the first button of the newest
//	                         message with buttons in the channel
//	[@bert] ~ press 3        … in his private chat
//	[#bert] ~ left           bert leaves the channel
//	~ +48h                   the clock goes on
//	~ due                    what is due is sent (reminders)
//	# …                      a comment
//
// Everything else is the bot's output, made anew.
func (g *Group) Play(script string) string {
	g.T.Helper()
	return PlayScript(g.T, script, g.Engine, g.Clock,
		func(line string) string { return g.Render(g.line(line)) },
		func() string { return g.Render(g.take()) })
}

// PlayScript plays the lines every script player shares and returns the
// transcript: each input line, followed by what the bot sent. A line
// "[who] …" is act's, which returns what the bot sent, rendered; "~ +48h"
// moves clock on; "~ due" runs what is due on e and writes sent(), what it
// sent, rendered; "# …" is a comment; everything else is output made anew.
func PlayScript(t testing.TB, script string, e *bot.Engine, clock *bottest.Clock, act func(line string) string, sent func() string) string {
	t.Helper()
	var out strings.Builder
	for _, line := range strings.Split(script, "\n") {
		switch {
		case strings.HasPrefix(line, "["):
			out.WriteString(line + "\n")
			out.WriteString(act(line))
		case strings.HasPrefix(line, "~ +"):
			out.WriteString(line + "\n")
			d, err := time.ParseDuration(strings.TrimPrefix(line, "~ +"))
			if err != nil {
				t.Fatalf("bad clock step %q: %v", line, err)
			}
			clock.Add(d)
		case line == "~ due":
			out.WriteString(line + "\n")
			if _, err := e.RunDue(context.Background(), clock.Now()); err != nil {
				t.Fatal(err)
			}
			out.WriteString(sent())
		case strings.HasPrefix(line, "#"):
			out.WriteString(line + "\n")
		}
	}
	return out.String()
}

// line plays one "[#user] …" or "[@user] …" line.
func (g *Group) line(line string) ([]bottest.Sent, []bottest.Edit) {
	g.T.Helper()
	who, what, ok := strings.Cut(line[1:], "] ")
	if !ok || len(who) < 2 || who[0] != '#' && who[0] != '@' {
		g.T.Fatalf("bad line %q", line)
	}
	private, user := who[0] == '@', who[1:]
	chat := "#"
	if private {
		chat = user
	}
	switch {
	case strings.HasPrefix(what, "> "):
		return g.event(user, private, bot.Event{Text: strings.TrimPrefix(what, "> ")})
	case strings.HasPrefix(what, "~ press "):
		n, err := strconv.Atoi(strings.TrimPrefix(what, "~ press "))
		if err != nil {
			g.T.Fatalf("bad press %q", line)
		}
		return g.event(user, private, bot.Event{Action: g.Button(chat, n)})
	case what == "~ left" && !private:
		return g.event(user, false, bot.Event{Left: true})
	}
	g.T.Fatalf("bad line %q", line)
	return nil, nil
}

// Conv is the stored conversation of addr.
func (g *Group) Conv(addr bot.Address) *bot.Conversation {
	g.T.Helper()
	c, err := g.Engine.Load(context.Background(), addr)
	if err != nil {
		g.T.Fatal(err)
	}
	return c
}

// Name is how the platform names user: "anna" is Anna.
func Name(user string) string {
	if user == "" {
		return ""
	}
	return strings.ToUpper(user[:1]) + user[1:]
}
