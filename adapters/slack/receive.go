package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/ampel-bot/ampel/bot"
)

// The kinds of request Slack sends, by their Socket Mode envelope type.
const (
	kindEvents      = "events_api"
	kindInteractive = "interactive"
	kindSlash       = "slash_commands"
)

// Command is the slash command the app registers (see manifest.yaml).
const Command = "/ampel"

// inbound is one of Slack's requests, understood.
type inbound struct {
	ev    bot.Event
	ok    bool   // there is an event for the engine
	order string // requests with the same order key are handled in order
	press *press // a pressed button: its message is updated after the commit
	home  *homeOpen
	botDM bool    // a message.im: the channel is the user's DM with the bot
	open  *opener // a form's opener pressed: no event, a modal to open
	// A submitted form: the key of its modal (see modals), whose
	// opener's message is updated after the commit, and the people picked
	// in user pickers, by field name, to be put into the event by name.
	view   string
	picked map[string]string
}

// homeOpen is an app_home_opened event: whose home tab to publish.
type homeOpen struct {
	team, user string
	channel    string // the DM with the user, if the event named it
}

// press is what is needed to update a message after one of its buttons
// was pressed.
type press struct {
	channel, ts string
	actionID    string
	label       string          // the pressed button's text, as sent
	blocks      slackapi.Blocks // the message as the user saw it
	text        string          // its fallback text, as stored by Slack
}

// decode understands one request: the JSON of an Events API callback, an
// interaction payload or a slash command, as Socket Mode delivers them.
func (a *Adapter) decode(kind string, payload json.RawMessage) (inbound, error) {
	switch kind {
	case kindEvents:
		return a.fromEvents(payload)
	case kindInteractive:
		var cb slackapi.InteractionCallback
		if err := json.Unmarshal(payload, &cb); err != nil {
			return inbound{}, fmt.Errorf("interaction payload: %w", err)
		}
		return a.fromInteraction(cb), nil
	case kindSlash:
		var sc slackapi.SlashCommand
		if err := json.Unmarshal(payload, &sc); err != nil {
			return inbound{}, fmt.Errorf("slash command payload: %w", err)
		}
		return a.fromSlash(sc), nil
	}
	return inbound{}, fmt.Errorf("unknown request kind %q", kind)
}

// fromEvents translates an Events API callback. The bot acts on:
//   - message.im: a message in the DM with the bot, written by a person
//     (not a bot, itself included: two bots must not talk forever) and
//     new (edits, deletions, joins and the like have a subtype);
//   - app_mention: the bot named in a channel; the mention is cut out;
//   - app_home_opened: the home tab is published;
//   - member_left_channel: a member left a channel the bot is in, or was
//     removed (a Left event); channel_left and group_left: the bot itself
//     was removed from a public or private channel (a Left event without
//     a user, see left).
//
// Anything else is acknowledged and ignored.
func (a *Adapter) fromEvents(payload json.RawMessage) (inbound, error) {
	outer, err := slackevents.ParseEvent(payload, slackevents.OptionNoVerifyToken())
	if err != nil {
		return inbound{}, fmt.Errorf("events payload: %w", err)
	}
	cb, isCallback := outer.Data.(*slackevents.EventsAPICallbackEvent)
	if outer.Type != slackevents.CallbackEvent || !isCallback {
		return inbound{}, nil
	}
	team := cb.TeamID
	if team == "" {
		team = a.team
	}
	switch e := outer.InnerEvent.Data.(type) {
	case *slackevents.MessageEvent:
		if e.ChannelType != slackevents.ChannelTypeIM || e.SubType != "" || e.BotID != "" ||
			e.User == "" || e.User == a.botID || strings.TrimSpace(e.Text) == "" {
			return inbound{}, nil
		}
		in := a.message(cb.EventID, team, e.Channel, e.User, unescape(e.Text), false)
		in.botDM = in.ok
		return in, nil
	case *slackevents.AppMentionEvent:
		if e.BotID != "" || e.User == "" || e.User == a.botID || e.Edited != nil {
			return inbound{}, nil
		}
		text := strings.TrimSpace(unescape(a.stripMention(e.Text)))
		if text == "" {
			text = "/help" // "@Ampel" alone: say what the bot can do
		}
		return a.message(cb.EventID, team, e.Channel, e.User, text, !isDM(e.Channel)), nil
	case *slackevents.AppHomeOpenedEvent:
		if e.Tab != "home" || e.User == "" {
			return inbound{}, nil
		}
		h := &homeOpen{team: team, user: e.User}
		if isDM(e.Channel) {
			h.channel = e.Channel
		}
		return inbound{home: h, order: "u:" + e.User}, nil
	case *slackevents.MemberLeftChannelEvent:
		return a.left(cb.EventID, team, e.Channel, e.User), nil
	case *slackevents.ChannelLeftEvent:
		return a.left(cb.EventID, team, e.Channel, a.botID), nil
	case *slackevents.GroupLeftEvent:
		return a.left(cb.EventID, team, e.Channel, a.botID), nil
	}
	return inbound{}, nil
}

