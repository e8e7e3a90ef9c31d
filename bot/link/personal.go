package link

import (
	"time"

	"github.com/ampel-bot/ampel/bot"
)

// A person's data in links (bot.Personal): the chats linked to theirs
// (the core exports and erases those chats and their link records), the
// code they were given and not used, and their wrong tries.

// Personal is what linking holds about a person.
func Personal() *bot.Personal {
	return &bot.Personal{Export: exportPerson, Erase: erasePerson}
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
