package telegram

import (
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/bot/bottest"
	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// chatter is a person in a private chat with the bot, on a phone.
type chatter struct {
	t     *testing.T
	e     *env
	chat  int64
	from  *tgbotapi.User
	seen  int      // messages of the chat already returned
	log   []string // the transcript, for failure messages
	press []string // callback query IDs sent
}

func newChatter(t *testing.T, e *env, id int64, lang string) *chatter {
	return &chatter{t: t, e: e, chat: id, from: user(id, lang)}
}

// say types text and returns the bot's new messages.
func (c *chatter) say(text string) []sentMsg {
	c.t.Helper()
	c.log = append(c.log, "> "+text)
	c.e.fake.waitConsumed(c.e.fake.pushText(c.chat, c.from, text))
	return c.replies()
}

// tap presses the button labelled label (or starting with it) under the
// newest message that has a keyboard, and returns the bot's new messages.
func (c *chatter) tap(label string) []sentMsg {
	c.t.Helper()
	m, data := c.button(label)
	c.log = append(c.log, "~ tap "+label)
	id, q := c.e.fake.pushPress(c.from, m, data)
	c.press = append(c.press, q)
	c.e.fake.waitConsumed(id)
	return c.replies()
}

// tapOn presses a button under a given message.
func (c *chatter) tapOn(m sentMsg, label string) []sentMsg {
	c.t.Helper()
	for _, row := range m.Markup.InlineKeyboard {
		for _, b := range row {
			if strings.HasPrefix(b.Text, label) {
				c.log = append(c.log, "~ tap old "+label)
				id, q := c.e.fake.pushPress(c.from, m, *b.CallbackData)
				c.press = append(c.press, q)
				c.e.fake.waitConsumed(id)
				return c.replies()
			}
		}
	}
	c.t.Fatalf("no button %q under message %d", label, m.ID)
	return nil
}

// button finds a button in the newest keyboard of the chat.
func (c *chatter) button(label string) (sentMsg, string) {
	c.t.Helper()
	msgs := c.e.fake.messages(c.chat)
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Markup == nil {
			continue
		}
		for _, row := range msgs[i].Markup.InlineKeyboard {
			for _, b := range row {
				if strings.HasPrefix(b.Text, label) {
					return msgs[i], *b.CallbackData
				}
			}
		}
		c.t.Fatalf("no button %q in the last keyboard %v\ntranscript:\n%s", label, msgs[i].Markup.InlineKeyboard, strings.Join(c.log, "\n"))
	}
	c.t.Fatalf("no keyboard in the chat\ntranscript:\n%s", strings.Join(c.log, "\n"))
	return sentMsg{}, ""
}

func (c *chatter) replies() []sentMsg {
	msgs := c.e.fake.messages(c.chat)
	out := msgs[c.seen:]
	c.seen = len(msgs)
	for _, m := range out {
		c.log = append(c.log, m.Text)
	}
	return out
}

// script is the whole check and a plan in one language: the labels of
// the buttons pressed and the texts typed.
type script struct {
	bottest.Script
	stale string // part of the reply to a press on an older question
}

var scripts = []script{
	{bottest.German, "früheren Frage"},
	{bottest.English, "earlier question"},
}

// userText is typed as a measure: HTML that must come out literally.
const userText = `Leitbild <b>&</b> <script>alert(1)</script> & "Nutzen"`

