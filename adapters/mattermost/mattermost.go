// Package mattermost connects Ampel to a Mattermost server as a bot account:
// it turns posts (in direct channels, or mentioning the bot elsewhere),
// pressed message buttons and the /ampel slash command into bot.Events for
// the engine, and renders bot.Messages as posts.
//
// It is built on github.com/mattermost/mattermost/server/public v0.3.0: the
// REST client (model.Client4) and the model types. It works around what the
// platform and the library leave to a bot that must neither lose nor double
// an event, nor be fooled by a forged request:
//
//   - The library's WebSocket client does not reconnect and cannot be given
//     a context; Run keeps its own connection (gorilla/websocket, the same
//     wire format decoded with model.WebSocketEventFromJSON), reconnects
//     with exponential backoff and jitter, cut short when the server
//     answers again (see reconnect.go), and after every (re)connect
//     catches up over REST (GET /channels/{id}/posts?since=) on what was
//     posted meanwhile, deduplicating by post ID (see receive.go).
//   - Button presses reach the bot as HTTP requests from the Mattermost
//     server that carry no signature. Every button's integration context
//     carries an HMAC over what it means and where it may be pressed; the
//     handler refuses anything else (see actions.go).
//   - An action response whose Update has nil Props keeps the old buttons,
//     and non-nil Props replace all of the post's (from_bot too); the
//     update sent here has the post's props without its attachments.
//   - A Message's Form becomes a button that opens an interactive dialog;
//     its submission, which the server does not sign either, carries a
//     signed state binding it to the form, channel and user (see
//     dialog.go).
//   - Posts are created with a pending_post_id that stays the same when the
//     engine retries a send, so that the server's 30 s deduplication keeps
//     a retried create from posting twice (see send.go).
//
// Sending maps the server's answers onto what the engine's outbox
// understands: *bot.RateLimited, bot.ErrRecipientGone and
// bot.ErrUnknownOutcome. The token travels only in the Authorization
// header; errors and logs are redacted all the same.
package mattermost

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mattermost/mattermost/server/public/model"

	"github.com/ampel-bot/ampel/adapters/internal/httpkit"
	"github.com/ampel-bot/ampel/adapters/internal/sendkit"
	"github.com/ampel-bot/ampel/bot"
)

// Platform is the name of this adapter in addresses.
const Platform = "mattermost"

// Redelivery is how long a post may be read again by ID: the catch-up after
// a restart reads back the last ten minutes (lookback), one after a
// reconnect from ten seconds before the newest post received. Posts read
// back after a restart from before the newest one handled are dropped by
// their time, however many (bot.Event.Replayed); the IDs need to cover
// only the rest. The store remembers post IDs that long, with room to spare.
const Redelivery = time.Hour

// Paths of the HTTP endpoints the Mattermost server calls, relative to
// Config.CallbackURL (buttons, dialog submissions) and as configured for
// the slash command.
const (
	ActionsPath = "/mattermost/actions"
	DialogPath  = "/mattermost/dialog"
	CommandPath = "/mattermost/command"
)

// Config configures the adapter.
type Config struct {
	// Observer hears refused events (metrics); nil: nobody.
	Observer bot.Observer
	// URL is the Mattermost server ("https://chat.example.org"); required.
	URL string
	// Token is the bot account's access token; required, never logged.
	Token string
	// CallbackURL is where the Mattermost server reaches this bot (its
	// HTTP listener, which serves ActionsPath and DialogPath). Empty: no
	// buttons and no dialogs; the choices are listed as numbered lines,
	// and typed numbers answer.
	// The server refuses private addresses unless the admin lists them in
	// ServiceSettings.AllowedUntrustedInternalConnections.
	CallbackURL string
	// CommandToken is the token of the /ampel slash command; it enables
	// CommandPath, and the texts name the commands "/ampel plan". Without
	// it they name them as words to type ("plan"), which the bot takes as
	// commands.
	CommandToken string
	// ActionSecret keys the HMAC in button contexts; if empty it is derived
	// from Token (see DeriveActionSecret), so that buttons stay valid
	// across restarts and instances.
	ActionSecret []byte
	// Log receives the adapter's logs (never texts, names or the token);
	// nil discards them.
	Log *slog.Logger
	// HTTPClient is used for every REST request (default: a client with a
	// 30 s timeout).
	HTTPClient *http.Client
}

