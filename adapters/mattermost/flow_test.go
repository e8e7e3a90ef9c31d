package mattermost

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/ampel-bot/ampel/bot/bottest"
)

// chatter is a person in a direct channel with the bot.
type chatter struct {
	t       *testing.T
	e       *env
	user    string
	channel string
	seen    int
	log     []string
	presses int
}

func newChatter(t *testing.T, e *env, user, channel, lang string) *chatter {
	e.fake.addUser(user, lang, "Europe/Berlin")
	e.fake.addDM(channel, user)
	return &chatter{t: t, e: e, user: user, channel: channel}
}

// say posts text and returns the bot's new posts, once the adapter has
// handled it (replies are posted before Handle returns).
func (c *chatter) say(text string) []string {
	c.t.Helper()
	c.log = append(c.log, "> "+text)
	id := c.e.fake.userPost(c.channel, c.user, text)
	waitFor(c.t, "post "+id+" handled", func() bool { return c.e.rec.count(id) == 1 })
	return c.replies()
}

// tap presses the button whose label starts with label under the newest
// post with buttons; without buttons it types the number listed for it.
func (c *chatter) tap(label string) []string {
	c.t.Helper()
	posts := c.e.fake.botPosts(c.channel)
	for i := len(posts) - 1; i >= 0; i-- {
		p := posts[i]
		if acts := actionsOf(p); len(acts) > 0 {
			for _, a := range acts {
				if strings.HasPrefix(a.Name, label) {
					c.log = append(c.log, "~ tap "+label)
					if code := c.e.fake.deliverPress(c.e.mux, pressRequest(p, a, c.user)); code != 200 {
						c.t.Fatalf("press %q: HTTP %d\ntranscript:\n%s", label, code, strings.Join(c.log, "\n"))
					}
					c.presses++
					return c.replies()
				}
			}
			c.t.Fatalf("no button %q in the newest buttons\ntranscript:\n%s", label, strings.Join(c.log, "\n"))
		}
		if n := numberOf(shown(p.Message), label); n != "" {
			return c.say(n)
		}
	}
	c.t.Fatalf("no button or numbered line %q\ntranscript:\n%s", label, strings.Join(c.log, "\n"))
	return nil
}

var numberedLine = regexp.MustCompile(`(\d+)\) (.+?)(?:   |\n|$)`)

// numberOf finds "N) label…" in a shown text.
func numberOf(text, label string) string {
	n := ""
	for _, m := range numberedLine.FindAllStringSubmatch(text, -1) {
		if strings.HasPrefix(m[2], label) {
			n = m[1]
		}
	}
	return n
}

func (c *chatter) replies() []string {
	posts := c.e.fake.botPosts(c.channel)
	var out []string
	for _, p := range posts[c.seen:] {
		out = append(out, shown(p.Message))
		c.log = append(c.log, shown(p.Message))
	}
	c.seen = len(posts)
	return out
}

var scripts = []bottest.Script{bottest.German, bottest.English}

// userText is typed as a measure: Markdown and mentions that must come out
// literally and inert.
const userText = `Leitbild *fett* _kursiv_ ` + "`code`" + ` @channel @all [x](http://e.vil) # 1. <b>&`

