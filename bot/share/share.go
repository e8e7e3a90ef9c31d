// Package share lets the owner of an action plan share it read-only with
// an adviser. /share, in the chat that holds the plan (a private chat or
// a team channel), makes a code for it and says how to open it: on
// Telegram the link t.me/<bot>?start=share_<code>, anywhere "/open CODE"
// ("/ampel open CODE" on Slack and Mattermost). Whoever opens it, on any
// platform, follows the plan: a live message in their private chat that
// changes with every change of the plan, committed with that change
// (bot.PlanChanged), with a button per measure to leave a comment, which
// the owner is told of and the share keeps. Nothing else of the plan can
// a follower change. /share shows the owner who follows; /share revoke
// (or its button) ends every follower's access at once: each live
// message says so, and a later open or press gets nothing of the plan.
//
// A code is 10 characters of base32 (a–z, 2–7) from crypto/rand: 50 bits,
// 2^50 ≈ 10^15 codes. A person gets 5 wrong tries an hour (per platform
// user; a revoked code is unknown); after them every try, right or
// wrong, is refused for the rest of the hour with the same answer an
// unknown code gets, so a try tells nothing about whether the code
// exists. Guessing one of a thousand live codes at 5 tries an hour takes
// about 2^50/1000/5 hours: over 25 million years.
//
// A share is a record of its own (kind "share", its code as ID), read and
// changed through the turn's transaction (bot.Tx); the owner's chat knows
// it by Conversation.Records["share"].
package share

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/plan"
)

// Kind is the kind of a share's record, and the key of the owner's chat's
// Records that names it.
const Kind = "share"

// triesKind is the kind of the record of a person's wrong tries.
const triesKind = "share-tries"

// ModeComment is a follower writing a comment on measure Dialog.Target of
// the share Dialog.Ref.
const ModeComment = "share-comment"

const (
	codeLen      = 10 // base32 characters: 50 bits
	maxWrong     = 5  // wrong tries a person gets …
	wrongWindow  = time.Hour
	maxFollowers = 50
	maxComments  = 200 // kept, the oldest dropped
	maxComment   = 500 // characters
	maxNameLen   = 80
)

// Share is a plan shared read-only, stored as the record Kind/Code.
type Share struct {
	Code string `json:"code"`
	// Owner is the chat that holds the plan (User empty).
	Owner bot.Address `json:"owner"`
	// By is how the one who shared it is named ("" when the platform
	// gives no name).
	By        string     `json:"by,omitempty"`
	Followers []Follower `json:"followers,omitempty"`
	Comments  []Comment  `json:"comments,omitempty"`
	Created   time.Time  `json:"created"`
}

// Follower is one who opened the share.
type Follower struct {
	bot.Person
	// Chat is the follower's private chat, where the live message is.
	Chat bot.Address `json:"chat"`
	// Lang is the language of the follower's messages.
	Lang  string    `json:"lang,omitempty"`
	Since time.Time `json:"since"`
}

// Comment is a follower's comment on a measure.
type Comment struct {
	By      string    `json:"by"`
	Measure int       `json:"m"`
	Text    string    `json:"text"`
	At      time.Time `json:"at"`
}

// Feature is sharing a plan.
func Feature() bot.Feature {
	return bot.Feature{
		Name:  "share",
		Modes: []bot.Mode{{Name: ModeComment, Ask: askComment, Text: commentText, Words: true, Cancel: "share.comment.cancel"}},
		Commands: []bot.Cmd{
			{Name: "share", Args: true, Run: cmdShare},
			{Name: "open", Args: true, Run: cmdOpen},
		},
		Lasting: map[string]func(*bot.Turn, string){"sh": press},
		On: map[string]func(*bot.Turn) bool{
			bot.StartArg:    startLink,
			bot.PlanChanged: planChanged,
		},
		Personal: Personal(),
	}
}

// newCode makes a share's code (see the package doc).
var newCode = func() string {
	var b [7]byte
	_, _ = rand.Read(b[:]) // never fails
	return strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))[:codeLen]
}

// get reads the share code through the turn's transaction; false when
// there is none or the step runs again (bot.ErrBusy). Other errors of the
// store end the step as a failure.
func get(t *bot.Turn, code string) (*Share, bool) {
	tx := t.Tx()
	if tx == nil || code == "" || len(code) > 64 {
		return nil, false
	}
	var s Share
	found, err := tx.Get(Kind, code, &s)
	if errors.Is(err, bot.ErrBusy) {
		return nil, false
	}
	if err != nil {
		panic(err)
	}
	return &s, found
}

