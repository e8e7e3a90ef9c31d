package meeting_test

import (
	"context"
	"testing"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/dialogtest"
	"github.com/ampel-bot/ampel/bot/meeting"
	"github.com/ampel-bot/ampel/bot/network"
)

// seedNetwork stores the network "net1" of the group's platform, in lang
// and Europe/Berlin: anna coordinates, moni moderates, the others are
// members; the group's channel is linked. Each member's private chat and
// the channel know the network. It returns the network as stored.
func seedNetwork(t testing.TB, g *dialogtest.Group, lang string, members ...string) *network.Network {
	t.Helper()
	n := &network.Network{ID: "net1", Name: "Lausitz", Region: "Lausitz", Lang: lang, Zone: "Europe/Berlin", Created: dialogtest.Start}
	for _, u := range members {
		role := network.Plain
		switch u {
		case "anna":
			role = network.Coordinator
		case "moni":
			role = network.Moderator
		}
		n.Members = append(n.Members, network.Member{Person: bot.Person{ID: u, Name: dialogtest.Name(u)}, Role: role, Lang: lang,
			Chat: bot.Address{Platform: g.Channel.Platform, Workspace: g.Channel.Workspace, User: u}, Joined: dialogtest.Start})
	}
	n.Channels = []network.Channel{{Chat: g.Channel, Name: "netzwerk", By: "anna", At: dialogtest.Start}}
	err := g.Engine.Do(context.Background(), "seed-net1", func(tx *bot.Tx) error {
		if err := network.Put(tx, n); err != nil {
			return err
		}
		chats := []bot.Address{g.Channel}
		for _, u := range members {
			a := g.Private(u)
			a.User = ""
			chats = append(chats, a)
		}
		for _, a := range chats {
			c, err := tx.Conversation(a)
			if err != nil {
				return err
			}
			if c.Records == nil {
				c.Records = map[string]string{}
			}
			c.Records[network.Kind] = n.ID
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// newGroup is a group on the platform of lang with the network seeded.
func newGroup(t *testing.T, lang string, members ...string) *dialogtest.Group {
	meeting.CountIDs(t)
	rec, private := dialogtest.Platform(lang)
	g := dialogtest.NewGroup(t, rec)
	g.Lang, g.PrivateChat = lang, private
	seedNetwork(t, g, lang, members...)
	g.Known(members...)
	return g
}