// TestWholeCheckAndPlan runs the zo-kmu check and a plan on a phone, in
// German and in English (Telegram's language_code "en"): every rating, the
// plan and its measure, by button presses and typed text, through the real
// engine and the fake Bot API. It shows that callback data round-trips, that
// every callback is answered, that pressed messages are edited to show the
// choice and lose their keyboard, that the user's text is escaped for HTML
// everywhere, and that the command menu is registered in every language.
func TestWholeCheckAndPlan(t *testing.T) {
	for i, sc := range scripts {
		t.Run(sc.Lang, func(t *testing.T) {
			e := newEnv(t, nil)
			e.run(nil)
			c := newChatter(t, e, int64(1001+i), sc.Lang)
			expect := func(msgs []sentMsg, want string) {
				t.Helper()
				for _, m := range msgs {
					if strings.Contains(m.Text, want) {
						return
					}
				}
				t.Fatalf("no reply contains %q\ntranscript:\n%s", want, strings.Join(c.log, "\n"))
			}

			expect(c.say("/start"), sc.Welcome)
			c.tap(sc.StartCheck) // which check: a list
			expect(c.tap(sc.Check), "1/7")
			expect(c.tap(sc.Red), "2/7")   // pressed
			expect(c.say("2"), "3/7")      // typed: yellow
			expect(c.tap(sc.Green), "4/7") // pressed
			expect(c.say("3"), "5/7")      // typed
			expect(c.tap(sc.Green), "6/7") // pressed
			expect(c.say("3"), "7/7")      // typed
			result := c.tap(sc.Green)
			expect(result, "🔴 1 · 🟡 1 · 🟢 5")
			// The result's picture comes after its text, as a photo.
			if pic := result[len(result)-1]; pic.Photo == nil || !strings.HasPrefix(pic.Photo.Name, "ampel-") || pic.Width < 500 || pic.Height < 500 {
				t.Errorf("after the result: got %+v, want its picture as a photo", pic)
			}
			c.tap(sc.BuildPlan)
			expect(c.say(userText), userText) // own measure, echoed in the priority question
			c.tap(sc.High)
			c.say("Maria Schulz")
			expect(c.say(sc.InTwoWeeks), sc.StartLine)
			c.tap(sc.FourWeeks) // the red point's measure is saved
			c.tap(sc.Next)      // no other for it; now the yellow one
			expect(c.tap(sc.NoMeasure), sc.PlanHeader)

			// The question answered by typing "2" still has its buttons;
			// pressing one now is refused, and the message is not marked
			// as answered, only stripped of its keyboard.
			var old sentMsg
			for _, m := range e.fake.messages(c.chat) {
				if strings.HasPrefix(m.Text, "2/7") {
					old = m
				}
			}
			if old.Markup == nil {
				t.Fatal("the question answered by typing lost its keyboard")
			}
			expect(c.tapOn(old, sc.Green), sc.stale)
			for _, m := range e.fake.messages(c.chat) {
				if m.ID == old.ID && (m.Markup != nil || strings.Contains(m.Text, "✓")) {
					t.Errorf("after a stale press the old question reads %q with keyboard %v; want no mark and no keyboard", m.Text, m.Markup)
				}
			}
			c.press = c.press[:len(c.press)-1]

			conv := e.conv(c.chat)
			if n := len(conv.Plan.Measures); n != 1 || conv.Plan.Measures[0].Text != userText || conv.Plan.Measures[0].Priority != "high" {
				t.Errorf("stored plan = %+v, want one high-priority measure %q", conv.Plan.Measures, userText)
			}

			// Every callback query was answered.
			answered := map[string]bool{}
			for _, call := range e.fake.callsOf("answerCallbackQuery") {
				answered[call.Form["callback_query_id"]] = true
			}
			for _, q := range c.press {
				if !answered[q] {
					t.Errorf("callback query %s not answered", q)
				}
			}
			if len(c.press) != 11 {
				t.Errorf("%d buttons pressed, want 11", len(c.press))
			}

			// Every message whose button was pressed shows the choice and has
			// no keyboard left; every message was sent as HTML with the
			// user's text escaped.
			edited := 0
			for _, m := range e.fake.messages(c.chat) {
				if m.Edited > 0 && m.ID != old.ID {
					edited++
					if m.Markup != nil {
						t.Errorf("message %d was edited but kept its keyboard", m.ID)
					}
					if !strings.Contains(m.Text, "\n\n✓ ") {
						t.Errorf("edited message %d does not show the choice: %q", m.ID, m.Text)
					}
				}
				if strings.Contains(m.Text, userText) && !strings.Contains(m.Raw, escapedUserText) {
					t.Errorf("user text not escaped in message %d: %q", m.ID, m.Raw)
				}
			}
			if edited != len(c.press) {
				t.Errorf("%d messages edited, want one per press (%d)", edited, len(c.press))
			}
			for _, call := range e.fake.callsOf("sendMessage") {
				if call.Form["parse_mode"] != "HTML" {
					t.Errorf("sendMessage without parse_mode HTML: %v", call.Form)
				}
			}
			for _, call := range e.fake.callsOf("editMessageText") {
				if _, has := call.Form["reply_markup"]; has {
					t.Errorf("edit keeps a keyboard: %v", call.Form["reply_markup"])
				}
			}
			// The edit of the priority question shows the pressed label.
			found := false
			for _, m := range e.fake.messages(c.chat) {
				if strings.Contains(m.Text, userText) && strings.HasSuffix(m.Text, "✓ "+sc.High) {
					found = true
				}
			}
			if !found {
				t.Errorf("the priority question was not edited to show %q", "✓ "+sc.High)
			}

			// The command menu: the default and one per language.
			waitFor(t, "command menus", func() bool { return len(e.fake.callsOf("setMyCommands")) == 1+len(e.engine.Langs()) })
			langs := map[string]string{}
			for _, call := range e.fake.callsOf("setMyCommands") {
				langs[call.Form["language_code"]] = call.Form["commands"]
			}
			for _, l := range append([]string{""}, e.engine.Langs()...) {
				if !strings.Contains(langs[l], `"command":"check"`) {
					t.Errorf("menu for language %q = %s, want the commands", l, langs[l])
				}
			}
		})
	}
}

const escapedUserText = `Leitbild &lt;b&gt;&amp;&lt;/b&gt; &lt;script&gt;alert(1)&lt;/script&gt; &amp; "Nutzen"`