// left is the Left event of user leaving channel, with the callback's
// event ID, which is the same in every redelivery. The bot's own removal
// comes without a user (see bot.Event.Left).
func (a *Adapter) left(id, team, channel, user string) inbound {
	if id == "" || channel == "" || user == "" {
		return inbound{}
	}
	if user == a.botID {
		user = ""
	}
	return inbound{ok: true, order: "c:" + channel, ev: bot.Event{
		ID: id, Left: true, Group: true,
		Addr: bot.Address{Platform: Platform, Workspace: team, Chat: channel, User: user},
	}}
}

func (a *Adapter) message(id, team, channel, user, text string, group bool) inbound {
	if id == "" || channel == "" {
		return inbound{}
	}
	return inbound{ok: true, order: "c:" + channel, ev: bot.Event{
		ID: id, Text: text, Group: group,
		Addr: bot.Address{Platform: Platform, Workspace: team, Chat: channel, User: user},
	}}
}

// unescape turns text as Slack delivers it back into what the user
// typed: Slack sends "&", "<" and ">" typed by a user as entities, and
// everything else as it is. Mentions ("<@U123>") stay as Slack's markup:
// they are text to the engine, and come out literally when echoed.
func unescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// isDM tells a direct message channel by its ID: Slack's DM channel IDs
// start with D.
func isDM(channel string) bool { return strings.HasPrefix(channel, "D") }

var mentionPattern = regexp.MustCompile(`<@([A-Z0-9]+)(?:\|[^>]*)?>`)

// stripMention removes the mentions of the bot from a message ("<@U0BOT>
// 2" → "2"); mentions of other people stay.
func (a *Adapter) stripMention(text string) string {
	return mentionPattern.ReplaceAllStringFunc(text, func(m string) string {
		if sub := mentionPattern.FindStringSubmatch(m); sub[1] == a.botID {
			return ""
		}
		return m
	})
}

// fromInteraction translates a pressed Block Kit button. Slack gives an
// interaction no event ID (and never delivers one again); the trigger_id
// is unique per press, so it serves as one. A press of a
// form's opener is no event (see forms.go); a submitted form is.
func (a *Adapter) fromInteraction(cb slackapi.InteractionCallback) inbound {
	if cb.Type == slackapi.InteractionTypeViewSubmission {
		return a.fromSubmission(cb)
	}
	if cb.Type != slackapi.InteractionTypeBlockActions || len(cb.ActionCallback.BlockActions) == 0 {
		return inbound{}
	}
	act := cb.ActionCallback.BlockActions[0]
	channel := cb.Container.ChannelID
	if channel == "" {
		channel = cb.Channel.ID
	}
	if act.Type != slackapi.ActionType(slackapi.METButton) || act.Value == "" || channel == "" || cb.User.ID == "" {
		return inbound{}
	}
	id := "act:" + cb.TriggerID
	if cb.TriggerID == "" {
		id = "act:" + act.ActionTs + ":" + cb.User.ID + ":" + act.ActionID
	}
	team := cb.Team.ID
	if team == "" {
		team = a.team
	}
	ts := cb.Container.MessageTs
	if ts == "" {
		ts = cb.Message.Timestamp
	}
	var p *press
	if ts != "" && !cb.Container.IsEphemeral {
		p = &press{channel: channel, ts: ts, actionID: act.ActionID, label: act.Text.Text,
			blocks: cb.Message.Blocks, text: cb.Message.Text}
	}
	if act.ActionID == openerActionID {
		if cb.TriggerID == "" {
			return inbound{}
		}
		if p == nil {
			p = &press{channel: channel}
		}
		// Its own order key: views.open must come within 3 s of the
		// press, not after the conversation's queue.
		return inbound{order: "open:" + cb.TriggerID, open: &opener{
			trigger: cb.TriggerID, formID: act.Value, team: team, user: cb.User.ID, press: p}}
	}
	in := inbound{ok: true, order: "c:" + channel, press: p, ev: bot.Event{
		ID: id, Action: act.Value, Group: !isDM(channel),
		Addr: bot.Address{Platform: Platform, Workspace: team, Chat: channel, User: cb.User.ID},
	}}
	return in
}

