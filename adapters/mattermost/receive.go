package mattermost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mattermost/mattermost/server/public/model"

	"github.com/ampel-bot/ampel/bot"
)

// readTimeout is how long the connection may be silent before it counts
// as dead. The server pings every 60 s; a half-open TCP connection (a
// router that forgot it) is noticed within this time.
const readTimeout = 2 * time.Minute

// catchUpMargin is how far before the newest post received in a channel a
// catch-up starts: posts of one channel may be committed, and broadcast,
// slightly out of create_at order. Posts read twice are dropped by ID.
const catchUpMargin = 10 * time.Second

func newDialer(c *http.Client) *websocket.Dialer {
	d := &websocket.Dialer{HandshakeTimeout: 15 * time.Second, Proxy: http.ProxyFromEnvironment}
	if t, ok := c.Transport.(*http.Transport); ok && t != nil {
		d.TLSClientConfig = t.TLSClientConfig
		d.Proxy = t.Proxy
		d.NetDialContext = t.DialContext
	}
	return d
}

// Run receives posts and passes them to h until ctx is done; then it
// returns nil. It returns an error only when it cannot go on (the token
// was rejected).
//
// The Mattermost server pushes new posts over a WebSocket, at most once:
// what is posted while the connection is down is never pushed. So after
// every connect, once the server's "hello" confirms the login, Run reads
// what it may have missed over REST: the channels the bot is a member of
// (GET users/{bot}/channels, one request, DMs included, all teams), and
// for each channel with a post after its catch-up bound, GET
// channels/{id}/posts?since=. The bound is the newest create_at received
// in that channel (less catchUpMargin), or, for a channel nothing was
// received from yet, the adapter's start less a lookback, so that the
// posts of a restart's downtime are read too. The engine ignores those
// it had handled: by post ID, durably, and, as a restart may read back
// more posts of a channel than it remembers IDs of, by time (these posts
// go as bot.Event.Replayed, with their create_at). Posts seen twice,
// from the socket and from REST, are dropped by ID in memory.
//
// Posts are handled one channel at a time in create_at order, different
// channels in parallel. A post is marked as received when it is queued;
// if h fails (the store), it is retried with backoff until it succeeds or
// ctx ends, so that nothing is skipped and the order holds.
func (a *Adapter) Run(ctx context.Context, h bot.Handler) error {
	d := &dispatcher{ctx: ctx, a: a, h: h, queues: map[string][]queued{}}
	defer d.wg.Wait()
	a.recv.reset(a.now().Add(-a.lookback).UnixMilli())
	failures := 0
	for ctx.Err() == nil {
		err := a.session(ctx, d, func() { failures = 0; a.link.Up() })
		if ctx.Err() != nil {
			return nil
		}
		a.link.Down(a.now(), linkGrace)
		if errors.Is(err, errUnauthorized) {
			return fmt.Errorf("mattermost: the token was rejected; stopping: %w", err)
		}
		a.log.Warn("mattermost connection lost; reconnecting", "err", err, "failures", failures+1)
		if a.reconnectWait(ctx, failures) != nil {
			return nil
		}
		failures++
	}
	return nil
}

