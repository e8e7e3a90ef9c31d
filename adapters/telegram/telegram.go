// Package telegram connects Ampel to Telegram through the Bot API: it turns
// updates (typed messages, pressed inline buttons) into bot.Events for the
// engine and renders bot.Messages as HTML messages with inline keyboards and
// documents.
//
// It is built on github.com/go-telegram-bot-api/telegram-bot-api/v5 v5.5.1,
// but works around the library where it falls short for a bot that must
// neither lose nor double an update, nor leak its token:
//
//   - Receiving uses its own getUpdates loop. The library's GetUpdatesChan
//     confirms updates to Telegram before they are handled, so a crash would
//     lose them; here the offset moves past an update only after the engine
//     has committed it (see Run).
//   - Webhook mode checks Telegram's secret token header itself, in
//     constant time and before reading the body (the library knows no
//     secret_token), and answers only after the commit.
//   - The token is part of every request URL, so it appears in every
//     transport error; every error and log line is redacted, the library's
//     own global logger included.
//   - Methods that may return True instead of a Message go through Request,
//     and a 429 is recognised by its retry_after, as the library reports
//     uploads' errors with code 0.
//   - The library's requests carry no context; each call here runs on a
//     shallow copy of the client whose HTTP client carries the caller's
//     context, so that shutdown and Send's ctx cut requests short.
//
// Sending keeps to Telegram's limits on one outbound path (see limiter),
// handing a turn further away than maxWait back to the engine as
// *bot.RateLimited, and maps Telegram's answers onto what the engine's
// outbox understands: *bot.RateLimited, bot.ErrRecipientGone and
// bot.ErrUnknownOutcome. Receiving never waits for it: an update is
// confirmed once the engine has committed it, and the calls a pressed
// button asks for (answering it, marking the pressed message) are made
// afterwards, beside the receive loop.
package telegram

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/ampel-bot/ampel/adapters/internal/sendkit"
	"github.com/ampel-bot/ampel/bot"
)

// Platform is the name of this adapter in addresses.
const Platform = "telegram"

// Redelivery is how long Telegram may deliver an update again: it keeps an
// update until it is confirmed (the next getUpdates offset, or a 200 to
// the webhook), for up to 24 hours; doubled for clocks that disagree. The
// store remembers update IDs that long (and no longer: IDs may start anew
// after a week without updates).
const Redelivery = 48 * time.Hour

// DefaultAPIURL is Telegram's Bot API server.
const DefaultAPIURL = "https://api.telegram.org"

// Config configures the adapter.
type Config struct {
	// Token is the bot's token from @BotFather; required, never logged.
	Token string
	// APIURL is the Bot API server (default DefaultAPIURL); a self-hosted
	// one or a fake in tests. Requests go to APIURL+"/bot<token>/<method>".
	APIURL string
	// WebhookURL switches to webhook mode: Run registers it with Telegram
	// (with the secret token) and WebhookHandler serves the updates.
	// Otherwise Run polls with getUpdates, after removing any webhook.
	WebhookURL string
	// Secret is the webhook's secret token (1-256 of [A-Za-z0-9_-]); if
	// empty, a stable one is derived from the token.
	Secret string
	// PollTimeout is how long Telegram holds a getUpdates request open when
	// there is nothing new (default 25s).
	PollTimeout time.Duration
	// Commands lists the bot's commands in a language, for the command
	// menu; nil leaves the menu alone.
	Commands func(lang string) []bot.Command
	// Langs are the languages the menu is registered in; the first also
	// serves users whose language has none.
	Langs []string
	// Log receives the adapter's logs (never texts, names or the token);
	// nil discards them.
	Log *slog.Logger
	// HTTPClient is used for every request (tests). By default a client
	// with a timeout above PollTimeout is used; a given one must have none,
	// or one above PollTimeout.
	HTTPClient *http.Client
	// Observer hears refused events and rate-limit waits (metrics); nil:
	// nobody.
	Observer bot.Observer
}

// Adapter is the Telegram adapter. Its methods may be called concurrently.
type Adapter struct {
	cfg     Config
	api     *tgbotapi.BotAPI // never used directly for requests: see call
	client  *http.Client
	self    string         // the bot's username, for "/check@name" in groups
	selfID  int64          // the bot's user ID, to tell its own removal from a group
	mention *regexp.Regexp // "@name", stripped from group answers
	secret  []byte
	r       *redactor
	log     *slog.Logger
	lim     *limiter
	parts   sendkit.Progress[int]
	kbs     sendkit.Keyboards[int64, int]
	live    sendkit.LiveRefs[msgRef] // live messages: presses do not mark them
	alarm   sendkit.Alarm            // a refused token, logged once
	// after runs the calls made after an update was handled (answering a
	// pressed button, editing the pressed message), off the receive path.
	after *sendkit.Lanes
	obs   bot.Observer
	link  sendkit.Link

	// Polling's pause after a failure grows from backoffMin to backoffMax;
	// tests shorten it.
	backoffMin, backoffMax time.Duration
}