// fromSlash translates "/ampel check" into the engine's "/check", and
// "/ampel" alone into "/help". The trigger_id serves as the event ID, as
// for a press.
func (a *Adapter) fromSlash(sc slackapi.SlashCommand) inbound {
	if sc.ChannelID == "" || sc.UserID == "" || sc.TriggerID == "" {
		return inbound{}
	}
	team := sc.TeamID
	if team == "" {
		team = a.team
	}
	text := strings.TrimSpace(unescape(sc.Text))
	switch {
	case text == "":
		text = "/help"
	case !strings.HasPrefix(text, "/"):
		text = "/" + text
	}
	return inbound{ok: true, order: "c:" + sc.ChannelID, ev: bot.Event{
		ID: "cmd:" + sc.TriggerID, Text: text, Group: !isDM(sc.ChannelID),
		Addr: bot.Address{Platform: Platform, Workspace: team, Chat: sc.ChannelID, User: sc.UserID},
	}}
}

// process handles one understood request: it passes the event to h and
// calls ack once h has committed it (or found it a duplicate); a pressed
// button's message is marked beside, off the receive path (see
// markLater). If h fails, ack is not called and the error is returned, so
// that Slack delivers the request again. Requests without an event are
// acknowledged at once.
func (a *Adapter) process(ctx context.Context, h bot.Handler, in inbound, ack func()) error {
	if in.home != nil {
		ack() // nothing to lose: the home tab is published again next time
		a.openedHome(ctx, in.home)
		return nil
	}
	if in.open != nil {
		ack() // not an engine event: the submission will be
		a.openForm(ctx, in.open)
		return nil
	}
	if !in.ok {
		ack()
		return nil
	}
	if !in.ev.Left { // a leave says nothing of the channel's language
		p := a.people.get(ctx, a, in.ev.Addr.User)
		in.ev.LangHint, in.ev.ZoneHint, in.ev.UserName = p.lang, p.zone, p.name
	}
	a.resolvePicked(ctx, &in)
	pressed := in.press
	if in.view != "" {
		pressed = a.modals.get(in.view)
	}
	// Whether the pressed message carries the open question must be known
	// before h sends the next one.
	current := true
	if pressed != nil {
		newest, known := a.kbs.Newest(pressed.channel)
		current = !known || newest == pressed.ts
	}
	hctx, refused := bot.WithRefusal(ctx)
	if err := h.Handle(hctx, in.ev); err != nil {
		return err
	}
	// A live message is the engine's to edit; a refused press (someone
	// else's button) leaves the message, and its buttons, to whoever may
	// press them.
	if pressed != nil && pressed.ts != "" && !isLive(pressed.blocks) && !refused() {
		a.markLater(pressed, current) // queued now, made beside the ack: neither waits for the other
	}
	// For a form submission, the empty acknowledgement closes the modal.
	// If the engine refused an answer, it says why in the conversation
	// and asks again there.
	ack()
	if in.view != "" {
		a.modals.drop(in.view)
	}
	if in.botDM {
		a.dms.set(in.ev.Addr.User, in.ev.Addr.Chat)
	}
	a.touchHome(in.ev.Addr, in.ev.Group)
	return nil
}

// markLater has the pressed message marked (see showChoice) on a goroutine
// of the channel's, so that the next request of the channel does not wait
// for the update. chat.update is a Tier 3 method, not under the posting
// limit of chat.postMessage: it waits for its own tier's turn (see
// limiter), never for the channel's posts. A
// message is marked once: a press Slack delivers again (the
// acknowledgement was lost), or a second press of the same message
// (another member of the channel), comes with the message's blocks as
// they were before the first marking, and updating from them would undo
// it.
func (a *Adapter) markLater(p *press, current bool) {
	key := p.channel + "/" + p.ts
	if !a.marked.claim(key) {
		return
	}
	if !a.after.Go("c:"+p.channel, func(ctx context.Context) {
		if !a.showChoice(ctx, p, current) {
			a.marked.release(key) // not marked: a later press may try
		}
	}) {
		a.marked.release(key)
	}
}

// marks remembers which pressed messages were marked (or are being), for
// the last maxMarks of them.
type marks struct {
	mu    sync.Mutex
	m     map[string]bool
	order []string
}

const maxMarks = 1 << 14

func (s *marks) claim(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m[key] {
		return false
	}
	if s.m == nil {
		s.m = map[string]bool{}
	}
	for len(s.order) >= maxMarks {
		delete(s.m, s.order[0])
		s.order = s.order[1:]
	}
	s.m[key] = true
	s.order = append(s.order, key)
	return true
}

