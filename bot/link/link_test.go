package link_test

import (
	"context"
	"flag"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/adapters/console"
	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/dialogtest"
	"github.com/ampel-bot/ampel/bot/features"
	"github.com/ampel-bot/ampel/bot/link"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata/")

// world is one person, anna, with a private chat on Telegram, on Slack and
// on the console, all on one engine: Telegram shows buttons, Slack has
// its commands behind /ampel, the console types its buttons.
type world struct {
	t      *testing.T
	e      *bot.Engine
	store  *bottest.MemStore
	clock  *bottest.Clock
	recs   map[string]*bottest.Recorder
	lang   string
	n      int
	button map[string][]bot.Button
}

var chats = map[string]bot.Address{
	"telegram": {Platform: "telegram", Chat: "4711", User: "4711"},
	"slack":    {Platform: "slack", Workspace: "T1", Chat: "DANNA", User: "UANNA"},
	"console":  console.Address(),
}

func newWorld(t *testing.T, lang string) *world {
	t.Helper()
	link.CountCodes(t)
	w := &world{t: t, store: bottest.NewMemStore(), clock: bottest.NewClock(dialogtest.Start), lang: lang,
		recs: map[string]*bottest.Recorder{
			"telegram": {Name: "telegram"},
			"slack":    {Name: "slack", Prefix: "/ampel", ShowsForms: true},
			"console":  {Name: console.Platform, Typed: true, ShowsFiles: true},
		}, button: map[string][]bot.Button{}}
	w.start()
	return w
}

// start starts an engine on the world's store.
func (w *world) start() {
	catalog, texts := bottest.Content(w.t)
	var err error
	w.e, err = bot.New(bot.Config{Store: w.store, Flows: catalog, Texts: texts, Clock: w.clock,
		Zone: bottest.Zone("Europe/Berlin"), Features: features.All()})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, r := range w.recs {
		w.e.Register(r)
	}
	w.t.Cleanup(w.e.Close)
}

// event hands ev from the chat on platform p to the engine and returns
// what was sent, rendered per chat.
func (w *world) event(p string, ev bot.Event) []bottest.Sent {
	w.t.Helper()
	w.n++
	if ev.ID == "" {
		ev.ID = "e" + strconv.Itoa(w.n)
	}
	ev.Addr, ev.LangHint, ev.UserName = chats[p], w.lang, "Anna"
	if err := w.e.Handle(context.Background(), ev); err != nil {
		w.t.Fatalf("handle %+v: %v", ev, err)
	}
	return w.take()
}

func (w *world) take() []bottest.Sent {
	w.t.Helper()
	if err := w.e.Settle(context.Background()); err != nil {
		w.t.Fatal(err)
	}
	w.clock.Add(time.Second)
	var all []bottest.Sent
	for _, p := range []string{"telegram", "slack", "console"} {
		sent := w.recs[p].Take()
		for _, s := range sent {
			if len(s.Msg.Buttons) > 0 {
				w.button[p] = s.Msg.Flat()
			}
		}
		all = append(all, sent...)
	}
	return all
}

func (w *world) say(p, text string) string {
	w.t.Helper()
	return render(w.event(p, bot.Event{Text: text}))
}

func (w *world) press(p string, n int) string {
	w.t.Helper()
	b := w.button[p]
	if n < 1 || n > len(b) {
		w.t.Fatalf("%s has no button %d (has %d)", p, n, len(b))
	}
	return render(w.event(p, bot.Event{Action: b[n-1].Action}))
}

func render(sent []bottest.Sent) string {
	var b strings.Builder
	for _, s := range sent {
		b.WriteString("→ " + s.To.Platform + "\n")
		b.WriteString(console.Render(s.Msg))
	}
	return b.String()
}

// play plays a script: "[telegram] > text", "[slack] ~ press 2",
// "~ +10m" (the clock goes on), "~ due" (reminders), "# comment".
func (w *world) play(script string) string {
	w.t.Helper()
	return dialogtest.PlayScript(w.t, script, w.e, w.clock, func(line string) string {
		p, what, _ := strings.Cut(line[1:], "] ")
		switch {
		case strings.HasPrefix(what, "> "):
			return w.say(p, strings.TrimPrefix(what, "> "))
		case strings.HasPrefix(what, "~ press "):
			n, err := strconv.Atoi(strings.TrimPrefix(what, "~ press "))
			if err != nil {
				w.t.Fatalf("bad line %q", line)
			}
			return w.press(p, n)
		}
		w.t.Fatalf("bad line %q", line)
		return ""
	}, func() string { return render(w.take()) })
}

// link links the Slack chat to the Telegram one, with a code asked for
// on Telegram, and returns the code.
func (w *world) link(t *testing.T) string {
	t.Helper()
	c := code(t, w.say("telegram", "/link"))
	w.say("slack", "/link "+c)
	return c
}

// TestTranscripts plays every linking dialogue in testdata/ and compares
// what the person sees on each platform with the golden file; -update
// rewrites them.
func TestTranscripts(t *testing.T) {
	dialogtest.Goldens(t, *update, "go test ./bot/link -update", func(t *testing.T, file, script string) string {
		lang := strings.TrimSuffix(file[strings.LastIndex(file, "-")+1:], ".txt")
		return newWorld(t, lang).play(script)
	})
}

// conv is the stored conversation of the chat on platform p.
func (w *world) conv(p string) *bot.Conversation {
	w.t.Helper()
	c, err := w.e.Load(context.Background(), chats[p])
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// code is the code the newest reply gave.
func code(t *testing.T, reply string) string {
	t.Helper()
	i := strings.Index(reply, "/link ")
	if i < 0 {
		t.Fatalf("no code in %q", reply)
	}
	return strings.Fields(reply[i+len("/link "):])[0]
}

// TestCheckBegunOnOneFinishedOnAnother: a check begun on Telegram goes on
// on Slack where it stood, and its plan is one plan.
func TestCheckBegunOnOneFinishedOnAnother(t *testing.T) {
	w := newWorld(t, "en")
	w.say("telegram", "/check zo-kmu")
	c := code(t, w.say("telegram", "/link"))
	if got := w.say("slack", "/link "+c); !strings.Contains(got, "Linked: Telegram, Slack") {
		t.Fatalf("/link CODE on Slack: got %q", got)
	}
	got := w.say("slack", "/check")
	if !strings.Contains(got, "→ slack") || strings.Contains(got, "→ telegram") {
		t.Fatalf("/check on Slack: got %q, want the check to go on there", got)
	}
	tg, sl := w.conv("telegram"), w.conv("slack")
	if tg.Run == nil || sl.Run != nil {
		t.Fatalf("after linking: Telegram's run %v, Slack's %v; want one run, in the conversation that gave the code", tg.Run, sl.Run)
	}
}

// TestCodeRules: a code is good once, for 10 minutes; five wrong tries
// lock the one who tries; a code in a group is refused.
func TestCodeRules(t *testing.T) {
	t.Run("expires", func(t *testing.T) {
		w := newWorld(t, "en")
		c := code(t, w.say("telegram", "/link"))
		w.clock.Add(10 * time.Minute)
		if got := w.say("slack", "/link "+c); !strings.Contains(got, "does not fit") {
			t.Errorf("after 10 minutes: got %q, want the code refused", got)
		}
		if len(w.conv("telegram").Linked) != 0 {
			t.Error("linked with an expired code")
		}
	})
	t.Run("single use", func(t *testing.T) {
		w := newWorld(t, "en")
		c := w.link(t)
		w.say("slack", "/unlink")
		if got := w.say("console", "/link "+c); !strings.Contains(got, "does not fit") {
			t.Errorf("a code used before: got %q, want it refused", got)
		}
	})
	t.Run("five wrong tries lock", func(t *testing.T) {
		w := newWorld(t, "en")
		c := code(t, w.say("telegram", "/link"))
		for i := range 5 {
			if got := w.say("slack", "/link ZZZZZ"+strconv.Itoa(i+2)); !strings.Contains(got, "does not fit") {
				t.Fatalf("wrong try %d: got %q", i+1, got)
			}
		}
		if got := w.say("slack", "/link "+c); !strings.Contains(got, "does not fit") {
			t.Errorf("the right code after five wrong tries: got %q, want it refused as any", got)
		}
		if len(w.conv("telegram").Linked) != 0 {
			t.Error("linked after five wrong tries")
		}
	})
	t.Run("group", func(t *testing.T) {
		w := newWorld(t, "en")
		c := code(t, w.say("telegram", "/link"))
		ev := bot.Event{Text: "/link " + c, Group: true}
		w.n++
		ev.ID, ev.Addr, ev.LangHint = "g", bot.Address{Platform: "slack", Workspace: "T1", Chat: "CTEAM", User: "UANNA"}, "en"
		if err := w.e.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		if got := render(w.take()); !strings.Contains(got, "not in a group") {
			t.Errorf("a code in a group: got %q, want it refused", got)
		}
		if got := w.say("slack", "/link "+c); !strings.Contains(got, "Linked") {
			t.Errorf("the code after the group's try: got %q, want it still good", got)
		}
	})
}

// TestTwoChatsAtOnceTakeTurns: the person types in both linked chats at
// once; every answer counts, each on the one check, none lost or taken
// twice, and nothing deadlocks.
func TestTwoChatsAtOnceTakeTurns(t *testing.T) {
	w := newWorld(t, "en")
	w.say("telegram", "/check netz-qualitaet")
	w.link(t)
	done := make(chan error, 2)
	for _, p := range []string{"telegram", "slack"} {
		go func() {
			for i := range 7 {
				ev := bot.Event{ID: p + "-rate-" + strconv.Itoa(i), Addr: chats[p], Text: "1", LangHint: "en"}
				if err := w.e.Handle(context.Background(), ev); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	w.take()
	run := w.conv("telegram").Run
	if run == nil || len(run.Ratings) != 14 || run.Done.IsZero() {
		t.Fatalf("after 7 answers from each chat at once: %+v, want all 14 checkpoints rated and the check done", run)
	}
}

// TestRedeliveredEventOfLinkedChat: a platform delivering an event of a
// linked chat again (after a crash before its acknowledgement) has no
// second effect: its ID is remembered in its own chat's inbox.
func TestRedeliveredEventOfLinkedChat(t *testing.T) {
	w := newWorld(t, "en")
	w.say("telegram", "/check zo-kmu")
	w.link(t)
	first := render(w.event("slack", bot.Event{ID: "Ev-once", Text: "1"}))
	again := render(w.event("slack", bot.Event{ID: "Ev-once", Text: "1"}))
	if !strings.Contains(first, "2/7") || again != "" {
		t.Fatalf("an event and its redelivery: %q then %q, want one answer", first, again)
	}
	if run := w.conv("telegram").Run; run == nil || len(run.Ratings) != 1 {
		t.Fatalf("after a redelivered rating: %+v, want it counted once", run)
	}
	// The same ID from the other chat is another event.
	if got := render(w.event("telegram", bot.Event{ID: "Ev-once", Text: "1"})); !strings.Contains(got, "3/7") {
		t.Errorf("the same ID from Telegram: %q, want it handled", got)
	}
}

// TestLinksOutliveARestart: after a restart the linked chats are still
// one person: the engine reads the links when it starts.
func TestLinksOutliveARestart(t *testing.T) {
	w := newWorld(t, "en")
	w.say("telegram", "/check zo-kmu")
	w.say("telegram", "1")
	w.link(t)
	w.e.Close()
	w.start()
	if got := w.say("slack", "/check"); !strings.Contains(got, "2/7") {
		t.Fatalf("/check on Slack after a restart: %q, want the linked check where it stood", got)
	}
}

// TestRetentionTakesUnusedCodes: a code nobody used, and the wrong tries
// at codes, are gone after the next retention sweep; a link in use stays.
func TestRetentionTakesUnusedCodes(t *testing.T) {
	w := newWorld(t, "en")
	w.link(t)
	w.say("telegram", "/link")
	w.say("console", "/link WRONG2")
	w.clock.Add(24 * time.Hour)
	if _, err := w.e.Sweep(context.Background(), w.clock.Now().AddDate(-1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{link.CodeKind, "link-tries"} {
		if ids, _ := w.store.RecordsWith(context.Background(), kind, ""); len(ids) > 0 {
			t.Errorf("after the sweep: %d records of %s, want none", len(ids), kind)
		}
	}
	if got := w.say("slack", "/unlink"); !strings.Contains(got, "Unlinked") {
		t.Errorf("/unlink after the sweep: %q, want the link kept", got)
	}
}

// TestFeaturesReachThePersonThroughAnyChat: a feature reaching a linked
// person through one of their chats (a share's owner, a meeting's member)
// gets their one conversation, the check and plan they use now, not what
// that chat held before it was linked.
func TestFeaturesReachThePersonThroughAnyChat(t *testing.T) {
	w := newWorld(t, "en")
	w.say("telegram", "/check zo-kmu")
	w.link(t)
	var run *bot.Run
	err := w.e.Do(context.Background(), "look", func(tx *bot.Tx) error {
		conv, err := tx.Conversation(chats["slack"])
		if err == nil {
			run = conv.Run
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if run == nil || run.Flow != "zo-kmu" {
		t.Fatalf("the Slack chat's conversation in a transaction: run %+v, want the check begun on Telegram", run)
	}
}

// TestWhichQuestionNamesWhatEachHolds: when both chats hold something,
// the question says what — a plan and its measures, a check and how far
// it is rated, a plan whose check is gone, a check no longer offered — so
// the person can tell which to keep.
func TestWhichQuestionNamesWhatEachHolds(t *testing.T) {
	for _, c := range []struct {
		name  string
		tg    func(c *bot.Conversation)
		slack []string // typed on Slack first
		sl    func(c *bot.Conversation)
		want  []string
	}{{
		name: "plan and check",
		tg: func(c *bot.Conversation) {
			c.Run = &bot.Run{Flow: "zo-kmu", Started: dialogtest.Start, Done: dialogtest.Start, Ratings: map[string]string{}}
			c.Plan.Measures = []bot.Measure{{ID: 1, Text: "Ask three firms", Status: bot.StatusOpen}, {ID: 2, Text: "Write down our offer", Status: bot.StatusOpen}}
		},
		slack: []string{"/check kmu-zo", "1"},
		want: []string{"Slack: Working with non-profits in the region – 1 of 7 checkpoints rated",
			"Telegram: Working with SMEs in the region – plan with 2 measures"},
	}, {
		name: "no check to name",
		tg:   func(c *bot.Conversation) { c.Run = &bot.Run{Flow: "retired-check", Started: dialogtest.Start} },
		sl: func(c *bot.Conversation) {
			c.Plan.Measures = []bot.Measure{{ID: 1, Text: "Ask three firms", Status: bot.StatusOpen}}
		},
		want: []string{"Telegram: a check that is no longer offered", "Slack: plan with 1 measure\n"},
	}} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, "en")
			for p, set := range map[string]func(*bot.Conversation){"telegram": c.tg, "slack": c.sl} {
				if set == nil {
					continue
				}
				err := w.e.Do(context.Background(), "set-"+p, func(tx *bot.Tx) error {
					conv, err := tx.Conversation(chats[p])
					if err != nil {
						return err
					}
					conv.Lang = "en"
					set(conv)
					conv.Plan.NextID = len(conv.Plan.Measures) + 1
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			for _, in := range c.slack {
				w.say("slack", in)
			}
			code := code(t, w.say("telegram", "/link"))
			got := w.say("slack", "/link "+code)
			for _, want := range c.want {
				if !strings.Contains(got, want) {
					t.Errorf("the keep-which question: %q; want it to say %q", got, want)
				}
			}
		})
	}
}
