package mattermost

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"github.com/mattermost/mattermost/server/public/model"

	"github.com/ampel-bot/ampel/adapters/internal/linktest"
	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

const (
	testToken = "mm-test-token-4f9c2a7d1e8b6c3a"
	botID     = "botuserid0000000000000000a"
	botName   = "ampel"
)

// fakeMM is a Mattermost server for the REST routes and the WebSocket the
// adapter uses. It keeps posts per channel, serves "since" queries,
// deduplicates pending_post_ids, broadcasts "posted" events to connected
// sockets and can drop them and refuse new ones on demand. Presses are
// sent to the adapter's handler as the real server does: with the
// context stored in the post, and the answer's update applied (nil Props
// keeps the old ones).
type fakeMM struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	clock    int64 // ms of the last post
	users    map[string]*model.User
	channels map[string]*model.Channel
	posts    map[string]*model.Post
	order    []string          // post IDs in creation order
	pending  map[string]string // pending_post_id -> post ID
	holds    bottest.Holds     // routes held until released, by prefix
	conns    map[*websocket.Conn]*sync.Mutex
	down     bool // refuse WebSocket upgrades
	sick     bool // fail pings
	fails    map[string][]failure
	calls    []string
	nextID   int
	uploads  map[string]upload
	dials    int
	dialogs  []model.OpenDialogRequest
	noDM     map[string]bool     // users the bot may not open a direct channel with
	states   map[string][]string // post ID -> its message at first and after each change
	// misanswer, if set, loses the answers to some sends (issue 18, item 3).
	misanswer atomic.Pointer[linktest.Misanswers]
}

type failure struct {
	status int
	header map[string]string
	drop   bool // act, then cut the connection: the answer is lost
	html   bool // answer as a proxy or maintenance page does: HTML, not the API's JSON
}

type upload struct {
	name, channel string
	data          []byte
	post          string // the post it is attached to, once it is
}

func newFakeMM(t testing.TB) *fakeMM {
	f := &fakeMM{
		t: t, clock: time.Now().UnixMilli(), users: map[string]*model.User{}, channels: map[string]*model.Channel{},
		posts: map[string]*model.Post{}, pending: map[string]string{}, conns: map[*websocket.Conn]*sync.Mutex{},
		fails: map[string][]failure{}, uploads: map[string]upload{},
	}
	f.users[botID] = &model.User{Id: botID, Username: botName, IsBot: true}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v4/users/me", f.getMe)
	mux.HandleFunc("GET /api/v4/users/{id}", f.getUser)
	mux.HandleFunc("GET /api/v4/users/{id}/channels", f.userChannels)
	mux.HandleFunc("GET /api/v4/channels/{id}", f.getChannel)
	mux.HandleFunc("GET /api/v4/channels/{id}/posts", f.postsSince)
	mux.HandleFunc("GET /api/v4/channels/{id}/members/{user}", f.channelMember)
	mux.HandleFunc("POST /api/v4/channels/direct", f.directChannel)
	mux.HandleFunc("POST /api/v4/posts", f.createPost)
	mux.HandleFunc("GET /api/v4/posts/{id}", f.getPost)
	mux.HandleFunc("PUT /api/v4/posts/{id}/patch", f.patchPost)
	mux.HandleFunc("POST /api/v4/files", f.uploadFile)
	mux.HandleFunc("GET /api/v4/websocket", f.websocket)
	mux.HandleFunc("POST /api/v4/actions/dialogs/open", f.openDialog)
	mux.HandleFunc("GET /api/v4/system/ping", f.ping)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "bearer") || tok != testToken {
			apiError(w, 401, "api.context.session_expired.app_error")
			return
		}
		route := r.Method + " " + r.URL.Path
		f.mu.Lock()
		f.calls = append(f.calls, route)
		f.mu.Unlock()
		if !f.holds.Wait(r.Context(), route) {
			return
		}
		f.mu.Lock()
		var fl *failure
		for k, list := range f.fails {
			if strings.HasPrefix(route, k) && len(list) > 0 {
				fl = &list[0]
				f.fails[k] = list[1:]
				break
			}
		}
		f.mu.Unlock()
		if fl != nil && !fl.drop {
			for k, v := range fl.header {
				w.Header().Set(k, v)
			}
			if fl.html {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(fl.status)
				io.WriteString(w, "<html><body><h1>Down for maintenance</h1></body></html>")
				return
			}
			apiError(w, fl.status, "fake.failure")
			return
		}
		if fl != nil && fl.drop {
			mux.ServeHTTP(httptest.NewRecorder(), r) // acts, answer lost
			if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
				c.Close()
			}
			return
		}
		f.misanswer.Load().Serve(w, r, mux.ServeHTTP)
	}))
	t.Cleanup(func() {
		f.drop()
		f.srv.Close()
	})
	return f
}

