package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// TestLiveMessageEditedInPlace: a team's progress in a group is one
// message, edited in place with editMessageText (text and inline keyboard)
// as it changes; an edit that changes nothing is taken as done; a member
// pressing its button leaves its buttons there (the engine edits it); and
// once someone deleted it, the next state is posted anew.
func TestLiveMessageEditedInPlace(t *testing.T) {
	e := newEnv(t, nil)
	e.run(nil)
	const group = -100123
	to := bot.Address{Platform: Platform, Chat: strconv.Itoa(group)}
	n := 0
	progress := func(done int, buttons ...string) {
		t.Helper()
		n++
		bottest.Progress(t, e.engine, fmt.Sprintf("p%d", n), to, done, buttons...)
		e.settle()
		e.clock.Add(2 * time.Second) // the next state may go at once
	}
	progress(0, "Join")
	msgs := e.fake.messages(group)
	if len(msgs) != 1 || msgs[0].Text != "0 of 5 finished" || len(msgs[0].Markup.InlineKeyboard[0]) != 1 {
		t.Fatalf("the group shows %+v, want the progress with its button", msgs)
	}
	live := msgs[0]

	progress(1, "Join", "Remind")
	msgs = e.fake.messages(group)
	if len(msgs) != 1 || msgs[0].ID != live.ID || msgs[0].Text != "1 of 5 finished" || msgs[0].Edited != 1 {
		t.Fatalf("after the second state the group shows %+v, want the one message edited to 1 of 5", msgs)
	}
	edits := e.fake.callsOf("editMessageText")
	c := edits[len(edits)-1]
	var kb tgbotapi.InlineKeyboardMarkup
	if err := json.Unmarshal([]byte(c.Form["reply_markup"]), &kb); err != nil || c.Form["chat_id"] != strconv.Itoa(group) ||
		c.Form["message_id"] != strconv.Itoa(live.ID) || len(kb.InlineKeyboard) != 1 || len(kb.InlineKeyboard[0]) != 2 {
		t.Errorf("editMessageText sent %v, want chat_id, message_id and the two buttons as reply_markup", c.Form)
	}

	progress(1, "Join", "Remind") // the same state again: "message is not modified"
	if p, _ := e.store.Pending(context.Background(), 0, 10); len(p) != 0 {
		t.Errorf("an edit that changed nothing stays in the outbox: %d messages", len(p))
	}

	member := user(77, "de")
	id, _ := e.fake.pushPress(member, e.fake.messages(group)[0], "tm:Join")
	e.fake.waitConsumed(id)
	if m := e.fake.messages(group)[0]; m.ID != live.ID || m.Markup == nil || len(m.Markup.InlineKeyboard[0]) != 2 {
		t.Errorf("after a press the live message is %+v, want its buttons kept", m)
	}

	e.fake.deleteMessage(group, live.ID)
	progress(2, "Join")
	msgs = e.fake.messages(group)
	last := msgs[len(msgs)-1]
	if last.ID == live.ID || last.Text != "2 of 5 finished" {
		t.Fatalf("after the message was deleted the group shows %+v, want the state posted anew", msgs)
	}
	progress(3, "Join")
	if m := e.fake.messages(group); m[len(m)-1].ID != last.ID || m[len(m)-1].Text != "3 of 5 finished" {
		t.Errorf("the state after: %+v, want the new message edited", m[len(m)-1])
	}
}

// TestSlowMarkDoesNotHoldUpUpdates: Telegram is slow to answer the edit
// that marks a pressed message. The press is confirmed at once (the next
// getUpdates moves past it) and so is the chat's next press, while the
// mark still waits; the mark is made once Telegram answers.
func TestSlowMarkDoesNotHoldUpUpdates(t *testing.T) {
	e := newEnv(t, nil)
	e.run(nil)
	c := newChatter(t, e, 3001, "de")
	welcome := c.say("/start")[0]
	e.fake.settle = nil // the calls after updates hang: nothing waits for them here
	release := e.fake.holds.Hold("editMessageText")
	defer release()
	m, data := c.button("Check starten")
	first, _ := e.fake.pushPress(c.from, m, data)
	e.fake.waitConsumed(first)
	waitFor(t, "the mark under way", func() bool { return len(e.fake.callsOf("editMessageText")) == 1 })
	bottest.Settle(t, e.engine)
	m, data = c.button(bottest.German.Check)
	second, _ := e.fake.pushPress(c.from, m, data)
	e.fake.waitConsumed(second) // within waitFor's bound, while the first mark hangs
	if n := len(e.fake.callsOf("editMessageText")); n != 1 {
		t.Errorf("%d edits while the first hangs, want 1 (the second waits behind it)", n)
	}
	release()
	if err := e.a.after.Idle(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := e.fake.messages(c.chat)[0]; got.ID != welcome.ID || !strings.HasSuffix(got.Text, "✓ Check starten") {
		t.Errorf("the first pressed message: %q, want it marked once Telegram answered", got.Text)
	}
}
