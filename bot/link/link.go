// Package link makes one person of chats on several messengers: /link in a
// private chat gives a one-time code; /link CODE, typed in a private chat
// on another platform (or the console), ties the two chats together. From
// then on both run on one conversation (see bot/links.go): one check, one
// plan, one set of reminders, which go to the chat written from last, or
// to the one chosen in /reminders. /unlink undoes it; each chat keeps a
// copy of what was there at that moment. When both chats hold a check or
// a plan, the person is asked which to keep.
//
// A code is 6 characters from an alphabet of 31 without look-alikes (no
// 0/O, 1/I/L): 31^6 ≈ 8.9·10^8 codes, 29.7 bits, from crypto/rand. It is
// valid 10 minutes, once. A person (per platform user) gets 5 wrong tries
// in 10 minutes; after them every try, right or wrong, gets the answer an
// unknown code gets until the window has passed, so a try tells nothing.
// Guessing one of a thousand codes alive at once takes, at 5 tries per
// 10 minutes, about 8.9·10^8/1000/5 windows: some 3,000 hours of one
// account's tries for an even chance, in which every code has long
// expired and been replaced.
//
// The code is kept only hashed: the record LinkCodeKind/<SHA-256 of the
// code> names the conversation that gave it and when it expires; that
// conversation knows it by Conversation.Records[CodeKind].
package link

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/ampel-bot/ampel/bot"
)

// Kinds of the records of codes and wrong tries.
const (
	CodeKind  = "linkcode"
	triesKind = "link-tries"
)

// ModeWhich asks which of two checks to keep; Dialog.Ref is the other
// conversation's key.
const ModeWhich = "link-which"

const (
	codeLen     = 6
	alphabet    = "23456789ABCDEFGHJKMNPQRSTUVWXYZ" // 31, without 0 O 1 I L
	validFor    = 10 * time.Minute
	maxWrong    = 5
	wrongWindow = 10 * time.Minute
)

// Code is a code given, stored as the record CodeKind/hash(code).
type Code struct {
	// Home is the key of the conversation the code links to.
	Home string `json:"home"`
	// Chat is the chat that asked for it.
	Chat    bot.Address `json:"chat"`
	Expires time.Time   `json:"exp"`
}

// Feature is linking a person's chats.
func Feature() bot.Feature {
	return bot.Feature{
		Name:     "link",
		Modes:    []bot.Mode{{Name: ModeWhich, Ask: askWhich, Press: pressWhich, Cancel: "link.which.cancel"}},
		Commands: []bot.Cmd{{Name: "unlink", Run: cmdUnlink}},
		On:       map[string]func(*bot.Turn) bool{bot.PersonLink: onLink},
		Personal: Personal(),
	}
}

// newCode makes a code (see the package doc).
var newCode = func() string {
	b := make([]byte, codeLen)
	for i := range b {
		b[i] = alphabet[randIndex(len(alphabet))]
	}
	return string(b)
}

// randIndex is a uniform index below n from crypto/rand.
func randIndex(n int) int {
	var b [1]byte
	limit := 256 - 256%n
	for {
		_, _ = rand.Read(b[:]) // never fails
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}

// codeID is the record ID of a code: its hash.
func codeID(code string) string {
	h := sha256.Sum256([]byte(code))
	return hex.EncodeToString(h[:])
}

// normal is a typed code as given: upper case, without spaces or dashes.
func normal(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.ToUpper(s))
}

// busy reports whether err ends the step (bot.ErrBusy: it runs again);
// any other error of the store ends it as a failure.
func busy(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, bot.ErrBusy) {
		return true
	}
	panic(err)
}

// onLink is /link in a private chat (in a group, /link links the group to
// a network, bot/network; a code there is refused).
func onLink(t *bot.Turn) bool {
	args := strings.Fields(t.Event().Text)
	if len(args) > 0 {
		args = args[1:]
	}
	if t.Event().Group {
		if len(args) == 0 {
			return false
		}
		t.Note(t.T("link.group"))
		t.Reask()
		return true
	}
	if t.Tx() == nil {
		return true
	}
	if len(args) == 0 {
		give(t)
		return true
	}
	redeem(t, normal(strings.Join(args, "")))
	return true
}

