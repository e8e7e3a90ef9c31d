// Package slack connects Ampel to Slack: it turns Slack's events (direct
// messages, mentions in channels, the /ampel slash command and pressed
// Block Kit buttons) into bot.Events for the engine, and renders
// bot.Messages as Block Kit messages, updated after a press, with files
// shared through Slack's three-step upload.
//
// It is built on github.com/slack-go/slack v0.35.0 and receives in one of
// two ways:
//
//   - Socket Mode (the default, Config.AppToken): Slack pushes envelopes
//     over a WebSocket the adapter opens, so no public endpoint is needed.
//     Every envelope is acknowledged only after the engine has committed
//     its effects; an envelope whose handling failed is not acknowledged,
//     and Slack delivers it again. The engine deduplicates by event ID, so
//     a redelivery of something already committed has no second effect.
//   - The Events API over HTTP (Config.SigningSecret): HTTPHandlers serves
//     Slack's requests. Each request's signature is checked over the raw
//     body, within Slack's five-minute window, before anything is parsed;
//     the answer 200 comes only after the commit.
//
// Slack's events carry an event_id, and only events are delivered again
// (with retry_attempt) when not acknowledged. Pressed buttons and slash
// commands are never redelivered: one whose handling failed is not
// acknowledged, Slack shows the user an error, and a second press is a new
// interaction (the question it answered, if the first press was committed
// after all, moved on, and the engine says the button is stale). They carry
// no event ID, so theirs is derived from the payload: the trigger_id,
// unique per press; for a submitted modal, the view's ID and hash.
//
// A message with a bot.Form gets a button that opens the form as a modal;
// its submission is the engine's event (see forms.go). The App Home tab
// shows the user's plan and the commands, and is kept current (see
// home.go).
//
// Sending keeps to Slack's per-channel posting limit (see limiter) and maps
// Slack's answers onto what the engine's outbox understands: a
// *slack.RateLimitedError becomes *bot.RateLimited, channels the bot can
// never post to again become bot.ErrRecipientGone, and failures after the
// request may have reached Slack wrap bot.ErrUnknownOutcome. Tokens and the
// signing secret never appear in logs or errors (see redactor).
package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/ampel-bot/ampel/adapters/internal/httpkit"
	"github.com/ampel-bot/ampel/adapters/internal/sendkit"
	"github.com/ampel-bot/ampel/bot"
)

// Platform is the name of this adapter in addresses.
const Platform = "slack"

// Redelivery is how long Slack may deliver an event again: it retries one
// that was not acknowledged three times, the last about five minutes after
// the first (Events API and Socket Mode alike). The store remembers event
// IDs that long, with room to spare.
const Redelivery = time.Hour

// DefaultAPIURL is Slack's Web API.
const DefaultAPIURL = "https://slack.com/api/"

// Config configures the adapter.
type Config struct {
	// Observer hears refused events (metrics); nil: nobody.
	Observer bot.Observer
	// BotToken is the bot user's OAuth token (xoxb-…); required, never logged.
	BotToken string
	// AppToken is the app-level token (xapp-…, scope connections:write)
	// that opens Socket Mode connections: the default transport.
	AppToken string
	// SigningSecret, if set, switches to the Events API over HTTP: Run
	// then only waits, and HTTPHandlers serves Slack's requests, verified
	// with this secret.
	SigningSecret string
	// APIURL is the Web API's base URL (default DefaultAPIURL); it must end
	// with "/". Tests point it at a fake.
	APIURL string
	// PingInterval is how long Socket Mode waits for Slack's WebSocket
	// ping before it takes the connection for dead and reconnects
	// (0: the library's default, 30s).
	PingInterval time.Duration
	// Commands lists the bot's commands in a language, for the App Home
	// tab (cmd passes Engine.Commands); nil publishes no home tab.
	Commands func(lang string) []bot.Command
	// Plan renders the action plan of a conversation, for the App Home
	// tab (cmd passes Engine.PlanView); nil shows no plan there. With it,
	// the home tab is also published again after events in the user's DM
	// with the bot (see homeEvery).
	Plan func(ctx context.Context, addr bot.Address, lang string) (bot.Message, error)
	// Log receives the adapter's logs (never texts or secrets); nil
	// discards them.
	Log *slog.Logger
	// HTTPClient is used for every Web API request; nil means a client with
	// a 30s timeout.
	HTTPClient *http.Client
}

