package slack

import (
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot/bottest"
)

// TestPressesAckedWithoutWaitingForPosts: six people in a channel press
// the button of one question in a burst. The channel's posting limit (one
// a second, on a clock that does not move here) holds up the bot's
// replies, but neither the acknowledgements of the presses nor the marking
// of the pressed message (chat.update, under no such limit) waits for it:
// all six are acknowledged at once, and the message is marked once, with
// the choice that was taken.
func TestPressesAckedWithoutWaitingForPosts(t *testing.T) {
	e := newEnv(t, nil)
	clock := bottest.NewManualClock(start)
	e.a.lim.now, e.a.lim.sleep = clock.Now, clock.Sleep
	e.fake.settle = nil // the replies wait for the test's clock
	e.run(nil)
	t.Cleanup(func() { clock.Add(time.Hour) })
	const channel = "C0BUSY001"
	c := newChatter(t, e, channel, "U0ANNA001", "de-DE", "Europe/Berlin")
	id := c.e.fake.push("events_api", mentionEvent(channel, c.user, "start"))
	e.fake.waitAck(id, 1)
	waitFor(t, "the welcome", func() bool { return len(e.fake.messages(channel)) == 1 })
	welcome := e.fake.messages(channel)[0]
	var start element
	for _, b := range welcome.buttons() {
		if strings.HasPrefix(b.Text.Text, "Check starten") {
			start = b
		}
	}
	if start.Value == "" {
		t.Fatalf("no button Check starten under %q", welcome.Shown())
	}

	var envs []string
	for i := range 6 {
		user := "U0PRESS0" + string(rune('1'+i))
		e.fake.mu.Lock()
		e.fake.users[user] = slackUser{locale: "de-DE", tz: "Europe/Berlin"}
		e.fake.mu.Unlock()
		envs = append(envs, e.fake.push("interactive", pressPayload(welcome, user, start)))
	}
	for _, env := range envs {
		waitFor(t, "envelope "+env+" acknowledged while the channel's posts wait", func() bool { return e.fake.acked(env) == 1 })
	}
	waitFor(t, "the pressed message marked", func() bool { return e.fake.message(channel, welcome.TS).Edited > 0 })
	if err := e.a.after.Idle(t.Context()); err != nil {
		t.Fatal(err)
	}
	m := e.fake.message(channel, welcome.TS)
	if m.Edited != 1 || len(m.buttons()) != 0 || !strings.HasSuffix(m.Shown(), "✓ Check starten") {
		t.Errorf("pressed message: edited %d times, %d buttons, shown %q; want marked once with ✓ Check starten", m.Edited, len(m.buttons()), m.Shown())
	}
	// The answer leaves through the outbox after the commit: wait for it.
	waitFor(t, "the press answered with the list of checks", func() bool {
		got := e.fake.messages(channel)
		return len(got) >= 2 && hasButton(got[1], bottest.German.Check)
	})
}

// TestRedeliveredPressKeepsTheChoice: Slack delivers a press again (its
// acknowledgement got lost) after the next question was posted. The
// redelivery carries the pressed message as it was before it was marked;
// it has no effect, and the mark "✓ Check starten" stays.
func TestRedeliveredPressKeepsTheChoice(t *testing.T) {
	e := newEnv(t, nil)
	e.run(nil)
	c := newChatter(t, e, "D0EVA0009", "U0EVA0009", "de-DE", "Europe/Berlin")
	welcome := c.say("/start")[0]
	c.tap("Check starten") // the list of checks
	marked := e.fake.message(c.channel, welcome.TS)
	if !strings.HasSuffix(marked.Shown(), "✓ Check starten") {
		t.Fatalf("pressed message not marked: %q", marked.Shown())
	}
	press := c.envs[len(c.envs)-1]
	e.fake.redeliver(press)
	e.fake.waitAck(press, 2)
	if m := e.fake.message(c.channel, welcome.TS); m.Edited != marked.Edited || !strings.HasSuffix(m.Shown(), "✓ Check starten") {
		t.Errorf("after the redelivery: edited %d times (was %d), shown %q; want the mark kept", m.Edited, marked.Edited, m.Shown())
	}
	if n := len(c.replies()); n != 0 {
		t.Errorf("the redelivered press got %d replies, want none", n)
	}
}

// hasButton reports whether m carries a button whose label starts with label.
func hasButton(m sentMsg, label string) bool {
	for _, b := range m.buttons() {
		if strings.HasPrefix(b.Text.Text, label) {
			return true
		}
	}
	return false
}
