package slack

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/ampel-bot/ampel/adapters/internal/httpkit"
	"github.com/ampel-bot/ampel/bot"
)

// maxRequestBody bounds one of Slack's requests; real ones are a few
// kilobytes.
const maxRequestBody = 1 << 20

// HTTPHandlers returns the handlers of HTTP mode, keyed by the pattern cmd
// mounts them under: the Events API, interactivity (pressed buttons) and
// the slash command. Without a signing secret it returns nil: requests
// that cannot be verified are never served.
//
// Every request is verified first: its X-Slack-Signature must be the
// HMAC-SHA256 of its timestamp and raw body under the signing secret, and
// the timestamp within five minutes of now. A request that fails is
// refused with 401 before anything in it is parsed or stored. Verification
// does not stop a replay of a genuine request within the window; the
// engine's deduplication by event ID does (a replay is answered 200 and
// has no effect).
//
// A request is handled synchronously and answered 200 only after the
// engine committed it; if that fails, the answer is 500 and Slack retries,
// which the engine deduplicates.
func (a *Adapter) HTTPHandlers(h bot.Handler) map[string]http.Handler {
	if a.cfg.SigningSecret == "" {
		return nil
	}
	return map[string]http.Handler{
		"POST /slack/events": a.verified(func(w http.ResponseWriter, r *http.Request, body []byte) {
			var head struct {
				Type      string `json:"type"`
				Challenge string `json:"challenge"`
			}
			if err := json.Unmarshal(body, &head); err != nil {
				http.Error(w, "bad request", http.StatusBadRequest)
				return
			}
			if head.Type == "url_verification" {
				w.Header().Set("Content-Type", "text/plain")
				_, _ = io.WriteString(w, head.Challenge)
				return
			}
			a.serve(w, r, h, kindEvents, body)
		}),
		"POST /slack/interactivity": a.verified(func(w http.ResponseWriter, r *http.Request, body []byte) {
			form, err := url.ParseQuery(string(body))
			if err != nil || form.Get("payload") == "" {
				http.Error(w, "bad request", http.StatusBadRequest)
				return
			}
			a.serve(w, r, h, kindInteractive, []byte(form.Get("payload")))
		}),
		"POST /slack/commands": a.verified(func(w http.ResponseWriter, r *http.Request, body []byte) {
			form, err := url.ParseQuery(string(body))
			if err != nil {
				http.Error(w, "bad request", http.StatusBadRequest)
				return
			}
			sc := slackapi.SlashCommand{
				TeamID: form.Get("team_id"), ChannelID: form.Get("channel_id"), UserID: form.Get("user_id"),
				Command: form.Get("command"), Text: form.Get("text"), TriggerID: form.Get("trigger_id"),
			}
			js, _ := json.Marshal(sc) // plain strings: cannot fail
			a.serve(w, r, h, kindSlash, js)
		}),
	}
}

// verified checks the signature headers, then reads the raw body (bounded
// in size, and in how many are read at once: see httpkit.Gate), and calls
// next only if Slack's signature over it checks out. The verifier is fed the bytes exactly as
// they arrived: parsing first and re-encoding would verify something else.
func (a *Adapter) verified(next func(w http.ResponseWriter, r *http.Request, body []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sv, err := slackapi.NewSecretsVerifier(r.Header, a.cfg.SigningSecret)
		if err != nil {
			// Missing or malformed headers, or a timestamp outside the window.
			a.log.Info("slack request refused", "path", r.URL.Path, "why", headerProblem(err),
				"timestamp", httpkit.Opaque(r.Header.Get("X-Slack-Request-Timestamp")))
			a.obs.Refused(Platform, bot.RefusedSignature)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		// Only now the body, which a client can send as slowly as the
		// server's read timeout allows: a bounded number at once.
		body, ok := a.gate.ReadBody(w, r, maxRequestBody)
		if !ok {
			return
		}
		if _, err := sv.Write(body); err != nil || sv.Ensure() != nil {
			a.log.Info("slack request refused: bad signature", "path", r.URL.Path)
			a.obs.Refused(Platform, bot.RefusedSignature)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		// A valid signature stays valid for five minutes, so a captured
		// request could be sent again: one that was answered 200 is
		// refused when it comes back. (Slack's own retries of a request we
		// failed are not refused, and the engine's dedupe covers them.)
		// The key is the signature as bytes, not as sent: its hex in
		// upper case, or any other spelling the verifier accepts, is the
		// same signature. The signature covers the timestamp.
		sig := signatureKey(r.Header)
		if !a.replays.reserve(sig) {
			a.log.Info("slack request refused: replayed", "path", r.URL.Path)
			a.obs.Refused(Platform, bot.RefusedSignature)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next(sw, r, body)
		if sw.status != http.StatusOK {
			a.replays.release(sig) // not taken: Slack may send it again
		}
	})
}

// headerProblem names what is wrong with a request's signature headers:
// the verifier's own errors, or "malformed" for the others, whose text
// quotes the header (a number that does not parse) as the sender wrote it.
func headerProblem(err error) string {
	for _, known := range []error{slackapi.ErrMissingHeaders, slackapi.ErrInvalidSignature, slackapi.ErrExpiredTimestamp} {
		if errors.Is(err, known) {
			return known.Error()
		}
	}
	return "malformed signature headers"
}

// signatureKey is the replay guard's key for a verified request: its
// signature decoded from hex.
func signatureKey(h http.Header) string {
	b, _ := hex.DecodeString(strings.TrimPrefix(h.Get("X-Slack-Signature"), "v0=")) // verified: valid hex
	return string(b)
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// replayGuard remembers the signatures of requests taken within the
// signature's validity window. A signature is reserved before its request
// is handled, so two copies sent at once cannot both get through.
type replayGuard struct {
	mu    sync.Mutex
	m     map[string]time.Time
	order []string // in the order reserved, for expiry
}

const replayWindow = 6 * time.Minute // a little longer than Slack's 5

// reserve claims sig; it reports false if sig was claimed within the window.
func (g *replayGuard) reserve(sig string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	for len(g.order) > 0 { // expire from the oldest: amortised constant work
		t, ok := g.m[g.order[0]]
		if ok && now.Sub(t) < replayWindow {
			break
		}
		if ok {
			delete(g.m, g.order[0])
		}
		g.order = g.order[1:]
	}
	if _, ok := g.m[sig]; ok {
		return false
	}
	if g.m == nil {
		g.m = map[string]time.Time{}
	}
	g.m[sig] = now
	g.order = append(g.order, sig)
	return true
}

// release gives sig back: its request was not taken.
func (g *replayGuard) release(sig string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.m, sig)
}

// serve handles one verified request and answers it: 200 once the engine
// has committed it (the answer goes out before a pressed message is
// updated), 500 if the engine failed, so that Slack delivers it again.
func (a *Adapter) serve(w http.ResponseWriter, r *http.Request, h bot.Handler, kind string, payload []byte) {
	in, err := a.decode(kind, payload)
	if err != nil {
		// Verified but unreadable: a retry would not read better.
		a.log.Warn("slack request not understood; dropped", "kind", kind, "err", a.r.redact(err.Error()))
		w.WriteHeader(http.StatusOK)
		return
	}
	acked := false
	ack := func() {
		acked = true
		w.WriteHeader(http.StatusOK)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	if err := a.process(r.Context(), h, in, ack); err != nil && !acked {
		a.log.Warn("slack request not handled; Slack will deliver it again", "id", in.ev.ID, "err", a.r.redact(err.Error()))
		http.Error(w, "not handled", http.StatusInternalServerError)
	}
}