func (s *marks) release(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key) // its place in order goes when it comes up
}

// showChoice updates the message whose button was pressed: its buttons go,
// and the chosen label is shown under its text, so that the conversation
// reads as a record of the answers and old buttons cannot be pressed by
// mistake. A press on an older message than the open question (current
// is false) was refused by the engine, which said so: that message only
// loses its buttons. Best effort: the answer is committed whatever
// happens here. It reports false if the update failed.
func (a *Adapter) showChoice(ctx context.Context, p *press, current bool) bool {
	var kept slackapi.Blocks
	label := ""
	for _, b := range p.blocks.BlockSet {
		ab, isActions := b.(*slackapi.ActionBlock)
		if !isActions {
			kept.BlockSet = append(kept.BlockSet, b)
			continue
		}
		if ab.Elements == nil {
			continue
		}
		for _, el := range ab.Elements.ElementSet {
			if btn, ok := el.(*slackapi.ButtonBlockElement); ok && btn.ActionID == p.actionID && btn.Text != nil {
				label = btn.Text.Text
			}
		}
	}
	if len(kept.BlockSet) == len(p.blocks.BlockSet) {
		return true // no buttons left: a second press of the same message
	}
	if label == "" {
		label = escape(p.label)
	}
	if current && label != "" {
		// The label is taken as Slack returned it, that is as it was sent:
		// already escaped.
		kept.BlockSet = append(kept.BlockSet, slackapi.NewContextBlock("ampel_choice",
			slackapi.NewTextBlockObject(slackapi.PlainTextType, "✓ "+label, false, false)))
	}
	if len(kept.BlockSet) == 0 {
		kept.BlockSet = append(kept.BlockSet, slackapi.NewSectionBlock(
			slackapi.NewTextBlockObject(slackapi.PlainTextType, "✓", false, false), nil, nil))
	}
	ctx, cancel := context.WithTimeout(ctx, markTimeout)
	defer cancel()
	if err := a.waitUpdate(ctx); err != nil {
		return false
	}
	err := a.call(ctx, "chat.update", func(ctx context.Context) error {
		_, _, _, err := a.api.UpdateMessageContext(ctx, p.channel, p.ts,
			slackapi.MsgOptionBlocks(kept.BlockSet...), slackapi.MsgOptionText(p.text, false))
		return err
	})
	if err != nil {
		a.log.Info("slack could not mark the chosen button", "channel", p.channel, "err", err)
		return false
	}
	return true
}

// markTimeout bounds the update of a pressed message.
const markTimeout = 30 * time.Second

// person is what Slack says about a user that the engine can use.
type person struct {
	lang, zone string
	name       string // the real name, else the display name, else the handle
	at         time.Time
}

// people caches users.info per user for peopleTTL: a user's locale and
// time zone rarely change, and users.info is rate limited (Tier 4).
type people struct {
	mu sync.Mutex
	m  map[string]person
}

const (
	peopleTTL = 10 * time.Minute
	maxPeople = 1 << 14
	// peopleTimeout bounds the lookup: the event waits for it, and Slack
	// wants its acknowledgement within 3 s.
	peopleTimeout = time.Second
)

// get returns the user's language and time zone, from the cache or
// users.info. A failed lookup yields what was known before, or nothing:
// the hints are a convenience, never a reason to refuse an event.
func (p *people) get(ctx context.Context, a *Adapter, user string) person {
	if user == "" {
		return person{}
	}
	p.mu.Lock()
	old, ok := p.m[user]
	p.mu.Unlock()
	if ok && time.Since(old.at) < peopleTTL {
		return old
	}
	ctx, cancel := context.WithTimeout(ctx, peopleTimeout)
	defer cancel()
	var u *slackapi.User
	err := a.call(ctx, "users.info", func(ctx context.Context) error {
		var err error
		u, err = a.api.GetUserInfoContext(ctx, user)
		return err
	})
	if err != nil {
		a.log.Info("slack users.info failed; no language or zone hint", "err", err)
		return old
	}
	np := person{lang: u.Locale, zone: u.TZ, name: nameOf(u), at: time.Now()}
	if _, err := time.LoadLocation(np.zone); np.zone != "" && err != nil {
		np.zone = ""
	}
	p.mu.Lock()
	if p.m == nil || len(p.m) >= maxPeople {
		p.m = map[string]person{} // forgetting costs one lookup each
	}
	p.m[user] = np
	p.mu.Unlock()
	return np
}

// maxViewBlocks is Slack's limit on the blocks of a view.
const maxViewBlocks = 100