// session runs one WebSocket connection until it fails or ctx ends.
// healthy is called once the server said hello.
func (a *Adapter) session(ctx context.Context, d *dispatcher, healthy func()) error {
	hdr := http.Header{"Authorization": {model.HeaderBearer + " " + a.cfg.Token}}
	conn, resp, err := a.dialer.DialContext(ctx, a.wsURL, hdr)
	if err != nil {
		var kinds []error
		if resp != nil && resp.StatusCode == http.StatusUnauthorized {
			kinds = append(kinds, errUnauthorized)
		}
		return a.r.errorf(kinds, "mattermost websocket: %v", err)
	}
	defer conn.Close()
	a.rc.up.Store(true)
	defer a.rc.up.Store(false)
	stop := context.AfterFunc(ctx, func() { conn.Close() }) // unblocks the read
	defer stop()
	// Servers authenticate the upgrade by the header; older ones only by
	// this challenge, which the library's client always sends too.
	_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := conn.WriteJSON(map[string]any{"seq": 1, "action": model.WebsocketAuthenticationChallenge, "data": map[string]any{"token": a.cfg.Token}}); err != nil {
		return a.r.errorf(nil, "mattermost websocket: %v", err)
	}
	timeout := a.readTimeout()
	conn.SetPingHandler(func(data string) error {
		_ = conn.SetReadDeadline(time.Now().Add(timeout))
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(10*time.Second))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	for {
		_ = conn.SetReadDeadline(time.Now().Add(timeout))
		_, data, err := conn.ReadMessage()
		if err != nil {
			return a.r.errorf(nil, "mattermost websocket: %v", err)
		}
		ev, err := model.WebSocketEventFromJSON(bytes.NewReader(data))
		if err != nil || !ev.IsValid() {
			continue // a reply to the challenge, or something unknown
		}
		switch ev.EventType() {
		case model.WebsocketEventHello:
			healthy()
			if err := a.catchUp(ctx, d); err != nil {
				return err // a new connection tries again
			}
		case model.WebsocketEventPosted:
			a.posted(d, ev)
		case model.WebsocketEventUserRemoved:
			a.removed(d, ev)
		}
	}
}

func (a *Adapter) readTimeout() time.Duration {
	if a.recv.readTimeout > 0 {
		return a.recv.readTimeout
	}
	return readTimeout
}

// posted queues the post of a "posted" event.
func (a *Adapter) posted(d *dispatcher, ev *model.WebSocketEvent) {
	data := ev.GetData()
	raw, _ := data["post"].(string)
	var p model.Post
	if err := json.Unmarshal([]byte(raw), &p); err != nil || p.Id == "" || p.ChannelId == "" {
		a.log.Info("mattermost posted event without a readable post")
		return
	}
	if typ, _ := data["channel_type"].(string); typ != "" {
		a.channels.put(p.ChannelId, typ, "")
	}
	a.offer(d, &p, false)
}

// removed queues the bot's own removal from a channel: the "user_removed"
// event the server sends to the user removed, with the channel in its
// data (the channel's members get one naming the user). The bot no longer
// sees the channel's posts, the system post of its removal included, so
// that event is all it learns; it is queued as that post would be (see
// leftUser). It comes once, over the socket only, and has no ID of its
// own: its post ID is made unique from the time it arrived. Members
// leaving are read from the channel's real system posts instead.
func (a *Adapter) removed(d *dispatcher, ev *model.WebSocketEvent) {
	ch, _ := ev.GetData()["channel_id"].(string)
	if ev.GetBroadcast().UserId != a.botID || ch == "" {
		return
	}
	now := a.now()
	p := &model.Post{Id: "removed:" + strconv.FormatInt(now.UnixNano(), 36), ChannelId: ch, CreateAt: now.UnixMilli(),
		Type: model.PostTypeRemoveFromChannel}
	p.AddProp("removedUserId", a.botID)
	d.enqueue(ch, queued{post: p})
}

// leftUser is who a post says left its channel or was removed from it:
// the server's system posts "system_leave_channel" (by the user who left)
// and "system_remove_from_channel" (by the remover, naming the removed
// user in its props); "" for any other post.
func leftUser(p *model.Post) string {
	if p.DeleteAt != 0 {
		return ""
	}
	switch p.Type {
	case model.PostTypeLeaveChannel:
		return p.UserId
	case model.PostTypeRemoveFromChannel:
		u, _ := p.GetProp("removedUserId").(string)
		return u
	}
	return ""
}

// catchUp reads what was posted since each channel's bound (see Run).
func (a *Adapter) catchUp(ctx context.Context, d *dispatcher) error {
	var list []*model.Channel
	err := a.call(ctx, "list channels", func(ctx context.Context) (*model.Response, error) {
		var resp *model.Response
		var err error
		list, resp, err = a.api.GetChannelsForUserWithLastDeleteAt(ctx, a.botID, 0)
		return resp, err
	})
	if err != nil {
		return err
	}
	for _, ch := range list {
		if ch == nil || ch.DeleteAt != 0 {
			continue
		}
		a.channels.put(ch.Id, string(ch.Type), ch.Name)
		since, known := a.recv.since(ch.Id)
		// A channel nothing was received from since the start is read back
		// from before it (a restart): its posts may have been handled by
		// the process before, more of them than the engine remembers by
		// ID, so they go as replayed (see bot.Event.Replayed). Later
		// catch-ups read back only what this process received itself,
		// which it drops by ID, and posts it missed.
		replay := !known
		if ch.LastPostAt != 0 && ch.LastPostAt < since {
			continue // nothing new: saves a request per quiet channel
		}
		var pl *model.PostList
		err := a.call(ctx, "posts since", func(ctx context.Context) (*model.Response, error) {
			var resp *model.Response
			var err error
			pl, resp, err = a.api.GetPostsSince(ctx, ch.Id, since, false)
			return resp, err
		})
		if errors.Is(err, errNotFound) && errors.Is(err, errFromServer) {
			continue // left meanwhile (a proxy's 404 is retried with the session)
		}
		if err != nil {
			return err
		}
		if pl != nil && len(pl.Posts) >= sinceCap {
			// The server read its most and may have left some out: the
			// channel is read back page by page instead.
			pl, err = a.postsBack(ctx, ch.Id, since)
			if errors.Is(err, errNotFound) && errors.Is(err, errFromServer) {
				continue
			}
			if err != nil {
				return err
			}
		}
		if pl == nil {
			continue
		}
		// "since" returns posts modified after it: edits and deletions of
		// older posts too, which are not new.
		var posts []*model.Post
		for _, p := range pl.Posts {
			if p != nil && p.CreateAt >= since && p.ChannelId == ch.Id {
				posts = append(posts, p)
			}
		}
		sort.Slice(posts, func(i, j int) bool {
			if posts[i].CreateAt != posts[j].CreateAt {
				return posts[i].CreateAt < posts[j].CreateAt
			}
			return posts[i].Id < posts[j].Id
		})
		for _, p := range posts {
			a.offer(d, p, replay)
		}
	}
	return nil
}

// sinceCap is the most posts the server reads for "posts since" (its
// query has LIMIT 1000, and which ones it keeps is up to the database):
// a gap with as many in one channel may have lost some, so the channel is
// read back with postsBack.
const sinceCap = 1000

// backPage and backPages bound postsBack: pages of 200 posts, newest first,
// at most 40,000 posts in all.
const (
	backPage  = 200
	backPages = 200
)

// postsBack reads a channel's posts newest first, page by page, until a
// page reaches back before since (or is the last). Posts arriving
// meanwhile shift the pages, which repeats a post but never skips one.
func (a *Adapter) postsBack(ctx context.Context, channel string, since int64) (*model.PostList, error) {
	all := model.NewPostList()
	for page := 0; page < backPages; page++ {
		var pl *model.PostList
		err := a.call(ctx, "posts back", func(ctx context.Context) (*model.Response, error) {
			var resp *model.Response
			var err error
			pl, resp, err = a.api.GetPostsForChannel(ctx, channel, page, backPage, "", false, false)
			return resp, err
		})
		if err != nil {
			return nil, err
		}
		if pl == nil {
			break
		}
		older := false
		for _, id := range pl.Order {
			if p := pl.Posts[id]; p != nil {
				all.AddPost(p)
				older = older || p.CreateAt < since
			}
		}
		if older || len(pl.Order) < backPage {
			return all, nil
		}
	}
	a.log.Warn("catch-up: more posts missed in a channel than are read back", "max", backPage*backPages)
	return all, nil
}

// offer queues a post for its channel unless it was received before or
// is not for the bot: a post of someone's, or the system post saying that
// someone left.
func (a *Adapter) offer(d *dispatcher, p *model.Post, replay bool) {
	if !a.recv.note(p) {
		return
	}
	if !a.forBot(p) && leftUser(p) == "" {
		return
	}
	d.enqueue(p.ChannelId, queued{post: p, replay: replay})
}

// forBot drops what the bot does not act on: its own posts, system and
// other special posts (joins, header changes, plugin posts), posts of
// other bots and webhooks (so that two bots cannot talk to each other
// forever), deleted posts and posts without text (only files).
func (a *Adapter) forBot(p *model.Post) bool {
	if p.UserId == a.botID || p.UserId == "" || p.Type != "" || p.DeleteAt != 0 || strings.TrimSpace(p.Message) == "" {
		return false
	}
	props := p.GetProps()
	if v, _ := props[model.PostPropsFromBot].(string); v == "true" {
		return false
	}
	if v, _ := props[model.PostPropsFromWebhook].(string); v == "true" {
		return false
	}
	return true
}

// event translates a queued post into an engine event; ok is false for
// posts in shared channels that do not mention the bot.
func (a *Adapter) event(ctx context.Context, p *model.Post) (ev bot.Event, ok bool, err error) {
	if user := leftUser(p); user != "" {
		// A leave: the post's ID is the event's, the same however often
		// the post is read (socket, catch-up, restart). The bot's own
		// removal has no user (see bot.Event.Left).
		if user == a.botID {
			user = ""
		}
		return bot.Event{ID: p.Id, Left: true, Group: true, At: time.UnixMilli(p.CreateAt),
			Addr: bot.Address{Platform: Platform, Chat: p.ChannelId, User: user}}, true, nil
	}
	ch, err := a.channels.get(ctx, a, p.ChannelId)
	if err != nil {
		return ev, false, err
	}
	group := ch.typ != string(model.ChannelTypeDirect)
	text := p.Message
	if group {
		var mentioned bool
		if text, mentioned = stripMention(text, a.botName); !mentioned {
			return ev, false, nil
		}
	}
	ev = bot.Event{
		ID: p.Id, Text: text, Group: group, At: time.UnixMilli(p.CreateAt),
		Addr: bot.Address{Platform: Platform, Chat: p.ChannelId, User: p.UserId},
	}
	ev.LangHint, ev.ZoneHint, ev.UserName = a.people.hints(ctx, a, p.UserId)
	return ev, true, nil
}

// stripMention removes every "@name" mention of the bot from text and
// reports whether there was one. A mention is "@name" not preceded by a
// character of a username (so "x@name" in an e-mail address is none) and
// not followed by one ("@name2" is someone else); a final "." is
// punctuation, as Mattermost reads it. Punctuation right after the
// mention goes with it.
func stripMention(text, name string) (string, bool) {
	if name == "" {
		return text, false
	}
	// ASCII only: lowering other letters may change their length, and
	// the indices must stay those of text. Usernames are ASCII.
	lower := strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, strings.ToValidUTF8(text, "\uFFFD"))
	text = strings.ToValidUTF8(text, "\uFFFD")
	needle := "@" + strings.ToLower(name)
	var b strings.Builder
	found := false
	i := 0
	for {
		j := strings.Index(lower[i:], needle)
		if j < 0 {
			break
		}
		j += i
		end := j + len(needle)
		before := j == 0 || !isNameByte(lower[j-1])
		after := end == len(lower) || !isNameByte(lower[end]) ||
			(lower[end] == '.' && (end+1 == len(lower) || !isNameByte(lower[end+1])))
		if before && after {
			b.WriteString(text[i:j])
			found = true
			// "@ampel: check", "@ampel, /check": the punctuation goes too.
			for end < len(text) && strings.IndexByte(".,:;!", text[end]) >= 0 {
				end++
			}
		} else {
			b.WriteString(text[i:end])
		}
		i = end
	}
	b.WriteString(text[i:])
	if !found {
		return text, false
	}
	return strings.TrimSpace(strings.Join(strings.Fields(b.String()), " ")), true
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_'
}

