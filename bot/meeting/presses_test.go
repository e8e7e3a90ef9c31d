package meeting_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	"github.com/ampel-bot/ampel/bot/dialogtest"
	"github.com/ampel-bot/ampel/bot/meeting"
	"github.com/ampel-bot/ampel/bot/network"
)

// multi is one engine with members on Telegram, Slack and Mattermost,
// each platform editing live messages.
type multi struct {
	t      *testing.T
	engine *bot.Engine
	store  *bottest.MemStore
	clock  *bottest.Clock
	recs   map[string]*bottest.Editing
	n      int
}

var multiPlatforms = []string{"telegram", "slack", "mattermost"}

// newMulti seeds the network net1 with per members on each platform
// ("u0" … on each; u0 on Telegram coordinates) and a linked channel on
// each platform, in German.
func newMulti(t *testing.T, per int) *multi {
	meeting.CountIDs(t)
	m := &multi{t: t, store: bottest.NewMemStore(), clock: bottest.NewClock(dialogtest.Start), recs: map[string]*bottest.Editing{}}
	m.engine = bottest.NewEngine(t, m.store, m.clock)
	n := &network.Network{ID: "net1", Name: "Lausitz", Lang: "de", Zone: "Europe/Berlin", Created: dialogtest.Start}
	for _, p := range multiPlatforms {
		m.recs[p] = &bottest.Editing{Recorder: bottest.Recorder{Name: p}}
		m.engine.Register(m.recs[p])
		for i := range per {
			u := fmt.Sprintf("u%d", i)
			role := network.Plain
			if p == "telegram" && i == 0 {
				role = network.Coordinator
			}
			n.Members = append(n.Members, network.Member{Person: bot.Person{ID: u, Name: p + " " + u}, Role: role, Lang: "de",
				Chat: bot.Address{Platform: p, Workspace: "w", User: u}, Joined: dialogtest.Start})
		}
		n.Channels = append(n.Channels, network.Channel{Chat: bot.Address{Platform: p, Workspace: "w", Chat: "chan"}, By: "u0", At: dialogtest.Start})
	}
	err := m.engine.Do(context.Background(), "seed", func(tx *bot.Tx) error {
		c, err := tx.Conversation(m.private("telegram", "u0"))
		if err != nil {
			return err
		}
		c.Records = map[string]string{network.Kind: n.ID}
		return network.Put(tx, n)
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (m *multi) private(platform, user string) bot.Address {
	return bot.Address{Platform: platform, Workspace: "w", Chat: "dm-" + user, User: user}
}

// send hands an event from user's private chat to the engine.
func (m *multi) send(platform, user string, ev bot.Event) {
	m.t.Helper()
	m.n++
	ev.ID, ev.Addr, ev.LangHint = fmt.Sprintf("e%d", m.n), m.private(platform, user), "de"
	if err := m.engine.Handle(context.Background(), ev); err != nil {
		m.t.Fatal(err)
	}
	m.settle()
}

// settle sends what is due, live messages that waited included.
func (m *multi) settle() {
	m.t.Helper()
	for range 3 {
		bottest.Settle(m.t, m.engine)
		m.clock.Add(time.Second)
		if err := m.engine.Flush(context.Background()); err != nil {
			m.t.Fatal(err)
		}
	}
}

// press presses the n-th button of the newest message with buttons that
// the coordinator got.
func (m *multi) press(n int) {
	m.t.Helper()
	var last []bot.Button
	for _, s := range m.recs["telegram"].Take() {
		if s.To.User == "u0" && len(s.Msg.Buttons) > 0 {
			last = s.Msg.Flat()
		}
	}
	if n > len(last) {
		m.t.Fatalf("no button %d: %v", n, last)
	}
	m.send("telegram", "u0", bot.Event{Action: last[n-1].Action})
}

// announce: u0 on Telegram announces the meeting of 16 March 2027.
func (m *multi) announce() {
	m.send("telegram", "u0", bot.Event{Text: "/meeting"})
	m.press(1)
	for _, s := range []string{"Netzwerktreffen", "16.03.2027", "18:00-20:00", "IHK Cottbus", "Begrüßung"} {
		m.send("telegram", "u0", bot.Event{Text: s})
	}
	m.press(1) // no limit
	m.press(1) // once
	m.press(1) // send
	for _, r := range m.recs {
		r.Take()
		r.TakeEdits()
	}
}

// shown is the live message of the meeting as the chat shows it now.
func (m *multi) shown(to bot.Address) bot.Message {
	m.t.Helper()
	ref, ok, err := m.store.Live(context.Background(), to.Key(), "meet:meet0001")
	if err != nil || !ok {
		m.t.Fatalf("no live message in %s: %v", to.Key(), err)
	}
	return m.recs[to.Platform].Shown(ref.Ref)
}

// TestThousandPresses: 1,000 answers pressed at once by 300 members on
// Telegram, Slack and Mattermost, each member's in order, many changing
// their answer: the meeting's counts are each member's last answer, each
// member's record holds it, every live message ends showing the final
// counts (the linked channels' and every member's copy, pressed or not),
// each member's own copy their last answer; no live message is edited
// twice within a second, and the copies of those who did not press are
// edited once, when the answers have settled.
func TestThousandPresses(t *testing.T) {
	const per, presses = 100, 1000
	m := newMulti(t, per)
	m.announce()
	var mu sync.Mutex
	edited := map[string][]time.Time{} // platform/ref: when
	for p, r := range m.recs {
		r.EditFn = func(ref string, _ bot.Message) error {
			mu.Lock()
			defer mu.Unlock()
			edited[p+"/"+ref] = append(edited[p+"/"+ref], m.clock.Now())
			return nil
		}
	}
	type member struct{ platform, user string }
	var members []member
	for _, p := range multiPlatforms {
		for i := range per {
			members = append(members, member{p, fmt.Sprintf("u%d", i)})
		}
	}
	rng := rand.New(rand.NewPCG(13, 13))
	answers := []string{meeting.Yes, meeting.Maybe, meeting.No}
	plan := map[member][]string{}
	for range presses {
		mem := members[rng.IntN(len(members))]
		plan[mem] = append(plan[mem], answers[rng.IntN(3)])
	}
	// Six presser goroutines, each member's presses in order on one.
	began := time.Now()
	var wg sync.WaitGroup
	var failed sync.Once
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, mem := range members {
				if i%6 != w {
					continue
				}
				for j, a := range plan[mem] {
					ev := bot.Event{ID: fmt.Sprintf("p-%s-%s-%d", mem.platform, mem.user, j), Addr: m.private(mem.platform, mem.user), LangHint: "de", Action: "mt:meet0001:" + a}
					if err := m.engine.Handle(context.Background(), ev); err != nil {
						failed.Do(func() { t.Errorf("press: %v", err) })
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(began)
	// Live messages change at most once a second: the clock goes on a
	// second at a time, firing what is due, until nothing more is sent
	// and the copies' chore has come.
	quiet, after := 0, m.clock.Now().Add(2*time.Minute)
	for (quiet < 3 || m.clock.Now().Before(after)) && m.clock.Now().Sub(dialogtest.Start) < time.Hour {
		if _, err := m.engine.RunDue(context.Background(), m.clock.Now()); err != nil {
			t.Fatal(err)
		}
		m.settle()
		quiet++
		for _, r := range m.recs {
			if len(r.Take())+len(r.TakeEdits()) > 0 {
				quiet = 0
			}
		}
	}
	t.Logf("%d presses by %d members handled in %v; the live messages settled by %v on the clock", presses, len(plan), took, m.clock.Now().Sub(dialogtest.Start))
	// How long the presses took is a figure for the log, not a test: it
	// depends on the machine (a hang ends in go test's timeout).
	want := map[string]int{}
	for mem, as := range plan {
		last := as[len(as)-1]
		want[last]++
		var r meeting.RSVP
		raw := recordIn(t, m.store, meeting.KindRSVP, "meet0001|"+mem.platform+"/w/@"+mem.user)
		if err := json.Unmarshal([]byte(raw), &r); err != nil || r.Answer != last {
			t.Errorf("%s %s: stored answer %q, want %q (%v)", mem.platform, mem.user, r.Answer, last, err)
		}
		own := m.shown(bot.Address{Platform: mem.platform, Workspace: "w", User: mem.user})
		if wantLine := map[string]string{"y": "Ihre Antwort: ja ✓", "m": "Ihre Antwort: vielleicht", "n": "Ihre Antwort: nein"}[last]; !strings.Contains(own.Text, wantLine) {
			t.Errorf("%s %s: own copy ends %q, want %q", mem.platform, mem.user, own.Text[strings.LastIndex(own.Text, "\n")+1:], wantLine)
		}
	}
	var got meeting.Meeting
	if err := json.Unmarshal([]byte(recordIn(t, m.store, meeting.Kind, "meet0001")), &got); err != nil {
		t.Fatal(err)
	}
	if got.Yes != want["y"] || got.Maybe != want["m"] || got.No != want["n"] {
		t.Errorf("counts: got %d yes, %d maybe, %d no; want %d, %d, %d", got.Yes, got.Maybe, got.No, want["y"], want["m"], want["n"])
	}
	final := fmt.Sprintf("%d ja · %d vielleicht · %d nein", want["y"], want["m"], want["n"])
	for _, p := range multiPlatforms {
		if s := m.shown(bot.Address{Platform: p, Workspace: "w", Chat: "chan"}); !strings.Contains(s.Text, final) {
			t.Errorf("%s channel shows %q, want %q", p, s.Text[strings.LastIndex(s.Text, "\n")+1:], final)
		}
	}
	stale := 0
	for _, mem := range members {
		to := bot.Address{Platform: mem.platform, Workspace: "w", User: mem.user}
		if s := m.shown(to); !strings.Contains(s.Text, final) {
			if stale++; stale <= 3 {
				t.Errorf("%s %s (%d presses): own copy shows %q, want %q", mem.platform, mem.user, len(plan[mem]), s.Text, final)
			}
		}
		ref, _, _ := m.store.Live(context.Background(), to.Key(), "meet:meet0001")
		if n := len(edited[mem.platform+"/"+ref.Ref]); len(plan[mem]) == 0 && n != 1 {
			t.Errorf("%s %s pressed nothing; their copy was edited %d times, want once", mem.platform, mem.user, n)
		}
	}
	if stale > 0 {
		t.Errorf("%d of %d members' copies do not end on the final counts", stale, len(members))
	}
	for ref, at := range edited {
		for i := 1; i < len(at); i++ {
			if at[i].Sub(at[i-1]) < time.Second {
				t.Errorf("%s edited twice within a second (%s, %s)", ref, at[i-1].Sub(dialogtest.Start), at[i].Sub(dialogtest.Start))
				break
			}
		}
	}
}