// Adapter is the Slack adapter. Its methods may be called concurrently.
type Adapter struct {
	obs     bot.Observer // never nil
	replays replayGuard  // signatures of answered HTTP requests
	cfg     Config
	api     *slackapi.Client
	r       *redactor
	log     *slog.Logger
	lim     *limiter // posts, per channel
	upd     *limiter // chat.update, per workspace (its own tier)
	people  people
	parts   sendkit.Progress[int]
	kbs     sendkit.Keyboards[string, string]
	alarm   sendkit.Alarm // Slack's trouble as a whole, logged once
	gate    *httpkit.Gate // bounds the HTTP requests read before they are verified
	forms   formStore
	modals  modals
	// after runs the calls made after an event was acknowledged (marking
	// the pressed message), per channel in order; marked are the messages
	// marked already.
	after  *sendkit.Lanes
	marked marks
	dms    dms
	homes  *homeKeeper

	botID string // the bot's user ID, for "<@U…>" in mentions
	team  string // the workspace the token belongs to

	// Socket Mode's pause after a failed connection grows from backoffMin
	// to backoffMax; tests shorten it.
	backoffMin, backoffMax time.Duration
	// link is the Socket Mode connection's state, for readiness (see
	// link.go); now is its clock (tests).
	link sendkit.Link
	now  func() time.Time
}

