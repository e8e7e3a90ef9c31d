package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/ampel-bot/ampel/adapters/internal/linktest"
	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// The secrets look like real ones, so that redaction is tested on the real
// shapes.
const (
	testBotToken = "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
	testAppToken = "xapp-1-A0APP0001-1234567890123-0123456789abcdef0123456789abcdef"
	testSecret   = "8f742231b10e8888abcd99yyyzzz85a5"
	botUser      = "UBOT0001"
	teamID       = "T0TEAM01"
)

// fakeSlack is a Slack Web API and Socket Mode endpoint speaking Slack's
// wire format: form-encoded or JSON requests to /api/<method> answered
// with {"ok":…}, the upload URL on the same host, and a WebSocket at /ws
// that sends envelopes and records acknowledgements. It keeps the messages
// in each channel as Slack holds them.
type fakeSlack struct {
	t   testing.TB
	srv *httptest.Server

	mu      sync.Mutex
	calls   []apiCall
	msgs    []*sentMsg
	users   map[string]slackUser
	fails   map[string][]failure
	nextTS  int
	uploads map[string][]byte // file ID -> bytes uploaded
	lengths map[string]string // file ID -> the length announced
	names   map[string]string // file ID -> the file name announced
	shared  []apiCall         // files.completeUploadExternal calls
	shares  []*fileShare      // the messages those calls posted
	seq     int               // orders msgs and shares in a channel's history
	views   []string          // views.publish bodies
	opened  []string          // views.open bodies
	ims     map[string]string // user -> DM channel, for conversations.open
	// holds holds calls, by "method channel", until released.
	holds bottest.Holds

	// Socket Mode
	conns     int
	conn      *websocket.Conn
	wmu       sync.Mutex // serialises writes to conn
	acks      map[string]int
	ackAt     map[string]time.Time // when each envelope was first acknowledged
	ackOn     map[string]int       // and on which connection (numbered from 1)
	sentAt    map[string]time.Time // when each envelope was first written to the socket
	helloAt   []time.Time          // when each connection was greeted
	envelopes map[string]map[string]any
	nextEnv   int
	stop      chan struct{}
	// settle, if set, is called once an envelope is acknowledged: it
	// waits until what the envelope caused has been sent.
	settle func()
	// stamp, if set, is the clock calls are stamped with (At).
	stamp func() time.Time
	// misanswer, if set, loses the answers to some sends (issue 18, item 3).
	misanswer atomic.Pointer[linktest.Misanswers]
}

type apiCall struct {
	Method string
	Form   map[string]string
	At     time.Time // stamp() at arrival, if set
}

type slackUser struct{ locale, tz, realName string }

type failure struct {
	status int
	header http.Header
	body   string
	hangUp bool // close the connection after reading the request
}

// sentMsg is a message in a channel as Slack holds it.
type sentMsg struct {
	Channel, TS string
	Text        string            // fallback text, as sent
	Blocks      []json.RawMessage // as sent
	Edited      int
	Metadata    json.RawMessage // chat.postMessage's metadata, as sent
	States      []string        // Shown at first and after each update
	seq         int
}

// fileShare is the message a shared file shows as in its channel's
// history: the file's ID, name (as announced to files.getUploadURLExternal)
// and title.
type fileShare struct {
	Channel, TS, ID, Name, Title string
	seq                          int
}

// block is the part of a Block Kit block the tests look at.
type block struct {
	Type     string    `json:"type"`
	BlockID  string    `json:"block_id"`
	Text     *textObj  `json:"text"`
	Elements []element `json:"elements"`
}

type textObj struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji *bool  `json:"emoji"`
}

type element struct {
	Type     string   `json:"type"`
	ActionID string   `json:"action_id"`
	Value    string   `json:"value"`
	Text     *textObj `json:"text"`
}

func (m *sentMsg) blocks() []block {
	var out []block
	for _, raw := range m.Blocks {
		var b block
		_ = json.Unmarshal(raw, &b)
		out = append(out, b)
	}
	return out
}