// Adapter is the Mattermost adapter. Its methods may be called concurrently.
type Adapter struct {
	obs      bot.Observer // never nil
	cfg      Config
	api      *model.Client4
	wsURL    string
	dialer   *websocket.Dialer
	secret   []byte
	callback string // CallbackURL + ActionsPath, or "" without buttons
	dialog   string // CallbackURL + DialogPath, or "" without dialogs
	r        *redactor
	log      *slog.Logger

	botID, botName string

	people   people
	channels channels
	recv     receiver
	parts    sendkit.Progress[partState]
	alarm    sendkit.Alarm // the server's trouble as a whole, logged once
	gate     *httpkit.Gate // bounds the requests read before they are verified
	presses  presses
	created  postedPosts
	forms    forms

	// directs are the direct channels of the bot with users, by user, for
	// messages addressed to a user (see chatOf); bounded like keyboards.
	directs sendkit.Keyboards[string, string]

	// The pause after a failure grows from backoffMin to backoffMax;
	// tests shorten it.
	backoffMin, backoffMax time.Duration
	rc                     *reconnectState // see reconnect.go
	link                   sendkit.Link    // the WebSocket's state, for readiness (see link.go)
	// lookback is how far before the first connection Run catches up: the
	// posts of a restart's downtime (the engine drops those it handled).
	lookback time.Duration
	// now is the clock for the catch-up bound and caches (tests).
	now func() time.Time
}

// New checks the configuration, asks the server who the bot is (GET
// users/me) and returns the adapter. It fails if the server cannot be
// reached or rejects the token; its errors never contain the token.
func New(ctx context.Context, cfg Config) (*Adapter, error) {
	cfg.Token = strings.TrimSpace(cfg.Token) // a token file's final newline
	if cfg.Token == "" {
		return nil, errors.New("mattermost: a token is required")
	}
	r := newRedactor(cfg.Token, cfg.CommandToken)
	u, err := url.Parse(strings.TrimRight(cfg.URL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("mattermost: server URL %q is not an absolute http(s) URL", r.redact(cfg.URL))
	}
	callback, dialog := "", ""
	if cfg.CallbackURL != "" {
		c, err := url.Parse(cfg.CallbackURL)
		if err != nil || (c.Scheme != "http" && c.Scheme != "https") || c.Host == "" {
			return nil, fmt.Errorf("mattermost: callback URL %q is not an absolute http(s) URL", r.redact(cfg.CallbackURL))
		}
		callback = strings.TrimRight(cfg.CallbackURL, "/") + ActionsPath
		dialog = strings.TrimRight(cfg.CallbackURL, "/") + DialogPath
	}
	if len(cfg.ActionSecret) == 0 {
		cfg.ActionSecret = DeriveActionSecret(cfg.Token)
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	api := model.NewAPIv4Client(u.String())
	api.HTTPClient = client
	api.SetToken(cfg.Token)
	ws := *u
	ws.Scheme = map[string]string{"http": "ws", "https": "wss"}[u.Scheme]
	a := &Adapter{
		cfg: cfg, api: api, wsURL: ws.String() + model.APIURLSuffix + "/websocket",
		dialer: newDialer(client), secret: cfg.ActionSecret, callback: callback, dialog: dialog, r: r, log: log,
		backoffMin: time.Second, backoffMax: time.Minute, rc: newReconnectState(), lookback: 10 * time.Minute, now: time.Now,
		gate: httpkit.Shared(),
	}
	a.obs = cfg.Observer
	if a.obs == nil {
		a.obs = bot.NopObserver{}
	}
	var me *model.User
	err = a.call(ctx, "users/me", func(ctx context.Context) (*model.Response, error) {
		var resp *model.Response
		var err error
		me, resp, err = a.api.GetMe(ctx, "")
		return resp, err
	})
	if err != nil {
		return nil, err
	}
	a.botID, a.botName = me.Id, me.Username
	return a, nil
}

// DeriveActionSecret returns the button HMAC key used when none is
// configured: HMAC-SHA256(token, "ampel-mattermost-actions"). Stable across
// restarts and instances; a new token invalidates the old buttons, which
// then fail as forged ones do (typed numbers still answer).
func DeriveActionSecret(token string) []byte {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("ampel-mattermost-actions"))
	return m.Sum(nil)
}

// Platform implements bot.Adapter.
func (a *Adapter) Platform() string { return Platform }

// CommandPrefix implements bot.Subcommander: with the /ampel slash command
// registered (CommandToken set), the bot's commands are its subcommands,
// so texts say "/ampel check". Without it, there is no prefix: see
// BareCommands.
func (a *Adapter) CommandPrefix() string {
	if a.cfg.CommandToken == "" {
		return ""
	}
	return "/ampel"
}

// BareCommands implements bot.BareCommander: without the /ampel slash
// command no slash command reaches the bot (Mattermost answers "/plan"
// itself, and "/help" opens its own help), so users type the command
// words ("plan", "hilfe"), in a direct channel or mentioning the bot.
func (a *Adapter) BareCommands() bool { return a.cfg.CommandToken == "" }

// Forms implements bot.FormAdapter: a Message's Form is shown as an
// interactive dialog, opened by a button, only when the Mattermost server
// can reach the bot (CallbackURL is set).
func (a *Adapter) Forms() bool { return a.callback != "" }

// HTTPHandlers returns the endpoints the Mattermost server calls, keyed by
// http.ServeMux pattern: "POST /mattermost/actions" and "POST
// /mattermost/dialog" when CallbackURL is set and "POST
// /mattermost/command" when CommandToken is set.
func (a *Adapter) HTTPHandlers(h bot.Handler) map[string]http.Handler {
	m := map[string]http.Handler{}
	if a.callback != "" {
		m["POST "+ActionsPath] = a.actionHandler(h)
		m["POST "+DialogPath] = a.dialogHandler(h)
	}
	if a.cfg.CommandToken != "" {
		m["POST "+CommandPath] = a.commandHandler(h)
	}
	return m
}

// call runs one REST request and classifies its failure, redacted (see
// classify). what names the request in errors.
func (a *Adapter) call(ctx context.Context, what string, f func(ctx context.Context) (*model.Response, error)) error {
	var mu sync.Mutex
	wrote := false
	trace := &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
		if info.Err == nil {
			mu.Lock()
			wrote = true
			mu.Unlock()
		}
	}}
	resp, err := f(httptrace.WithClientTrace(ctx, trace))
	if err == nil {
		a.rc.restOK()
		return nil
	}
	mu.Lock()
	w := wrote
	mu.Unlock()
	return a.classify(ctx, what, resp, w, err)
}