// put stores v as kind/id with the turn's commit (see get for errors).
func put(t *bot.Turn, kind, id string, v any) {
	if err := t.Tx().Put(kind, id, v); err != nil && !errors.Is(err, bot.ErrBusy) {
		panic(err)
	}
}

// owner is the owner's conversation, to read its plan and write to it;
// nil when the step runs again.
func owner(t *bot.Turn, s *Share) *bot.Conversation {
	if ownChat(t, s) {
		return t.Conv()
	}
	c, err := t.Tx().Conversation(s.Owner)
	if errors.Is(err, bot.ErrBusy) {
		return nil
	}
	if err != nil {
		panic(err)
	}
	return c
}

// ownChat reports whether the turn is in the chat that holds the plan.
func ownChat(t *bot.Turn, s *Share) bool {
	a := t.Event().Addr
	return a.Platform == s.Owner.Platform && a.Workspace == s.Owner.Workspace && a.Chat == s.Owner.Chat
}

// follower returns the place of the follower whose private chat the
// turn is in, or -1.
func (s *Share) follower(t *bot.Turn) int {
	a := t.Event().Addr
	for i, f := range s.Followers {
		if f.Chat.Platform == a.Platform && f.Chat.Workspace == a.Workspace && f.Chat.Chat == a.Chat {
			return i
		}
	}
	return -1
}

// live is the key of a share's message in a follower's chat.
func live(s *Share) string { return "share:" + s.Code }

// cmdShare is /share [revoke].
func cmdShare(t *bot.Turn, args []string) {
	s, ok := get(t, t.Conv().Records[Kind])
	if t.Tx() == nil {
		return
	}
	if len(args) > 0 && revokeWord(t, args[0]) {
		if !ok {
			t.Note(t.T("share.none"))
			t.Reask()
			return
		}
		revoke(t, s)
		return
	}
	if !ok {
		if s = create(t); s == nil {
			return
		}
	}
	m := status(t, s)
	t.Offer(m)
	t.Say(m)
}

// revokeWord reports whether arg is /share's word for revoking, in any
// language.
func revokeWord(t *bot.Turn, arg string) bool {
	arg = strings.ToLower(arg)
	if arg == "revoke" {
		return true
	}
	for _, lang := range t.Texts().Langs() {
		if strings.ToLower(t.Texts().T(lang, "share.arg.revoke")) == arg {
			return true
		}
	}
	return false
}

// create shares the plan of the turn's chat under a new code.
func create(t *bot.Turn) *Share {
	var code string
	for range 4 {
		code = newCode()
		var old Share
		taken, err := t.Tx().Get(Kind, code, &old)
		if errors.Is(err, bot.ErrBusy) {
			return nil
		}
		if err != nil {
			panic(err)
		}
		if !taken {
			break
		}
	}
	a := t.Event().Addr
	s := &Share{Code: code, Owner: bot.Address{Platform: a.Platform, Workspace: a.Workspace, Chat: a.Chat}, By: name(t), Created: t.Now().UTC()}
	put(t, Kind, code, s)
	c := t.Conv()
	if c.Records == nil {
		c.Records = map[string]string{}
	}
	c.Records[Kind] = code
	return s
}

// name is how the platform names the turn's user, or "".
func name(t *bot.Turn) string {
	if n := bot.CleanInput(t.Event().UserName); n != "" && bot.RuneLen(n) <= maxNameLen {
		return n
	}
	return ""
}

// status is what the owner sees of a share: the code, how to open it,
// who follows, and the button that ends it.
func status(t *bot.Turn, s *Share) bot.Message {
	how := t.T("share.how", "Code", s.Code)
	if link, ok := t.StartLink("share_" + s.Code); ok {
		how = t.T("share.how.link", "Code", s.Code, "Link", link)
	}
	lines := []string{t.T("share.status", "Code", s.Code), how, ""}
	if len(s.Followers) == 0 {
		lines = append(lines, t.T("share.followers.none"))
	} else {
		var names []string
		for _, f := range s.Followers {
			names = append(names, f.Name)
		}
		lines = append(lines, t.T("share.followers", "Count", len(names), "Names", strings.Join(names, ", ")))
	}
	return bot.Message{Text: strings.Join(lines, "\n"), Buttons: [][]bot.Button{
		{{Label: t.T("button.share.revoke"), Action: "sh:" + s.Code + ":revoke"}},
	}}
}

