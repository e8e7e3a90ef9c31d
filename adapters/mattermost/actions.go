package mattermost

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/ampel-bot/ampel/adapters/internal/httpkit"
	"github.com/ampel-bot/ampel/bot"
)

// maxCallbackBody bounds a button press or command request; real ones are
// a kilobyte or two.
const maxCallbackBody = 64 << 10

// Button contexts.
//
// When a button is pressed, the Mattermost server POSTs the button's
// integration context to CallbackURL, with the presser's user ID and the
// post's ID and channel, and signs nothing: anyone who can reach the URL
// could send any JSON. The context itself is never shown to clients (the
// server strips it), so a secret in it proves that the request comes from
// the server, or from someone who saw a context server-side.
//
// Each button's context carries its action, its label, the channel, the
// user allowed to press it ("" for any member of a shared channel; the
// partner in a direct channel) and a nonce, with an HMAC-SHA256 over all
// of them. The post's ID is not known before the post is created, so it
// cannot be signed without a second request (an update right after the
// create, during which the buttons would be unusable, and which can fail
// on its own). Instead the nonce is the post's pending_post_id, and when
// the create returns, the adapter binds the nonce to the new post's ID in
// memory; a press naming another post is refused. After a restart the
// binding is made by the first press (the server only ever sends a
// post's own context, so a genuine press always binds correctly). So:
//   - a forged context (no or a wrong HMAC, any field changed) is refused;
//   - a context replayed in another channel, or by another user in a
//     direct channel, is refused;
//   - a context replayed with another post's ID is refused while the
//     process that created the post runs;
//   - a replayed press has no second effect: its event ID is derived from
//     the post, the context's HMAC and the user, and the engine drops it
//     durably; in memory, a post once answered accepts no more presses.
//
// A form opener (see dialog.go) is a button of its own kind: its context
// carries the ID of a form kept in memory instead of an action ("f"
// instead of "a"), signed under another domain, so that neither kind's
// context passes for the other.
type press struct {
	action, form, label, channel, user, nonce, sig string
	// live marks a live message's button (see live.go): any member may
	// press it, each once, and the post stays as it is.
	live bool
}

const ctxVersion = "1"

func (a *Adapter) sign(p press) string {
	fields := []string{"ampel-mm-button", ctxVersion, p.action, p.label, p.channel, p.user, p.nonce}
	if p.live {
		fields = append(fields, "live")
	}
	if p.form != "" {
		fields = []string{"ampel-mm-form", ctxVersion, p.form, p.label, p.channel, p.user, p.nonce}
	}
	return a.mac(fields...)
}