// TestWholeCheckAndPlan runs the zo-kmu check and a plan in a direct
// channel, in German and English (the user's Mattermost locale), once with
// buttons (presses POSTed to the adapter's handler with the context the
// adapter put in the post, as the server does) and once with numbered
// replies only (no CallbackURL): every rating, the plan and its measure,
// through the real engine. It shows that contexts round-trip, that pressed
// posts show the choice and lose their buttons, that without a callback
// no post has buttons and the numbers typed work, that the locale and
// time zone reach the engine, that the user's text comes out escaped, and
// that every post, pressed ones too, stays marked as the bot's (from_bot).
func TestWholeCheckAndPlan(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string, sc bottest.Script, e *env) {
		e.run(nil)
		user := "user" + sc.Lang + strings.Repeat("u", 20)
		c := newChatter(t, e, user, "dm"+sc.Lang+strings.Repeat("d", 22), sc.Lang)
		expect := func(msgs []string, want string) {
			t.Helper()
			for _, m := range msgs {
				if strings.Contains(m, want) {
					return
				}
			}
			t.Fatalf("no reply contains %q\ntranscript:\n%s", want, strings.Join(c.log, "\n"))
		}
		expect(c.say("/start"), sc.Welcome)
		c.tap(sc.StartCheck) // which check: a list
		expect(c.tap(sc.Check), "1/7")
		expect(c.tap(sc.Red), "2/7")
		expect(c.say("2"), "3/7")
		expect(c.tap(sc.Green), "4/7")
		expect(c.say("3"), "5/7")
		expect(c.tap(sc.Green), "6/7")
		expect(c.say("3"), "7/7")
		expect(c.tap(sc.Green), "🔴 1 · 🟡 1 · 🟢 5")
		// The result's post carries its picture, uploaded to the channel.
		result := e.fake.botPosts(c.channel)
		if last := result[len(result)-1]; len(last.FileIds) != 1 || !strings.Contains(shown(last.Message), "🔴 1 · 🟡 1 · 🟢 5") ||
			!strings.HasSuffix(e.fake.file(last.FileIds[0]).name, ".png") || !bytes.HasPrefix(e.fake.file(last.FileIds[0]).data, []byte("\x89PNG")) {
			t.Errorf("the result's post has files %v, want its picture", last.FileIds)
		}
		c.tap(sc.BuildPlan)
		expect(c.say(userText), userText)
		c.tap(sc.High)
		c.say("Maria Schulz")
		expect(c.say(sc.InTwoWeeks), sc.StartLine)
		c.tap(sc.FourWeeks) // the red checkpoint's measure is saved
		c.tap(sc.Next)      // no other for it; now the yellow one
		expect(c.tap(sc.NoMeasure), sc.PlanHeader)

		conv := e.conv(c.channel)
		if n := len(conv.Plan.Measures); n != 1 || conv.Plan.Measures[0].Text != userText || conv.Plan.Measures[0].Priority != "high" {
			t.Errorf("stored plan = %+v, want one high-priority measure %q", conv.Plan.Measures, userText)
		}
		if conv.ZoneHint != "Europe/Berlin" || conv.Hint != sc.Lang {
			t.Errorf("hints = %q, %q; want %q, Europe/Berlin", conv.Hint, conv.ZoneHint, sc.Lang)
		}

		posts := e.fake.botPosts(c.channel)
		withButtons, marked := 0, 0
		for _, p := range posts {
			if len(actionsOf(p)) > 0 {
				withButtons++
			}
			if p.EditAt != 0 {
				marked++
				if len(actionsOf(p)) > 0 {
					t.Errorf("pressed post %s kept its buttons", p.Id)
				}
				if !strings.Contains(shown(p.Message), "\n\n✓ ") {
					t.Errorf("pressed post %s does not show the choice: %q", p.Id, p.Message)
				}
			}
			if strings.Contains(p.Message, "@channel") || strings.Contains(p.Message, "@all") || strings.Contains(p.Message, "*fett*") {
				t.Errorf("user text not escaped in post %s: %q", p.Id, p.Message)
			}
			if fromBot, _ := p.GetProps()[model.PostPropsFromBot].(string); fromBot != "true" {
				t.Errorf("post %s (edited %v) lost from_bot: props %v", p.Id, p.EditAt != 0, p.GetProps())
			}
			if p.PendingPostId == "" {
				t.Errorf("post %s created without pending_post_id", p.Id)
			}
		}
		switch mode {
		case "buttons":
			if c.presses != 11 || marked != 11 {
				t.Errorf("%d presses, %d posts marked; want 11 and 11", c.presses, marked)
			}
			if withButtons == 0 {
				t.Error("no post has buttons")
			}
		case "numbers":
			if withButtons != 0 || marked != 0 {
				t.Errorf("%d posts with buttons, %d edited; want none without a callback URL", withButtons, marked)
			}
			if len(e.a.HTTPHandlers(e.rec)) != 1 {
				t.Errorf("handlers without a callback URL = %v, want only the command", e.a.HTTPHandlers(e.rec))
			}
		}
	})
}

// forEachMode runs f in a new environment for each language's script,
// with buttons and with typed numbers (no CallbackURL).
func forEachMode(t *testing.T, f func(t *testing.T, mode string, sc bottest.Script, e *env)) {
	for _, mode := range []string{"buttons", "numbers"} {
		for _, sc := range scripts {
			t.Run(mode+"/"+sc.Lang, func(t *testing.T) {
				e := newEnv(t, func(c *Config) {
					if mode == "numbers" {
						c.CallbackURL = ""
					}
				})
				f(t, mode, sc, e)
			})
		}
	}
}