// Shown is the message as a Slack client shows it: the texts of its
// section and context blocks, entities decoded.
func (m *sentMsg) Shown() string {
	var parts []string
	for i, b := range m.blocks() {
		if b.Text != nil {
			parts = append(parts, unescape(b.Text.Text))
		}
		if b.Type == "context" { // its elements are text objects
			var ctx struct {
				Elements []textObj `json:"elements"`
			}
			_ = json.Unmarshal(m.Blocks[i], &ctx)
			for _, e := range ctx.Elements {
				parts = append(parts, unescape(e.Text))
			}
		}
	}
	return strings.Join(parts, "\n")
}

// buttons returns the buttons of the message.
func (m *sentMsg) buttons() []element {
	var out []element
	for _, b := range m.blocks() {
		if b.Type == "actions" {
			out = append(out, b.Elements...)
		}
	}
	return out
}

func newFakeSlack(t testing.TB) *fakeSlack {
	f := &fakeSlack{
		t: t, users: map[string]slackUser{}, fails: map[string][]failure{}, nextTS: 100,
		ims: map[string]string{}, uploads: map[string][]byte{}, lengths: map[string]string{}, names: map[string]string{}, acks: map[string]int{}, ackAt: map[string]time.Time{}, ackOn: map[string]int{}, sentAt: map[string]time.Time{},
		envelopes: map[string]map[string]any{}, stop: make(chan struct{}),
	}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.misanswer.Load().Serve(w, r, f.serve)
	}))
	t.Cleanup(func() {
		close(f.stop)
		f.srv.CloseClientConnections()
		f.srv.Close()
	})
	return f
}

func (f *fakeSlack) apiURL() string { return f.srv.URL + "/api/" }

// deleteMessage deletes a message, as a member of the channel may.
func (f *fakeSlack) deleteMessage(channel, ts string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, m := range f.msgs {
		if m.Channel == channel && m.TS == ts {
			f.msgs = append(f.msgs[:i], f.msgs[i+1:]...)
			return
		}
	}
}