// mac is the HMAC-SHA256 under the action secret of fields, each ended by
// a NUL, base64url without padding.
func (a *Adapter) mac(fields ...string) string {
	m := hmac.New(sha256.New, a.secret)
	for _, f := range fields {
		m.Write([]byte(f))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// actions renders buttons as post actions whose contexts are signed for
// channel chat, user allowed and the post's pending ID nonce.
func (a *Adapter) actions(chat, allowed, nonce string, live bool, buttons []bot.Button) []*model.PostAction {
	var out []*model.PostAction
	for _, b := range buttons {
		p := press{action: b.Action, label: b.Label, channel: chat, user: allowed, nonce: nonce, live: live}
		c := map[string]any{"v": ctxVersion, "a": p.action, "l": p.label, "c": p.channel, "u": p.user, "n": p.nonce, "s": a.sign(p)}
		if live {
			c["lv"] = "1"
		}
		out = append(out, &model.PostAction{
			Type: model.PostActionTypeButton, Name: b.Label,
			Integration: &model.PostActionIntegration{URL: a.callback, Context: c},
		})
	}
	return out
}

var errForged = errors.New("button press refused")

// verify checks a press against its context's HMAC and binding.
func (a *Adapter) verify(req *model.PostActionIntegrationRequest) (press, error) {
	str := func(k string) string { s, _ := req.Context[k].(string); return s }
	p := press{action: str("a"), form: str("f"), label: str("l"), channel: str("c"), user: str("u"), nonce: str("n"), sig: str("s"), live: str("lv") == "1"}
	switch {
	case str("v") != ctxVersion || p.sig == "" || (p.action == "") == (p.form == "") || p.nonce == "":
		return p, errForged
	case !hmac.Equal([]byte(p.sig), []byte(a.sign(p))):
		return p, errForged
	case req.ChannelId != p.channel || !model.IsValidId(req.PostId) || !model.IsValidId(req.UserId):
		return p, errForged
	case p.user != "" && req.UserId != p.user:
		return p, errForged
	case req.UserId == a.botID:
		return p, errForged
	case !a.presses.bind(p.nonce, req.PostId):
		return p, errForged
	}
	return p, nil
}

// pressID is the event ID of a press: the same press twice is one event.
func pressID(postID, sig, user string) string {
	h := sha256.Sum256([]byte(postID + "\x00" + sig + "\x00" + user))
	return "press:" + idEncoding.EncodeToString(h[:])[:26]
}

// actionHandler serves button presses (see press). A valid press goes to
// h as an Event with the button's Action; once h committed it, the answer
// updates the pressed post: it shows the choice under the text and loses
// its buttons (Props non-nil and without attachments; nil would keep
// them), keeping its other props. A press on an older question than the
// newest one is refused by the engine, which says so and asks the current
// question again (see supersede: the copy before loses its buttons); the
// pressed post only loses its buttons. If h fails, the answer is 500 and
// the buttons stay, so that the user can press again.
func (a *Adapter) actionHandler(h bot.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Nothing to check before the body: its HMAC is inside. Bounded
		// in size and in how many are read at once (see httpkit.Gate).
		body, ok := a.gate.ReadBody(w, r, maxCallbackBody)
		if !ok {
			return
		}
		var req model.PostActionIntegrationRequest
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		p, err := a.verify(&req)
		if err != nil {
			a.log.Warn("mattermost button press refused",
				"post", httpkit.Opaque(req.PostId), "channel", httpkit.Opaque(req.ChannelId), "user", httpkit.Opaque(req.UserId))
			a.obs.Refused(Platform, bot.RefusedSignature)
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		if p.form != "" {
			// A form opener: opens the dialog, does not go to the engine and
			// leaves the post as it is (the dialog may be cancelled).
			a.openerAnswer(w, r, &req, p)
			return
		}
		if p.live {
			a.livePress(w, r, h, &req, p)
			return
		}
		if !a.presses.claim(req.PostId) {
			writeJSON(w, model.PostActionIntegrationResponse{}) // answered already: no second effect
			return
		}
		ev, err := a.pressEvent(r.Context(), &req, p)
		current := bot.Lasting(p.action) || a.presses.isNewest(req.ChannelId, req.PostId)
		ctx, refused := bot.WithRefusal(r.Context())
		if err == nil {
			err = h.Handle(ctx, ev)
		}
		if err != nil {
			a.presses.release(req.PostId, false)
			a.log.Warn("mattermost button press not handled", "post", httpkit.Opaque(req.PostId), "err", a.r.redact(err.Error()))
			http.Error(w, "not handled", http.StatusInternalServerError)
			return
		}
		if refused() {
			// Someone else's button: the post keeps its buttons for
			// whoever may press them, and a later press counts.
			a.presses.release(req.PostId, false)
			writeJSON(w, model.PostActionIntegrationResponse{})
			return
		}
		a.presses.release(req.PostId, true)
		writeJSON(w, a.pressAnswer(r.Context(), req.PostId, p.label, current))
	})
}

func (a *Adapter) pressEvent(ctx context.Context, req *model.PostActionIntegrationRequest, p press) (bot.Event, error) {
	ci, err := a.channels.get(ctx, a, req.ChannelId)
	if err != nil {
		return bot.Event{}, err
	}
	ev := bot.Event{
		ID: pressID(req.PostId, p.sig, req.UserId), Action: p.action,
		Group: ci.typ != string(model.ChannelTypeDirect),
		Addr:  bot.Address{Platform: Platform, Chat: req.ChannelId, User: req.UserId},
	}
	ev.LangHint, ev.ZoneHint, ev.UserName = a.people.hints(ctx, a, req.UserId)
	return ev, nil
}

// pressAnswer is the update of the pressed post. It needs the post's
// message, which the press does not carry (an update replaces the whole
// post): known if this process created the post, else read. If the post cannot be read, the buttons stay (presses on it have
// no effect any more) and the presser sees the choice ephemerally.
func (a *Adapter) pressAnswer(ctx context.Context, postID, label string, current bool) model.PostActionIntegrationResponse {
	// A post this process created is known: the answer, which is the
	// press's acknowledgement, then waits for no request.
	old := a.created.get(postID)
	var err error
	if old == nil {
		old, err = a.getPost(ctx, postID)
	}
	if err != nil || old == nil {
		a.log.Info("mattermost pressed post not readable; buttons stay", "post", httpkit.Opaque(postID), "err", err)
		return model.PostActionIntegrationResponse{EphemeralText: "✓ " + escape(label)}
	}
	msg := old.Message
	if current {
		suffix := "\n\n✓ " + escape(label)
		if r := []rune(msg); len(r)+len([]rune(suffix)) > maxPost {
			msg = string(r[:maxPost-len([]rune(suffix))-1]) + "…"
		}
		msg += suffix
	}
	return model.PostActionIntegrationResponse{Update: &model.Post{
		Message: msg, FileIds: old.FileIds,
		Props: withoutButtons(old.GetProps()),
	}}
}

// withoutButtons returns a post's props without its attachments (the
// buttons), never nil: an update with nil props keeps the old ones, with
// the buttons. The server replaces a post's props with an update's, so the
// others (from_bot above all: without it the client shows the post as the
// account's own, and other bots answer it) must be in the update.
func withoutButtons(props model.StringInterface) model.StringInterface {
	out := model.StringInterface{}
	for k, v := range props {
		if k != model.PostPropsAttachments {
			out[k] = v
		}
	}
	return out
}

// commandHandler serves the /ampel slash command. The server sends the
// command's token as "Authorization: Token <token>"; anything else gets
// 401 before the form is read. "/ampel check zo-kmu" becomes the typed
// command "/check zo-kmu" ("/ampel" alone is "/start"). The answer is an
// empty ephemeral response, given after h committed; the bot's replies
// come as posts through Send.
func (a *Adapter) commandHandler(h bot.Handler) http.Handler {
	want := []byte("Token " + a.cfg.CommandToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			a.log.Warn("mattermost slash command with a wrong token refused")
			a.obs.Refused(Platform, bot.RefusedUnauthorised)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxCallbackBody)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		f := r.PostForm
		chat, user := f.Get("channel_id"), f.Get("user_id")
		if chat == "" || user == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		text := strings.TrimSpace(f.Get("text"))
		if text == "" {
			text = "start"
		}
		// A command has no delivery ID and is not redelivered; the
		// trigger ID is unique per invocation.
		id := f.Get("trigger_id")
		if id == "" {
			id = strconv.FormatInt(time.Now().UnixNano(), 36)
		}
		sum := sha256.Sum256([]byte(id))
		ev := bot.Event{
			ID: "cmd:" + idEncoding.EncodeToString(sum[:])[:26], Text: "/" + strings.TrimPrefix(text, "/"),
			Addr: bot.Address{Platform: Platform, Chat: chat, User: user},
		}
		ci, err := a.channels.get(r.Context(), a, chat)
		if err == nil {
			ev.Group = ci.typ != string(model.ChannelTypeDirect)
			ev.LangHint, ev.ZoneHint, ev.UserName = a.people.hints(r.Context(), a, user)
			err = h.Handle(r.Context(), ev)
		}
		if err != nil {
			a.log.Warn("mattermost slash command not handled", "err", a.r.redact(err.Error()))
			http.Error(w, "not handled", http.StatusInternalServerError)
			return
		}
		writeJSON(w, model.CommandResponse{ResponseType: model.CommandResponseTypeEphemeral})
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// presses is the adapter's memory of button posts: which nonce belongs to
// which post, which post per channel is the newest question, and which
// posts were answered. Memory only and bounded (see press for what
// survives a restart).
type presses struct {
	mu       sync.Mutex
	posts    map[string]string   // nonce -> post ID
	newest   map[string]question // channel -> newest question
	answered map[string]bool     // post ID -> answered (true) or in flight (false)
}

// question is a post whose buttons (some of them) are valid only until
// the next question, as the adapter needs it to take them off then.
type question struct {
	post    string
	props   model.StringInterface // without the attachments
	lasting []*model.PostAction   // its buttons that stay
}

const maxPresses = 1 << 16

// bind binds nonce to postID, or reports whether it is bound to it.
func (p *presses) bind(nonce, postID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if got, ok := p.posts[nonce]; ok {
		return got == postID
	}
	if p.posts == nil || len(p.posts) >= maxPresses {
		p.posts = map[string]string{}
	}
	p.posts[nonce] = postID
	return true
}

// setNewest records q as the newest question in chat and returns the one
// it supersedes, unless there is none or it is being answered (its press
// answer takes its buttons off).
func (p *presses) setNewest(chat string, q question) (question, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.newest == nil || len(p.newest) >= maxPresses {
		p.newest = map[string]question{}
	}
	old, ok := p.newest[chat]
	p.newest[chat] = q
	_, busy := p.answered[old.post]
	return old, ok && old.post != q.post && !busy
}

// isNewest reports whether postID is the newest question in chat; true
// when it is not known (after a restart).
func (p *presses) isNewest(chat, postID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, ok := p.newest[chat]
	return !ok || n.post == postID
}

// claim marks a post's press as in flight; false if one is in flight or
// the post was answered.
func (p *presses) claim(postID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, busy := p.answered[postID]; busy {
		return false
	}
	if p.answered == nil || len(p.answered) >= maxPresses {
		p.answered = map[string]bool{}
	}
	p.answered[postID] = false
	return true
}

// release ends a claim: answered, or free to be pressed again.
func (p *presses) release(postID string, answered bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if answered {
		p.answered[postID] = true
	} else {
		delete(p.answered, postID)
	}
}

// forget drops everything remembered, as a restart does.
func (p *presses) forget() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.posts, p.newest, p.answered = nil, nil, nil
}