// secretPattern is what Telegram accepts as a webhook secret token, of at
// most maxSecret characters. The bound is not in the pattern: compiled, a
// {1,256} kept a program of over 100 KB for the life of the process.
var secretPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

const maxSecret = 256

// New checks the configuration, asks Telegram who the bot is (getMe) and
// returns the adapter. It fails if Telegram cannot be reached or rejects
// the token; its errors never contain the token.
func New(ctx context.Context, cfg Config) (*Adapter, error) {
	cfg.Token = strings.TrimSpace(cfg.Token) // a token file's final newline
	if cfg.Token == "" {
		return nil, errors.New("telegram: a token is required")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	if cfg.PollTimeout <= 0 {
		cfg.PollTimeout = 25 * time.Second
	}
	if cfg.Secret == "" {
		cfg.Secret = DeriveSecret(cfg.Token)
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := newRedactor(cfg.Token, cfg.Secret)
	installLibLogger(log, r)
	if len(cfg.Secret) > maxSecret || !secretPattern.MatchString(cfg.Secret) {
		return nil, errors.New("telegram: the webhook secret must be 1 to 256 characters of A-Z, a-z, 0-9, _ and -")
	}
	if cfg.WebhookURL != "" {
		u, err := url.Parse(cfg.WebhookURL)
		if err != nil || !u.IsAbs() || u.Host == "" {
			return nil, fmt.Errorf("telegram: webhook URL %q is not an absolute URL", r.redact(cfg.WebhookURL))
		}
	}
	api, err := url.Parse(cfg.APIURL)
	if err != nil || !api.IsAbs() || api.Host == "" {
		return nil, fmt.Errorf("telegram: API URL %q is not an absolute URL", r.redact(cfg.APIURL))
	}
	client := cfg.HTTPClient
	if client == nil {
		// No request may outlive the long poll by much; the others are
		// bounded the same way, as the library gives them no context.
		client = &http.Client{Timeout: cfg.PollTimeout + 15*time.Second}
	} else if client.Timeout != 0 && client.Timeout <= cfg.PollTimeout {
		return nil, fmt.Errorf("telegram: the HTTP client's timeout (%s) must exceed the poll timeout (%s)", client.Timeout, cfg.PollTimeout)
	}
	a := &Adapter{
		cfg: cfg, client: client, secret: []byte(cfg.Secret), r: r, log: log,
		lim: newLimiter(), backoffMin: time.Second, backoffMax: time.Minute, obs: cfg.Observer,
		after: sendkit.NewLanes(context.WithoutCancel(ctx), maxAfter),
	}
	if a.obs == nil {
		a.obs = bot.NopObserver{}
	}
	// The endpoint is a format string for the library: "%" in the URL
	// itself must not count as a verb.
	endpoint := strings.ReplaceAll(strings.TrimRight(cfg.APIURL, "/"), "%", "%%") + "/bot%s/%s"
	c := &call{ctx: ctx, client: client}
	a.api, err = tgbotapi.NewBotAPIWithClient(cfg.Token, endpoint, c) // calls getMe
	if err != nil {
		return nil, a.classify(ctx, c, "getMe", err)
	}
	a.api.Client = client
	a.self, a.selfID = a.api.Self.UserName, a.api.Self.ID
	a.mention = mentionOf(a.self)
	return a, nil
}

// DeriveSecret returns the webhook secret used when none is configured:
// stable across restarts and instances, without another thing to keep.
func DeriveSecret(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("ampel-telegram-webhook"))
	return hex.EncodeToString(m.Sum(nil))[:64]
}

// Platform implements bot.Adapter.
func (a *Adapter) Platform() string { return Platform }

// Link says whether polling reaches Telegram (for readiness).
func (a *Adapter) Link() bot.Link { return a.link.Get() }

// call is one request's HTTP client: it gives the library's context-less
// request the caller's context and notes what happened on the wire, to
// tell an error before the request was written (nothing sent) from one
// after (the outcome is unknown).
type call struct {
	ctx    context.Context
	client *http.Client

	mu     sync.Mutex
	wrote  bool // the whole request was written
	status int  // the HTTP status of the response, if one came
}

// Do implements tgbotapi.HTTPClient.
func (c *call) Do(req *http.Request) (*http.Response, error) {
	trace := &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
		if info.Err == nil {
			c.mu.Lock()
			c.wrote = true
			c.mu.Unlock()
		}
	}}
	resp, err := c.client.Do(req.WithContext(httptrace.WithClientTrace(c.ctx, trace)))
	if resp != nil {
		c.mu.Lock()
		c.status = resp.StatusCode
		c.mu.Unlock()
	}
	return resp, err
}

func (c *call) result() (wrote bool, status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wrote, c.status
}

// with returns a shallow copy of the library's client whose requests run
// under c. The library keeps nothing per request in BotAPI, so copies are
// independent.
func (a *Adapter) with(c *call) *tgbotapi.BotAPI {
	api := *a.api
	api.Client = c
	return &api
}