// failNext makes the next call of method fail.
func (f *fakeSlack) failNext(method string, fl failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fails[method] = append(f.fails[method], fl)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func okJSON(w http.ResponseWriter, v map[string]any) {
	v["ok"] = true
	writeJSON(w, 200, v)
}

func slackErr(w http.ResponseWriter, code string) {
	writeJSON(w, 200, map[string]any{"ok": false, "error": code})
}

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/ws":
		f.serveWS(w, r)
		return
	case strings.HasPrefix(r.URL.Path, "/upload/"):
		f.serveUpload(w, r)
		return
	case !strings.HasPrefix(r.URL.Path, "/api/"):
		http.NotFound(w, r)
		return
	}
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	c := apiCall{Method: method, Form: map[string]string{}}
	body, _ := io.ReadAll(r.Body)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		c.Form["_json"] = string(body)
	} else {
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		_ = r.ParseForm()
		for k, v := range r.PostForm {
			c.Form[k] = v[0]
		}
	}
	token := c.Form["token"]
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		token = strings.TrimPrefix(h, "Bearer ")
	}
	want := testBotToken
	if method == "apps.connections.open" {
		want = testAppToken
	}
	if token != want {
		slackErr(w, "invalid_auth")
		return
	}
	f.mu.Lock()
	if f.stamp != nil {
		c.At = f.stamp()
	}
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	if !f.holds.Wait(r.Context(), method+" "+c.Form["channel"]) {
		return
	}
	f.mu.Lock()
	if fl := f.fails[method]; len(fl) > 0 {
		f.fails[method] = fl[1:]
		f.mu.Unlock()
		if fl[0].hangUp {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		for k, v := range fl[0].header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(fl[0].status)
		io.WriteString(w, fl[0].body)
		return
	}
	defer f.mu.Unlock()
	switch method {
	case "auth.test":
		okJSON(w, map[string]any{"url": "https://ampel-test.slack.com/", "team": "Ampel Test", "user": "ampel",
			"team_id": teamID, "user_id": botUser, "bot_id": "B0BOT0001"})
	case "apps.connections.open":
		okJSON(w, map[string]any{"url": "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/ws"})
	case "users.info":
		u, ok := f.users[c.Form["user"]]
		if !ok {
			slackErr(w, "user_not_found")
			return
		}
		okJSON(w, map[string]any{"user": map[string]any{"id": c.Form["user"], "team_id": teamID, "name": "eva",
			"real_name": u.realName, "locale": u.locale, "tz": u.tz, "tz_offset": 3600}})
	case "chat.postMessage", "chat.update":
		var blocks []json.RawMessage
		if b := c.Form["blocks"]; b != "" {
			if err := json.Unmarshal([]byte(b), &blocks); err != nil {
				slackErr(w, "invalid_blocks_format")
				return
			}
		}
		if problem := checkBlocks(blocks); problem != "" {
			f.t.Errorf("%s: %s", method, problem)
			slackErr(w, "invalid_blocks")
			return
		}
		if strings.ContainsAny(c.Form["text"], "<>") {
			f.t.Errorf("%s: unescaped fallback text %q", method, c.Form["text"])
		}
		ch := c.Form["channel"]
		if method == "chat.postMessage" && (strings.HasPrefix(ch, "U") || strings.HasPrefix(ch, "W")) {
			// A user's ID: the app's DM with the user (opened if need
			// be), which the answer names.
			if _, ok := f.users[ch]; !ok {
				slackErr(w, "channel_not_found")
				return
			}
			if f.ims[ch] == "" {
				f.ims[ch] = "D" + ch[1:]
			}
			ch = f.ims[ch]
		}
		if ch == "" || strings.HasPrefix(ch, "CGONE") {
			slackErr(w, "channel_not_found")
			return
		}
		if method == "chat.update" {
			for _, m := range f.msgs {
				if m.Channel == ch && m.TS == c.Form["ts"] {
					m.Text, m.Blocks = c.Form["text"], blocks
					m.Edited++
					m.States = append(m.States, m.Shown())
					okJSON(w, map[string]any{"channel": ch, "ts": m.TS, "text": m.Text})
					return
				}
			}
			slackErr(w, "message_not_found")
			return
		}
		f.nextTS++
		f.seq++
		m := &sentMsg{Channel: ch, TS: fmt.Sprintf("1804150800.%06d", f.nextTS), Text: c.Form["text"], Blocks: blocks, seq: f.seq}
		if md := c.Form["metadata"]; md != "" {
			m.Metadata = json.RawMessage(md)
		}
		m.States = []string{m.Shown()}
		f.msgs = append(f.msgs, m)
		okJSON(w, map[string]any{"channel": ch, "ts": m.TS, "message": map[string]any{"text": m.Text, "ts": m.TS}})
	case "views.publish":
		f.views = append(f.views, c.Form["_json"])
		okJSON(w, map[string]any{"view": map[string]any{"id": "V1"}})
	case "views.open":
		var req struct {
			TriggerID string `json:"trigger_id"`
		}
		_ = json.Unmarshal([]byte(c.Form["_json"]), &req)
		if req.TriggerID == "" {
			slackErr(w, "invalid_trigger_id")
			return
		}
		f.opened = append(f.opened, c.Form["_json"])
		okJSON(w, map[string]any{"view": map[string]any{"id": fmt.Sprintf("VMODAL%04d", len(f.opened)),
			"hash": fmt.Sprintf("1804151100.h%d", len(f.opened))}})
	case "conversations.history":
		// Newest first, up to limit; metadata only with include_all_metadata.
		ch := c.Form["channel"]
		limit, _ := strconv.Atoi(c.Form["limit"])
		// A shared file is a message of its own, with the file in files.
		type entry struct {
			seq int
			msg map[string]any
		}
		var all []entry
		for _, m := range f.msgs {
			if m.Channel == ch {
				e := map[string]any{"type": "message", "ts": m.TS, "text": m.Text}
				if c.Form["include_all_metadata"] == "1" && m.Metadata != nil {
					e["metadata"] = m.Metadata
				}
				all = append(all, entry{m.seq, e})
			}
		}
		for _, sh := range f.shares {
			if sh.Channel == ch {
				all = append(all, entry{sh.seq, map[string]any{"type": "message", "ts": sh.TS, "text": "", "upload": true,
					"files": []any{map[string]any{"id": sh.ID, "name": sh.Name, "title": sh.Title}}}})
			}
		}
		slices.SortFunc(all, func(a, b entry) int { return b.seq - a.seq })
		var out []map[string]any
		for _, e := range all[:min(limit, len(all))] {
			out = append(out, e.msg)
		}
		okJSON(w, map[string]any{"messages": out, "has_more": len(all) > limit})
	case "conversations.open":
		ch, ok := f.ims[c.Form["users"]]
		if !ok {
			slackErr(w, "user_not_found")
			return
		}
		okJSON(w, map[string]any{"channel": map[string]any{"id": ch}, "already_open": true})
	case "files.getUploadURLExternal":
		// Both are required: the file's name, and its exact length, which
		// the upload is held to.
		if n, err := strconv.Atoi(c.Form["length"]); err != nil || n <= 0 || c.Form["filename"] == "" {
			slackErr(w, "invalid_arguments")
			return
		}
		id := fmt.Sprintf("F%d", len(f.lengths)+1)
		f.lengths[id] = c.Form["length"]
		f.names[id] = c.Form["filename"]
		okJSON(w, map[string]any{"upload_url": f.srv.URL + "/upload/" + id, "file_id": id})
	case "files.completeUploadExternal":
		var files []struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		}
		_ = json.Unmarshal([]byte(c.Form["files"]), &files)
		if len(files) != 1 || f.uploads[files[0].ID] == nil {
			slackErr(w, "file_not_found")
			return
		}
		if c.Form["channel_id"] == "" { // else the file stays private, shared nowhere
			slackErr(w, "invalid_arguments")
			return
		}
		f.shared = append(f.shared, c)
		f.seq++
		f.shares = append(f.shares, &fileShare{Channel: c.Form["channel_id"], TS: fmt.Sprintf("1804150900.%06d", f.seq),
			ID: files[0].ID, Name: f.names[files[0].ID], Title: files[0].Title, seq: f.seq})
		okJSON(w, map[string]any{"files": []any{map[string]any{"id": files[0].ID, "title": files[0].Title}}})
	default:
		writeJSON(w, 404, map[string]any{"ok": false, "error": "unknown_method"})
	}
}

