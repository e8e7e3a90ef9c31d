package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// One person across messengers (/link, bot/link): chats of one person on
// several platforms share ONE conversation, the primary one, whose key
// was the chat that gave the code. Each other chat has a record of kind
// LinkKind (its ID the chat's key) naming the primary's key; the primary
// lists every chat of the person in Conversation.Linked.
//
// The engine resolves an event's chat to its primary before it takes the
// lock of the event's conversation, from a map kept in memory (loaded from
// the records when the engine starts, changed only by the commits that put or delete
// a link record, under the locks of both chats). Every event of the person,
// from any chat, thus runs on one conversation under one lock: two of their
// chats typing at once take turns and never deadlock. After taking the lock
// the engine looks again; a link made or undone meanwhile sends the event
// to the other conversation. The event's ID stays in the inbox of its own
// chat (a redelivery is caught there), and replies go to the chat written
// from, as do the dispatcher's lanes and the outbox.
//
// The conversation's Addr follows the chat the person wrote from last, so
// reminders go there, unless they chose a chat (Conversation.RemindTo).

// LinkKind is the kind of the record that ties a chat to the primary
// conversation of its person.
const LinkKind = "link"

// LinkRecord is the record LinkKind/<chat key>.
type LinkRecord struct {
	// To is the key of the primary conversation.
	To string `json:"to"`
	// Chat is the linked chat.
	Chat Address `json:"chat"`
}

// links is the engine's map of linked chats to their primary key.
type links struct {
	mu sync.RWMutex
	m  map[string]string
}

// load reads the link records (at the engine's start).
func (l *links) load(ctx context.Context, s Store) error {
	m := map[string]string{}
	if f, ok := s.(RecordFinder); ok {
		ids, err := f.RecordsWith(ctx, LinkKind, `"to":`)
		if err != nil {
			return fmt.Errorf("load links: %w", err)
		}
		for _, id := range ids {
			data, err := s.Record(ctx, RecordRef{LinkKind, id})
			if err != nil {
				return fmt.Errorf("load links: %w", err)
			}
			var r LinkRecord
			if data != nil && json.Unmarshal(data, &r) == nil && r.To != "" {
				m[id] = r.To
			}
		}
	}
	l.mu.Lock()
	l.m = m
	l.mu.Unlock()
	return nil
}

// primary is the key of the conversation the chat key's events run on.
func (l *links) primary(key string) string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if to, ok := l.m[key]; ok {
		return to
	}
	return key
}

// note brings the map to what a commit wrote.
func (l *links) note(recs []RecordWrite) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range recs {
		if r.Ref.Kind != LinkKind {
			continue
		}
		if l.m == nil {
			l.m = map[string]string{}
		}
		var lr LinkRecord
		if r.Delete || json.Unmarshal(r.Data, &lr) != nil || lr.To == "" {
			delete(l.m, r.Ref.ID)
			continue
		}
		l.m[r.Ref.ID] = lr.To
	}
}

// errRelinked: the event's chat was linked or unlinked while the event
// waited for its conversation's lock; it runs again on the right one.
var errRelinked = errors.New("chat linked or unlinked meanwhile")

// Linked reports whether the turn's conversation is shared by chats of
// several platforms.
func (t *Turn) Linked() bool { return len(t.c.Linked) > 1 }

// HomeKey is the key of the conversation the turn works on: the primary
// one of a linked chat.
func (t *Turn) HomeKey() string {
	if t.tx != nil && t.tx.home != "" {
		return t.tx.home
	}
	return t.c.Addr.Key()
}

// LinkInto ties the turn's chat, not linked yet, to the person's
// conversation stored under home, with the turn's commit: mine keeps the
// check and plan of the turn's chat (they replace the other's), else the
// other's stay. The turn's own conversation is left without them (its
// events run on home from the commit on); home's conversation is
// returned, to tell what it holds.
func (t *Turn) LinkInto(home string, mine bool) (*Conversation, error) {
	tx := t.tx
	if tx == nil || tx.home == "" || home == tx.home {
		return nil, errTxDone
	}
	here := t.ev.Addr
	home = t.e.links.primary(home)
	p, err := tx.conversationAt(home, Address{})
	if err != nil {
		return nil, err
	}
	if t.e.links.primary(home) != home || home == tx.home {
		return nil, errors.New("link: the other chat was linked meanwhile")
	}
	if mine {
		p.Run, p.History, p.Plan, p.Snoozed, p.Snoozing = t.c.Run, t.c.History, t.c.Plan, t.c.Snoozed, t.c.Snoozing
		p.Dialog = t.c.Dialog
		p.Dialog.Seq = max(p.Dialog.Seq, t.c.Dialog.Seq) + 1
	}
	if len(p.Linked) == 0 {
		p.Linked = []Address{p.Addr}
	}
	p.Linked = append(slices.DeleteFunc(p.Linked, func(a Address) bool { return a.Key() == here.Key() }), here)
	p.Addr = here
	if err := tx.Put(LinkKind, here.Key(), LinkRecord{To: home, Chat: here}); err != nil {
		return nil, err
	}
	// The chat keeps what it is, not what it did: its events run on home.
	c := t.c
	*c = Conversation{Lang: c.Lang, Hint: c.Hint, TZ: c.TZ, ZoneHint: c.ZoneHint, Addr: c.Addr,
		LastEventAt: c.LastEventAt, ArchiveSeq: c.ArchiveSeq, Dialog: Dialog{Seq: c.Dialog.Seq + 1}}
	t.c, t.lang = p, t.e.langOf(p, t.ev)
	return p, nil
}