func apiError(w http.ResponseWriter, status int, id string) {
	writeJSONStatus(w, status, map[string]any{"id": id, "message": id, "status_code": status})
}

func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// failNext makes the next request whose "METHOD /path" starts with route
// fail.
func (f *fakeMM) failNext(route string, fl failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fails[route] = append(f.fails[route], fl)
}

func (f *fakeMM) getMe(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock() // addUser writes the map while the adapter asks (channelGone)
	me := f.users[botID]
	f.mu.Unlock()
	writeJSONStatus(w, 200, me)
}

func (f *fakeMM) getUser(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	u := f.users[r.PathValue("id")]
	f.mu.Unlock()
	if u == nil {
		apiError(w, 404, "app.user.missing_account.const")
		return
	}
	writeJSONStatus(w, 200, u)
}

func (f *fakeMM) userChannels(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*model.Channel
	for _, c := range f.channels {
		out = append(out, c)
	}
	writeJSONStatus(w, 200, out)
}

func (f *fakeMM) getChannel(w http.ResponseWriter, r *http.Request) {
	if c := f.channel(w, r, "app.channel.get.existing.app_error"); c != nil {
		writeJSONStatus(w, 200, c)
	}
}

// channelMember serves a membership: every user is a member of every
// channel the fake knows.
func (f *fakeMM) channelMember(w http.ResponseWriter, r *http.Request) {
	if c := f.channel(w, r, "app.channel.get_member.missing.app_error"); c != nil {
		writeJSONStatus(w, 200, &model.ChannelMember{ChannelId: c.Id, UserId: r.PathValue("user")})
	}
}

// channel returns the channel of the request's path, or answers the
// server's 404 with missing and returns nil.
func (f *fakeMM) channel(w http.ResponseWriter, r *http.Request, missing string) *model.Channel {
	f.mu.Lock()
	c := f.channels[r.PathValue("id")]
	f.mu.Unlock()
	if c == nil {
		apiError(w, 404, missing)
	}
	return c
}

