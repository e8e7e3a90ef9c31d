package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/team"
	"github.com/ampel-bot/ampel/store"
)

// teamLevels are the levels a team member rates, in the order of their
// typed twins: "1" red, "2" yellow, "3" green.
var teamLevels = []string{"red", "yellow", "green"}

// teamLevel is the level member m gives checkpoint cp: the members
// disagree, so that the spread has every colour.
func teamLevel(m, cp int) int { return (m + cp) % len(teamLevels) }

// teamResult is what bench --team measured.
type teamResult struct {
	members int
	lat     []time.Duration
	elapsed time.Duration
}

// line is bench's extra output line for the team.
func (r teamResult) line() string {
	all := r.lat
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) float64 {
		return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000
	}
	return fmt.Sprintf("team_members=%d team_turns=%d team_turns_per_s=%.0f team_p50_ms=%.2f team_p99_ms=%.2f\n",
		r.members, len(all), float64(len(all))/r.elapsed.Seconds(), pct(0.50), pct(0.99))
}

// benchTeam is bench --team n: in a group, a facilitator starts a team
// run of zo-kmu; n members press Join at once, then, all at once, each
// rates every checkpoint in their private chat: the first by the button
// of the invitation the bot wrote them, the others by typing the level's
// number, as the bench's users do. Every call of Engine.Handle is a turn.
// At the end the run's record must hold every member finished with every
// rating they gave, and the run closed for settling.
func benchTeam(ctx context.Context, engine *bot.Engine, db *store.DB, run string, n int, checkpoints []string) (teamResult, error) {
	res := teamResult{members: n, lat: make([]time.Duration, 0, 1+n*(1+len(checkpoints)))}
	var mu sync.Mutex
	handle := func(ev bot.Event) error {
		t0 := time.Now()
		err := engine.Handle(ctx, ev)
		took := time.Since(t0)
		mu.Lock()
		res.lat = append(res.lat, took)
		mu.Unlock()
		return err
	}
	channel := bot.Address{Platform: "bench", Chat: run + "-team"}
	in := func(user string) bot.Address { a := channel; a.User = user; return a }
	start := time.Now()
	if err := handle(bot.Event{ID: "team-start", Addr: in("lead"), Group: true, UserName: "Lead", Text: "/team zo-kmu", LangHint: "de"}); err != nil {
		return res, fmt.Errorf("team start: %w", err)
	}
	c, err := engine.Load(ctx, channel)
	if err != nil {
		return res, err
	}
	code := c.Records[team.Kind]
	if code == "" {
		return res, fmt.Errorf("team: /team zo-kmu started no run in the group")
	}
	members := make([]string, n)
	for m := range members {
		members[m] = "m" + strconv.Itoa(m)
	}
	// Everyone joins at once.
	errs := make([]error, n)
	var wg sync.WaitGroup
	for m, u := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := handle(bot.Event{ID: "join-" + u, Addr: in(u), Group: true, UserName: "Member " + u, Action: "tm:" + code + ":join", LangHint: "de"}); err != nil {
				errs[m] = fmt.Errorf("team member %s join: %w", u, err)
			}
		}()
	}
	wg.Wait()
	r, err := readTeam(ctx, db, code)
	if err != nil {
		return res, err
	}
	if len(r.Members) != n {
		return res, fmt.Errorf("team: %d members joined, want %d", len(r.Members), n)
	}
	// Everyone rates at once, each in their private chat.
	for m, u := range members {
		i := r.member(u)
		wg.Add(1)
		go func() {
			defer wg.Done()
			dm := bot.Address{Platform: "bench", Chat: run + "-dm-" + u, User: u}
			for cp := range checkpoints {
				ev := bot.Event{ID: "rate-" + strconv.Itoa(cp), Addr: dm, LangHint: "de", UserName: "Member " + u}
				if cp == 0 {
					ev.Action = "tm:" + code + ":" + strconv.Itoa(i) + ":0:r:" + teamLevels[teamLevel(m, cp)]
				} else {
					ev.Text = strconv.Itoa(teamLevel(m, cp) + 1)
				}
				if err := handle(ev); err != nil {
					errs[m] = fmt.Errorf("team member %s checkpoint %d: %w", u, cp+1, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := engine.Settle(ctx); err != nil {
		return res, err
	}
	res.elapsed = time.Since(start)
	for _, err := range errs {
		if err != nil {
			return res, err
		}
	}
	if r, err = readTeam(ctx, db, code); err != nil {
		return res, err
	}
	if err := r.verify(members, checkpoints); err != nil {
		return res, err
	}
	return res, nil
}

// benchTeamRun is the team run as stored, with what the bench checks.
type benchTeamRun struct{ team.Run }

func readTeam(ctx context.Context, db *store.DB, code string) (*benchTeamRun, error) {
	data, err := db.Record(ctx, bot.RecordRef{Kind: team.Kind, ID: code})
	if err != nil {
		return nil, fmt.Errorf("team: the run's record: %w", err)
	}
	if data == nil {
		return nil, fmt.Errorf("team: no record of run %s", code)
	}
	r := &benchTeamRun{}
	if err := json.Unmarshal(data, &r.Run); err != nil {
		return nil, fmt.Errorf("team: the run's record: %w", err)
	}
	return r, nil
}

// member is the place of user in the run, or -1.
func (r *benchTeamRun) member(user string) int {
	for i, m := range r.Members {
		if m.ID == user {
			return i
		}
	}
	return -1
}

// verify checks that every member finished with every rating they gave,
// and that the run closed for settling when the last one finished.
func (r *benchTeamRun) verify(members, checkpoints []string) error {
	if len(r.Members) != len(members) {
		return fmt.Errorf("team: the run has %d members, want %d", len(r.Members), len(members))
	}
	finished := 0
	for m, u := range members {
		i := r.member(u)
		if i < 0 {
			return fmt.Errorf("team: member %s is not in the run", u)
		}
		got := r.Members[i].Run
		if len(got.Ratings) != len(checkpoints) {
			return fmt.Errorf("team: member %s has %d ratings, want %d", u, len(got.Ratings), len(checkpoints))
		}
		for cp, id := range checkpoints {
			if want := teamLevels[teamLevel(m, cp)]; got.Ratings[id] != want {
				return fmt.Errorf("team: member %s rated checkpoint %d %q, want %q", u, cp+1, got.Ratings[id], want)
			}
		}
		if got.Finished() {
			finished++
		}
	}
	if finished != len(members) {
		return fmt.Errorf("team: %d of %d members finished, want all", finished, len(members))
	}
	if r.State != team.Settling {
		return fmt.Errorf("team: the run is %q after every member finished, want %q", r.State, team.Settling)
	}
	return nil
}
