// Package network is a regional network (seed 003): a coordinator, a
// moderator, member organisations of several kinds, and members who use
// whatever chat app they like. A network is a record of its own (kind
// "network", its ID), read and changed through the turn's transaction
// (bot.Tx), so that a member joining, their private chat and a message to
// the network's linked channels commit together. A member's private chat
// and a linked channel know their network by Conversation.Records["network"].
//
// Meetings (package meeting) read a network to know who may announce and
// whom an announcement reaches; they keep a short summary of each meeting
// in the network (Network.Meetings) so that the network's rules and its
// yearly report need not read every meeting.
package network

import (
	"errors"
	"time"

	"github.com/ampel-bot/ampel/bot"
)

// Kind is the kind of a network's record; RecordKey the name of the
// record in Conversation.Records.
const Kind = "network"

// Roles in a network (Plain: a member without a special role). A network
// has at least one coordinator at all times.
const (
	Coordinator = "coordinator"
	Moderator   = "moderator"
	Plain       = "member"
)

// Kinds of organisation, as the network's rules count them.
const (
	Intermediary = "intermediary" // intermediary organisation (Intermediär)
	Company      = "company"
	CivilSociety = "civil"
	PublicBody   = "public"
	OtherKind    = "other"
)

// OrgKinds are the kinds of organisation in the order they are offered.
var OrgKinds = []string{Intermediary, Company, CivilSociety, PublicBody, OtherKind}

// Network is a network, stored as the record Kind/ID.
type Network struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Region string `json:"region,omitempty"`
	// Lang is the language of the network's messages to its channels;
	// members get theirs in their own.
	Lang string `json:"lang"`
	// Zone is the network's IANA time zone: meetings are entered in it.
	Zone     string     `json:"tz"`
	Members  []Member   `json:"members,omitempty"`
	Orgs     []Org      `json:"orgs,omitempty"`
	Channels []Channel  `json:"channels,omitempty"`
	Codes    []JoinCode `json:"codes,omitempty"`
	// Meetings summarises the network's meetings (see package meeting),
	// oldest first; the meeting's own record holds the rest.
	Meetings []MeetingRef `json:"meetings,omitempty"`
	// Reports are the years whose activity report was produced.
	Reports []int     `json:"reports,omitempty"`
	Created time.Time `json:"created"`
	// Warned is when coordinators were last warned about the rules on
	// opening the network (before the monthly check, Member.Checked).
	Warned time.Time `json:"warned,omitzero"`
}

// Member is a person in the network, reached in their private chat.
type Member struct {
	bot.Person
	// Chat is the member's private chat (Chat empty, User set).
	Chat bot.Address `json:"chat"`
	Role string      `json:"role"`
	// Org is the ID of the member's organisation, if any.
	Org string `json:"org,omitempty"`
	// DM is the private chat the member's own events came from when they
	// joined (Telegram: their chat ID; Slack: the "D…" channel), where
	// their own checks are: the yearly report counts them there. Empty
	// when unknown.
	DM     bot.Address `json:"dm,omitzero"`
	Lang   string      `json:"lang,omitempty"`
	Joined time.Time   `json:"joined"`
	// Checked: a coordinator whose monthly check of the network's rules
	// is set in their private chat (ChoreRules).
	Checked bool `json:"checked,omitempty"`
}

// Org is a member organisation.
type Org struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// Channel is a linked channel or group: announcements go there too.
type Channel struct {
	Chat bot.Address `json:"chat"` // User empty
	Name string      `json:"name,omitempty"`
	By   string      `json:"by"` // the member ID who linked it
	At   time.Time   `json:"at"`
}

// JoinCode lets whoever has it join. A revoked or expired code is kept so
// that its use can be answered with what happened to it.
type JoinCode struct {
	Code    string    `json:"code"`
	Expires time.Time `json:"exp,omitzero"`
	Revoked bool      `json:"revoked,omitempty"`
}

// MeetingRef is a meeting as the network's rules and report see it.
type MeetingRef struct {
	ID        string    `json:"id"`
	Start     time.Time `json:"start"` // UTC
	Cancelled bool      `json:"cancelled,omitempty"`
	// Yes counts the "yes" answers (package meeting keeps it up to date):
	// the attendance in the yearly report.
	Yes   int    `json:"yes,omitempty"`
	Title string `json:"title,omitempty"`
}

// ErrNone is returned by Get for a network that does not exist.
var ErrNone = errors.New("network: none")

// Get reads the network id through tx. Errors are the Tx's (bot.ErrBusy:
// the step returns and runs again) or ErrNone.
func Get(tx *bot.Tx, id string) (*Network, error) {
	if id == "" {
		return nil, ErrNone
	}
	var n Network
	found, err := tx.Get(Kind, id, &n)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, ErrNone
	}
	return &n, nil
}

// Put stores n with the transaction's commit.
func Put(tx *bot.Tx, n *Network) error { return tx.Put(Kind, n.ID, n) }

// Member returns the member whose private chat is user's (platform,
// workspace, user ID), or nil.
func (n *Network) Member(user bot.Address) *Member {
	for i := range n.Members {
		c := n.Members[i].Chat
		if c.Platform == user.Platform && c.Workspace == user.Workspace && c.User == user.User && user.User != "" {
			return &n.Members[i]
		}
	}
	return nil
}

// Leads reports whether user is a coordinator or moderator: who may
// announce, change and cancel meetings, link channels and see names.
func (n *Network) Leads(user bot.Address) bool {
	m := n.Member(user)
	return m != nil && (m.Role == Coordinator || m.Role == Moderator)
}

// Recipients are the chats an announcement reaches: every member's
// private chat, then every linked channel.
func (n *Network) Recipients() []bot.Address {
	to := make([]bot.Address, 0, len(n.Members)+len(n.Channels))
	for _, m := range n.Members {
		to = append(to, m.Chat)
	}
	for _, c := range n.Channels {
		to = append(to, c.Chat)
	}
	return to
}
