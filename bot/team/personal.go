package team

import (
	"time"

	"github.com/ampel-bot/ampel/bot"
)

// A person's data in team runs (bot.Personal): their place in each run
// they joined or led. The export shows their own ratings and the team's
// settled ones, never another member's; the erasure leaves their ratings
// in the run only as anonymous counts (the spread still adds up), and an
// open run's facilitator role passes to a member still there.

// Personal is what team runs hold about a person.
func Personal() *bot.Personal {
	return &bot.Personal{Export: exportPerson, Erase: erasePerson, Expire: expire}
}

// expire deletes the runs started before before: a run takes days, so
// one that old is over or abandoned, and its members' names go with it
// (the channel keeps its settled result and plan).
func expire(tx *bot.Tx, before time.Time) (int, error) {
	runs, err := bot.FindRecords[Run](tx, Kind, "")
	n := 0
	for _, r := range runs {
		if r.Started.Before(before) {
			if err := tx.Delete(Kind, r.Code); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, err
}

// ExportedRun is a team run as a person's export shows it.
type ExportedRun struct {
	Code        string            `json:"code"`
	Check       string            `json:"check"`
	State       string            `json:"state"`
	Channel     string            `json:"channel"`
	Started     time.Time         `json:"started"`
	Facilitator bool              `json:"facilitator,omitempty"`
	Name        string            `json:"name,omitempty"`
	Ratings     map[string]string `json:"my_ratings,omitempty"`
	Later       []string          `json:"my_later,omitempty"`
	Finished    *time.Time        `json:"finished,omitempty"`
	Left        bool              `json:"left,omitempty"`
	Removed     bool              `json:"ratings_taken_out,omitempty"`
	TeamRatings map[string]string `json:"team_ratings,omitempty"`
	Members     int               `json:"members"`
}

// runsOf reads the runs who joined or leads, through the turn's
// transaction.
func runsOf(t *bot.Turn, who bot.Address) ([]*Run, error) {
	all, err := bot.FindRecords[Run](t.Tx(), Kind, bot.JSONField("id", who.User))
	var runs []*Run
	for _, r := range all {
		if r.Chat.Platform == who.Platform && r.Chat.Workspace == who.Workspace && (r.member(who.User) >= 0 || r.Lead.ID == who.User) {
			runs = append(runs, r)
		}
	}
	return runs, err
}

func exportPerson(t *bot.Turn, who bot.Address) (any, []bot.Address, error) {
	runs, err := runsOf(t, who)
	if err != nil || len(runs) == 0 {
		return nil, nil, err
	}
	out := make([]ExportedRun, 0, len(runs))
	var chats []bot.Address
	for _, r := range runs {
		x := ExportedRun{Code: r.Code, Check: r.Flow, State: r.State, Channel: r.Chat.Chat, Started: r.Started,
			Facilitator: r.Lead.ID == who.User, TeamRatings: r.Settled, Members: len(r.Members)}
		if x.Facilitator {
			x.Name = r.Lead.Name
		}
		if i := r.member(who.User); i >= 0 {
			m := r.Members[i]
			x.Name, x.Ratings, x.Later, x.Left, x.Removed = m.Name, m.Run.Ratings, m.Run.Later, m.Left, m.Removed
			if m.Run.Finished() {
				done := m.Run.Done
				x.Finished = &done
			}
		}
		out = append(out, x)
		chats = append(chats, r.Chat)
	}
	return out, chats, nil
}

func erasePerson(t *bot.Turn, who bot.Address) ([]bot.Address, error) {
	runs, err := runsOf(t, who)
	if err != nil {
		return nil, err
	}
	var chats []bot.Address
	for _, r := range runs {
		if i := r.member(who.User); i >= 0 {
			m := r.Members[i]
			// What stays is what the spread counts: the ratings, nobody's.
			r.Members[i] = Member{Run: bot.Run{Flow: m.Run.Flow, Version: m.Run.Version, Ratings: m.Run.Ratings}, Left: true, Removed: m.Removed}
		}
		passed := false
		if r.Lead.ID == who.User {
			r.Lead = bot.Person{}
			if a := r.active(); r.open() && len(a) > 0 {
				r.Lead, passed = a[0].Person, true
			}
		}
		if err := t.Tx().Put(Kind, r.Code, r); err != nil {
			return nil, err
		}
		if r.open() {
			ch := r.channel(t)
			if passed {
				ch.Say(bot.Message{Text: ch.T("team.lead.new", "Lead", r.Lead.Name)})
			}
			if r.State == Rating {
				ch.Say(progress(ch, r)) // without their name
			}
		}
		chats = append(chats, r.Chat)
	}
	return chats, nil
}
