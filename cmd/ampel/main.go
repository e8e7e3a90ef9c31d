// Command ampel runs the Ampel chat bot.
//
// Lifecycle of run, in order: parse the configuration; load and check flows and
// locales (refusing to start on any problem); open the store; build the engine;
// register the adapters and send what the outbox still holds; run the
// adapters until the input ends or a signal arrives; then stop taking input,
// let the work in flight finish, and close the store last.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // time zones work in a bare container

	"github.com/ampel-bot/ampel/adapters/console"
	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/flows"
	"github.com/ampel-bot/ampel/locales"
	"github.com/ampel-bot/ampel/store"
)

func main() {
	gcDefault(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ampel:", err)
		os.Exit(1)
	}
}

// defaultGOGC is the garbage collector's target when GOGC is not set: a
// heap 75 % above what is live instead of Go's 100 %. Ampel's heap is the
// conversations it caches plus each turn's short-lived garbage; the small
// servers networks run it on are shorter of memory than of CPU. With 1,000
// users in flight this costs a few percent of throughput and saves ~4 MB
// (README, Performance). Prometheus made the same trade in 2.53.
const defaultGOGC = 75

// gcDefault applies defaultGOGC unless the operator set GOGC.
func gcDefault(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGOGC)
	}
}

// Config is everything ampel can be told.
type Config struct {
	DB         string
	FlowsDir   string
	LocalesDir string
	Lang       string
	Zone       string
	LogLevel   string
	ClockStart string
	ClockSpeed string
	Hour       string
	Repeat     string
	HTTPAddr   string
	Console    string

	TelegramAPI     string
	TelegramWebhook string
	SlackAPI        string
	SlackPing       string
	MattermostURL   string
	MattermostCB    string
	// Secrets come from the environment or files only, never from flags
	// (which other users of the machine can read in the process list).
	TelegramToken     secret
	SlackBotToken     secret
	SlackAppToken     secret
	SlackSigning      secret
	MattermostToken   secret
	MattermostCommand secret
}

// settings lists every option once: its flag, its environment variable, its
// default and what it does. --help and the README's table come from here.
var settings = []struct {
	flag, env, def, usage string
	field                 func(*Config) *string
}{
	{"db", "AMPEL_DB", "ampel.db", "bbolt database file", func(c *Config) *string { return &c.DB }},
	{"flows", "AMPEL_FLOWS", "", "directory with extra flow files (*.toml), added to the built-in checks", func(c *Config) *string { return &c.FlowsDir }},
	{"locales", "AMPEL_LOCALES", "", "directory with extra locale files (<name>.<lang>.toml)", func(c *Config) *string { return &c.LocalesDir }},
	{"lang", "AMPEL_LANG", "", "console language hint (default: from $LANG)", func(c *Config) *string { return &c.Lang }},
	{"tz", "AMPEL_TZ", "Europe/Berlin", "time zone of users who have not set one (IANA name)", func(c *Config) *string { return &c.Zone }},
	{"log-level", "AMPEL_LOG_LEVEL", "warn", "debug, info, warn or error (logs go to stderr)", func(c *Config) *string { return &c.LogLevel }},
	{"reminder-hour", "AMPEL_REMINDER_HOUR", "9", "local hour reminders are sent at", func(c *Config) *string { return &c.Hour }},
	{"repeat-months", "AMPEL_REPEAT_MONTHS", "6", "months after a check until the bot offers to repeat it (0: never)", func(c *Config) *string { return &c.Repeat }},
	{"http-addr", "AMPEL_HTTP_ADDR", "", "address for the HTTP server (health check, webhooks), e.g. :8080; off when empty", func(c *Config) *string { return &c.HTTPAddr }},
	{"console", "AMPEL_CONSOLE", "auto", "the terminal chat: on, off, or auto (on when no platform is configured)", func(c *Config) *string { return &c.Console }},
	{"telegram-api-url", "AMPEL_TELEGRAM_API_URL", "https://api.telegram.org", "Telegram Bot API server (a self-hosted one, or a fake in tests)", func(c *Config) *string { return &c.TelegramAPI }},
	{"telegram-webhook-url", "AMPEL_TELEGRAM_WEBHOOK_URL", "", "public URL of /telegram/webhook on --http-addr; long polling when empty", func(c *Config) *string { return &c.TelegramWebhook }},
	{"slack-api-url", "AMPEL_SLACK_API_URL", "https://slack.com/api/", "Slack Web API (a fake in tests); must end with /", func(c *Config) *string { return &c.SlackAPI }},
	{"slack-ping-interval", "AMPEL_SLACK_PING_INTERVAL", "30s", "Socket Mode ping interval", func(c *Config) *string { return &c.SlackPing }},
	{"mattermost-url", "AMPEL_MATTERMOST_URL", "", "Mattermost server URL; with AMPEL_MATTERMOST_TOKEN switches Mattermost on", func(c *Config) *string { return &c.MattermostURL }},
	{"mattermost-callback-url", "AMPEL_MATTERMOST_CALLBACK_URL", "", "URL at which the Mattermost server reaches --http-addr; enables buttons", func(c *Config) *string { return &c.MattermostCB }},
	{"clock-start", "AMPEL_CLOCK_START", "", "demo/test aid: run the bot at this instant (RFC 3339), e.g. 2027-03-15T08:58:00+01:00", func(c *Config) *string { return &c.ClockStart }},
	{"clock-speed", "AMPEL_CLOCK_SPEED", "1", "demo/test aid: simulated seconds per real second, with --clock-start", func(c *Config) *string { return &c.ClockSpeed }},
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	var c Config
	fset := newFlagSet("ampel", stderr)
	for _, s := range settings {
		def := s.def
		if v := getenv(s.env); v != "" {
			def = v
		}
		fset.StringVar(s.field(&c), s.flag, def, s.usage+" ["+s.env+"]")
	}
	fset.Usage = func() { usage(stderr) }
	if err := fset.Parse(args); err != nil {
		return c, err
	}
	if fset.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q (see ampel --help)", fset.Arg(0))
	}
	if c.Lang == "" {
		c.Lang = langFromEnv(getenv)
	}
	for _, sec := range secrets {
		v, err := readSecret(getenv, sec.env)
		if err != nil {
			return c, err
		}
		*sec.field(&c) = v
	}
	switch c.Console {
	case "on", "off", "auto":
	default:
		return c, fmt.Errorf("console %q: use on, off or auto", c.Console)
	}
	return c, nil
}

