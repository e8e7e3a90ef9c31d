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
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // time zones work in a bare container

	"github.com/ampel-bot/ampel/adapters/console"
	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/features"
	"github.com/ampel-bot/ampel/flows"
	"github.com/ampel-bot/ampel/locales"
	"github.com/ampel-bot/ampel/store"
	"golang.org/x/term"
)

func main() {
	gcDefault(os.Getenv)
	if os.Getenv("GOGC") == "" {
		startHeapFloor(defaultGOGC)
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx := watchSignals(context.Background(), sigs, os.Exit, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
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

// gcDefault applies defaultGOGC unless the operator set GOGC, and turns
// off the runtime's sampling of allocations for heap profiles unless the
// operator asked for it (GODEBUG=memprofilerate=N): nothing in ampel reads
// those profiles but `ampel bench --memprofile`, which sets its own rate,
// and their records grow with every distinct call path that allocates —
// 1.5 MB after a thousand users' turns (`bench --memory`, "profiling").
func gcDefault(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGOGC)
	}
	if !strings.Contains(getenv("GODEBUG"), "memprofilerate=") {
		runtime.MemProfileRate = 0
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
	LogFormat  string
	ClockStart string
	ClockSpeed string
	Hour       string
	Repeat     string
	Retention  string
	HTTPAddr   string
	Console    string
	OnDamage   string
	Shutdown   string
	NetworkFS  string
	BackupDir  string
	BackupEvry string
	BackupKeep string
	ReadyAge   string

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
	AdminToken        secret
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
	{"lang", "AMPEL_LANG", "", "console language hint", func(c *Config) *string { return &c.Lang }},
	{"tz", "AMPEL_TZ", "Europe/Berlin", "time zone of users who have not set one (IANA name)", func(c *Config) *string { return &c.Zone }},
	{"log-level", "AMPEL_LOG_LEVEL", "warn", "debug, info, warn or error (logs go to stderr)", func(c *Config) *string { return &c.LogLevel }},
	{"log-format", "AMPEL_LOG_FORMAT", "text", "text (key=value) or json, one object a line", func(c *Config) *string { return &c.LogFormat }},
	{"reminder-hour", "AMPEL_REMINDER_HOUR", "9", "local hour reminders are sent at", func(c *Config) *string { return &c.Hour }},
	{"repeat-months", "AMPEL_REPEAT_MONTHS", "6", "months after a check until the bot offers to repeat it (0: never)", func(c *Config) *string { return &c.Repeat }},
	{"retention", "AMPEL_RETENTION", "24", "months without activity after which a conversation is erased, swept daily (0: never)", func(c *Config) *string { return &c.Retention }},
	{"http-addr", "AMPEL_HTTP_ADDR", "", "address for the HTTP server (health check, webhooks), e.g. :8080; off when empty", func(c *Config) *string { return &c.HTTPAddr }},
	{"console", "AMPEL_CONSOLE", "auto", "the terminal chat: on, off, or auto (on when no platform is configured)", func(c *Config) *string { return &c.Console }},
	{"shutdown-timeout", "AMPEL_SHUTDOWN_TIMEOUT", "10s", "on SIGTERM: how long to finish the turns in flight and send what the outbox holds before closing (a second signal ends at once)", func(c *Config) *string { return &c.Shutdown }},
	{"allow-network-fs", "AMPEL_ALLOW_NETWORK_FS", "false", "start even though the database is on a network file system (NFS, SMB, FUSE, 9p …), where bbolt's file lock is not reliable", func(c *Config) *string { return &c.NetworkFS }},
	{"backup-dir", "AMPEL_BACKUP_DIR", "", "directory for regular verified copies of the database, named by UTC time; off when empty", func(c *Config) *string { return &c.BackupDir }},
	{"backup-every", "AMPEL_BACKUP_EVERY", "24h", "with --backup-dir: time between copies", func(c *Config) *string { return &c.BackupEvry }},
	{"backup-keep", "AMPEL_BACKUP_KEEP", "7", "with --backup-dir: copies kept; the oldest goes once a new one is verified", func(c *Config) *string { return &c.BackupKeep }},
	{"ready-outbox-age", "AMPEL_READY_OUTBOX_AGE", "15m", "/readyz says not ready while the oldest message in the outbox is older than this", func(c *Config) *string { return &c.ReadyAge }},
	{"on-damage", "AMPEL_ON_DAMAGE", "wait", "a conversation whose stored record cannot be read is set aside; its chat is told and waits (wait) or starts afresh (fresh)", func(c *Config) *string { return &c.OnDamage }},
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
		if switches[s.flag] {
			*s.field(&c) = def
			fset.Var(boolFlag{s.field(&c)}, s.flag, s.usage+" ["+s.env+"]")
			continue
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
	if c.OnDamage != "wait" && c.OnDamage != "fresh" {
		return c, fmt.Errorf("on-damage %q: use wait or fresh", c.OnDamage)
	}
	if _, err := strconv.ParseBool(c.NetworkFS); err != nil {
		return c, fmt.Errorf("allow-network-fs %q: use true or false", c.NetworkFS)
	}
	if c.AdminToken != "" && len(c.AdminToken) < minAdminToken {
		return c, fmt.Errorf("AMPEL_ADMIN_TOKEN is too short: use at least %d random characters (e.g. openssl rand -hex 32)", minAdminToken)
	}
	if c.AdminToken != "" && c.HTTPAddr == "" {
		return c, errors.New("AMPEL_ADMIN_TOKEN needs --http-addr to serve the admin endpoint on")
	}
	return c, nil
}

// switches are the settings given as a bare flag (--allow-network-fs),
// kept as "true" or "false".
var switches = map[string]bool{"allow-network-fs": true}

// boolFlag is a switch kept as "true" or "false" in a string field.
type boolFlag struct{ p *string }

func (b boolFlag) String() string {
	if b.p == nil {
		return "false"
	}
	return *b.p
}

func (b boolFlag) Set(v string) error {
	x, err := strconv.ParseBool(v)
	if err != nil {
		return errors.New("use true or false")
	}
	*b.p = strconv.FormatBool(x)
	return nil
}

func (b boolFlag) IsBoolFlag() bool { return true }

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
	{"AMPEL_ADMIN_TOKEN", "token for the admin endpoint on --http-addr (ampel backup); off when unset; at least 16 characters", func(c *Config) *secret { return &c.AdminToken }},
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

// defaultNotes describe defaults that are not a fixed value.
var defaultNotes = map[string]string{"lang": "from $LANG"}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage:
  ampel [flags]                        run the bot (the console when no platform is configured)
  ampel flows check DIR [--locales DIR]
                                       validate the flow files in DIR against the shipped
                                       and the given locales
  ampel bench --users N [--rounds R] [--db PATH] [--memory] [--backup FILE] [--team N]
              [--files] [--cpuprofile FILE] [--memprofile FILE]
                                       measure turns per second on the real engine and store;
                                       --memory says what the peak resident memory was made of;
                                       --backup takes a checked backup halfway through;
                                       --team N: then N members rate one team run at once;
                                       --files: every finished check's result with its picture
  ampel db check [--db PATH]           report the records and pages of the database that
                                       cannot be read (stop the bot first, or check a backup)
  ampel db quarantine [--db PATH] [--dump DIR]
                                       list the records the bot has set aside; --dump DIR
                                       writes them out
  ampel backup --to FILE [--http-addr ADDR]
                                       ask the running ampel for a copy of its database
                                       (needs AMPEL_ADMIN_TOKEN); FILE is written, checked,
                                       then renamed into place
  ampel restore --from FILE [--db PATH]
                                       check a backup and put it in place of the database
                                       (stop the bot first); the old file is kept as
                                       PATH.before-restore
  ampel health [--http-addr ADDR]      exit 0 if the running ampel's /healthz answers OK

Flags and environment variables (a flag wins over its variable):
`)
	width := 0
	for _, s := range settings {
		width = max(width, len(s.flag)+2)
	}
	envWidth := 0
	for _, s := range settings {
		envWidth = max(envWidth, len(s.env))
	}
	for _, s := range settings {
		def := s.def
		if note, ok := defaultNotes[s.flag]; ok {
			def = note
		}
		if def != "" {
			def = " (default " + def + ")"
		}
		fmt.Fprintf(w, "  %-*s  %-*s  %s%s\n", width, "--"+s.flag, envWidth, s.env, s.usage, def)
	}
	fmt.Fprint(w, "\nSecrets, from the environment or from a file named by NAME_FILE (never flags):\n")
	secWidth := 0
	for _, s := range secrets {
		secWidth = max(secWidth, len(s.env))
	}
	for _, s := range secrets {
		fmt.Fprintf(w, "  %-*s  %s\n", secWidth, s.env, s.usage)
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

// newLogger returns the process's logger. Each part gets it with its
// component (engine, store, telegram, http, …) added, so that every line
// says where it comes from; conversations appear only by bot.KeyHash.
func newLogger(level, format string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: use text or json", format)
}

// component is the logger of one part of the process.
func component(log *slog.Logger, name string) *slog.Logger { return log.With("component", name) }

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "flows":
			return runFlows(args[1:], getenv, stdout, stderr)
		case "bench":
			return runBench(ctx, args[1:], getenv, stdout, stderr)
		case "db":
			return runDB(args[1:], getenv, stdout, stderr)
		case "backup":
			return runBackup(ctx, args[1:], getenv, stdout, stderr)
		case "restore":
			return runRestore(args[1:], getenv, stdout, stderr)
		case "health":
			return runHealth(ctx, args[1:], getenv, stdout, stderr)
		case "help":
			usage(stdout)
			return nil
		}
	}
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	// Crash tests only (issue 18): die at a named point; see bot.KillAt.
	if err := bot.KillAt(getenv("AMPEL_KILLPOINT")); err != nil {
		return err
	}
	logRoot, err := newLogger(cfg.LogLevel, cfg.LogFormat, stderr)
	if err != nil {
		return err
	}
	log := component(logRoot, "main")
	useLogger(ctx, log)
	op, err := parseOps(cfg)
	if err != nil {
		return err
	}
	zone, err := time.LoadLocation(cfg.Zone)
	if err != nil {
		return fmt.Errorf("time zone %q: %w", cfg.Zone, err)
	}
	clock, err := newClock(cfg.ClockStart, cfg.ClockSpeed, realTime(ctx))
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
	catalog, texts, err := loadContent(cfg, component(logRoot, "content"))
	if err != nil {
		return err
	}
	allowNetFS, _ := strconv.ParseBool(cfg.NetworkFS)
	if warning, err := checkFileSystem(ctx, cfg.DB, allowNetFS); err != nil {
		return err
	} else if warning != "" {
		log.Warn(warning)
	}
	// The store's clock stays the real one: it times how long event IDs
	// are remembered, and platforms redeliver in real time, however fast
	// a demonstration runs the bot's clock.
	met := newMetrics()
	db, err := store.Open(cfg.DB, store.Options{Redelivery: redelivery, Log: component(logRoot, "store"), OnCommit: met.commitTook})
	if err != nil {
		return err
	}
	defer db.Close()
	engine, err := bot.New(bot.Config{Store: db, Flows: catalog, Texts: texts, Zone: zone, Log: component(logRoot, "engine"), Clock: clock, Features: features.All(),
		Reminders: bot.ReminderConfig{Hour: hour, RepeatAfter: repeat}, FreshAfterDamage: cfg.OnDamage == "fresh",
		Observer: met})
	if err != nil {
		return err
	}
	met.watch(engine, db, time.Now)
	platforms, handlers, err := platformAdapters(ctx, cfg, engine, logRoot)
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
		width := consoleWidth(getenv, stdout)
		dir := "" // files go beside the database, or into the working directory
		if cfg.DB != "" {
			dir = filepath.Dir(cfg.DB)
		}
		con = console.New(console.Config{
			In: in, Out: stdout, Lang: cfg.Lang, Interactive: interactive, Width: width,
			RunID: strconv.FormatInt(time.Now().UnixNano(), 36), Dir: dir,
		})
		adapters = append(adapters, con)
		if interactive {
			fmt.Fprintln(stdout, console.Wrap(texts.T(mustLang(texts, cfg.Lang), "console.hello"), width()))
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
	return serve(ctx, cfg, op, logRoot, db, engine, adapters, con, handlers, met)
}

// ops is what run needs to know to be operated: how long a stop may take,
// the regular backups and the admin endpoint.
type ops struct {
	shutdown    time.Duration
	backupDir   string
	backupEvery time.Duration
	backupKeep  int
	readyAge    time.Duration
	// retention is the months without activity after which a
	// conversation is erased; 0: never.
	retention int
}

func parseOps(cfg Config) (ops, error) {
	var o ops
	var err error
	if o.shutdown, err = time.ParseDuration(cfg.Shutdown); err != nil || o.shutdown < 0 {
		return o, fmt.Errorf("shutdown timeout %q: use a duration such as 10s", cfg.Shutdown)
	}
	if o.readyAge, err = time.ParseDuration(cfg.ReadyAge); err != nil || o.readyAge <= 0 {
		return o, fmt.Errorf("ready outbox age %q: use a duration such as 15m", cfg.ReadyAge)
	}
	if o.retention, err = strconv.Atoi(cfg.Retention); err != nil || o.retention < 0 || o.retention > 1200 {
		return o, fmt.Errorf("retention %q: use a whole number of months from 0 (never) to 1200", cfg.Retention)
	}
	if cfg.BackupDir == "" {
		return o, nil
	}
	o.backupDir = cfg.BackupDir
	if o.backupEvery, err = time.ParseDuration(cfg.BackupEvry); err != nil || o.backupEvery < time.Minute {
		return o, fmt.Errorf("backup every %q: use a duration of a minute or more, such as 24h", cfg.BackupEvry)
	}
	if o.backupKeep, err = strconv.Atoi(cfg.BackupKeep); err != nil || o.backupKeep < 1 {
		return o, fmt.Errorf("backup keep %q: use a whole number of 1 or more", cfg.BackupKeep)
	}
	if err := os.MkdirAll(o.backupDir, 0o700); err != nil {
		return o, fmt.Errorf("backup dir: %w", err)
	}
	return o, nil
}

// consoleWidth tells the console how wide to write: $COLUMNS, else the
// terminal's width, else 80 on a terminal. Output to a file or a pipe is a
// transcript and is not wrapped (0), unless $COLUMNS asks for it.
func consoleWidth(getenv func(string) string, stdout io.Writer) func() int {
	if n, err := strconv.Atoi(getenv("COLUMNS")); err == nil && n > 0 {
		return func() int { return n }
	}
	f, ok := stdout.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return func() int { return 0 }
	}
	return func() int {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
		return 80
	}
}

// serve runs the adapters, the HTTP server, the scheduler, the outbox
// dispatcher and the regular backups until ctx is done (a signal) or, when
// the console is the only adapter, its input ends. Then, within
// op.shutdown: it stops taking input (adapters and HTTP server first),
// lets the turns in flight finish, stops the background loops, sends what
// the outbox holds, and closes the store last.
func serve(ctx context.Context, cfg Config, op ops, logRoot *slog.Logger, db *store.DB, engine *bot.Engine,
	adapters []bot.Adapter, con *console.Adapter, handlers map[string]http.Handler, met *promMetrics) error {
	log := component(logRoot, "main")
	input, stopInput := context.WithCancel(ctx)
	defer stopInput()
	// Turns outlive input: a turn taken is finished, until the deadline.
	turns, cutTurns := context.WithCancel(context.WithoutCancel(ctx))
	defer cutTurns()
	gate := &drain{h: engine, turns: turns}
	errc := make(chan error, len(adapters)+1)
	var inputs sync.WaitGroup
	for _, a := range adapters {
		inputs.Add(1)
		go func() {
			defer inputs.Done()
			err := a.Run(input, gate)
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
		mux.Handle("GET /readyz", &readiness{db: db, adapters: adapters, outboxAge: op.readyAge, now: time.Now})
		mux.Handle("GET /metrics", met.handler())
		if cfg.AdminToken != "" {
			mux.Handle("POST "+backupPath, adminHandler(db, cfg.AdminToken, component(logRoot, "backup")))
		}
		for path, h := range handlers {
			mux.Handle(path, h)
		}
		ln, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			stopInput()
			inputs.Wait()
			return fmt.Errorf("http server: %w", err)
		}
		srv = newHTTPServer(mux, defaultHTTPLimits)
		srv.ErrorLog = slog.NewLogLogger(component(logRoot, "http").Handler(), slog.LevelWarn)
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("http server: %w", err)
			}
		}()
		log.Info("http server listening", "addr", ln.Addr().String())
	}
	bg, stopBg := context.WithCancel(context.WithoutCancel(ctx))
	var loops sync.WaitGroup
	background := []func(context.Context) error{engine.RunReminders, engine.RunOutbox}
	if months := op.retention; months > 0 {
		background = append(background, func(ctx context.Context) error {
			return engine.RunRetention(ctx, func(now time.Time) time.Time { return now.AddDate(0, -months, 0) })
		})
	}
	if op.backupDir != "" {
		b := &scheduledBackups{db: db, dir: op.backupDir, every: op.backupEvery, keep: op.backupKeep,
			log: component(logRoot, "backup"), now: time.Now, after: time.After}
		background = append(background, func(ctx context.Context) error { b.run(ctx); return nil })
	}
	for _, loop := range background {
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
	t0 := time.Now()
	deadline, cancel := context.WithTimeout(context.WithoutCancel(ctx), op.shutdown)
	defer cancel()
	stop := context.AfterFunc(deadline, cutTurns)
	defer stop()
	log.Info("stopping: no new events; finishing the turns in flight", "timeout", op.shutdown)
	stopInput()
	if srv != nil {
		if err := srv.Shutdown(deadline); err != nil {
			srv.Close() // requests still running at the deadline are cut
		}
	}
	inputs.Wait()
	gate.closeAndWait()
	stopBg()
	loops.Wait()
	// What the turns queued and could not send yet, and what waited for a
	// retry, goes out now if it can before the deadline; the rest stays
	// in the outbox for the next start.
	if err := engine.Flush(deadline); err != nil && deadline.Err() == nil {
		log.Error("stopping: outbox not flushed", "err", err)
	}
	if deadline.Err() != nil {
		log.Warn("stopping: the shutdown timeout passed; what was not sent stays in the outbox for the next start", "timeout", op.shutdown)
	}
	engine.Close()
	if err := db.Close(); err != nil && runErr == nil {
		runErr = fmt.Errorf("close store: %w", err)
	}
	log.Info("stopped", "took", time.Since(t0).Round(time.Millisecond))
	return runErr
}

// httpLimits bounds the time one connection to the HTTP server may take.
type httpLimits struct {
	header time.Duration // to read a request's headers
	read   time.Duration // to read a whole request, body included
	write  time.Duration // from the end of the headers to the end of the answer
	idle   time.Duration // a kept-alive connection waiting for its next request
}

// defaultHTTPLimits are the limits ampel serves under. The platforms send
// requests of a few kilobytes from their data centres and give up on an
// answer after seconds (Slack after 3 s), so a client that needs longer
// to send one is either broken or holding connections on purpose: 600
// clients sending a byte every 10 s once kept 600 connections open for
// good. The answer's limit leaves room for a commit on a busy disk.
var defaultHTTPLimits = httpLimits{header: 5 * time.Second, read: 15 * time.Second, write: 30 * time.Second, idle: 60 * time.Second}

// maxHeaderBytes bounds a request's headers: the platforms send a few
// hundred bytes of them.
const maxHeaderBytes = 64 << 10

// newHTTPServer returns the server for the health check and the
// platforms' webhooks under limits l. How many requests may be read at
// once before they are authenticated is bounded by the adapters' handlers
// (see adapters/internal/httpkit.Gate), which also check what can be
// checked before reading a body.
func newHTTPServer(h http.Handler, l httpLimits) *http.Server {
	return &http.Server{
		Handler: h, MaxHeaderBytes: maxHeaderBytes,
		ReadHeaderTimeout: l.header, ReadTimeout: l.read, WriteTimeout: l.write, IdleTimeout: l.idle,
	}
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

// realTimeKey is a test hook: a context value of type func() time.Time under
// it replaces the real time the simulated clock follows, so that a test
// moves the bot's time in steps of its choosing and never races the
// machine's speed. Nothing outside tests sets it.
type realTimeKey struct{}

func realTime(ctx context.Context) func() time.Time {
	if f, ok := ctx.Value(realTimeKey{}).(func() time.Time); ok {
		return f
	}
	return time.Now
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
	all := bot.NewTexts(set.Bundle, set.Langs, log)
	for _, f := range catalog.All() {
		if err := all.CheckFlow(f); err != nil {
			return nil, nil, fmt.Errorf("flows refused:\n%w", err)
		}
	}
	// Checked against every language; from here on a language is parsed
	// when someone first needs it, and the full bundle is garbage.
	return catalog, bot.NewLazyTexts(set.Langs, set.Has(), set.SplitLoader(), set.SplitLoader(bot.VocabPrefixes...), log), nil
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