// give makes a new code for the turn's conversation; an older one it
// gave is void.
func give(t *bot.Turn) {
	c := t.Conv()
	if old := c.Records[CodeKind]; old != "" {
		if busy(t.Tx().Delete(CodeKind, old)) {
			return
		}
	}
	var code string
	for range 4 {
		code = newCode()
		var taken Code
		found, err := t.Tx().Get(CodeKind, codeID(code), &taken)
		if busy(err) {
			return
		}
		if !found || t.Now().After(taken.Expires) {
			break
		}
	}
	a := t.Event().Addr
	rec := Code{Home: t.HomeKey(), Chat: a, Expires: t.Now().Add(validFor).UTC()}
	if busy(t.Tx().Put(CodeKind, codeID(code), rec)) {
		return
	}
	if c.Records == nil {
		c.Records = map[string]string{}
	}
	c.Records[CodeKind] = codeID(code)
	if t.Linked() {
		t.Note(t.T("link.linked", "Chats", chats(t, c.Linked)))
	}
	var how []string
	for _, p := range t.Platforms() {
		if p != a.Platform {
			how = append(how, platform(t, p)+": "+t.CommandOn(p, "link", code))
		}
	}
	if len(how) == 0 {
		how = append(how, t.CommandOn(a.Platform, "link", code))
	}
	t.Note(t.T("link.code", "Code", code, "Minutes", int(validFor/time.Minute), "How", strings.Join(how, " · ")))
	t.Reask()
}

// redeem is /link CODE: the turn's chat joins the code's conversation.
func redeem(t *bot.Turn, code string) {
	if t.Linked() {
		t.Note(t.T("link.already"))
		t.Reask()
		return
	}
	tr, ok := wrongTries(t)
	if !ok {
		return
	}
	if len(tr.Wrong) >= maxWrong {
		t.Note(t.T("link.no"))
		t.Reask()
		return
	}
	var rec Code
	found := false
	if len(code) == codeLen {
		var err error
		found, err = t.Tx().Get(CodeKind, codeID(code), &rec)
		if busy(err) {
			return
		}
	}
	if found && !t.Now().Before(rec.Expires) {
		if busy(t.Tx().Delete(CodeKind, codeID(code))) {
			return
		}
		found = false
	}
	if !found {
		tr.Wrong = append(tr.Wrong, t.Now().UTC())
		if busy(t.Tx().Put(triesKind, triesID(t.Event().Addr), tr)) {
			return
		}
		t.Note(t.T("link.no"))
		t.Reask()
		return
	}
	if rec.Home == t.HomeKey() {
		t.Note(t.T("link.own"))
		t.Reask()
		return
	}
	other, err := t.Tx().ConversationKey(rec.Home)
	if busy(err) {
		return
	}
	// Single use: the code goes, whatever is decided next.
	if busy(t.Tx().Delete(CodeKind, codeID(code))) {
		return
	}
	if other.Records[CodeKind] == codeID(code) {
		delete(other.Records, CodeKind)
	}
	if holds(t.Conv()) && holds(other) {
		t.SideTrip()
		t.Dialog().Ref = rec.Home
		t.To(ModeWhich)
		t.Ask()
		return
	}
	join(t, rec.Home, holds(t.Conv()))
}

// holds reports whether a conversation holds a check or a plan.
func holds(c *bot.Conversation) bool {
	return c.Run != nil || len(c.Plan.Measures) > 0
}

