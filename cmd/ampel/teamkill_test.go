package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/features"
	"github.com/ampel-bot/ampel/bot/team"
	"github.com/ampel-bot/ampel/store"
)

// The kill -9 test of team mode (issue 12): a child process runs the
// engine on a bbolt file; in each round a facilitator starts a team run
// in a group, the members join at once and then rate all at once, each in
// their private chat. Each member's events are sent one after another,
// and each is acknowledged to the parent (a line on stdout) only after
// Engine.Handle returned nil, as an adapter acknowledges to its platform.
// The parent kills the child with SIGKILL after a random number of
// acknowledgements, checks the file, and starts the child again on it;
// the child sends again, with the same IDs, every event not acknowledged,
// as a platform delivers again what was not acknowledged.
//
// A member's steps: 0 join (a press in the group), 1 the first rating (the
// invitation's button), 2..7 the other ratings, typed ("1", "2", "3"): a
// typed rating counted twice would rate the next checkpoint too.

// teamKill is the scenario: rounds team runs of members each.
type teamKill struct {
	Rounds, Members int
	// Started says whose start was acknowledged; Next[r][m] is the first
	// step of member m of round r not acknowledged.
	Started []bool
	Next    [][]int
}

const teamKillSteps = 8 // join + 7 ratings

func (s *teamKill) user(r, m int) string { return "r" + strconv.Itoa(r) + "m" + strconv.Itoa(m) }
func (s *teamKill) channel(r int) bot.Address {
	return bot.Address{Platform: "bench", Chat: "team-" + strconv.Itoa(r)}
}
func (s *teamKill) level(r, m, cp int) int { return (r + m + cp) % len(teamLevels) }

// TestTeamKillChild is the child: it does what the state file at
// AMPEL_TEAMKILL_STATE says is left, on the database AMPEL_TEAMKILL_DB.
func TestTeamKillChild(t *testing.T) {
	path, statePath := os.Getenv("AMPEL_TEAMKILL_DB"), os.Getenv("AMPEL_TEAMKILL_STATE")
	if path == "" {
		t.Skip("the child of TestTeamKill")
	}
	data, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	var s teamKill
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	catalog, texts, err := loadContent(Config{}, log)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	engine, err := bot.New(bot.Config{Store: db, Flows: catalog, Texts: texts, Zone: time.UTC, Log: log, Features: features.All()})
	if err != nil {
		t.Fatal(err)
	}
	engine.Register(benchAdapter{})
	ctx := context.Background()
	var out sync.Mutex
	ack := func(format string, args ...any) {
		out.Lock()
		defer out.Unlock()
		fmt.Fprintf(os.Stdout, format+"\n", args...) // one write: a whole line or none
	}
	for r := range s.Rounds {
		ch := s.channel(r)
		if !s.Started[r] {
			lead := ch
			lead.User = "lead" + strconv.Itoa(r)
			if err := engine.Handle(ctx, bot.Event{ID: "start-" + strconv.Itoa(r), Addr: lead, Group: true, UserName: "Lead", Text: "/team zo-kmu", LangHint: "de"}); err != nil {
				t.Fatal(err)
			}
			ack("start %d", r)
		}
		c, err := engine.Load(ctx, ch)
		if err != nil {
			t.Fatal(err)
		}
		code := c.Records[team.Kind]
		if code == "" {
			t.Fatalf("round %d: no team run in the group", r)
		}
		var joined, done sync.WaitGroup
		joined.Add(s.Members)
		for m := range s.Members {
			done.Add(1)
			go func() {
				defer done.Done()
				u := s.user(r, m)
				next := s.Next[r][m]
				if next == 0 {
					in := ch
					in.User = u
					if err := engine.Handle(ctx, bot.Event{ID: "join-" + u, Addr: in, Group: true, UserName: u, Action: "tm:" + code + ":join", LangHint: "de"}); err != nil {
						t.Error(err)
						joined.Done()
						return
					}
					ack("step %d %d 0", r, m)
					next = 1
				}
				joined.Done()
				joined.Wait() // everyone rates once everyone joined
				dm := bot.Address{Platform: "bench", Chat: "dm-" + u, User: u}
				for k := next; k < teamKillSteps; k++ {
					cp := k - 1
					ev := bot.Event{ID: u + "-" + strconv.Itoa(k), Addr: dm, UserName: u, LangHint: "de"}
					if k == 1 {
						rec, err := readTeam(ctx, db, code)
						if err != nil {
							t.Error(err)
							return
						}
						ev.Action = "tm:" + code + ":" + strconv.Itoa(rec.member(u)) + ":0:r:" + teamLevels[s.level(r, m, cp)]
					} else {
						ev.Text = strconv.Itoa(s.level(r, m, cp) + 1)
					}
					if err := engine.Handle(ctx, ev); err != nil {
						t.Error(err)
						return
					}
					ack("step %d %d %d", r, m, k)
				}
			}()
		}
		done.Wait()
		if t.Failed() {
			return
		}
	}
	if err := engine.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	engine.Close()
	db.Close()
	ack("done")
}

