package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"image"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/ampel-bot/ampel/adapters/internal/linktest"
	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// testToken looks like a real token, so that the redaction patterns are
// tested on the real shape.
const testToken = "123456789:AAE-fake-token-0123456789abcdefghijklmnopq"

const botUsername = "ampel_test_bot"

// fakeTG is a Bot API server speaking Telegram's wire format: form-encoded
// or multipart requests to /bot<token>/<method>, {"ok":…} answers. It keeps
// the messages the bot sent (as a client would show them: the HTML parsed
// back to plain text) and records every call.
type fakeTG struct {
	t   testing.TB
	srv *httptest.Server

	mu        sync.Mutex
	calls     []apiCall
	queue     []queuedUpdate
	nextID    int
	nextMsg   int
	msgs      map[msgKey]*sentMsg
	order     []msgKey // messages in the order sent
	fails     map[string][]failure
	wake      chan struct{} // closed when updates are queued
	mode      string        // "": normal; "close": drop connections; "500": answer 500
	maxOffset int           // the highest offset getUpdates was called with
	offsets   []int         // every getUpdates offset, in order
	stamp     func() time.Time
	history   map[int][]byte // every update queued, by update_id
	nextQuery int
	served    map[int]int // how often each update was served
	servedAt  map[int]int // len(offsets) when an update was last served
	// settle, if set, is called once an update is handled: it waits until
	// what the update caused has been sent.
	settle func()
	holds  bottest.Holds // methods held until released, by name
	// refused are the chats that sends are refused in, with Telegram's
	// 403 description (a user who never started the bot, or blocked it).
	refused map[int64]string
	// flood, if set, is asked before each send or edit: a retry_after in
	// seconds answers it with 429 Too Many Requests (Telegram's flood
	// control), 0 lets it through.
	flood func(c apiCall) int
	// misanswer, if set, loses the answers to some sends (issue 18, item 3).
	misanswer atomic.Pointer[linktest.Misanswers]
	// quiet keeps no log of calls and no history of updates (the soak's
	// hours would fill the memory); sent, if set, hears of every message
	// posted, under f.mu.
	quiet bool
	sent  func(chat int64)
}

type apiCall struct {
	Method string
	Form   map[string]string
	File   *upload
	At     time.Time // stamp() at arrival, if set
}

type upload struct {
	Field, Name string
	Data        []byte
}

type queuedUpdate struct {
	id    int
	raw   []byte
	force bool // serve once whatever the offset: a redelivery
}

type msgKey struct {
	chat int64
	id   int
}

// sentMsg is a message in a chat as Telegram holds it.
type sentMsg struct {
	Chat   int64
	ID     int
	Raw    string // the text as sent, HTML
	Text   string // the text as shown
	Markup *tgbotapi.InlineKeyboardMarkup
	Doc    *upload
	Photo  *upload // with its size, as Telegram read it
	Width  int
	Height int
	Edited int
	States []string // the text shown first and after each edit
}

type failure struct {
	status int
	body   string
}