// mentionsOnly is a mrkdwn text of user mentions only: "<@U0ANNA01> <@U0BERT01>".
var mentionsOnly = regexp.MustCompile(`^<@[UW][A-Z0-9]+>( <@[UW][A-Z0-9]+>)*$`)

// checkBlocks applies Slack's limits and the adapter's promise that text
// objects hold no unescaped control characters.
func checkBlocks(raw []json.RawMessage) string {
	if len(raw) > 50 {
		return fmt.Sprintf("%d blocks", len(raw))
	}
	ids := map[string]bool{}
	for _, r := range raw {
		var b block
		_ = json.Unmarshal(r, &b)
		texts := []*textObj{b.Text}
		if b.Type == "context" { // its elements are text objects
			var ctx struct {
				Elements []*textObj `json:"elements"`
			}
			_ = json.Unmarshal(r, &ctx)
			texts, b.Elements = append(texts, ctx.Elements...), nil
		}
		for _, e := range b.Elements {
			texts = append(texts, e.Text)
			if e.ActionID != "" {
				if ids[e.ActionID] {
					return "duplicate action_id " + e.ActionID
				}
				ids[e.ActionID] = true
				if n := len([]rune(e.Text.Text)); n > 75 {
					return fmt.Sprintf("button text of %d characters", n)
				}
			}
		}
		for _, t := range texts {
			if t == nil {
				continue
			}
			if len([]rune(t.Text)) > 3000 {
				return fmt.Sprintf("text of %d characters", len([]rune(t.Text)))
			}
			if b.Type == "context" && t.Type == "mrkdwn" {
				// Slack parses mrkdwn: the adapter's one mrkdwn element is
				// its mention line, user mentions and nothing else.
				if !mentionsOnly.MatchString(t.Text) {
					return fmt.Sprintf("mrkdwn text %q, want only user mentions", t.Text)
				}
				continue
			}
			if strings.ContainsAny(t.Text, "<>") {
				return fmt.Sprintf("unescaped text %q", t.Text)
			}
			if t.Type != "plain_text" {
				return fmt.Sprintf("text type %q, want plain_text", t.Type)
			}
		}
	}
	return ""
}