// queued is a post waiting for its channel's turn.
type queued struct {
	post   *model.Post
	replay bool // read back after a restart (see catchUp)
}

// dispatcher runs each channel's posts in order, one at a time, and
// different channels in parallel: a channel whose replies are slow holds
// up only itself. A channel has a goroutine while it has posts queued.
type dispatcher struct {
	ctx context.Context
	a   *Adapter
	h   bot.Handler

	mu     sync.Mutex
	queues map[string][]queued // present while the channel's goroutine runs
	wg     sync.WaitGroup
}

func (d *dispatcher) enqueue(ch string, q queued) {
	d.mu.Lock()
	defer d.mu.Unlock()
	list, running := d.queues[ch]
	d.queues[ch] = append(list, q)
	if !running {
		d.wg.Go(func() { d.drain(ch) })
	}
}

func (d *dispatcher) drain(ch string) {
	for {
		d.mu.Lock()
		list := d.queues[ch]
		if len(list) == 0 || d.ctx.Err() != nil {
			delete(d.queues, ch)
			d.mu.Unlock()
			return
		}
		q := list[0]
		d.queues[ch] = list[1:]
		d.mu.Unlock()
		d.handle(q)
	}
}

// handle passes one post to h, retrying until h succeeds: h fails only
// when nothing was committed (the store), and skipping the post would
// lose it.
func (d *dispatcher) handle(q queued) {
	for attempt := 0; d.ctx.Err() == nil; attempt++ {
		ev, ok, err := d.a.event(d.ctx, q.post)
		if err == nil {
			if !ok {
				return
			}
			ev.Replayed = q.replay
			if err = d.h.Handle(d.ctx, ev); err == nil {
				return
			}
		}
		if errors.Is(err, errNotFound) && errors.Is(err, errFromServer) {
			d.a.log.Info("mattermost post's channel not readable; dropped", "post", q.post.Id)
			return
		}
		if d.ctx.Err() != nil {
			return
		}
		d.a.log.Warn("mattermost post not handled; retrying", "post", q.post.Id, "err", d.a.r.redact(err.Error()))
		if d.a.pause(d.ctx, attempt) != nil {
			return
		}
	}
}