func newFakeTG(t testing.TB) *fakeTG {
	f := &fakeTG{t: t, nextID: 100, msgs: map[msgKey]*sentMsg{}, fails: map[string][]failure{}, history: map[int][]byte{}, served: map[int]int{}, servedAt: map[int]int{}, wake: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.misanswer.Load().Serve(w, r, f.serve)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// failNext makes the next call of method fail with an API error.
func (f *fakeTG) failNext(method string, code int, desc string, retryAfter int) {
	var params map[string]any
	if retryAfter > 0 {
		params = map[string]any{"retry_after": retryAfter}
	}
	f.failNextWith(method, code, desc, params)
}

// failNextWith is failNext with any response parameters.
func (f *fakeTG) failNextWith(method string, code int, desc string, params map[string]any) {
	body := map[string]any{"ok": false, "error_code": code, "description": desc}
	if params != nil {
		body["parameters"] = params
	}
	b, _ := json.Marshal(body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fails[method] = append(f.fails[method], failure{code, string(b)})
}

func (f *fakeTG) setMode(m string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode = m
}

func (f *fakeTG) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	mode := f.mode
	f.mu.Unlock()
	switch mode {
	case "close":
		_, _ = io.Copy(io.Discard, r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	case "500":
		http.Error(w, "<html>500 Internal Server Error</html>", http.StatusInternalServerError)
		return
	}
	prefix := "/bot" + testToken + "/"
	if !strings.HasPrefix(r.URL.Path, prefix) {
		writeJSON(w, 401, map[string]any{"ok": false, "error_code": 401, "description": "Unauthorized"})
		return
	}
	c := apiCall{Method: strings.TrimPrefix(r.URL.Path, prefix), Form: map[string]string{}}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			writeJSON(w, 400, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: " + err.Error()})
			return
		}
		for k, v := range r.MultipartForm.Value {
			c.Form[k] = v[0]
		}
		for field, fhs := range r.MultipartForm.File {
			fh := fhs[0]
			rd, _ := fh.Open()
			data, _ := io.ReadAll(rd)
			rd.Close()
			c.File = &upload{Field: field, Name: fh.Filename, Data: data}
		}
	} else {
		if err := r.ParseForm(); err != nil {
			writeJSON(w, 400, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request"})
			return
		}
		for k, v := range r.PostForm {
			c.Form[k] = v[0]
		}
	}
	f.mu.Lock()
	if f.stamp != nil {
		c.At = f.stamp()
	}
	if !f.quiet {
		f.calls = append(f.calls, c)
	}
	f.mu.Unlock()
	if !f.holds.Wait(r.Context(), c.Method) {
		return
	}
	f.mu.Lock()
	if fl := f.fails[c.Method]; len(fl) > 0 {
		f.fails[c.Method] = fl[1:]
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(fl[0].status)
		io.WriteString(w, fl[0].body)
		return
	}
	flood := f.flood
	f.mu.Unlock()
	if flood != nil && (strings.HasPrefix(c.Method, "send") || strings.HasPrefix(c.Method, "edit")) {
		if after := flood(c); after > 0 {
			writeJSON(w, 429, map[string]any{"ok": false, "error_code": 429, "description": "Too Many Requests: retry after " + itoa(after), "parameters": map[string]any{"retry_after": after}})
			return
		}
	}
	if c.Method == "getUpdates" {
		f.getUpdates(w, r, c)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch c.Method {
	case "getMe":
		ok(w, map[string]any{"id": 4242, "is_bot": true, "first_name": "Ampel", "username": botUsername})
	case "sendMessage", "sendDocument", "sendPhoto":
		chat, _ := strconv.ParseInt(c.Form["chat_id"], 10, 64)
		if desc, ok := f.refused[chat]; ok {
			writeJSON(w, 403, map[string]any{"ok": false, "error_code": 403, "description": desc})
			return
		}
		m := &sentMsg{Chat: chat, Raw: c.Form["text"]}
		if c.Method == "sendMessage" {
			text, err := parseHTML(c.Form["text"], c.Form["parse_mode"])
			if err != nil {
				bad(w, err.Error())
				return
			}
			if n := utf16Len(text); n == 0 || n > 4096 {
				bad(w, "Bad Request: message is too long")
				return
			}
			m.Text = text
		} else if c.Method == "sendPhoto" {
			// Telegram reads the picture: one it cannot decode, or
			// outside its limits, is refused.
			if c.File == nil || c.File.Field != "photo" {
				bad(w, "Bad Request: there is no photo in the request")
				return
			}
			cfg, _, err := image.DecodeConfig(bytes.NewReader(c.File.Data))
			if err != nil {
				bad(w, "Bad Request: IMAGE_PROCESS_FAILED")
				return
			}
			if len(c.File.Data) > 10<<20 || cfg.Width+cfg.Height > 10000 || max(cfg.Width, cfg.Height) > 20*min(cfg.Width, cfg.Height) {
				bad(w, "Bad Request: PHOTO_INVALID_DIMENSIONS")
				return
			}
			m.Photo, m.Width, m.Height = c.File, cfg.Width, cfg.Height
		} else {
			if c.File == nil || c.File.Field != "document" {
				bad(w, "Bad Request: there is no document in the request")
				return
			}
			m.Doc = c.File
		}
		if rm := c.Form["reply_markup"]; rm != "" {
			m.Markup = &tgbotapi.InlineKeyboardMarkup{}
			if err := json.Unmarshal([]byte(rm), m.Markup); err != nil {
				bad(w, "Bad Request: can't parse reply keyboard markup JSON object")
				return
			}
		}
		f.nextMsg++
		m.ID = f.nextMsg
		m.States = []string{m.Text}
		if f.sent != nil {
			f.sent(chat)
		}
		k := msgKey{chat, m.ID}
		f.msgs[k] = m
		f.order = append(f.order, k)
		ok(w, f.wire(m))
	case "editMessageText", "editMessageReplyMarkup":
		chat, _ := strconv.ParseInt(c.Form["chat_id"], 10, 64)
		id, _ := strconv.Atoi(c.Form["message_id"])
		m := f.msgs[msgKey{chat, id}]
		if m == nil {
			bad(w, "Bad Request: message to edit not found")
			return
		}
		text, raw := m.Text, m.Raw
		if c.Method == "editMessageText" {
			var err error
			if text, err = parseHTML(c.Form["text"], c.Form["parse_mode"]); err != nil {
				bad(w, err.Error())
				return
			}
			raw = c.Form["text"]
		}
		var markup *tgbotapi.InlineKeyboardMarkup
		if rm := c.Form["reply_markup"]; rm != "" {
			markup = &tgbotapi.InlineKeyboardMarkup{}
			if err := json.Unmarshal([]byte(rm), markup); err != nil {
				bad(w, "Bad Request: can't parse reply keyboard markup JSON object")
				return
			}
			if len(markup.InlineKeyboard) == 0 {
				markup = nil // an empty keyboard is none
			}
		}
		oldKB, _ := json.Marshal(m.Markup)
		newKB, _ := json.Marshal(markup)
		if text == m.Text && string(oldKB) == string(newKB) {
			bad(w, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
			return
		}
		m.Text, m.Raw, m.Markup = text, raw, markup
		m.Edited++
		m.States = append(m.States, text)
		ok(w, f.wire(m))
	case "answerCallbackQuery", "setMyCommands", "setWebhook", "deleteWebhook":
		ok(w, true)
	default:
		writeJSON(w, 404, map[string]any{"ok": false, "error_code": 404, "description": "Not Found"})
	}
}

// getUpdates serves queued updates with update_id >= offset; the ones
// below are confirmed and forgotten, as Telegram does. With nothing to
// serve it holds the request briefly (a long poll, shortened for tests).
func (f *fakeTG) getUpdates(w http.ResponseWriter, r *http.Request, c apiCall) {
	offset, _ := strconv.Atoi(c.Form["offset"])
	limit, _ := strconv.Atoi(c.Form["limit"])
	if limit <= 0 {
		limit = 100
	}
	deadline := time.NewTimer(50 * time.Millisecond)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		f.maxOffset = max(f.maxOffset, offset)
		f.offsets = append(f.offsets, offset)
		var out []json.RawMessage
		var keep []queuedUpdate
		for _, q := range f.queue {
			switch {
			case q.force && len(out) < limit:
				out = append(out, q.raw) // served once
				f.served[q.id]++
				f.servedAt[q.id] = len(f.offsets)
			case q.force:
				keep = append(keep, q)
			case q.id >= offset:
				if len(out) < limit {
					out = append(out, q.raw)
					f.served[q.id]++
					f.servedAt[q.id] = len(f.offsets)
				}
				keep = append(keep, q)
			}
		}
		f.queue = keep
		wake := f.wake
		f.mu.Unlock()
		if len(out) > 0 {
			ok(w, out)
			return
		}
		select {
		case <-wake:
		case <-deadline.C:
			ok(w, []any{})
			return
		case <-r.Context().Done():
			return
		}
	}
}

// wire is a message as the API returns it.
func (f *fakeTG) wire(m *sentMsg) map[string]any {
	typ := "private"
	if m.Chat < 0 {
		typ = "group"
	}
	out := map[string]any{
		"message_id": m.ID, "date": 1804150800,
		"from": map[string]any{"id": 4242, "is_bot": true, "first_name": "Ampel", "username": botUsername},
		"chat": map[string]any{"id": m.Chat, "type": typ},
	}
	if m.Text != "" {
		out["text"] = m.Text
	}
	if m.Doc != nil {
		out["document"] = map[string]any{"file_id": "f" + strconv.Itoa(m.ID), "file_unique_id": "u", "file_name": m.Doc.Name}
	}
	if m.Photo != nil { // the sizes Telegram keeps of a photo, the largest last
		out["photo"] = []any{
			map[string]any{"file_id": "p" + strconv.Itoa(m.ID) + "s", "file_unique_id": "us", "width": 90, "height": 90 * m.Height / m.Width},
			map[string]any{"file_id": "p" + strconv.Itoa(m.ID), "file_unique_id": "u", "width": m.Width, "height": m.Height},
		}
	}
	if m.Markup != nil {
		out["reply_markup"] = m.Markup
	}
	return out
}

// parseHTML checks text as Telegram's HTML parser would for a text with
// no markup in it, and returns what the user sees: any tag or a bare "&"
// is an error, entities are decoded.
func parseHTML(s, mode string) (string, error) {
	if mode != "HTML" {
		return "", fmt.Errorf("Bad Request: test expects parse_mode HTML, got %q", mode)
	}
	if i := strings.IndexByte(s, '<'); i >= 0 {
		return "", fmt.Errorf("Bad Request: can't parse entities: Unsupported start tag at byte offset %d", i)
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '&' {
			continue
		}
		rest := s[i:]
		if !strings.HasPrefix(rest, "&lt;") && !strings.HasPrefix(rest, "&gt;") && !strings.HasPrefix(rest, "&amp;") && !strings.HasPrefix(rest, "&quot;") {
			return "", fmt.Errorf("Bad Request: can't parse entities: Unsupported entity at byte offset %d", i)
		}
	}
	return html.UnescapeString(s), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func ok(w http.ResponseWriter, result any) {
	writeJSON(w, 200, map[string]any{"ok": true, "result": result})
}

func bad(w http.ResponseWriter, desc string) {
	writeJSON(w, 400, map[string]any{"ok": false, "error_code": 400, "description": desc})
}

// push queues an update and returns its update_id.
func (f *fakeTG) push(u tgbotapi.Update) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	u.UpdateID = f.nextID
	raw, err := json.Marshal(u)
	if err != nil {
		f.t.Fatal(err)
	}
	f.queue = append(f.queue, queuedUpdate{id: u.UpdateID, raw: raw})
	if !f.quiet {
		f.history[u.UpdateID] = raw
	}
	close(f.wake)
	f.wake = make(chan struct{})
	return u.UpdateID
}

// redeliver serves an update once more, whatever the offset: as Telegram
// does when the confirmation of an update never reached it.
func (f *fakeTG) redeliver(id int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	raw, ok := f.history[id]
	if !ok {
		f.t.Fatalf("no update %d to redeliver", id)
	}
	f.queue = append(f.queue, queuedUpdate{id: id, raw: raw, force: true})
	close(f.wake)
	f.wake = make(chan struct{})
}

// refuse makes sends to chat fail as Telegram's do for a user who never
// started the bot: 403 "bot can't initiate conversation with a user".
func (f *fakeTG) refuse(chat int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refused == nil {
		f.refused = map[int64]string{}
	}
	f.refused[chat] = "Forbidden: bot can't initiate conversation with a user"
}

func itoa(i int) string { return strconv.Itoa(i) }

func user(id int64, lang string) *tgbotapi.User {
	return &tgbotapi.User{ID: id, FirstName: "Eva", LanguageCode: lang}
}

func chatOfID(id int64) *tgbotapi.Chat {
	if id < 0 {
		return &tgbotapi.Chat{ID: id, Type: "group", Title: "Team"}
	}
	return &tgbotapi.Chat{ID: id, Type: "private"}
}

// pushText queues a typed message.
func (f *fakeTG) pushText(chat int64, from *tgbotapi.User, text string) int {
	f.mu.Lock()
	f.nextMsg++
	mid := f.nextMsg
	f.mu.Unlock()
	return f.push(tgbotapi.Update{Message: &tgbotapi.Message{
		MessageID: mid, From: from, Chat: chatOfID(chat), Date: 1804150800, Text: text,
	}})
}

// pushPress queues a press of the button with data under message m, as
// the user's client sends it: the message as it is now.
func (f *fakeTG) pushPress(from *tgbotapi.User, m sentMsg, data string) (updateID int, queryID string) {
	u, queryID := f.pressUpdate(from, m, data)
	return f.push(u), queryID
}

// pressUpdate is the update of a press of the button with data under m.
func (f *fakeTG) pressUpdate(from *tgbotapi.User, m sentMsg, data string) (u tgbotapi.Update, queryID string) {
	f.mu.Lock()
	cur := *f.msgs[msgKey{m.Chat, m.ID}]
	wire := f.wire(&cur)
	f.mu.Unlock()
	raw, _ := json.Marshal(wire)
	var msg tgbotapi.Message
	if err := json.Unmarshal(raw, &msg); err != nil {
		f.t.Fatal(err)
	}
	f.nextQuery++
	queryID = fmt.Sprintf("cb-%d", f.nextQuery)
	return tgbotapi.Update{CallbackQuery: &tgbotapi.CallbackQuery{
		ID: queryID, From: from, Message: &msg, ChatInstance: "ci", Data: data,
	}}, queryID
}

// waitConsumed waits until getUpdates was called with an offset past id:
// the adapter has handled the update and everything it caused.
func (f *fakeTG) waitConsumed(id int) {
	f.t.Helper()
	waitFor(f.t, fmt.Sprintf("update %d consumed", id), func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.maxOffset > id
	})
	if f.settle != nil {
		f.settle()
	}
}

// waitHandled waits until update id was served at least n times and the
// adapter asked for more after that: it has handled the batch.
func (f *fakeTG) waitHandled(id, n int) {
	f.t.Helper()
	waitFor(f.t, fmt.Sprintf("update %d served %d times and handled", id, n), func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.served[id] >= n && len(f.offsets) > f.servedAt[id]
	})
	if f.settle != nil {
		f.settle()
	}
}

func (f *fakeTG) servedCount(id int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.served[id]
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

// callsOf returns the recorded calls of a method.
func (f *fakeTG) callsOf(method string) []apiCall {
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

// deleteMessage deletes a message, as a member of the chat may.
func (f *fakeTG) deleteMessage(chat int64, id int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.msgs, msgKey{chat, id})
	for i, k := range f.order {
		if k == (msgKey{chat, id}) {
			f.order = append(f.order[:i], f.order[i+1:]...)
			break
		}
	}
}

// messages returns the messages in a chat, oldest first, as they are now.
func (f *fakeTG) messages(chat int64) []sentMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sentMsg
	for _, k := range f.order {
		if k.chat == chat {
			out = append(out, *f.msgs[k])
		}
	}
	return out
}

// syncBuffer collects output from several goroutines.
type syncBuffer = bottest.Buffer

var start = time.Date(2027, 3, 10, 9, 0, 0, 0, bottest.Zone("Europe/Berlin"))

// env is the real engine on an in-memory store, with the adapter talking
// to a fake Telegram.
type env struct {
	t      testing.TB
	fake   *fakeTG
	engine *bot.Engine
	store  *bottest.MemStore
	clock  *bottest.Clock
	a      *Adapter
	lclock *bottest.Clock
	logs   *syncBuffer
}

func newEnv(t testing.TB, mod func(*Config)) *env {
	t.Helper()
	e := &env{t: t, fake: newFakeTG(t), store: bottest.NewMemStore(), clock: bottest.NewClock(start), logs: &syncBuffer{}}
	e.engine = bottest.NewEngine(t, e.store, e.clock)
	cfg := Config{
		Token: testToken, APIURL: e.fake.srv.URL, PollTimeout: time.Second,
		Commands: e.engine.Commands, Langs: e.engine.Langs(),
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
	e.lclock = fastAdapter(e.a)
	e.engine.Register(e.a)
	e.fake.settle = e.settle
	return e
}

// settle waits until the engine has sent what it can and the adapter has
// made its calls after updates (answers to presses, edits).
func (e *env) settle() {
	e.t.Helper()
	bottest.Settle(e.t, e.engine, e.a.after.Idle)
}

// fastAdapter shortens the adapter's pauses after failures and gives its
// limiter a fake clock, which it returns.
func fastAdapter(a *Adapter) *bottest.Clock {
	a.backoffMin, a.backoffMax = time.Millisecond, 5*time.Millisecond
	c := bottest.NewClock(start)
	a.lim.now, a.lim.sleep = c.Now, c.Sleep
	return c
}

// run runs the adapter with h (the engine if nil) until the test ends.
func (e *env) run(h bot.Handler) {
	e.t.Helper()
	if h == nil {
		h = e.engine
	}
	bottest.Run(e.t, e.a, h)
}

// conv is the stored conversation of a chat.
func (e *env) conv(chat int64) *bot.Conversation {
	e.t.Helper()
	return e.convT(e.t, chat)
}

// convT is conv for a test other than the one that built e (a fuzz input).
func (e *env) convT(t testing.TB, chat int64) *bot.Conversation {
	t.Helper()
	c, err := e.engine.Load(context.Background(), bot.Address{Platform: Platform, Chat: strconv.FormatInt(chat, 10)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
