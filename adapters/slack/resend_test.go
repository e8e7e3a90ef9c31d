package slack

import (
	"context"
	"regexp"
	"testing"

	"github.com/ampel-bot/ampel/bot"
)

// TestArrivedFindsASendBeforeTheCrash: Slack accepted a message and the
// process died before marking it delivered. The restarted process asks
// before resending (bot.Arrivals): the post is found in the channel's
// latest messages by the outbox ID in its metadata, so the engine does not
// post it twice; a message never sent is not found.
func TestArrivedFindsASendBeforeTheCrash(t *testing.T) {
	e := newEnv(t, nil)
	m := bot.Message{Text: "Danke!", Buttons: [][]bot.Button{{{Label: "Weiter", Action: "n"}}}}
	var _ bot.Arrivals = e.a
	to2 := bot.Address{Platform: Platform, Chat: "D0RES0002"}
	if err := e.a.Send(bot.WithOutboxID(context.Background(), 43), to2, m); err != nil {
		t.Fatal(err)
	}
	if found, err := e.a.Arrived(bot.WithOutboxID(context.Background(), 43), to2, m); err != nil || !found {
		t.Errorf("Arrived(sent message) = %v, %v; want true: the engine would post it twice", found, err)
	}
	if found, err := e.a.Arrived(bot.WithOutboxID(context.Background(), 44), to2, m); err != nil || found {
		t.Errorf("Arrived(message never sent) = %v, %v; want false: it would be lost", found, err)
	}
}

// TestArrivedTellsANewMessageUnderAnOldID (issue 18): a database restored
// from a backup issues outbox IDs again. A new message under the ID of one
// Slack already shows is not taken for it (it would never be sent): the
// look matches the ID and a digest of the recipient and the message.
func TestArrivedTellsANewMessageUnderAnOldID(t *testing.T) {
	e := newEnv(t, nil)
	to := bot.Address{Platform: Platform, Chat: "D0RES0003"}
	ctx := bot.WithOutboxID(context.Background(), 7)
	if err := e.a.Send(ctx, to, bot.Message{Text: "Vorher"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		to   bot.Address
		m    bot.Message
		want bool
	}{
		{"the message sent", to, bot.Message{Text: "Vorher"}, true},
		{"a new text", to, bot.Message{Text: "Nachher"}, false},
		{"the same text with other buttons", to, bot.Message{Text: "Vorher", Buttons: [][]bot.Button{{{Label: "Ja", Action: "y"}}}}, false},
	} {
		if found, err := e.a.Arrived(ctx, c.to, c.m); err != nil || found != c.want {
			t.Errorf("%s under the same outbox ID: Arrived = %v, %v; want %v", c.name, found, err, c.want)
		}
	}
}

// TestArrivedFindsAFileSentBeforeTheCrash (issue 18): a message whose last
// part is a file (the result picture, an .ics) is found too: the shared
// file's name carries the tag, its title (what Slack shows) is the name the
// bot gave it. The look matches the ID and the message: a file message
// never sent, or a new one under the same ID, is not found.
func TestArrivedFindsAFileSentBeforeTheCrash(t *testing.T) {
	e := newEnv(t, nil)
	to := bot.Address{Platform: Platform, Chat: "D0RES0004"}
	ics := bot.File{Name: "termin.ics", MIME: "text/calendar", Data: []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")}
	sent := bot.Message{Text: "Ihr Termin:", Files: []bot.File{ics}}
	ctx := bot.WithOutboxID(context.Background(), 45)
	if err := e.a.Send(ctx, to, sent); err != nil {
		t.Fatal(err)
	}
	files := e.fake.filesIn(to.Chat)
	e.fake.mu.Lock()
	shares := append([]*fileShare(nil), e.fake.shares...)
	e.fake.mu.Unlock()
	if len(files) != 1 || len(shares) != 1 || shares[0].Title != "termin.ics" ||
		!regexp.MustCompile(`^termin-[a-z2-7]{8}\.ics$`).MatchString(files[0].Name) {
		t.Fatalf("shared %+v; want one file titled termin.ics, named termin-<tag>.ics", shares)
	}
	queued := sent
	queued.Files = []bot.File{{Name: "termin.ics", MIME: "text/calendar", Make: "ics"}} // as the engine asks: not made yet
	for _, c := range []struct {
		name string
		id   uint64
		m    bot.Message
		want bool
	}{
		{"the message sent", 45, queued, true},
		{"a message never sent", 46, queued, false},
		{"a new message under the same ID", 45, bot.Message{Text: "Ihr neuer Termin:", Files: []bot.File{ics}}, false},
		{"a text without the file under the same ID", 45, bot.Message{Text: "Ihr Termin:"}, false},
	} {
		if found, err := e.a.Arrived(bot.WithOutboxID(context.Background(), c.id), to, c.m); err != nil || found != c.want {
			t.Errorf("%s: Arrived = %v, %v; want %v", c.name, found, err, c.want)
		}
	}
}
