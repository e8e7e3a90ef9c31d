package meeting

import (
	"errors"
	"strings"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/network"
)

// A person's data in meetings (bot.Personal): their answers (one RSVP
// record per meeting, with their name and the chat their reminders are
// in), their place on a waiting list, the chats a meeting's messages
// reached, and a draft they were entering. The export shows their own
// answers with the meeting's title and time; the erasure takes each
// answer out of the meeting's counts (a place it held goes to the first
// waiting, who is told), drops them from whom the messages reached and
// deletes their draft. Their reminders live in their conversation, which
// the core erases.

// Personal is what meetings hold about a person.
func Personal() *bot.Personal {
	return &bot.Personal{Export: exportPerson, Erase: erasePerson, Expire: expire}
}

// expire deletes the meetings that ended before before, with everyone's
// answers and whom their messages reached; the network keeps its summary
// (title and date, nobody's name) for its history and reports.
func expire(tx *bot.Tx, before time.Time) (int, error) {
	meetings, err := bot.FindRecords[Meeting](tx, Kind, "")
	if err != nil {
		return 0, err
	}
	old := map[string]bool{}
	for _, m := range meetings {
		if m.End.Before(before) {
			old[m.ID] = true
			for _, kind := range []string{Kind, KindTo} {
				if err := tx.Delete(kind, m.ID); err != nil {
					return 0, err
				}
			}
		}
	}
	if len(old) == 0 {
		return 0, nil
	}
	answers, err := tx.Find(KindRSVP, "")
	if err != nil {
		return 0, err
	}
	for _, id := range answers {
		if m, _, _ := strings.Cut(id, "|"); old[m] {
			if err := tx.Delete(KindRSVP, id); err != nil {
				return 0, err
			}
		}
	}
	return len(old), nil
}

// ExportedAnswer is an answer as a person's export shows it.
type ExportedAnswer struct {
	Meeting string    `json:"meeting"`
	Title   string    `json:"title"`
	Start   time.Time `json:"start"`
	Answer  string    `json:"answer"` // "yes", "maybe", "no"
	Waiting bool      `json:"waiting,omitempty"`
	At      time.Time `json:"answered"`
}

var answerNames = map[string]string{Yes: "yes", Maybe: "maybe", No: "no"}

// answersOf returns the IDs of the meetings who answered, through the
// turn's transaction.
func answersOf(t *bot.Turn, who bot.Address) ([]string, error) {
	ids, err := t.Tx().Find(KindRSVP, bot.JSONField("m", memberKey(who)))
	suffix := "|" + memberKey(who)
	var meetings []string
	for _, id := range ids {
		if m, ok := strings.CutSuffix(id, suffix); ok {
			meetings = append(meetings, m)
		}
	}
	return meetings, err
}

func exportPerson(t *bot.Turn, who bot.Address) (any, []bot.Address, error) {
	ids, err := answersOf(t, who)
	if err != nil || len(ids) == 0 {
		return nil, nil, err
	}
	var out []ExportedAnswer
	for _, id := range ids {
		var r RSVP
		var m Meeting
		if _, err := t.Tx().Get(KindRSVP, id+"|"+memberKey(who), &r); err != nil {
			return nil, nil, err
		}
		if _, err := t.Tx().Get(Kind, id, &m); err != nil {
			return nil, nil, err
		}
		out = append(out, ExportedAnswer{Meeting: id, Title: m.Title, Start: m.Start, Answer: answerNames[r.Answer], Waiting: r.Wait, At: r.At})
	}
	return out, nil, nil
}

func erasePerson(t *bot.Turn, who bot.Address) ([]bot.Address, error) {
	key := memberKey(who)
	ids, err := answersOf(t, who)
	if err != nil {
		return nil, err
	}
	tx := t.Tx()
	for _, id := range ids {
		var r RSVP
		var m Meeting
		if _, err := tx.Get(KindRSVP, id+"|"+key, &r); err != nil {
			return nil, err
		}
		found, err := tx.Get(Kind, id, &m)
		if err != nil {
			return nil, err
		}
		if err := tx.Delete(KindRSVP, id+"|"+key); err != nil {
			return nil, err
		}
		if !found {
			continue
		}
		if m.takeOut(&r, key) && !m.Cancelled {
			n, err := network.Get(tx, m.Network)
			if err != nil && !errors.Is(err, network.ErrNone) {
				return nil, err
			}
			if n != nil && !promote(t, n, &m) {
				return nil, bot.ErrBusy // the step runs again
			}
		}
		if err := tx.Put(Kind, id, &m); err != nil {
			return nil, err
		}
	}
	// The meetings they announced keep going without their name.
	by, err := tx.Find(Kind, bot.JSONField("by", key))
	if err != nil {
		return nil, err
	}
	for _, id := range by {
		var m Meeting
		found, err := tx.Get(Kind, id, &m)
		if err != nil {
			return nil, err
		}
		if !found {
			continue
		}
		m.By = ""
		if err := tx.Put(Kind, id, &m); err != nil {
			return nil, err
		}
	}
	// Whom a meeting's messages reached names the person's chat.
	reached, err := tx.Find(KindTo, bot.JSONField("m", key))
	if err != nil {
		return nil, err
	}
	for _, id := range reached {
		var to []recipient
		if _, err := tx.Get(KindTo, id, &to); err != nil {
			return nil, err
		}
		kept := to[:0]
		for _, r := range to {
			if r.Member != key {
				kept = append(kept, r)
			}
		}
		if err := tx.Put(KindTo, id, kept); err != nil {
			return nil, err
		}
	}
	if err := tx.Delete(KindDraft, key); err != nil {
		return nil, err
	}
	return nil, nil
}