// held says what c, the chat on platform, holds: its check and how far
// it is rated, or its plan and how many measures.
func held(t *bot.Turn, platform string, c *bot.Conversation) string {
	var check string
	total, rated := 0, 0
	if c.Run != nil {
		if f, ok := t.Flows().Get(c.Run.Flow); ok {
			check, total, rated = t.T(f.TitleID()), len(f.Checkpoints), len(c.Run.Ratings)
		}
	}
	switch n := len(c.Plan.Measures); {
	case n > 0 && check != "":
		return t.N("link.holds.plan", n, "Platform", platform, "Check", check)
	case n > 0: // a plan whose check is gone, or never was
		return t.N("link.holds.plan.bare", n, "Platform", platform)
	case total > 0:
		return t.T("link.holds.run", "Platform", platform, "Check", check, "Rated", rated, "Total", total)
	}
	return t.T("link.holds.gone", "Platform", platform)
}

// join links the turn's chat into home, keeping its own check if mine.
func join(t *bot.Turn, home string, mine bool) {
	here := t.Event().Addr
	p, err := t.LinkInto(home, mine)
	if busy(err) {
		return
	}
	for _, a := range p.Linked {
		if a.Key() != here.Key() {
			o := t.Elsewhere(&bot.Conversation{Addr: a, Lang: p.Lang, Hint: p.Hint})
			o.Say(bot.Message{Text: o.T("link.done.there", "Platform", platform(o, here.Platform))})
		}
	}
	t.Note(t.T("link.done", "Chats", chats(t, p.Linked)))
	t.Reask()
}

func askWhich(t *bot.Turn) (bot.Message, bool) {
	if t.Tx() == nil {
		return bot.Message{}, false
	}
	other, err := t.Tx().ConversationKey(t.Dialog().Ref)
	if busy(err) {
		return bot.Message{}, false
	}
	there := platform(t, other.Addr.Platform)
	here := platform(t, t.Event().Addr.Platform)
	// Each side named by what it holds: "here" and "there" alone do not
	// tell which of two half-done checks is worth keeping.
	text := t.T("link.which", "Here", here, "There", there) + "\n" + held(t, here, t.Conv()) + "\n" + held(t, there, other)
	return bot.Message{Text: text, Buttons: [][]bot.Button{
		{{Label: t.T("button.link.here", "Platform", here), Action: t.Action("here")}},
		{{Label: t.T("button.link.there", "Platform", there), Action: t.Action("there")}},
	}}, true
}

func pressWhich(t *bot.Turn, verb, _ string) {
	d := t.Dialog()
	home := d.Ref
	d.Ref, d.Mode, d.Resume = "", d.Resume, "" // back to the question before
	if t.Linked() {                            // linked from elsewhere meanwhile
		t.Note(t.T("link.already"))
		t.To(bot.ModeIdle)
		t.Reask()
		return
	}
	join(t, home, verb == "here")
}

// cmdUnlink is /unlink.
func cmdUnlink(t *bot.Turn, _ []string) {
	if t.Tx() == nil {
		return
	}
	if !t.Linked() {
		t.Note(t.T("link.unlink.none"))
		t.Reask()
		return
	}
	if _, err := t.Unlink(); busy(err) {
		return
	}
	t.Note(t.T("link.unlink.done"))
	t.To(bot.ModeIdle)
	t.Reask()
}

// chats names the platforms of chats: "Telegram, Slack".
func chats(t *bot.Turn, as []bot.Address) string {
	var names []string
	for _, a := range as {
		names = append(names, platform(t, a.Platform))
	}
	return strings.Join(names, ", ")
}

// platform is a platform's name.
func platform(t *bot.Turn, p string) string { return t.PlatformName(p) }

// triesID names the record of the wrong tries of the person of a.
func triesID(a bot.Address) string {
	who := a.User
	if who == "" {
		who = "chat:" + a.Chat
	}
	return a.Platform + "/" + a.Workspace + "/" + who
}

// wrongTries reads the turn's user's wrong tries of the last window;
// false when the step runs again.
func wrongTries(t *bot.Turn) (*bot.Tries, bool) {
	tr, err := bot.ReadTries(t.Tx(), triesKind, triesID(t.Event().Addr), wrongWindow)
	if busy(err) {
		return nil, false
	}
	return tr, true
}