// New checks the configuration, asks Slack who the bot is (auth.test) and
// returns the adapter. Its errors never contain a token.
func New(ctx context.Context, cfg Config) (*Adapter, error) {
	// A secret file's final newline.
	cfg.BotToken = strings.TrimSpace(cfg.BotToken)
	cfg.AppToken = strings.TrimSpace(cfg.AppToken)
	cfg.SigningSecret = strings.TrimSpace(cfg.SigningSecret)
	r := newRedactor(cfg.BotToken, cfg.AppToken, cfg.SigningSecret)
	switch {
	case cfg.BotToken == "":
		return nil, errors.New("slack: a bot token (xoxb-…) is required")
	case !strings.HasPrefix(cfg.BotToken, "xoxb-"):
		return nil, errors.New("slack: the bot token must be a bot token (xoxb-…)")
	case cfg.SigningSecret == "" && cfg.AppToken == "":
		return nil, errors.New("slack: an app-level token (xapp-…) for Socket Mode, or a signing secret for HTTP mode, is required")
	case cfg.SigningSecret == "" && !strings.HasPrefix(cfg.AppToken, "xapp-"):
		return nil, errors.New("slack: the app-level token must start with xapp-")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	if u, err := url.Parse(cfg.APIURL); err != nil || !u.IsAbs() || u.Host == "" || !strings.HasSuffix(cfg.APIURL, "/") {
		return nil, fmt.Errorf("slack: API URL %q must be an absolute URL ending in /", r.redact(cfg.APIURL))
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	a := &Adapter{
		cfg: cfg, r: r, log: log, lim: newLimiter(), upd: newUpdateLimiter(), homes: newHomeKeeper(), gate: httpkit.Shared(),
		after:      sendkit.NewLanes(context.WithoutCancel(ctx), maxAfter),
		backoffMin: time.Second, backoffMax: 5 * time.Minute, now: time.Now,
	}
	a.obs = cfg.Observer
	if a.obs == nil {
		a.obs = bot.NopObserver{}
	}
	opts := []slackapi.Option{
		slackapi.OptionAPIURL(cfg.APIURL),
		slackapi.OptionHTTPClient(client),
		// The library's own logger writes to stderr by default; it only
		// logs in debug mode, but whatever it says goes through redaction.
		slackapi.OptionLog(libLogger{a}),
	}
	if cfg.AppToken != "" {
		opts = append(opts, slackapi.OptionAppLevelToken(cfg.AppToken))
	}
	// No OptionRetry: a retried chat.postMessage may post twice. The
	// engine's outbox retries, counting possible duplicates.
	a.api = slackapi.New(cfg.BotToken, opts...)
	auth, err := a.api.AuthTestContext(ctx)
	if err != nil {
		return nil, a.r.errorf(kindsOf(err), "slack auth.test: %v", err)
	}
	a.botID, a.team = auth.UserID, auth.TeamID
	a.log.Info("slack connected", "team", a.team, "bot_user", a.botID, "http_mode", cfg.SigningSecret != "")
	return a, nil
}

// maxAfter bounds the calls waiting to be made after events; beyond it,
// a pressed message is left unmarked (its buttons still only work once).
const maxAfter = 4096

// Platform implements bot.Adapter.
func (a *Adapter) Platform() string { return Platform }

// CommandPrefix implements bot.Subcommander: Slack keeps bare "/check" for
// itself, so texts say "/ampel check".
func (a *Adapter) CommandPrefix() string { return Command }

// Run implements bot.Adapter. In Socket Mode it keeps a connection open,
// reconnecting with backoff, and hands every envelope to h until ctx is
// done; it returns an error only when Slack rejects the app token. In HTTP
// mode the events arrive through HTTPHandlers, and Run only waits for ctx.
func (a *Adapter) Run(ctx context.Context, h bot.Handler) error {
	// The home tabs' background publishes end with Run, and the pressed
	// messages being marked are given a moment.
	defer a.homes.stop()
	defer a.after.Drain(5 * time.Second)
	if a.cfg.SigningSecret != "" {
		<-ctx.Done()
		return nil
	}
	return a.runSocketMode(ctx, h)
}

// fatalConnect are the answers of apps.connections.open after which
// reconnecting is pointless: the app token is wrong or revoked.
var fatalConnect = []string{"invalid_auth", "account_inactive", "not_authed", "token_revoked", "not_allowed_token_type"}

// runSocketMode is the Socket Mode loop. The library's RunContext
// reconnects by itself on Slack's disconnect requests and on ping
// timeouts, but returns when a (re)connection fails; this loop starts it
// again after a pause, unless the failure is fatal.
func (a *Adapter) runSocketMode(ctx context.Context, h bot.Handler) error {
	opts := []socketmode.Option{socketmode.OptionLog(libLogger{a})}
	if a.cfg.PingInterval > 0 {
		opts = append(opts, socketmode.OptionPingInterval(a.cfg.PingInterval))
	}
	smc := socketmode.New(a.api, opts...)
	// The receiving goroutine and the queued work end with this context,
	// also when Run returns for a rejected token.
	ctx, cancel := context.WithCancel(ctx)
	d := sendkit.NewLanes(ctx, 0)
	defer d.Close()

	events := make(chan error, 1)
	go func() {
		defer close(events)
		for {
			select {
			case <-ctx.Done():
				return
			case evt := <-smc.Events:
				a.socketEvent(ctx, smc, d, h, evt)
			}
		}
	}()
	defer func() { <-events }()
	defer cancel()

	for attempt := 0; ; {
		err := smc.RunContext(ctx)
		if ctx.Err() != nil {
			return nil
		}
		a.link.Down(a.now(), linkGrace)
		if err != nil && sendkit.ContainsAny(err.Error(), fatalConnect) {
			return a.r.errorf(nil, "slack: Socket Mode refused the app token; stopping: %v", err)
		}
		a.log.Warn("slack Socket Mode connection failed; reconnecting", "err", a.r.redact(fmt.Sprint(err)))
		if a.pause(ctx, attempt) != nil {
			return nil
		}
		attempt++
	}
}

// socketEvent handles one event from the Socket Mode client. Events the
// client makes up itself (connecting, errors) have no request and are
// only logged; Slack's requests are queued per conversation (a
// conversation's requests are handled in the order Slack sent them, while
// one waiting for the store holds up no other) and acknowledged once
// handled.
func (a *Adapter) socketEvent(ctx context.Context, smc *socketmode.Client, d *sendkit.Lanes, h bot.Handler, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		a.link.Down(a.now(), linkGrace) // keeps the time of the first attempt
		return
	case socketmode.EventTypeConnected:
		a.link.Up()
		a.log.Info("slack Socket Mode connected")
		return
	case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError, socketmode.EventTypeErrorWriteFailed, socketmode.EventTypeErrorBadMessage:
		a.log.Warn("slack Socket Mode", "event", string(evt.Type), "detail", a.r.redact(fmt.Sprint(evt.Data)))
		return
	case socketmode.EventTypeEventsAPI, socketmode.EventTypeInteractive, socketmode.EventTypeSlashCommand:
	default:
		return // hello, connecting, disconnect: the client's own business
	}
	if evt.Request == nil {
		return
	}
	req := *evt.Request
	in, err := a.decode(string(evt.Type), req.Payload)
	if err != nil {
		// Unreadable now is unreadable on every redelivery: acknowledge.
		a.log.Warn("slack envelope not understood; acknowledged and dropped", "type", string(evt.Type), "err", a.r.redact(err.Error()))
		a.ack(smc, req)
		return
	}
	d.Go(in.order, func(ctx context.Context) {
		if err := a.process(ctx, h, in, func() { a.ack(smc, req) }); err != nil {
			if ctx.Err() == nil {
				a.log.Warn("slack envelope not handled and not acknowledged; Slack will deliver it again",
					"id", in.ev.ID, "retry_attempt", req.RetryAttempt, "err", a.r.redact(err.Error()))
			}
		}
	})
}

func (a *Adapter) ack(smc *socketmode.Client, req socketmode.Request) {
	if err := smc.Ack(req); err != nil {
		a.log.Warn("slack ack failed", "err", a.r.redact(err.Error()))
	}
}

// pause waits before the next attempt after attempt failures in a row:
// exponentially longer up to backoffMax, with jitter.
func (a *Adapter) pause(ctx context.Context, attempt int) error {
	return sendkit.Sleep(ctx, sendkit.Backoff(a.backoffMin, a.backoffMax, attempt))
}