// receiver is what Run remembers of the posts it received.
type receiver struct {
	mu     sync.Mutex
	floor  int64            // catch-up bound of channels nothing came from (ms)
	lastAt map[string]int64 // channel -> newest create_at received
	seen   map[string]seenPost

	readTimeout time.Duration // tests shorten it
}

type seenPost struct {
	ch string
	at int64
}

// maxSeen bounds the memory of received post IDs; older entries, which no
// catch-up can return again, are pruned beyond it.
const maxSeen = 20000

func (r *receiver) reset(floor int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.floor, r.lastAt, r.seen = floor, map[string]int64{}, map[string]seenPost{}
}

// note records a post as received and reports whether it is new.
func (r *receiver) note(p *model.Post) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.seen[p.Id]; dup {
		return false
	}
	if len(r.seen) >= maxSeen {
		r.prune()
	}
	r.seen[p.Id] = seenPost{ch: p.ChannelId, at: p.CreateAt}
	if p.CreateAt > r.lastAt[p.ChannelId] {
		r.lastAt[p.ChannelId] = p.CreateAt
	}
	return true
}

// prune forgets posts older than their channel's catch-up bound, which a
// catch-up cannot return any more; if that is not enough, it forgets
// everything (the engine still drops repeats, at the cost of a request).
func (r *receiver) prune() {
	margin := catchUpMargin.Milliseconds()
	for id, s := range r.seen {
		if s.at < r.lastAt[s.ch]-2*margin || s.at < r.floor {
			delete(r.seen, id)
		}
	}
	if len(r.seen) >= maxSeen*3/4 {
		clear(r.seen)
	}
}

