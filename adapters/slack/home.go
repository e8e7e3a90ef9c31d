package slack

import (
	"context"
	"strings"
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/ampel-bot/ampel/bot"
)

// The App Home tab shows the plan of the user's DM conversation with the
// bot (Config.Plan) and the commands (Config.Commands). It is published
// when the user opens it (app_home_opened) and kept current: after every
// event handled in a DM with the bot, the user's home is published again,
// at most once per homeEvery per user. An event within homeEvery of the
// last publish schedules one publish for the end of that period, which
// takes in all events up to then, so the tab is never more than
// homeEvery behind while a burst of answers costs one views.publish, not
// one per answer (views.publish is rate limited per workspace, and the
// tab is not what the user looks at while answering in the DM).
const (
	homeEvery = 30 * time.Second
	// homeTimeout bounds one publish done in the background.
	homeTimeout = 10 * time.Second
	maxHomes    = 1 << 14
	maxDMs      = 1 << 16
)

// nameOf is how a person is named when picked as responsible.
func nameOf(u *slackapi.User) string {
	for _, n := range []string{u.RealName, u.Profile.RealName, u.Profile.DisplayName, u.Name} {
		if n = strings.TrimSpace(n); n != "" {
			return n
		}
	}
	return ""
}

// openedHome publishes the home tab of a user who opened it.
func (a *Adapter) openedHome(ctx context.Context, h *homeOpen) {
	if a.cfg.Commands == nil && a.cfg.Plan == nil {
		return
	}
	if h.channel != "" {
		a.dms.set(h.user, h.channel)
	}
	a.homes.published(h.user)
	a.publishHome(ctx, h.team, h.user)
}

// touchHome notes an event handled in chat: in a DM with the bot, the
// user's home tab is published again (throttled, in the background).
func (a *Adapter) touchHome(addr bot.Address, group bool) {
	if a.cfg.Plan == nil || group || !isDM(addr.Chat) || addr.User == "" {
		return
	}
	if known, ok := a.dms.get(addr.User); ok && known != addr.Chat {
		return // a DM between people (where /ampel works too), not with the bot
	}
	a.homes.touch(addr.Workspace, addr.User, a.publishHome)
}

// dmWith returns the DM channel of the bot with a user: known from
// app_home_opened or an earlier lookup, else conversations.open (which
// returns the existing DM). "" if that fails.
func (a *Adapter) dmWith(ctx context.Context, user string) string {
	if ch, ok := a.dms.get(user); ok {
		return ch
	}
	var ch *slackapi.Channel
	err := a.call(ctx, "conversations.open", func(ctx context.Context) error {
		var err error
		ch, _, _, err = a.api.OpenConversationContext(ctx, &slackapi.OpenConversationParameters{Users: []string{user}, ReturnIM: true})
		return err
	})
	if err != nil || ch == nil || ch.ID == "" {
		if ctx.Err() == nil {
			a.log.Info("slack conversations.open failed", "err", err)
		}
		return ""
	}
	a.dms.set(user, ch.ID)
	return ch.ID
}

// publishHome publishes the App Home tab: the plan of the user's DM
// conversation with the bot, then the commands in the user's language.
// All text is escaped plain text. Best effort.
func (a *Adapter) publishHome(ctx context.Context, team, user string) {
	if a.cfg.Commands == nil && a.cfg.Plan == nil {
		return
	}
	if team == "" {
		team = a.team
	}
	lang, _, _ := strings.Cut(a.people.get(ctx, a, user).lang, "-")
	blocks := []slackapi.Block{
		slackapi.NewHeaderBlock(slackapi.NewTextBlockObject(slackapi.PlainTextType, "Ampel", false, false)),
	}
	if a.cfg.Plan != nil {
		if dm := a.dmWith(ctx, user); dm != "" {
			// The plan in the conversation's own language ("" lets the
			// engine choose: the one set with /language, else the hint
			// it keeps from Slack's locale).
			m, err := a.cfg.Plan(ctx, bot.Address{Platform: Platform, Workspace: team, Chat: dm, User: user}, "")
			if err != nil {
				a.log.Info("slack home tab without the plan", "err", a.r.redact(err.Error()))
			} else {
				for _, c := range splitText(m.Text, maxSection) {
					blocks = append(blocks, slackapi.NewSectionBlock(plain(escape(c)), nil, nil))
					if len(blocks) >= maxViewBlocks/2 {
						break
					}
				}
			}
		}
	}
	if a.cfg.Commands != nil {
		if len(blocks) > 1 {
			blocks = append(blocks, slackapi.NewDividerBlock())
		}
		for _, c := range a.cfg.Commands(strings.ToLower(lang)) {
			if len(blocks) >= maxViewBlocks {
				break
			}
			line := Command + " " + c.Name
			if c.Description != "" {
				line += " · " + c.Description
			}
			blocks = append(blocks, slackapi.NewSectionBlock(plain(truncate(escape(line), maxSection)), nil, nil))
		}
	}
	err := a.call(ctx, "views.publish", func(ctx context.Context) error {
		_, err := a.api.PublishViewContext(ctx, slackapi.PublishViewContextRequest{
			UserID: user, View: slackapi.HomeTabViewRequest{Type: slackapi.VTHomeTab, Blocks: slackapi.Blocks{BlockSet: blocks}},
		})
		return err
	})
	if err != nil && ctx.Err() == nil {
		a.log.Info("slack views.publish failed", "err", err)
	}
}

