package share

import (
	"time"

	"github.com/ampel-bot/ampel/bot"
)

// A person's data in shares (bot.Personal): the plans they follow as an
// adviser (their name, their chat, their comments) and the shares of the
// plan in their own private chat. The export lists both; the erasure
// takes a follower out with their comments (each reached the owner
// already) and ends a share whose owner's chat is erased, telling its
// followers as /share revoke does.

// Personal is what shares hold about a person.
func Personal() *bot.Personal {
	return &bot.Personal{Export: exportPerson, Erase: erasePerson}
}

// ExportedShare is a share as a person's export shows it.
type ExportedShare struct {
	Code      string    `json:"code"`
	Following bool      `json:"following,omitempty"` // else: theirs
	Since     time.Time `json:"since"`
	Followers int       `json:"followers,omitempty"`
	Comments  []string  `json:"my_comments,omitempty"`
}

// sharesOf returns the shares who follows and those of the chat the
// turn's event came from, when that is their private chat (an erasure
// runs in it).
func sharesOf(t *bot.Turn, who bot.Address) (followed, owned []*Share, err error) {
	all, err := bot.FindRecords[Share](t.Tx(), Kind, bot.JSONField("id", who.User))
	if err != nil {
		return nil, nil, err
	}
	for _, s := range all {
		if s.followerOf(who) >= 0 {
			followed = append(followed, s)
		}
	}
	if ev := t.Event(); !ev.Group && ev.Addr.Platform == who.Platform && ev.Addr.Chat != "" {
		mine, err := bot.FindRecords[Share](t.Tx(), Kind, bot.JSONField("c", ev.Addr.Chat))
		if err != nil {
			return nil, nil, err
		}
		for _, s := range mine {
			if s.Owner.Platform == who.Platform && s.Owner.Workspace == who.Workspace && s.Owner.Chat == ev.Addr.Chat {
				owned = append(owned, s)
			}
		}
	}
	return followed, owned, nil
}

// followerOf is the place of who among s's followers, or -1.
func (s *Share) followerOf(who bot.Address) int {
	for i, f := range s.Followers {
		if f.ID == who.User && f.Chat.Platform == who.Platform && f.Chat.Workspace == who.Workspace {
			return i
		}
	}
	return -1
}

func exportPerson(t *bot.Turn, who bot.Address) (any, []bot.Address, error) {
	followed, owned, err := sharesOf(t, who)
	if err != nil {
		return nil, nil, err
	}
	var out []ExportedShare
	for _, s := range followed {
		f := s.Followers[s.followerOf(who)]
		x := ExportedShare{Code: s.Code, Following: true, Since: f.Since}
		for _, c := range s.Comments {
			if c.By == f.Name {
				x.Comments = append(x.Comments, c.Text)
			}
		}
		out = append(out, x)
	}
	for _, s := range owned {
		out = append(out, ExportedShare{Code: s.Code, Since: s.Created, Followers: len(s.Followers)})
	}
	if len(out) == 0 {
		return nil, nil, nil
	}
	return out, nil, nil
}

func erasePerson(t *bot.Turn, who bot.Address) ([]bot.Address, error) {
	followed, owned, err := sharesOf(t, who)
	if err != nil {
		return nil, err
	}
	for _, s := range followed {
		i := s.followerOf(who)
		name := s.Followers[i].Name
		s.Followers = append(s.Followers[:i], s.Followers[i+1:]...)
		kept := s.Comments[:0]
		for _, c := range s.Comments {
			if c.By != name {
				kept = append(kept, c)
			}
		}
		s.Comments = kept
		if err := t.Tx().Put(Kind, s.Code, s); err != nil {
			return nil, err
		}
	}
	for _, s := range owned {
		if err := t.Tx().Delete(Kind, s.Code); err != nil {
			return nil, err
		}
		for _, f := range s.Followers {
			w := t.Elsewhere(&bot.Conversation{Addr: f.Chat, Lang: f.Lang})
			w.Say(bot.Message{Text: w.T("share.ended"), Live: live(s)})
		}
	}
	return nil, nil
}