// revoke ends every access to s: each follower's live message says so.
// The record goes with its followers and comments (the owner was told
// each), so the code opens nothing and its buttons find nothing.
func revoke(t *bot.Turn, s *Share) {
	if err := t.Tx().Delete(Kind, s.Code); err != nil && !errors.Is(err, bot.ErrBusy) {
		panic(err)
	}
	if t.Conv().Records[Kind] == s.Code {
		delete(t.Conv().Records, Kind)
	}
	for _, f := range s.Followers {
		w := t.Elsewhere(&bot.Conversation{Addr: f.Chat, Lang: f.Lang})
		w.Say(bot.Message{Text: w.T("share.ended"), Live: live(s)})
	}
	t.Note(t.T("share.revoked"))
	t.Reask()
}

// cmdOpen is /open CODE.
func cmdOpen(t *bot.Turn, args []string) {
	if len(args) == 0 {
		t.Note(t.T("share.open.usage"))
		t.Reask()
		return
	}
	open(t, args[0])
}

// startLink is /start share_<code> (a Telegram deep link).
func startLink(t *bot.Turn) bool {
	fields := strings.Fields(t.Event().Text)
	if len(fields) != 2 || !strings.HasPrefix(fields[1], "share_") {
		return false
	}
	open(t, strings.TrimPrefix(fields[1], "share_"))
	return true
}

// open makes the turn's chat a follower of the share code, and shows the
// plan there; a locked person or an unknown or revoked code gets one and
// the same answer.
func open(t *bot.Turn, code string) {
	if t.Event().Group {
		t.Note(t.T("share.open.private"))
		t.Reask()
		return
	}
	if t.Tx() == nil {
		return
	}
	code = strings.ToLower(strings.TrimSpace(code))
	tr, ok := wrongTries(t)
	if !ok {
		return
	}
	if len(tr.Wrong) >= maxWrong {
		t.Note(t.T("share.open.no"))
		t.Reask()
		return
	}
	s, found := get(t, code)
	if !found || len(code) != codeLen {
		tr.Wrong = append(tr.Wrong, t.Now().UTC())
		put(t, triesKind, triesID(t), tr)
		t.Note(t.T("share.open.no"))
		t.Reask()
		return
	}
	if ownChat(t, s) {
		t.Note(t.T("share.open.own"))
		t.Reask()
		return
	}
	oc := owner(t, s)
	if oc == nil {
		return
	}
	i := s.follower(t)
	if i < 0 {
		if len(s.Followers) >= maxFollowers {
			t.Note(t.T("share.full"))
			t.Reask()
			return
		}
		a := t.Event().Addr
		who := name(t)
		if who == "" {
			who = t.T("share.someone", "N", len(s.Followers)+1)
		}
		s.Followers = append(s.Followers, Follower{Person: bot.Person{ID: a.User, Name: who},
			Chat: bot.Address{Platform: a.Platform, Workspace: a.Workspace, Chat: a.Chat}, Lang: t.Lang(), Since: t.Now().UTC()})
		i = len(s.Followers) - 1
		put(t, Kind, s.Code, s)
		o := t.Elsewhere(oc)
		o.Say(bot.Message{Text: o.T("share.followed", "Name", who)})
	} else {
		s.Followers[i].Lang = t.Lang()
		put(t, Kind, s.Code, s)
	}
	m := view(t, s, &oc.Plan, t.Lang())
	t.Offer(m)
	t.Say(m)
}

// triesID names the record of the wrong tries of the turn's user.
func triesID(t *bot.Turn) string {
	a := t.Event().Addr
	who := a.User
	if who == "" {
		who = "chat:" + a.Chat
	}
	return a.Platform + "/" + a.Workspace + "/" + who
}

// wrongTries reads the turn's user's wrong tries of the last hour; false
// when the step runs again.
func wrongTries(t *bot.Turn) (*bot.Tries, bool) {
	tr, err := bot.ReadTries(t.Tx(), triesKind, triesID(t), wrongWindow)
	if errors.Is(err, bot.ErrBusy) {
		return nil, false
	}
	if err != nil {
		panic(err)
	}
	return tr, true
}

// view is the follower's live message: the plan as its owner sees it,
// in the follower's language lang, with a button per measure to comment.
func view(t *bot.Turn, s *Share, p *bot.Plan, lang string) bot.Message {
	// The owner's "me" is, to the follower, the one who shared it.
	shown := *p
	shown.Measures = slices.Clone(p.Measures)
	for i := range shown.Measures {
		if m := &shown.Measures[i]; m.Me && s.By != "" {
			m.Me, m.Responsible = false, s.By
		}
	}
	p = &shown
	v := t.Elsewhere(&bot.Conversation{Addr: t.Conv().Addr, Lang: lang, Plan: shown})
	title := v.T("share.view.title.anon")
	if s.By != "" {
		title = v.T("share.view.title", "Owner", s.By)
	}
	visible := p.Visible()
	if len(visible) == 0 {
		return bot.Message{Text: title + "\n\n" + v.T("share.view.empty"), Live: live(s)}
	}
	text := title + "\n\n" + plan.View(v).Text + "\n\n" + v.T("share.view.comment")
	rows := bot.NumberRows(len(visible), func(i int) string {
		return "sh:" + s.Code + ":c:" + strconv.Itoa(visible[i].ID)
	})
	return bot.Message{Text: text, Buttons: rows, Live: live(s)}
}