// postsSince serves GET /channels/{id}/posts as the server does: with
// since, the posts modified after it, at most 1,000 of them (the server's
// LIMIT; this fake keeps the newest, which is what it hands back in a busy
// channel); without, a page (page, per_page) of the channel's posts, newest
// first.
func (f *fakeMM) postsSince(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	paged := !q.Has("since")
	since, err := strconv.ParseInt(q.Get("since"), 10, 64)
	page, err1 := strconv.Atoi(q.Get("page"))
	perPage, err2 := strconv.Atoi(q.Get("per_page"))
	if !paged && err != nil || paged && (err1 != nil || err2 != nil || perPage <= 0) {
		apiError(w, 400, "api.context.invalid_url_param.app_error")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := r.PathValue("id")
	if f.channels[ch] == nil {
		apiError(w, 404, "app.channel.get.existing.app_error")
		return
	}
	pl := model.NewPostList()
	skip := page * perPage
	// Newest first, as the server orders them.
	for i := len(f.order) - 1; i >= 0; i-- {
		p := f.posts[f.order[i]]
		if p.ChannelId != ch {
			continue
		}
		if paged {
			if p.DeleteAt != 0 {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			if len(pl.Order) == perPage {
				break
			}
		} else if p.CreateAt <= since && p.UpdateAt <= since || len(pl.Order) == 1000 {
			continue
		}
		pl.AddPost(p)
		pl.AddOrder(p.Id)
	}
	writeJSONStatus(w, 200, pl)
}

func (f *fakeMM) newID() string {
	f.nextID++
	s := "p" + strconv.Itoa(f.nextID)
	return s + strings.Repeat("x", 26-len(s))
}

func (f *fakeMM) tick() int64 {
	f.clock = max(f.clock+1, time.Now().UnixMilli())
	return f.clock
}

// addPost stores a post and broadcasts it; f.mu is held.
func (f *fakeMM) addPost(p *model.Post) {
	p.Id = f.newID()
	p.CreateAt = f.tick()
	p.UpdateAt = p.CreateAt
	f.posts[p.Id] = p
	f.order = append(f.order, p.Id)
	if f.states == nil {
		f.states = map[string][]string{}
	}
	f.states[p.Id] = []string{p.Message}
	ch := f.channels[p.ChannelId]
	ch.LastPostAt = p.CreateAt
	raw, _ := json.Marshal(p)
	ev := map[string]any{
		"event":     model.WebsocketEventPosted,
		"data":      map[string]any{"post": string(raw), "channel_type": string(ch.Type), "sender_name": "@x"},
		"broadcast": map[string]any{"channel_id": p.ChannelId},
	}
	for c, wmu := range f.conns {
		wmu.Lock()
		_ = c.WriteJSON(ev)
		wmu.Unlock()
	}
}

func (f *fakeMM) createPost(w http.ResponseWriter, r *http.Request) {
	var p model.Post
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		apiError(w, 400, "api.context.invalid_body_param.app_error")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.channels[p.ChannelId] == nil {
		apiError(w, 403, "api.context.permissions.app_error")
		return
	}
	if f.channels[p.ChannelId].DeleteAt != 0 {
		apiError(w, 400, "api.post.create_post.can_not_post_to_deleted.error")
		return
	}
	if utf8.RuneCountInString(p.Message) > model.PostMessageMaxRunesV2 {
		apiError(w, 400, "model.post.is_valid.message_length.app_error")
		return
	}
	// The server remembers a pending_post_id for 30 s only: a resend
	// after that is a second post.
	if id, ok := f.pending[p.PendingPostId]; ok && p.PendingPostId != "" && max(f.clock, time.Now().UnixMilli())-f.posts[id].CreateAt < 30_000 {
		writeJSONStatus(w, 201, f.posts[id])
		return
	}
	for _, id := range p.FileIds {
		// A file goes with a post in the channel it was uploaded to, and
		// with one post only.
		if up, ok := f.uploads[id]; !ok || up.channel != p.ChannelId || up.post != "" {
			apiError(w, 400, "api.post.create_post.bad_filename.error")
			return
		}
	}
	p.UserId = botID
	p.AddProp(model.PostPropsFromBot, "true") // the server marks a bot account's posts
	np := &p
	f.addPost(np)
	for _, id := range p.FileIds {
		up := f.uploads[id]
		up.post = np.Id
		f.uploads[id] = up
	}
	if p.PendingPostId != "" {
		f.pending[p.PendingPostId] = np.Id
	}
	writeJSONStatus(w, 201, np)
}

func (f *fakeMM) getPost(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.posts[r.PathValue("id")]
	if p == nil || p.DeleteAt != 0 {
		apiError(w, 404, "app.post.get.app_error")
		return
	}
	// The server strips integrations from what clients (bots too) read.
	raw, _ := json.Marshal(p)
	var c model.Post
	_ = json.Unmarshal(raw, &c)
	delete(c.Props, "attachments")
	writeJSONStatus(w, 200, &c)
}

// patchPost changes the bot's own post as the server does: given props
// replace all of them; a changed message marks the post edited.
func (f *fakeMM) patchPost(w http.ResponseWriter, r *http.Request) {
	var patch model.PostPatch
	if err := json.NewDecoder(r.Body).Decode(&patch); err != nil {
		apiError(w, 400, "api.context.invalid_body_param.app_error")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.posts[r.PathValue("id")]
	if p != nil && p.DeleteAt != 0 {
		apiError(w, 404, "app.post.get.app_error")
		return
	}
	if p == nil || p.UserId != botID {
		apiError(w, 403, "api.context.permissions.app_error")
		return
	}
	if patch.Message != nil && *patch.Message != p.Message {
		p.Message = *patch.Message
		p.EditAt = f.tick()
	}
	if patch.Props != nil {
		p.SetProps(maps.Clone(*patch.Props))
	}
	p.UpdateAt = f.tick()
	f.states[p.Id] = append(f.states[p.Id], p.Message)
	writeJSONStatus(w, 200, p)
}

func (f *fakeMM) uploadFile(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		apiError(w, 400, "api.file.upload_file.bad_parse.app_error")
		return
	}
	fhs := r.MultipartForm.File["files"]
	if len(fhs) != 1 || r.MultipartForm.Value["channel_id"] == nil {
		apiError(w, 400, "api.file.upload_file.bad_parse.app_error")
		return
	}
	rd, _ := fhs[0].Open()
	data, _ := io.ReadAll(rd)
	rd.Close()
	f.mu.Lock()
	id := "f" + f.newID()[1:]
	f.uploads[id] = upload{name: fhs[0].Filename, channel: r.MultipartForm.Value["channel_id"][0], data: data}
	f.mu.Unlock()
	writeJSONStatus(w, 201, model.FileUploadResponse{FileInfos: []*model.FileInfo{{Id: id, Name: fhs[0].Filename}}})
}

// ping answers as a healthy server does, unless the fake is sick.
func (f *fakeMM) ping(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	sick := f.sick
	f.mu.Unlock()
	if sick {
		writeJSONStatus(w, 500, map[string]string{"status": "UNHEALTHY"})
		return
	}
	writeJSONStatus(w, 200, map[string]string{"status": "OK"})
}

// openDialog records a dialog opened, after the server's validation.
func (f *fakeMM) openDialog(w http.ResponseWriter, r *http.Request) {
	var req model.OpenDialogRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		apiError(w, 400, "api.context.invalid_body_param.app_error")
		return
	}
	if err := req.IsValid(); err != nil {
		apiError(w, 400, "interactive_message.decode_trigger_id.app_error")
		return
	}
	f.mu.Lock()
	f.dialogs = append(f.dialogs, req)
	f.mu.Unlock()
	writeJSONStatus(w, 200, map[string]string{"status": "OK"})
}

func (f *fakeMM) openedDialogs() []model.OpenDialogRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.dialogs)
}