// errUnauthorized marks errors after which the adapter cannot go on: the
// token was rejected or revoked.
var errUnauthorized = errors.New("mattermost rejected the token")

// errNotFound marks a 403 or 404: the channel, post or user is not
// there for the bot, or a proxy in front of the server answered.
var errNotFound = errors.New("not found or forbidden")

// errFromServer marks an error the Mattermost server itself gave: its
// JSON error with an error ID, not a proxy's or maintenance page's answer.
var errFromServer = errors.New("answered by the server")

// errArchived marks the server's refusal to post in an archived channel.
var errArchived = errors.New("channel archived")

// classify turns a failed request into the error the engine understands,
// redacted:
//   - 429: *bot.RateLimited, after X-Ratelimit-Reset or Retry-After.
//   - 401: errUnauthorized.
//   - 403 and 404: errNotFound (Send checks whether the channel is gone).
//   - 5xx, or a transport failure after the request was written: wraps
//     bot.ErrUnknownOutcome, as the server may have acted.
//   - Anything else (refused connection, DNS, a 400): a plain error.
//
// An answer in the server's own error format also wraps errFromServer,
// and only its error ID goes into the error. A body that is not (a
// proxy's page) is left out of the error: it says nothing the status does
// not, and may be large.
func (a *Adapter) classify(ctx context.Context, what string, resp *model.Response, wrote bool, err error) error {
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	var kinds []error
	if ctx.Err() != nil {
		kinds = append(kinds, ctx.Err())
	}
	ae, fromServer := errors.AsType[*model.AppError](err)
	fromServer = fromServer && ae.Id != "" && ae.StatusCode == status
	if fromServer {
		kinds = append(kinds, errFromServer)
	}
	switch {
	case status == http.StatusTooManyRequests:
		return &bot.RateLimited{RetryAfter: retryAfter(resp.Header)}
	case status == http.StatusUnauthorized:
		kinds = append(kinds, errUnauthorized)
	case status == http.StatusForbidden || status == http.StatusNotFound:
		kinds = append(kinds, errNotFound)
	case status == http.StatusBadRequest && fromServer && ae.Id == "api.post.create_post.can_not_post_to_deleted.error":
		kinds = append(kinds, errArchived)
	case status >= 500:
		kinds = append(kinds, bot.ErrUnknownOutcome)
	case status == 0 && (wrote || sendkit.MayHaveArrived(err)):
		kinds = append(kinds, bot.ErrUnknownOutcome)
	}
	msg := err.Error()
	if i := strings.Index(msg, "Body: "); i >= 0 && !fromServer {
		msg = msg[:i] + "(the answer's body left out)"
	}
	if fromServer {
		// The error's ID names it; its message and details are free text
		// that may quote the request (an answer shaped like the server's
		// from something in front of it echoes the user's text).
		msg = ae.Id
	}
	if status != 0 {
		return a.r.errorf(kinds, "mattermost %s: HTTP %d: %s", what, status, msg)
	}
	return a.r.errorf(kinds, "mattermost %s: %s", what, msg)
}

// retryAfter reads how long the server asks to wait: Mattermost's
// X-Ratelimit-Reset (seconds until the limit resets) or a standard
// Retry-After; at least a second.
func retryAfter(h http.Header) time.Duration {
	for _, k := range []string{"X-Ratelimit-Reset", "Retry-After"} {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Get(k))); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	return time.Second
}

// pause waits before the next attempt after attempt failures in a row:
// exponentially longer up to backoffMax, with jitter, so that many bots do
// not hammer a server that just came back in step. It returns ctx's error
// if ctx ends first.
func (a *Adapter) pause(ctx context.Context, attempt int) error {
	return sendkit.Sleep(ctx, sendkit.Backoff(a.backoffMin, a.backoffMax, attempt))
}