// planChanged brings every follower's live message to the plan the turn
// leaves, with its commit.
func planChanged(t *bot.Turn) bool {
	s, ok := get(t, t.Conv().Records[Kind])
	if !ok {
		return false
	}
	for _, f := range s.Followers {
		w := t.Elsewhere(&bot.Conversation{Addr: f.Chat, Lang: f.Lang})
		w.Say(view(w, s, &t.Conv().Plan, f.Lang))
	}
	return false
}

// press handles "sh:<code>:revoke" (the owner) and
// "sh:<code>:c:<measure>" (a follower).
func press(t *bot.Turn, action string) {
	parts := strings.Split(action, ":")
	if len(parts) < 3 {
		t.Reask()
		return
	}
	s, ok := get(t, parts[1])
	if t.Tx() == nil {
		return
	}
	if !ok {
		t.Note(t.T("share.gone"))
		t.Reask()
		return
	}
	switch {
	case parts[2] == "revoke" && ownChat(t, s):
		revoke(t, s)
	case parts[2] == "c" && len(parts) == 4 && s.follower(t) >= 0:
		id, err := strconv.Atoi(parts[3])
		oc := owner(t, s)
		if oc == nil {
			return
		}
		if m := oc.Plan.Find(id); err != nil || m == nil || m.Status == bot.StatusDropped {
			t.Note(t.T("share.comment.gone"))
			t.Reask()
			return
		}
		t.SideTrip()
		d := t.Dialog()
		d.Ref, d.Target = s.Code, id
		t.To(ModeComment)
		t.Ask()
	default:
		t.Note(t.T("share.gone"))
		t.Reask()
	}
}

// commentOn is the share and measure a follower comments on, with the
// owner's conversation; false when they are gone (a note says so) or the
// step runs again.
func commentOn(t *bot.Turn) (*Share, *bot.Conversation, *bot.Measure, bool) {
	d := t.Dialog()
	s, ok := get(t, d.Ref)
	if !ok || s.follower(t) < 0 {
		t.Note(t.T("share.gone"))
		return nil, nil, nil, false
	}
	oc := owner(t, s)
	if oc == nil {
		return nil, nil, nil, false
	}
	m := oc.Plan.Find(d.Target)
	if m == nil || m.Status == bot.StatusDropped {
		t.Note(t.T("share.comment.gone"))
		return nil, nil, nil, false
	}
	return s, oc, m, true
}

func askComment(t *bot.Turn) (bot.Message, bool) {
	_, _, m, ok := commentOn(t)
	if !ok {
		return bot.Message{}, false
	}
	// No buttons: the plan's message stays the newest with buttons, to
	// comment on another measure instead; /cancel is the way out.
	return bot.Message{Text: t.T("share.comment.ask", "Text", m.Text)}, true
}

func commentText(t *bot.Turn, text string) {
	s, oc, m, ok := commentOn(t)
	if !ok {
		leave(t)
		return
	}
	if bot.RuneLen(text) > maxComment {
		t.Note(t.T("share.comment.toolong", "Max", maxComment))
		t.Ask()
		return
	}
	f := s.Followers[s.follower(t)]
	s.Comments = append(s.Comments, Comment{By: f.Name, Measure: m.ID, Text: text, At: t.Now().UTC()})
	if len(s.Comments) > maxComments {
		s.Comments = s.Comments[len(s.Comments)-maxComments:]
	}
	put(t, Kind, s.Code, s)
	o := t.Elsewhere(oc)
	o.Say(bot.Message{Text: o.T("share.comment.told", "Name", f.Name, "Measure", m.Text, "Text", text)})
	t.Note(t.T("share.comment.sent"))
	leave(t)
}

// leave ends the comment: back to the question the follower was at, else
// only what was noted is said, and the plan's message stays the newest
// with buttons.
func leave(t *bot.Turn) {
	d := t.Dialog()
	d.Ref, d.Target = "", 0
	if t.EndSideTrip() {
		return
	}
	t.To(bot.ModeIdle)
	d.Options = nil
}