var upgrader = websocket.Upgrader{}

func (f *fakeMM) websocket(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	down := f.down
	f.dials++
	f.mu.Unlock()
	if down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	f.mu.Lock()
	wmu := &sync.Mutex{}
	f.conns[c] = wmu
	wmu.Lock()
	_ = c.WriteJSON(map[string]any{"event": model.WebsocketEventHello, "data": map[string]any{"server_version": "11.6.0"}, "broadcast": map[string]any{"user_id": botID}})
	wmu.Unlock()
	f.mu.Unlock()
	for { // read (and drop) what the client sends, until it goes
		if _, _, err := c.ReadMessage(); err != nil {
			break
		}
	}
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
	c.Close()
}

// drop closes every WebSocket connection.
func (f *fakeMM) drop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		c.Close()
		delete(f.conns, c)
	}
}

func (f *fakeMM) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
	if down {
		for c := range f.conns {
			c.Close()
			delete(f.conns, c)
		}
	}
}

func (f *fakeMM) connected() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.conns) > 0
}

func (f *fakeMM) addUser(id, locale, zone string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[id] = &model.User{Id: id, Username: "user-" + id[:4], Locale: locale,
		Timezone: model.StringMap{"useAutomaticTimezone": "false", "manualTimezone": zone}}
}

// addDM creates the direct channel of the bot and user.
func (f *fakeMM) addDM(id, user string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.channels[id] = &model.Channel{Id: id, Type: model.ChannelTypeDirect, Name: model.GetDMNameFromIds(botID, user)}
}

func (f *fakeMM) addChannel(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.channels[id] = &model.Channel{Id: id, Type: model.ChannelTypeOpen, Name: "town-" + id[:4], TeamId: "team"}
}

// directChannel opens the direct channel of two users, as the server
// does: the existing one, or a new one (201 either way); a user the
// server does not know is its 404, one the caller may not see (noDM) its
// 403.
func (f *fakeMM) directChannel(w http.ResponseWriter, r *http.Request) {
	var ids []string
	if err := json.NewDecoder(r.Body).Decode(&ids); err != nil || len(ids) != 2 {
		apiError(w, 400, "api.context.invalid_body_param.app_error")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		if f.users[id] == nil {
			apiError(w, 404, "app.user.missing_account.const")
			return
		}
		if f.noDM[id] {
			apiError(w, 403, "api.context.permissions.app_error")
			return
		}
	}
	name := model.GetDMNameFromIds(ids[0], ids[1])
	for _, c := range f.channels {
		if c.Name == name {
			writeJSONStatus(w, 201, c)
			return
		}
	}
	c := &model.Channel{Id: "d" + f.newID()[1:], Type: model.ChannelTypeDirect, Name: name}
	f.channels[c.Id] = c
	writeJSONStatus(w, 201, c)
}

