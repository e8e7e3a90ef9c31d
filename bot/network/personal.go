package network

import (
	"slices"
	"time"

	"github.com/ampel-bot/ampel/bot"
)

// A person's data in networks (bot.Personal): their membership in each
// network. The export shows their own membership (role, organisation,
// when they joined, the channels they linked), not the other members;
// the erasure takes them out (and an organisation nobody else stands for),
// and a coordinator role only they held
// passes to another member (a moderator first), who is told; a network
// left without members has its linked channels told. The network's
// feature registers it as its Feature.Personal.

// Personal is what networks hold about a person.
func Personal() *bot.Personal {
	return &bot.Personal{Export: exportPerson, Erase: erasePerson}
}

// ExportedMembership is a network membership as a person's export shows it.
type ExportedMembership struct {
	Network      string    `json:"network"`
	Name         string    `json:"name"`
	Region       string    `json:"region,omitempty"`
	Role         string    `json:"role"`
	MemberName   string    `json:"member_name,omitempty"`
	Organisation *Org      `json:"organisation,omitempty"`
	Joined       time.Time `json:"joined"`
	Language     string    `json:"language,omitempty"`
	Linked       []string  `json:"channels_linked,omitempty"`
}

// networksOf reads the networks who is a member of, through the turn's
// transaction.
func networksOf(t *bot.Turn, who bot.Address) ([]*Network, error) {
	all, err := bot.FindRecords[Network](t.Tx(), Kind, bot.JSONField("u", who.User))
	var ns []*Network
	for _, n := range all {
		if n.Member(who) != nil {
			ns = append(ns, n)
		}
	}
	return ns, err
}

func exportPerson(t *bot.Turn, who bot.Address) (any, []bot.Address, error) {
	ns, err := networksOf(t, who)
	if err != nil || len(ns) == 0 {
		return nil, nil, err
	}
	var out []ExportedMembership
	var chats []bot.Address
	for _, n := range ns {
		m := n.Member(who)
		x := ExportedMembership{Network: n.ID, Name: n.Name, Region: n.Region, Role: m.Role, MemberName: m.Name, Joined: m.Joined, Language: m.Lang}
		for i := range n.Orgs {
			if n.Orgs[i].ID == m.Org && m.Org != "" {
				o := n.Orgs[i]
				x.Organisation = &o
			}
		}
		for _, c := range n.Channels {
			if c.By == m.ID {
				x.Linked = append(x.Linked, c.Name)
			}
			chats = append(chats, c.Chat)
		}
		out = append(out, x)
	}
	return out, chats, nil
}

func erasePerson(t *bot.Turn, who bot.Address) ([]bot.Address, error) {
	ns, err := networksOf(t, who)
	if err != nil {
		return nil, err
	}
	var chats []bot.Address
	for _, n := range ns {
		m := *n.Member(who)
		n.Members = slices.DeleteFunc(n.Members, func(x Member) bool { return x.ID == m.ID && x.Chat == m.Chat })
		if m.Org != "" && !slices.ContainsFunc(n.Members, func(x Member) bool { return x.Org == m.Org }) {
			// An organisation only they stood for may name them (a sole
			// trader): it goes with them.
			n.Orgs = slices.DeleteFunc(n.Orgs, func(o Org) bool { return o.ID == m.Org })
		}
		for i := range n.Channels {
			if n.Channels[i].By == m.ID {
				n.Channels[i].By = ""
			}
			chats = append(chats, n.Channels[i].Chat)
		}
		if m.Role == Coordinator && !slices.ContainsFunc(n.Members, func(x Member) bool { return x.Role == Coordinator }) {
			passOn(t, n)
		}
		if err := Put(t.Tx(), n); err != nil {
			return nil, err
		}
	}
	return chats, nil
}

// passOn gives the coordinator role to another member, a moderator
// first, and tells them; with nobody left, the linked channels are told.
func passOn(t *bot.Turn, n *Network) {
	i := slices.IndexFunc(n.Members, func(x Member) bool { return x.Role == Moderator })
	if i < 0 && len(n.Members) > 0 {
		i = 0
	}
	if i >= 0 {
		m := &n.Members[i]
		m.Role = Coordinator
		to := t.Elsewhere(&bot.Conversation{Addr: m.Chat, Lang: m.Lang})
		to.Say(bot.Message{Text: to.T("network.coordinator.passed", "Network", n.Name)})
		return
	}
	for _, c := range n.Channels {
		to := t.Elsewhere(&bot.Conversation{Addr: c.Chat, Lang: n.Lang})
		to.Say(bot.Message{Text: to.T("network.coordinator.none", "Network", n.Name)})
	}
}