// request sends one API request under ctx and returns Telegram's response
// or a classified, redacted error.
func (a *Adapter) request(ctx context.Context, cfg tgbotapi.Chattable, method string) (*tgbotapi.APIResponse, error) {
	c := &call{ctx: ctx, client: a.client}
	resp, err := a.with(c).Request(cfg)
	if err != nil {
		return nil, a.classify(ctx, c, method, err)
	}
	return resp, nil
}

// rawRequest is request for methods or parameters the library does not
// know (setWebhook's secret_token).
func (a *Adapter) rawRequest(ctx context.Context, method string, params tgbotapi.Params) (*tgbotapi.APIResponse, error) {
	c := &call{ctx: ctx, client: a.client}
	resp, err := a.with(c).MakeRequest(method, params)
	if err != nil {
		return nil, a.classify(ctx, c, method, err)
	}
	return resp, nil
}

// Run receives updates and passes them to h until ctx is done; then it
// returns nil. In webhook mode it registers the webhook and waits: the
// updates arrive through WebhookHandler. In both modes it sets the command
// menu. It returns an error only when it cannot go on (the token was
// revoked).
func (a *Adapter) Run(ctx context.Context, h bot.Handler) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	defer a.after.Drain(5 * time.Second)
	wg.Go(func() { a.setCommands(ctx) })
	if a.cfg.WebhookURL != "" {
		if err := a.setWebhook(ctx); err != nil {
			return err
		}
		<-ctx.Done()
		return nil
	}
	return a.poll(ctx, h)
}

// maxAfter bounds the calls waiting to be made after updates; beyond it, a
// press is left unanswered and its message unedited (the client's spinner
// stops by itself; the buttons still only work once).
const maxAfter = 4096

// setWebhook registers the webhook with its secret, retrying until it
// succeeds: without it no update arrives.
func (a *Adapter) setWebhook(ctx context.Context) error {
	params := tgbotapi.Params{
		"url":             a.cfg.WebhookURL,
		"secret_token":    a.cfg.Secret,
		"allowed_updates": `["message","callback_query"]`,
	}
	for attempt := 0; ; attempt++ {
		_, err := a.rawRequest(ctx, "setWebhook", params)
		if err == nil {
			a.log.Info("telegram webhook set")
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, errUnauthorized) {
			return fmt.Errorf("telegram: the token was rejected; stopping: %w", err)
		}
		a.log.Warn("telegram setWebhook failed; retrying", "err", err)
		if a.pause(ctx, attempt) != nil {
			return nil
		}
	}
}

// maxCommandDesc is Telegram's limit on a command's description.
const maxCommandDesc = 256

// setCommands registers the command menu: the first language's as the
// default, and each language's for users whose Telegram is set to it.
// Failures are logged: the bot works without a menu.
func (a *Adapter) setCommands(ctx context.Context) {
	if a.cfg.Commands == nil {
		return
	}
	langs := a.cfg.Langs
	def := ""
	if len(langs) > 0 {
		def = langs[0]
	}
	set := func(menuLang, textLang string) {
		var cmds []tgbotapi.BotCommand
		for _, c := range a.cfg.Commands(textLang) {
			desc := c.Description
			if r := []rune(desc); len(r) > maxCommandDesc {
				desc = string(r[:maxCommandDesc-1]) + "…"
			}
			cmds = append(cmds, tgbotapi.BotCommand{Command: c.Name, Description: desc})
		}
		if len(cmds) == 0 {
			return
		}
		cfg := tgbotapi.NewSetMyCommands(cmds...)
		cfg.LanguageCode = menuLang
		if _, err := a.request(ctx, cfg, "setMyCommands"); err != nil && ctx.Err() == nil {
			a.log.Warn("telegram setMyCommands failed", "lang", menuLang, "err", err)
		}
	}
	set("", def)
	for _, l := range langs {
		// Telegram takes two-letter codes only: "en" for "en-GB".
		code, _, _ := strings.Cut(strings.ToLower(l), "-")
		set(code, l)
	}
}

// waitLimit waits for the limiter, and reports a wait to the observer.
func (a *Adapter) waitLimit(ctx context.Context, chat int64, most time.Duration) (time.Time, error) {
	t0 := time.Now()
	at, err := a.lim.waitAtMost(ctx, chat, most)
	if d := time.Since(t0); err == nil && d > time.Millisecond {
		a.obs.LimiterWait(Platform, d)
	}
	return at, err
}

// pause waits before the next attempt after attempt failures in a row:
// exponentially longer up to backoffMax, with jitter, so that many
// instances do not hammer Telegram in step. It returns ctx's error if ctx
// ends first.
func (a *Adapter) pause(ctx context.Context, attempt int) error {
	return sendkit.Sleep(ctx, sendkit.Backoff(a.backoffMin, a.backoffMax, attempt))
}