// memberLeaves has user leave channel ch (remover "") or be removed by
// remover, as the server does it: the "user_removed" event to the
// channel's members, naming the user, then the system post saying so
// (system_leave_channel by the user, or system_remove_from_channel by the
// remover, naming the user in its props). It returns the post's ID.
func (f *fakeMM) memberLeaves(ch, user, remover string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	ev := map[string]any{
		"event":     model.WebsocketEventUserRemoved,
		"data":      map[string]any{"user_id": user, "remover_id": cmp.Or(remover, user)},
		"broadcast": map[string]any{"channel_id": ch},
	}
	for c, wmu := range f.conns {
		wmu.Lock()
		_ = c.WriteJSON(ev)
		wmu.Unlock()
	}
	p := &model.Post{ChannelId: ch, UserId: user, Type: model.PostTypeLeaveChannel, Message: "@user left the channel.",
		Props: model.StringInterface{"username": "user"}}
	if remover != "" {
		p = &model.Post{ChannelId: ch, UserId: remover, Type: model.PostTypeRemoveFromChannel, Message: "@user was removed from the channel.",
			Props: model.StringInterface{"removedUserId": user, "removedUsername": "user"}}
	}
	f.addPost(p)
	return p.Id
}

// removeBot removes the bot from channel ch as the server does: the bot
// no longer sees the channel (nor the system post of its removal) and
// gets the "user_removed" event addressed to it.
func (f *fakeMM) removeBot(ch, remover string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.channels, ch)
	ev := map[string]any{
		"event":     model.WebsocketEventUserRemoved,
		"data":      map[string]any{"channel_id": ch, "remover_id": remover},
		"broadcast": map[string]any{"user_id": botID},
	}
	for c, wmu := range f.conns {
		wmu.Lock()
		_ = c.WriteJSON(ev)
		wmu.Unlock()
	}
}

// userPost posts text as user and returns the post's ID.
func (f *fakeMM) userPost(ch, user, text string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := &model.Post{ChannelId: ch, UserId: user, Message: text}
	f.addPost(p)
	return p.Id
}

// botPosts returns the bot's posts in a channel, oldest first, as they
// are now.
func (f *fakeMM) botPosts(ch string) []*model.Post {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*model.Post
	for _, id := range f.order {
		if p := f.posts[id]; p.ChannelId == ch && p.UserId == botID && p.DeleteAt == 0 {
			out = append(out, p)
		}
	}
	return out
}

// deletePost deletes a post, as a member of the channel may.
func (f *fakeMM) deletePost(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.posts[id].DeleteAt = f.tick()
}

// actionsOf returns the buttons of a post.
func actionsOf(p *model.Post) []*model.PostAction {
	raw, _ := json.Marshal(p.GetProps()["attachments"])
	var atts []*model.MessageAttachment
	_ = json.Unmarshal(raw, &atts)
	var out []*model.PostAction
	for _, a := range atts {
		if a != nil {
			out = append(out, a.Actions...)
		}
	}
	return out
}

// triggers numbers the presses: the server makes a trigger ID for each.
var triggers atomic.Int64

// pressRequest is what the server sends when user presses act under p.
func pressRequest(p *model.Post, act *model.PostAction, user string) model.PostActionIntegrationRequest {
	return model.PostActionIntegrationRequest{
		UserId: user, UserName: "someone", ChannelId: p.ChannelId, PostId: p.Id, TeamId: "team",
		TriggerId: "trig" + strconv.FormatInt(triggers.Add(1), 10),
		Type:      model.PostActionTypeButton, Context: act.Integration.Context,
	}
}