// since is the catch-up bound of a channel, in ms; known says something
// was received from it since the start.
func (r *receiver) since(ch string) (ms int64, known bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if at, ok := r.lastAt[ch]; ok {
		return max(r.floor, at-catchUpMargin.Milliseconds()), true
	}
	return r.floor, false
}

// chanInfo is what the adapter needs to know of a channel.
type chanInfo struct {
	typ  string // model.ChannelType: "D", "G", "O", "P"
	name string // for a direct channel "<user>__<user>"
}

// channels caches channel types and names; they do not change in a way
// that matters here (a group channel may become private: still a group).
type channels struct {
	mu sync.Mutex
	m  map[string]chanInfo
}

const maxChannels = 1 << 16

func (c *channels) put(id, typ, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxChannels {
		c.m = map[string]chanInfo{}
	}
	old := c.m[id]
	if name == "" {
		name = old.name
	}
	c.m[id] = chanInfo{typ: typ, name: name}
}

// get returns a channel's info, asking the server when the name is not
// known (the WebSocket event gives only the type).
func (c *channels) get(ctx context.Context, a *Adapter, id string) (chanInfo, error) {
	c.mu.Lock()
	ci, ok := c.m[id]
	c.mu.Unlock()
	if ok && ci.typ != "" && (ci.name != "" || ci.typ != string(model.ChannelTypeDirect)) {
		return ci, nil
	}
	var ch *model.Channel
	err := a.call(ctx, "get channel", func(ctx context.Context) (*model.Response, error) {
		var resp *model.Response
		var err error
		ch, resp, err = a.api.GetChannel(ctx, id)
		return resp, err
	})
	if err != nil {
		return chanInfo{}, err
	}
	c.put(id, string(ch.Type), ch.Name)
	return chanInfo{typ: string(ch.Type), name: ch.Name}, nil
}