// Unlink undoes the links of the turn's chat, with the turn's commit: a
// linked chat leaves its person's conversation with a copy of it; the
// chat that holds it lets every other chat go, each with a copy. It
// reports how many chats were let go.
func (t *Turn) Unlink() (int, error) {
	tx := t.tx
	if tx == nil || tx.home == "" || len(t.c.Linked) < 2 {
		return 0, nil
	}
	p, here := t.c, t.ev.Addr.Key()
	var gone []Address
	if here == tx.home {
		gone = slices.DeleteFunc(slices.Clone(p.Linked), func(a Address) bool { return a.Key() == tx.home })
	} else {
		for _, a := range p.Linked {
			if a.Key() == here {
				gone = append(gone, a)
			}
		}
	}
	for _, a := range gone {
		c, err := tx.conversationAt(a.Key(), a)
		if err != nil {
			return 0, err
		}
		copyPerson(c, p, a)
		if err := tx.Delete(LinkKind, a.Key()); err != nil {
			return 0, err
		}
		p.Linked = slices.DeleteFunc(p.Linked, func(l Address) bool { return l.Key() == a.Key() })
		if p.RemindTo.Key() == a.Key() {
			p.RemindTo = Address{}
		}
	}
	if len(p.Linked) < 2 {
		if len(p.Linked) == 1 {
			p.Addr = p.Linked[0]
		}
		p.Linked, p.RemindTo = nil, Address{}
	} else if slices.ContainsFunc(gone, func(a Address) bool { return a.Key() == p.Addr.Key() }) {
		p.Addr = p.Linked[0]
	}
	if here != tx.home {
		for _, c := range tx.convs {
			if c.key == here { // the rest of the turn speaks from its copy
				t.c, t.lang = c.conv, t.e.langOf(c.conv, t.ev)
			}
		}
	}
	return len(gone), nil
}

// copyPerson makes c, the conversation of chat a, a copy of the
// person's conversation p: the check, the plan, the settings; not the
// links, nor the records of features, which stay with p.
func copyPerson(c, p *Conversation, a Address) {
	data, err := json.Marshal(p)
	if err != nil {
		return
	}
	var cp Conversation
	if json.Unmarshal(data, &cp) != nil {
		return
	}
	cp.Addr, cp.Linked, cp.RemindTo, cp.Records = a, nil, Address{}, nil
	cp.LastEventAt, cp.ArchiveSeq = c.LastEventAt, c.ArchiveSeq
	cp.Dialog.Seq = max(cp.Dialog.Seq, c.Dialog.Seq) + 1
	*c = cp
}

// ConversationKey is Conversation by the conversation's key.
func (tx *Tx) ConversationKey(key string) (*Conversation, error) {
	return tx.conversationAt(key, Address{})
}

// SetRemindTo makes the chat of key, one of the person's linked chats,
// the one reminders go to; "" : the chat written from last. It reports
// whether key is one of them.
func (t *Turn) SetRemindTo(key string) bool {
	if key == "" {
		t.c.RemindTo = Address{}
		return true
	}
	for _, a := range t.c.Linked {
		if a.Key() == key {
			t.c.RemindTo = a
			return true
		}
	}
	return false
}

// remindAddr is where the conversation's reminders go.
func (c *Conversation) remindAddr() Address {
	if c.RemindTo != (Address{}) && len(c.Linked) > 1 {
		return c.RemindTo
	}
	return c.Addr
}

// wordJoiner, put before a command, keeps commandRefs from writing it as
// the message's own platform reaches commands: it is meant for another.
// It is invisible, and input drops it (cleanInput), so a copied command
// works.
const wordJoiner = "\u2060"

// CommandOn is how the command name with args is typed on platform
// ("/link ABC", "/ampel link ABC", „verknüpfen ABC“), to tell in a
// message to another platform.
func (t *Turn) CommandOn(platform, name string, args ...string) string {
	rest := strings.Join(args, " ")
	if rest != "" {
		rest = " " + rest
	}
	if prefix := t.e.commandPrefix(platform); prefix != "" {
		return wordJoiner + prefix + " " + name + rest
	}
	if t.e.bare(platform) {
		return t.T("command.bare", "Word", t.T("command.word."+name)+rest)
	}
	return wordJoiner + "/" + name + rest
}

// Platforms are the platforms the engine has adapters for, sorted.
func (t *Turn) Platforms() []string {
	t.e.mu.RLock()
	defer t.e.mu.RUnlock()
	var ps []string
	for p := range t.e.adapters {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

// PlatformName is how the person is told a platform's name ("Telegram",
// "Konsole").
func (t *Turn) PlatformName(p string) string {
	id := "link.platform." + p
	if t.e.texts.Has(t.lang, id) {
		return t.T(id)
	}
	return p
}