func (f *fakeSlack) serveUpload(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/upload/")
	if r.Header.Get("Authorization") != "Bearer "+testBotToken {
		http.Error(w, "no", 403)
		return
	}
	file, _, err := r.FormFile("file")
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	data, _ := io.ReadAll(file)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lengths[id] != strconv.Itoa(len(data)) { // an upload URL takes the length announced
		http.Error(w, "length mismatch", 400)
		return
	}
	f.uploads[id] = data
	fmt.Fprintf(w, "OK - %d", len(data))
}

// The client sends Origin https://api.slack.com, as to Slack.
var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// serveWS is one Socket Mode connection: hello, pings, and the
// acknowledgements read back.
func (f *fakeSlack) serveWS(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	f.mu.Lock()
	f.conns++
	n := f.conns
	f.conn = conn
	f.helloAt = append(f.helloAt, time.Now())
	f.mu.Unlock()
	f.write(conn, map[string]any{"type": "hello", "num_connections": 1,
		"connection_info": map[string]any{"app_id": "A0APP0001"}, "debug_info": map[string]any{"host": "fake"}})
	done := make(chan struct{})
	go func() { // Slack pings; the client's deadman timer counts on it
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-f.stop:
				return
			case <-t.C:
				if conn.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(time.Second)) != nil {
					return
				}
			}
		}
	}()
	defer close(done)
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			return
		}
		var ack struct {
			EnvelopeID string `json:"envelope_id"`
		}
		if json.Unmarshal(msg, &ack) == nil && ack.EnvelopeID != "" {
			f.mu.Lock()
			if f.acks[ack.EnvelopeID]++; f.acks[ack.EnvelopeID] == 1 {
				f.ackAt[ack.EnvelopeID], f.ackOn[ack.EnvelopeID] = time.Now(), n
			}
			f.mu.Unlock()
		}
	}
}

func (f *fakeSlack) write(conn *websocket.Conn, v any) {
	f.wmu.Lock()
	defer f.wmu.Unlock()
	_ = conn.WriteJSON(v)
}

// current waits for a Socket Mode connection and returns it.
func (f *fakeSlack) current() *websocket.Conn {
	f.t.Helper()
	var c *websocket.Conn
	waitFor(f.t, "a Socket Mode connection", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		c = f.conn
		return c != nil
	})
	return c
}

// push sends an envelope over Socket Mode and returns its ID.
func (f *fakeSlack) push(typ string, payload any) string {
	f.mu.Lock()
	f.nextEnv++
	id := fmt.Sprintf("env-%04d", f.nextEnv)
	env := map[string]any{"envelope_id": id, "type": typ, "payload": payload,
		"accepts_response_payload": typ != "events_api", "retry_attempt": 0, "retry_reason": ""}
	f.envelopes[id] = env
	f.mu.Unlock()
	conn := f.current()
	f.mu.Lock()
	f.sentAt[id] = time.Now()
	f.mu.Unlock()
	f.write(conn, env)
	return id
}

// ackLatency is how long the first acknowledgement of an envelope took
// after the envelope was sent.
func (f *fakeSlack) ackLatency(id string) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ackAt[id].Sub(f.sentAt[id])
}

// redeliver sends an envelope again, as Slack does when no ack came.
func (f *fakeSlack) redeliver(id string) {
	f.mu.Lock()
	env := map[string]any{}
	for k, v := range f.envelopes[id] {
		env[k] = v
	}
	env["retry_attempt"] = env["retry_attempt"].(int) + 1
	env["retry_reason"] = "timeout"
	f.envelopes[id] = env
	f.mu.Unlock()
	f.write(f.current(), env)
}