// secret is a credential. It prints as "[redacted]", so that it cannot end
// up in a log or an error by accident.
type secret string

func (s secret) String() string { return "[redacted]" }

// LogValue keeps secrets out of slog output.
func (s secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// Reveal returns the secret's value, for the one place that needs it.
func (s secret) Reveal() string { return string(s) }

// secrets are read from NAME or from the file NAME_FILE names (Docker and
// Kubernetes secrets), never from flags.
var secrets = []struct {
	env, usage string
	field      func(*Config) *secret
}{
	{"AMPEL_TELEGRAM_TOKEN", "Telegram bot token from BotFather; switches Telegram on", func(c *Config) *secret { return &c.TelegramToken }},
	{"AMPEL_SLACK_BOT_TOKEN", "Slack bot token (xoxb-…); with the app token or signing secret switches Slack on", func(c *Config) *secret { return &c.SlackBotToken }},
	{"AMPEL_SLACK_APP_TOKEN", "Slack app-level token (xapp-…) for Socket Mode, the default", func(c *Config) *secret { return &c.SlackAppToken }},
	{"AMPEL_SLACK_SIGNING_SECRET", "Slack signing secret: the Events API over HTTP instead of Socket Mode", func(c *Config) *secret { return &c.SlackSigning }},
	{"AMPEL_MATTERMOST_TOKEN", "Mattermost bot account token", func(c *Config) *secret { return &c.MattermostToken }},
	{"AMPEL_MATTERMOST_COMMAND_TOKEN", "token of the /ampel slash command in Mattermost; enables it", func(c *Config) *secret { return &c.MattermostCommand }},
}

func readSecret(getenv func(string) string, name string) (secret, error) {
	v, file := getenv(name), getenv(name+"_FILE")
	switch {
	case v != "" && file != "":
		return "", fmt.Errorf("both %s and %s_FILE are set; use one", name, name)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			// The path is not secret; the file's content never appears.
			return "", fmt.Errorf("%s_FILE: %w", name, err)
		}
		return secret(strings.TrimSpace(string(b))), nil
	}
	return secret(strings.TrimSpace(v)), nil
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage:
  ampel [flags]                     run the bot (the console when no platform is configured)
  ampel flows check DIR             validate the flow files in DIR
  ampel bench --users N [--db PATH] measure turns per second on the real engine and store

Flags and environment variables (a flag wins over its variable):
`)
	for _, s := range settings {
		def := s.def
		if def == "" {
			def = "-"
		}
		fmt.Fprintf(w, "  --%-20s %-26s %s (default %s)\n", s.flag, s.env, s.usage, def)
	}
	fmt.Fprint(w, "\nSecrets, from the environment or from a file named by NAME_FILE (never flags):\n")
	for _, s := range secrets {
		fmt.Fprintf(w, "  %-26s %s\n", s.env, s.usage)
	}
}

// langFromEnv reads the terminal's language from LC_ALL, LC_MESSAGES or LANG
// ("de_DE.UTF-8" -> "de").
func langFromEnv(getenv func(string) string) string {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := getenv(k)
		if v == "" || v == "C" || v == "POSIX" || strings.HasPrefix(v, "C.") {
			continue
		}
		v, _, _ = strings.Cut(v, ".")
		return strings.ReplaceAll(v, "_", "-")
	}
	return ""
}

func newLogger(level string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "flows":
			return runFlows(args[1:], getenv, stdout, stderr)
		case "bench":
			return runBench(ctx, args[1:], getenv, stdout, stderr)
		case "help":
			usage(stdout)
			return nil
		}
	}
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg.LogLevel, stderr)
	if err != nil {
		return err
	}
	zone, err := time.LoadLocation(cfg.Zone)
	if err != nil {
		return fmt.Errorf("time zone %q: %w", cfg.Zone, err)
	}
	clock, err := newClock(cfg.ClockStart, cfg.ClockSpeed, time.Now)
	if err != nil {
		return err
	}
	hour, err := strconv.Atoi(cfg.Hour)
	if err != nil || hour < 1 || hour > 23 {
		return fmt.Errorf("reminder hour %q: use a whole hour from 1 to 23", cfg.Hour)
	}
	repeat, err := strconv.Atoi(cfg.Repeat)
	if err != nil || repeat < 0 || repeat > 120 {
		return fmt.Errorf("repeat months %q: use a whole number from 0 (never) to 120", cfg.Repeat)
	}
	if repeat == 0 {
		repeat = -1
	}
	catalog, texts, err := loadContent(cfg, log)
	if err != nil {
		return err
	}
	db, err := store.Open(cfg.DB, store.Options{Now: clock.Now})
	if err != nil {
		return err
	}
	defer db.Close()
	engine, err := bot.New(bot.Config{Store: db, Flows: catalog, Texts: texts, Zone: zone, Log: log, Clock: clock,
		Reminders: bot.ReminderConfig{Hour: hour, RepeatAfter: repeat}})
	if err != nil {
		return err
	}
	platforms, handlers, err := platformAdapters(ctx, cfg, engine, log)
	if err != nil {
		return err
	}
	var adapters []bot.Adapter
	adapters = append(adapters, platforms...)
	var con *console.Adapter
	if cfg.Console == "on" || cfg.Console == "auto" && len(platforms) == 0 {
		in, interactive := stdin, false
		if f, ok := stdin.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				interactive = true
			}
		}
		con = console.New(console.Config{
			In: in, Out: stdout, Lang: cfg.Lang, Interactive: interactive,
			RunID: strconv.FormatInt(time.Now().UnixNano(), 36),
		})
		adapters = append(adapters, con)
		if interactive {
			fmt.Fprintln(stdout, texts.T(mustLang(texts, cfg.Lang), "console.hello"))
		}
	}
	if len(adapters) == 0 {
		return errors.New("nothing to run: --console off and no platform configured")
	}
	for _, a := range adapters {
		engine.Register(a)
	}
	// What an earlier process left in the outbox is read by the engine's
	// dispatcher when it starts (RunOutbox, or the first event): before
	// anything newer for the same chat, without holding up the start.
	return serve(ctx, cfg, log, db, engine, adapters, con, handlers)
}

// serve runs the adapters, the HTTP server, the scheduler and the outbox
// dispatcher until ctx is done or, when the console is the only adapter,
// its input ends. Then it stops taking input (adapters and HTTP server
// first), lets the background loops finish, closes the engine (which gives
// the sends in progress a few seconds; what is not sent stays in the
// outbox for the next start) and closes the store last.
func serve(ctx context.Context, cfg Config, log *slog.Logger, db *store.DB, engine *bot.Engine,
	adapters []bot.Adapter, con *console.Adapter, handlers map[string]http.Handler) error {
	input, stopInput := context.WithCancel(ctx)
	defer stopInput()
	errc := make(chan error, len(adapters)+1)
	var inputs sync.WaitGroup
	for _, a := range adapters {
		inputs.Add(1)
		go func() {
			defer inputs.Done()
			err := a.Run(input, engine)
			if err != nil {
				err = fmt.Errorf("%s: %w", a.Platform(), err)
			}
			if a == bot.Adapter(con) && len(adapters) > 1 && err == nil {
				return // the terminal closed; the platforms go on
			}
			errc <- err
		}()
	}
	var srv *http.Server
	if cfg.HTTPAddr != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, "ok\n")
		})
		for path, h := range handlers {
			mux.Handle(path, h)
		}
		ln, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			stopInput()
			inputs.Wait()
			return fmt.Errorf("http server: %w", err)
		}
		srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("http server: %w", err)
			}
		}()
		log.Info("http server listening", "addr", ln.Addr().String())
	}
	bg, stopBg := context.WithCancel(context.WithoutCancel(ctx))
	var loops sync.WaitGroup
	for _, loop := range []func(context.Context) error{engine.RunReminders, engine.RunOutbox} {
		loops.Add(1)
		go func() {
			defer loops.Done()
			if err := loop(bg); err != nil {
				log.Error("background loop stopped", "err", err)
			}
		}()
	}
	log.Info("ampel running", "adapters", len(adapters), "db", cfg.DB)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	stopInput()
	if srv != nil {
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if err := srv.Shutdown(shutdown); err != nil {
			srv.Close() // requests still running after the grace period are cut
		}
		cancel()
	}
	inputs.Wait()
	stopBg()
	loops.Wait()
	engine.Close()
	if err := db.Close(); err != nil && runErr == nil {
		runErr = fmt.Errorf("close store: %w", err)
	}
	return runErr
}

// simClock is the demonstration clock: it starts at a chosen instant and
// runs speed times faster than real time.
type simClock struct {
	start, base time.Time
	speed       float64
	real        func() time.Time
}

func (c *simClock) Now() time.Time {
	return c.start.Add(time.Duration(float64(c.real().Sub(c.base)) * c.speed))
}

func (c *simClock) Real(d time.Duration) time.Duration {
	return time.Duration(float64(d) / c.speed)
}

func newClock(start, speed string, real func() time.Time) (bot.Clock, error) {
	sp, err := strconv.ParseFloat(speed, 64)
	if err != nil || sp <= 0 || sp > 1e6 {
		return nil, fmt.Errorf("clock speed %q: use a number above 0", speed)
	}
	if start == "" {
		if sp != 1 {
			return nil, errors.New("--clock-speed needs --clock-start")
		}
		return bot.ClockFunc(time.Now), nil
	}
	t, err := time.Parse(time.RFC3339, start)
	if err != nil {
		return nil, fmt.Errorf("clock start %q: use RFC 3339, e.g. 2027-03-15T08:58:00+01:00", start)
	}
	return &simClock{start: t, base: real(), speed: sp, real: real}, nil
}

func mustLang(t *bot.Texts, hint string) string {
	l, _ := t.Supported(hint)
	return l
}

// loadContent loads the built-in flows and locales plus the configured
// directories, and checks them against each other.
func loadContent(cfg Config, log *slog.Logger) (*flows.Catalog, *bot.Texts, error) {
	for _, dir := range []string{cfg.FlowsDir, cfg.LocalesDir} {
		if dir == "" {
			continue
		}
		// os.DirFS of a missing directory reads as empty; a typo in a path
		// must not silently drop a network's checks.
		if st, err := os.Stat(dir); err != nil {
			return nil, nil, fmt.Errorf("content directory: %w", err)
		} else if !st.IsDir() {
			return nil, nil, fmt.Errorf("content directory %s: not a directory", dir)
		}
	}
	flowFS := []fs.FS{flows.Builtin}
	if cfg.FlowsDir != "" {
		flowFS = append(flowFS, os.DirFS(cfg.FlowsDir))
	}
	localeFS := []fs.FS{locales.Builtin}
	if cfg.LocalesDir != "" {
		localeFS = append(localeFS, os.DirFS(cfg.LocalesDir))
	}
	catalog, err := flows.Load(flowFS...)
	if err != nil {
		return nil, nil, fmt.Errorf("flows refused:\n%w", err)
	}
	set, err := locales.Load(localeFS...)
	if err != nil {
		return nil, nil, fmt.Errorf("locales refused:\n%w", err)
	}
	texts := bot.NewTexts(set.Bundle, set.Langs, log)
	for _, f := range catalog.All() {
		if err := texts.CheckFlow(f); err != nil {
			return nil, nil, fmt.Errorf("flows refused:\n%w", err)
		}
	}
	return catalog, texts, nil
}

// runFlows validates flow files a network wrote, against the shipped and any
// given locales.
func runFlows(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 || args[0] != "check" {
		return errors.New("usage: ampel flows check DIR [--locales DIR]")
	}
	dir := args[1]
	fset := newFlagSet("ampel flows check", stderr)
	localesDir := fset.String("locales", getenv("AMPEL_LOCALES"), "directory with extra locale files")
	if err := fset.Parse(args[2:]); err != nil {
		return err
	}
	catalog, _, err := loadContent(Config{FlowsDir: dir, LocalesDir: *localesDir}, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d flows OK:", len(catalog.All()))
	for _, f := range catalog.All() {
		fmt.Fprintf(stdout, " %s (%d checkpoints)", f.ID, len(f.Checkpoints))
	}
	fmt.Fprintln(stdout)
	return nil
}