// deliverPress POSTs a press to the adapter's handler as the server does
// and applies the answer's update to the post. It returns the status.
func (f *fakeMM) deliverPress(h http.Handler, req model.PostActionIntegrationRequest) int {
	body, _ := json.Marshal(req)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", ActionsPath, bytes.NewReader(body)))
	if rec.Code != 200 {
		return rec.Code
	}
	var resp model.PostActionIntegrationResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		f.t.Fatalf("action answer %q: %v", rec.Body.String(), err)
	}
	if resp.Update != nil {
		f.mu.Lock()
		p := f.posts[req.PostId]
		if p != nil {
			p.Message = resp.Update.Message
			if props := resp.Update.GetProps(); props != nil { // nil keeps the buttons
				// The server replaces the props, but for the few it keeps
				// from the old post (model.PostActionRetainPropKeys).
				props = maps.Clone(props)
				for _, k := range model.PostActionRetainPropKeys {
					delete(props, k)
					if v, ok := p.GetProps()[k]; ok {
						props[k] = v
					}
				}
				p.SetProps(props)
			}
			p.UpdateAt = f.tick()
			p.EditAt = p.UpdateAt
		}
		f.mu.Unlock()
	}
	return 200
}

// waitFor waits until cond holds. Its deadline only ends a test that
// would wait for ever: 10 s were too short for 300 answers under the race
// detector on a loaded 2-core machine (TestRestartCatchUpAppliesNothingTwice).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// recorder is a handler that records the events it saw after passing
// them on (to next, if set): when it has one, Handle has returned and the
// replies to it have been sent.
type recorder struct {
	next bot.Handler
	mu   sync.Mutex
	evs  []bot.Event
	ids  map[string]int
}

func (r *recorder) Handle(ctx context.Context, ev bot.Event) error {
	if r.next != nil {
		if err := r.next.Handle(ctx, ev); err != nil {
			return err
		}
		if s, ok := r.next.(bot.Settler); ok {
			if err := s.Settle(ctx, ev.Addr); err != nil {
				return err
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids == nil {
		r.ids = map[string]int{}
	}
	r.evs = append(r.evs, ev)
	r.ids[ev.ID]++
	return nil
}

func (r *recorder) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ids[id]
}

func (r *recorder) events() []bot.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bot.Event(nil), r.evs...)
}

var start = time.Date(2027, 3, 10, 9, 0, 0, 0, bottest.Zone("Europe/Berlin"))

// env is the real engine on an in-memory store, with the adapter talking
// to a fake Mattermost.
type env struct {
	t      testing.TB
	fake   *fakeMM
	engine *bot.Engine
	store  *bottest.MemStore
	a      *Adapter
	rec    *recorder
	mux    *http.ServeMux
	logs   *bottest.Buffer
	clock  *bottest.Clock // the engine's
}

func newEnv(t testing.TB, mod func(*Config)) *env {
	t.Helper()
	e := &env{t: t, fake: newFakeMM(t), store: bottest.NewMemStore(), logs: &bottest.Buffer{}}
	e.clock = bottest.NewClock(start)
	e.engine = bottest.NewEngine(t, e.store, e.clock)
	cfg := Config{
		URL: e.fake.srv.URL, Token: testToken, CallbackURL: "https://ampel.example/", CommandToken: "cmd-token-1234567890",
		Log:        slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		HTTPClient: e.fake.srv.Client(),
	}
	if mod != nil {
		mod(&cfg)
	}
	var err error
	e.a, err = New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.a.backoffMin, e.a.backoffMax = time.Millisecond, 5*time.Millisecond
	e.engine.Register(e.a)
	e.rec = &recorder{next: e.engine}
	e.mux = http.NewServeMux()
	for pattern, h := range e.a.HTTPHandlers(e.rec) {
		e.mux.Handle(pattern, h)
	}
	return e
}

// run runs the adapter with h (the recording engine if nil) until the
// test ends, and waits for the first connection.
func (e *env) run(h bot.Handler) {
	e.t.Helper()
	if h == nil {
		h = e.rec
	}
	bottest.Run(e.t, e.a, h)
	waitFor(e.t, "the WebSocket connection", e.fake.connected)
}

func (e *env) conv(chat string) *bot.Conversation {
	e.t.Helper()
	c, err := e.engine.Load(context.Background(), bot.Address{Platform: Platform, Chat: chat})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (f *fakeMM) callsOfPrefix(prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// file is an uploaded file.
func (f *fakeMM) file(id string) upload {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.uploads[id]
}