// disconnect asks the client to reconnect, as Slack does every few hours.
func (f *fakeSlack) disconnect() {
	c := f.current()
	f.mu.Lock()
	f.conn = nil
	f.mu.Unlock()
	f.write(c, map[string]any{"type": "disconnect", "reason": "refresh_requested", "debug_info": map[string]any{"host": "fake"}})
}

func (f *fakeSlack) acked(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.acks[id]
}

func (f *fakeSlack) waitAck(id string, n int) {
	f.t.Helper()
	waitFor(f.t, fmt.Sprintf("envelope %s acknowledged %d times", id, n), func() bool { return f.acked(id) >= n })
	if f.settle != nil {
		f.settle()
	}
}

func (f *fakeSlack) callsOf(method string) []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []apiCall
	for _, c := range f.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// messages returns copies of the messages in a channel, oldest first.
func (f *fakeSlack) messages(channel string) []sentMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sentMsg
	for _, m := range f.msgs {
		if m.Channel == channel {
			out = append(out, *m)
		}
	}
	return out
}

func (f *fakeSlack) message(channel, ts string) sentMsg {
	for _, m := range f.messages(channel) {
		if m.TS == ts {
			return m
		}
	}
	f.t.Fatalf("no message %s in %s", ts, channel)
	return sentMsg{}
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

var start = time.Date(2027, 3, 10, 9, 0, 0, 0, bottest.Zone("Europe/Berlin"))

// env is the real engine on an in-memory store, with the adapter talking
// to a fake Slack.
type env struct {
	t      testing.TB
	fake   *fakeSlack
	engine *bot.Engine
	store  *bottest.MemStore
	a      *Adapter
	lclock *bottest.Clock
	logs   *bottest.Buffer
	clock  *bottest.Clock // the engine's
}

func newEnv(t testing.TB, mod func(*Config)) *env {
	t.Helper()
	e := &env{t: t, fake: newFakeSlack(t), store: bottest.NewMemStore(), logs: &bottest.Buffer{}}
	e.clock = bottest.NewClock(start)
	e.engine = bottest.NewEngine(t, e.store, e.clock)
	cfg := Config{
		BotToken: testBotToken, AppToken: testAppToken, APIURL: e.fake.apiURL(),
		PingInterval: 2 * time.Second, Commands: e.engine.Commands,
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
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("adapter log:\n%s", e.logs.String())
		}
	})
	e.lclock = bottest.NewClock(start)
	e.a.lim.now, e.a.lim.sleep = e.lclock.Now, e.lclock.Sleep
	e.engine.Register(e.a)
	e.fake.settle = e.settle
	return e
}

// settle waits until the engine has sent what it can and the adapter has
// made its calls after events (marking pressed messages).
func (e *env) settle() {
	e.t.Helper()
	bottest.Settle(e.t, e.engine, e.a.after.Idle)
}

// run runs the adapter with h (the engine if nil) until the test ends.
func (e *env) run(h bot.Handler) {
	e.t.Helper()
	if h == nil {
		h = e.engine
	}
	bottest.Run(e.t, e.a, h)
	e.fake.current()
}

// conv is the stored conversation of a channel.
func (e *env) conv(channel string) *bot.Conversation {
	e.t.Helper()
	c, err := e.engine.Load(context.Background(), bot.Address{Platform: Platform, Workspace: teamID, Chat: channel})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// sharedFile is a file shared into a channel: its name and bytes.
type sharedFile struct {
	Name string
	Data []byte
}

// filesIn returns the files shared into channel, in order.
func (f *fakeSlack) filesIn(channel string) []sharedFile {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sharedFile
	for _, c := range f.shared {
		if c.Form["channel_id"] != channel {
			continue
		}
		var files []struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal([]byte(c.Form["files"]), &files)
		for _, fl := range files {
			out = append(out, sharedFile{f.names[fl.ID], f.uploads[fl.ID]})
		}
	}
	return out
}