// partner is the other member of a direct channel with the bot, from its
// name "<id>__<id>"; "" for other channels.
func (ci chanInfo) partner(self string) string {
	if ci.typ != string(model.ChannelTypeDirect) {
		return ""
	}
	x, y, ok := strings.Cut(ci.name, "__")
	switch {
	case !ok:
		return ""
	case x == self:
		return y
	case y == self:
		return x
	}
	return ""
}

// people caches what the server says about users: language and time zone
// change rarely, and a post would otherwise cost a request.
type people struct {
	mu sync.Mutex
	m  map[string]person
}

type person struct {
	lang, zone, name string
	at               time.Time
}

const (
	personTTL  = 10 * time.Minute
	maxPersons = 1 << 15
)

// hints returns the user's locale, time zone and name. If the server cannot say,
// it returns what it knew, or nothing: the engine then keeps what it has.
func (p *people) hints(ctx context.Context, a *Adapter, id string) (lang, zone, name string) {
	now := a.now()
	p.mu.Lock()
	old, ok := p.m[id]
	p.mu.Unlock()
	if ok && now.Sub(old.at) < personTTL {
		return old.lang, old.zone, old.name
	}
	var u *model.User
	err := a.call(ctx, "get user", func(ctx context.Context) (*model.Response, error) {
		var resp *model.Response
		var err error
		u, resp, err = a.api.GetUser(ctx, id, "")
		return resp, err
	})
	if err != nil || u == nil {
		if ctx.Err() == nil {
			a.log.Info("mattermost user lookup failed", "err", err)
		}
		return old.lang, old.zone, old.name
	}
	n := person{lang: u.Locale, zone: u.GetPreferredTimezone(), name: u.GetDisplayName(model.ShowFullName), at: now}
	p.mu.Lock()
	if p.m == nil || len(p.m) >= maxPersons {
		p.m = map[string]person{}
	}
	p.m[id] = n
	p.mu.Unlock()
	return n.lang, n.zone, n.name
}
