package slack

import (
	"context"
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
	if found, err := e.a.Arrived(bot.WithOutboxID(context.Background(), 43), to2); err != nil || !found {
		t.Errorf("Arrived(sent message) = %v, %v; want true: the engine would post it twice", found, err)
	}
	if found, err := e.a.Arrived(bot.WithOutboxID(context.Background(), 44), to2); err != nil || found {
		t.Errorf("Arrived(message never sent) = %v, %v; want false: it would be lost", found, err)
	}
}