// TestTeamKill: members of team runs rate while the process is killed
// with SIGKILL at random moments (10 times; 100 with AMPEL_LONG=1) and
// started again on the same file. After every kill the file passes
// bbolt's check and each member's ratings in the run's record are exactly
// the acknowledged ones, plus at most the one in flight; at the end every
// member finished with every rating once and the runs closed for settling.
func TestTeamKill(t *testing.T) {
	s := &teamKill{Rounds: 2, Members: 8}
	kills := 10
	if os.Getenv("AMPEL_LONG") != "" {
		s.Rounds, kills = 16, 100
	}
	s.Started = make([]bool, s.Rounds)
	s.Next = make([][]int, s.Rounds)
	for r := range s.Next {
		s.Next[r] = make([]int, s.Members)
	}
	dir := t.TempDir()
	path, statePath := filepath.Join(dir, "team.db"), filepath.Join(dir, "state.json")
	rng := rand.New(rand.NewPCG(12, 7))
	left := s.Rounds * (1 + s.Members*teamKillSteps) // acknowledgements to come
	began := time.Now()
	killed, finished := 0, false
	for start := 0; !finished; start++ {
		if start > kills+20 {
			t.Fatalf("the child did not finish after %d starts", start)
		}
		data, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(statePath, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestTeamKillChild$")
		cmd.Env = append(cleanEnv(), "AMPEL_TEAMKILL_DB="+path, "AMPEL_TEAMKILL_STATE="+statePath)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		errOut := &tailBuffer{}
		cmd.Stderr = errOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill after a random number of acknowledgements, so that the
		// kills spread over the whole run.
		killAt := -1
		if killed < kills {
			killAt = 1 + rng.IntN(max(1, left/(kills-killed)))
		}
		acks, dead := 0, false
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var r, m, k int
			line := sc.Text()
			switch {
			case line == "done":
				finished = true
			case sscan(line, "start %d", &r):
				s.Started[r] = true
			case sscan(line, "step %d %d %d", &r, &m, &k):
				if k != s.Next[r][m] {
					t.Fatalf("member %d of round %d acknowledged step %d, want %d", m, r, k, s.Next[r][m])
				}
				s.Next[r][m] = k + 1
			default:
				continue // the test framework's own lines
			}
			acks++
			if acks == killAt && !finished {
				// What the child acknowledged before it died is read on:
				// each member has at most one event in flight.
				cmd.Process.Kill()
				killed++
				dead = true
			}
		}
		if dead && !finished {
			left -= acks
			cmd.Wait()
			checkTeamFile(t, s, path, killed)
			continue
		}
		if err := cmd.Wait(); err != nil && !dead || !finished {
			t.Fatalf("start %d: the child ended (%v) before it was done; stderr:\n%s", start, err, errOut)
		}
	}
	if killed < kills {
		t.Errorf("killed %d times, want %d", killed, kills)
	}
	checkTeamFile(t, s, path, killed)
	if t.Failed() {
		return
	}
	t.Logf("%d team runs of %d members, %d events, %d kills with SIGKILL, in %v: after every kill each member's ratings were exactly the acknowledged ones (plus the one in flight), at the end all given once",
		s.Rounds, s.Members, s.Rounds*(1+s.Members*teamKillSteps), killed, time.Since(began).Round(time.Millisecond))
}

