package link

import (
	"slices"
	"time"

	"github.com/ampel-bot/ampel/bot"
)

// A person's data in links (bot.Personal): the chats linked to theirs
// (the core exports and erases those chats and their link records), the
// code they were given and not used, and their wrong tries.

// Personal is what linking holds about a person.
func Personal() *bot.Personal {
	return &bot.Personal{Export: exportPerson, Erase: erasePerson, Expire: expire}
}

// Exported is what a person's export shows of linking.
type Exported struct {
	Linked      []bot.Address `json:"linked_chats,omitempty"`
	CodeExpires *time.Time    `json:"code_expires,omitempty"`
	WrongTries  int           `json:"wrong_tries,omitempty"`
}

func exportPerson(t *bot.Turn, who bot.Address) (any, []bot.Address, error) {
	var x Exported
	c := t.Conv()
	if !t.Event().Group {
		x.Linked = c.Linked
		if id := c.Records[CodeKind]; id != "" {
			var rec Code
			found, err := t.Tx().Get(CodeKind, id, &rec)
			if err != nil {
				return nil, nil, err
			}
			if found {
				x.CodeExpires = &rec.Expires
			}
		}
	}
	var tr bot.Tries
	if _, err := t.Tx().Get(triesKind, triesID(who), &tr); err != nil {
		return nil, nil, err
	}
	x.WrongTries = len(tr.Wrong)
	if x.Linked == nil && x.CodeExpires == nil && x.WrongTries == 0 {
		return nil, nil, nil
	}
	return x, nil, nil
}

func erasePerson(t *bot.Turn, who bot.Address) ([]bot.Address, error) {
	if id := t.Conv().Records[CodeKind]; id != "" && !t.Event().Group {
		if err := t.Tx().Delete(CodeKind, id); err != nil {
			return nil, err
		}
	}
	var tr bot.Tries
	found, err := t.Tx().Get(triesKind, triesID(who), &tr)
	if err != nil {
		return nil, err
	}
	if found {
		if err := t.Tx().Delete(triesKind, triesID(who)); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// expire deletes, with the retention sweep, the codes that expired, the
// wrong tries of past windows, and the links of chats whose person's
// conversation the sweep erased (before plays no part: a code lives
// minutes, a link as long as its conversation).
func expire(tx *bot.Tx, _ time.Time) (int, error) {
	n := 0
	ids, err := tx.Find(CodeKind, `"exp":`)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		var rec Code
		if found, err := tx.Get(CodeKind, id, &rec); err != nil {
			return 0, err
		} else if found && !tx.Now().Before(rec.Expires) {
			if err := tx.Delete(CodeKind, id); err != nil {
				return 0, err
			}
			n++
		}
	}
	if ids, err = tx.Find(triesKind, `"wrong"`); err != nil {
		return 0, err
	}
	for _, id := range ids {
		tr, err := bot.ReadTries(tx, triesKind, id, wrongWindow)
		if err != nil {
			return 0, err
		}
		if len(tr.Wrong) == 0 {
			n++
		}
	}
	if ids, err = tx.Find(bot.LinkKind, `"to":`); err != nil {
		return 0, err
	}
	for _, id := range ids {
		var l bot.LinkRecord
		if found, err := tx.Get(bot.LinkKind, id, &l); err != nil || !found {
			return 0, err
		}
		p, err := tx.ConversationKey(l.To)
		if err != nil {
			return 0, err
		}
		if !slices.ContainsFunc(p.Linked, func(a bot.Address) bool { return a.Key() == id }) {
			if err := tx.Delete(bot.LinkKind, id); err != nil {
				return 0, err
			}
			n++
		}
	}
	return n, nil
}