// dms remembers the DM channel of the bot with each user. Memory only and
// bounded: forgetting costs one conversations.open.
type dms struct {
	mu sync.Mutex
	m  map[string]string
}

func (d *dms) get(user string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ch, ok := d.m[user]
	return ch, ok
}

func (d *dms) set(user, channel string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil || len(d.m) >= maxDMs {
		d.m = map[string]string{}
	}
	d.m[user] = channel
}

// homeKeeper throttles the republishing of home tabs per user (see
// homeEvery). Its background publishes end with stop.
type homeKeeper struct {
	now   func() time.Time
	every time.Duration

	mu      sync.Mutex
	ctx     context.Context
	cancel  context.CancelFunc
	users   map[string]*homeState
	stopped bool
	wg      sync.WaitGroup
}

type homeState struct {
	last  time.Time   // the last publish
	timer *time.Timer // a publish scheduled
	team  string
}

func newHomeKeeper() *homeKeeper {
	ctx, cancel := context.WithCancel(context.Background())
	return &homeKeeper{now: time.Now, every: homeEvery, ctx: ctx, cancel: cancel, users: map[string]*homeState{}}
}

// published notes a publish done outside the keeper (the user opened the tab).
func (k *homeKeeper) published(user string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	s := k.state(user, now)
	s.last = now
}

// state returns user's state, made (after pruning) if new. k.mu is held.
func (k *homeKeeper) state(user string, now time.Time) *homeState {
	s := k.users[user]
	if s == nil {
		k.prune(now)
		s = &homeState{}
		k.users[user] = s
	}
	return s
}

// touch publishes the user's home now, in the background, or, within
// every of the last publish, schedules one publish for when that period
// ends.
func (k *homeKeeper) touch(team, user string, publish func(ctx context.Context, team, user string)) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.stopped {
		return
	}
	now := k.now()
	s := k.state(user, now)
	s.team = team
	if s.timer != nil {
		return // the scheduled publish will show this event's effects too
	}
	run := func() {
		defer k.wg.Done()
		ctx, cancel := context.WithTimeout(k.ctx, homeTimeout)
		defer cancel()
		publish(ctx, team, user)
	}
	if wait := s.last.Add(k.every).Sub(now); wait > 0 {
		s.timer = time.AfterFunc(wait, func() {
			k.mu.Lock()
			if k.stopped {
				k.mu.Unlock()
				return
			}
			s.timer, s.last = nil, k.now()
			team = s.team
			k.wg.Add(1)
			k.mu.Unlock()
			run()
		})
		return
	}
	s.last = now
	k.wg.Add(1)
	go run()
}

// prune drops users at rest (nothing scheduled, last publish over a
// period ago) when the map is full; if all are busy, it starts over.
func (k *homeKeeper) prune(now time.Time) {
	if len(k.users) < maxHomes {
		return
	}
	for u, s := range k.users {
		if s.timer == nil && now.Sub(s.last) >= k.every {
			delete(k.users, u)
		}
	}
	if len(k.users) >= maxHomes {
		for u, s := range k.users {
			if s.timer != nil {
				s.timer.Stop()
			}
			delete(k.users, u)
		}
	}
}

// stop cancels scheduled publishes, ends running ones and waits for them.
func (k *homeKeeper) stop() {
	k.mu.Lock()
	k.stopped = true
	for _, s := range k.users {
		if s.timer != nil {
			s.timer.Stop()
		}
	}
	k.cancel()
	k.mu.Unlock()
	k.wg.Wait()
}