func sscan(line, format string, args ...any) bool {
	n, err := fmt.Sscanf(line, format, args...)
	return err == nil && n == len(args)
}

// checkTeamFile opens the file the child left: it passes bbolt's check,
// and in each run's record every member who acknowledged their join is
// there once, with the ratings they acknowledged, at most the one in
// flight besides, and none other.
func checkTeamFile(t *testing.T, s *teamKill, path string, kill int) {
	t.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatalf("kill %d: reopen: %v", kill, err)
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		t.Fatalf("kill %d: bbolt's check: %v", kill, err)
	}
	ctx := context.Background()
	catalog, _, err := loadContent(Config{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	f, _ := catalog.Get("zo-kmu")
	all := true
	for r := range s.Rounds {
		c, err := db.Load(ctx, s.channel(r).Key())
		if err != nil {
			t.Fatal(err)
		}
		code := c.Records[team.Kind]
		if code == "" {
			if s.Started[r] {
				t.Errorf("kill %d: round %d: the start was acknowledged, but the group has no team run", kill, r)
			}
			all = false
			continue
		}
		rec, err := readTeam(ctx, db, code)
		if err != nil {
			t.Fatal(err)
		}
		for m := range s.Members {
			u, next := s.user(r, m), s.Next[r][m]
			if next < teamKillSteps {
				all = false
			}
			n := 0
			for _, mem := range rec.Members {
				if mem.ID == u {
					n++
				}
			}
			if n > 1 || n == 0 && next > 0 {
				t.Errorf("kill %d: %s is in the run %d times, acknowledged %d steps", kill, u, n, next)
				continue
			}
			if n == 0 {
				continue
			}
			got := rec.Members[rec.member(u)].Run.Ratings
			for cp, p := range f.Checkpoints {
				v, ok := got[p.ID]
				want := teamLevels[s.level(r, m, cp)]
				switch step := cp + 1; {
				case step < next && v != want: // acknowledged
					t.Errorf("kill %d: %s acknowledged %q for checkpoint %d; the record has %q", kill, u, want, cp+1, v)
				case step == next && ok && v != want: // in flight: given or not
					t.Errorf("kill %d: %s has %q for checkpoint %d in flight, want %q or nothing", kill, u, v, cp+1, want)
				case step > next && ok: // not sent yet: a rating counted twice landed here
					t.Errorf("kill %d: %s has %q for checkpoint %d, which was not sent yet (acknowledged %d steps)", kill, u, v, cp+1, next)
				}
			}
			if len(got) > len(f.Checkpoints) {
				t.Errorf("kill %d: %s has %d ratings", kill, u, len(got))
			}
		}
	}
	if !all {
		return
	}
	// Everything was acknowledged: every member finished, every run closed.
	for r := range s.Rounds {
		c, err := db.Load(ctx, s.channel(r).Key())
		if err != nil {
			t.Fatal(err)
		}
		rec, err := readTeam(ctx, db, c.Records[team.Kind])
		if err != nil {
			t.Fatal(err)
		}
		var members, cps []string
		for m := range s.Members {
			members = append(members, s.user(r, m))
		}
		for _, p := range f.Checkpoints {
			cps = append(cps, p.ID)
		}
		for m := range s.Members {
			i := rec.member(s.user(r, m))
			for cp, id := range cps {
				if v, want := rec.Members[i].Run.Ratings[id], teamLevels[s.level(r, m, cp)]; v != want {
					t.Errorf("round %d: %s rated checkpoint %d %q, want %q", r, s.user(r, m), cp+1, v, want)
				}
			}
			if !rec.Members[i].Run.Finished() {
				t.Errorf("round %d: %s did not finish", r, s.user(r, m))
			}
		}
		if len(rec.Members) != len(members) || rec.State != team.Settling {
			t.Errorf("round %d: %d members, state %q; want %d, %q", r, len(rec.Members), rec.State, len(members), team.Settling)
		}
	}
}
