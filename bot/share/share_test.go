package share_test

import (
	"context"
	"flag"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/dialogtest"
	"github.com/ampel-bot/ampel/bot/share"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata/")

// canary is in the text of every measure of the seeded plan: a reply
// that holds it shows the plan.
const canary = "Kanarienvogel"

// seed gives anna's private chat a plan of two open measures, in lang.
func seed(t *testing.T, g *dialogtest.Group, lang string) {
	t.Helper()
	addr := g.Private("anna")
	addr.User = ""
	c := &bot.Conversation{Addr: addr, Lang: lang, Plan: bot.Plan{NextID: 2, Measures: []bot.Measure{
		{ID: 1, Flow: "zo-kmu", Checkpoint: "nutzen", Text: "Nutzen klären (" + canary + " 1)", Priority: "high", Me: true, Start: "2027-03-15", Review: "2027-04-15", Status: bot.StatusOpen},
		{ID: 2, Flow: "zo-kmu", Checkpoint: "moeglichkeiten", Text: "Partner anfragen (" + canary + " 2)", Priority: "medium", Responsible: "Bert", Start: "2027-03-22", Review: "2027-05-03", Status: bot.StatusOpen},
	}}}
	if _, err := g.Store.Commit(context.Background(), "seed", g.Private("anna").Key(), c, nil); err != nil {
		t.Fatal(err)
	}
}

// group is a group on the platform of lang, with anna's plan seeded.
func group(t *testing.T, lang string) (*dialogtest.Group, *bottest.Editing) {
	t.Helper()
	share.CountCodes(t)
	rec, private := dialogtest.Platform(lang)
	g := dialogtest.NewGroup(t, rec)
	g.Lang, g.PrivateChat = lang, private
	seed(t, g, lang)
	ed, ok := rec.(*bottest.Editing)
	if !ok {
		ed = rec.(dialogtest.Linking).Editing
	}
	return g, ed
}

// TestTranscripts plays every sharing dialogue in testdata/ and compares
// what each person would see with the golden file; -update rewrites them.
func TestTranscripts(t *testing.T) {
	dialogtest.Goldens(t, *update, "go test ./bot/share -update", func(t *testing.T, file, script string) string {
		lang := strings.TrimSuffix(file[strings.LastIndex(file, "-")+1:], ".txt")
		g, _ := group(t, lang)
		return g.Play(script)
	})
}

// say is what user typed (private chat) and the texts of every reply.
func say(g *dialogtest.Group, user, text string) string {
	return texts(g.Event(user, true, bot.Event{Text: text}))
}

func texts(sent []bottest.Sent) string {
	var b strings.Builder
	for _, s := range sent {
		b.WriteString(s.Msg.Text + "\n")
		for _, row := range s.Msg.Buttons {
			for _, btn := range row {
				b.WriteString("[" + btn.Label + "]\n")
			}
		}
	}
	return b.String()
}

// TestRevokedReadsNothing: once the owner revokes, the adviser's live
// message says so, and nothing the adviser does after – pressing the
// old comment buttons, typing the code again, opening the link, while
// the plan changes – gets a reply holding any of the plan.
func TestRevokedReadsNothing(t *testing.T) {
	g, ed := group(t, "en")
	say(g, "anna", "/share")
	if got := say(g, "bert", "/open code000001"); !strings.Contains(got, canary) {
		t.Fatalf("bert opens: got %q, want the plan", got)
	}
	comment := g.Button("bert", 1)
	g.Event("bert", true, bot.Event{Action: comment}) // bert begins a comment …
	g.Event("anna", true, bot.Event{Text: "/share revoke"})
	live := lastLive(t, g, ed, "bert")
	if strings.Contains(live.Text, canary) || len(live.Buttons) > 0 {
		t.Errorf("bert's live message after revoking: %q %v, want it to say it ended", live.Text, live.Buttons)
	}
	after := len(g.Sent)
	afterEdits := len(g.Edits)
	for _, step := range []bot.Event{
		{Text: "a comment after the end"}, // … and finishes it
		{Action: comment},
		{Text: "/open code000001"},
		{Text: "/start share_code000001"},
		{Text: "1"},
		{Text: "/plan"},
	} {
		g.Event("bert", true, step)
	}
	// anna changes her plan: nothing may follow to bert.
	say(g, "anna", "/plan")
	g.Event("anna", true, bot.Event{Action: g.Button("anna", 1)}) // done
	g.Event("anna", true, bot.Event{Action: g.Button("anna", 1)}) // the first measure
	n := 0
	for _, s := range append(g.Sent[after:], edits(g.Edits[afterEdits:])...) {
		if s.To.Chat != g.PrivateChat("bert") {
			continue
		}
		n++
		if strings.Contains(texts([]bottest.Sent{s}), canary) {
			t.Errorf("after revoking, bert got plan data: %q", s.Msg.Text)
		}
	}
	if n < 6 {
		t.Errorf("bert got %d replies after revoking, want one to each of his 6 messages", n)
	}
	for _, s := range g.Sent[after:] {
		if s.To.Chat == g.PrivateChat("anna") && strings.Contains(s.Msg.Text, "a comment after the end") {
			t.Errorf("a comment after revoking reached anna: %q", s.Msg.Text)
		}
	}
}

func edits(es []bottest.Edit) []bottest.Sent {
	var s []bottest.Sent
	for _, e := range es {
		s = append(s, bottest.Sent{To: e.To, Msg: e.Msg})
	}
	return s
}

// lastLive is the share's live message in user's chat as it is shown.
func lastLive(t *testing.T, g *dialogtest.Group, ed *bottest.Editing, user string) bot.Message {
	t.Helper()
	ref, ok, err := g.Store.Live(context.Background(), g.Private(user).Key(), "share:code000001")
	if err != nil || !ok {
		t.Fatalf("%s has no live message of the share", user)
	}
	return ed.Shown(ref.Ref)
}

// TestTwoAdvisersFollow: the plan changes while two advisers follow,
// several times within a second: both live messages end on the newest
// plan, edited in place (no second message).
func TestTwoAdvisersFollow(t *testing.T) {
	g, ed := group(t, "de")
	say(g, "anna", "/share")
	say(g, "bert", "/start share_code000001")
	say(g, "carl", "/open code000001")
	// Anna marks the first measure done and drops the second, each step
	// committed at once, the clock standing still.
	for i, step := range []string{"/plan", "1", "1", "/plan", "3", "1", "1"} {
		if err := g.Engine.Handle(context.Background(), bot.Event{ID: "anna-" + strconv.Itoa(i), Text: step, Addr: g.Private("anna"), LangHint: "de"}); err != nil {
			t.Fatal(err)
		}
	}
	g.Take()
	c := g.Conv(g.Private("anna"))
	if got := c.Plan.Find(1).Status; got != bot.StatusDone {
		t.Fatalf("first measure: %s, want done (the steps went wrong)", got)
	}
	if got := c.Plan.Find(2).Status; got != bot.StatusDropped {
		t.Fatalf("second measure: %s, want dropped (the steps went wrong)", got)
	}
	for _, u := range []string{"bert", "carl"} {
		live := lastLive(t, g, ed, u)
		if !strings.Contains(live.Text, "✅ Nutzen klären") || strings.Contains(live.Text, "Partner anfragen") {
			t.Errorf("%s's live message: %q, want the first measure done and the second gone", u, live.Text)
		}
		posted := 0
		for _, s := range g.Sent {
			if s.To.Chat == g.PrivateChat(u) && s.Msg.Live != "" {
				posted++
			}
		}
		if posted != 1 {
			t.Errorf("%s got %d live messages, want one, edited", u, posted)
		}
	}
}

// TestWrongTriesLock: five wrong codes in an hour lock a person out for
// the rest of it: the right code is then refused with the same answer an
// unknown one gets; another person is not locked; an hour later the
// right code opens the plan.
func TestWrongTriesLock(t *testing.T) {
	g, _ := group(t, "en")
	say(g, "anna", "/share")
	unknown := say(g, "bert", "/open aaaaaaaaaa")
	if strings.Contains(unknown, canary) {
		t.Fatalf("a wrong code showed the plan: %q", unknown)
	}
	for _, code := range []string{"bbbbbbbbbb", "code000002", "x", "code00000"} {
		if got := say(g, "bert", "/open "+code); got != unknown {
			t.Errorf("wrong code %q: got %q, want %q", code, got, unknown)
		}
	}
	if got := say(g, "bert", "/open code000001"); got != unknown {
		t.Errorf("the right code after five wrong ones: got %q, want the same answer as a wrong code", got)
	}
	if got := say(g, "carl", "/open code000001"); !strings.Contains(got, canary) {
		t.Errorf("carl, with no wrong tries: got %q, want the plan", got)
	}
	g.Clock.Add(time.Hour)
	if got := say(g, "bert", "/open code000001"); !strings.Contains(got, canary) {
		t.Errorf("bert an hour later: got %q, want the plan", got)
	}
}

// TestCodes: a code is 10 characters of base32, 50 bits, and two are
// never alike in a thousand.
func TestCodes(t *testing.T) {
	g := dialogtest.NewGroup(t, &bottest.Editing{Recorder: bottest.Recorder{Name: "slack", Prefix: "/ampel"}})
	seen := map[string]bool{}
	re := regexp.MustCompile(`Code: ([a-z2-7]+)`)
	for i := range 200 {
		user := "u" + strconv.Itoa(i)
		m := re.FindStringSubmatch(say(g, user, "/share"))
		if m == nil || len(m[1]) != 10 {
			t.Fatalf("code %v: want 10 base32 characters", m)
		}
		if seen[m[1]] {
			t.Fatalf("code %s twice", m[1])
		}
		seen[m[1]] = true
	}
}

// TestChangedElsewhere: a change of the plan made outside the plan's own
// dialogue – the "done" button of a review reminder – reaches the
// follower too: every turn that changes a shared plan announces it.
func TestChangedElsewhere(t *testing.T) {
	g, ed := group(t, "en")
	say(g, "anna", "/share")
	say(g, "bert", "/open code000001")
	g.Event("anna", true, bot.Event{Action: "rv:2:drop"})
	live := lastLive(t, g, ed, "bert")
	if !strings.Contains(live.Text, "1 open measure") || strings.Contains(live.Text, "Partner anfragen") {
		t.Errorf("bert's live message after anna dropped a measure from its reminder: %q, want it gone", live.Text)
	}
}

// TestDeleteEndsAndLeavesShares: an adviser who deletes their data is
// no longer among the followers, and their comments are gone from the
// share (the owner got each already); an owner who deletes theirs ends
// the share, and the follower's message says sharing ended.
func TestDeleteEndsAndLeavesShares(t *testing.T) {
	g, ed := group(t, "en")
	say(g, "anna", "/share")
	say(g, "bert", "/open code000001")
	say(g, "carl", "/open code000001")
	g.Event("bert", true, bot.Event{Action: g.Button("bert", 1)})
	say(g, "bert", "Bert's canary comment")
	stored := func() string {
		t.Helper()
		b, err := g.Store.Record(context.Background(), bot.RecordRef{Kind: share.Kind, ID: "code000001"})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if s := stored(); !strings.Contains(s, "Bert's canary comment") || !strings.Contains(s, `"bert"`) {
		t.Fatalf("before: the share lacks bert or his comment: %s", s)
	}
	say(g, "bert", "/delete")
	say(g, "bert", "Yes, delete everything")
	if s := stored(); strings.Contains(s, "canary comment") || strings.Contains(s, `"bert"`) || strings.Contains(s, "Bert") || !strings.Contains(s, `"carl"`) {
		t.Errorf("after bert's /delete the share still names him, or lost carl: %s", s)
	}
	say(g, "anna", "/delete")
	say(g, "anna", "Yes, delete everything")
	if s := stored(); s != "" {
		t.Errorf("after the owner's /delete the share is still there: %s", s)
	}
	if live := lastLive(t, g, ed, "carl"); strings.Contains(live.Text, canary) || len(live.Buttons) > 0 {
		t.Errorf("carl's message after the owner's /delete: %q, want that sharing ended", live.Text)
	}
}
