package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/adapters/console"
	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/features"
	"github.com/ampel-bot/ampel/store"
)

const adminToken = "test-admin-token-0123456789"

var quiet = slog.New(slog.DiscardHandler)

// openEngine opens the store at path and an engine on it whose replies go
// to benchAdapter, as the bench has them.
func openEngine(t *testing.T, path string) (*store.DB, *bot.Engine) {
	t.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	catalog, texts, err := loadContent(Config{}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	zone, _ := time.LoadLocation("Europe/Berlin")
	engine, err := bot.New(bot.Config{Store: db, Flows: catalog, Texts: texts, Zone: zone, Features: features.All()})
	if err != nil {
		t.Fatal(err)
	}
	engine.Register(benchAdapter{})
	return db, engine
}

// acked is an answer the engine acknowledged: its conversation, the event
// ID it was committed under, and whether it was handed to the engine only
// once the backup had ended.
type acked struct {
	key, id string
	late    bool
}

// load runs users doing the bench's scenario over and over, each round in
// a new conversation, until stop is closed, and notes every acknowledged
// answer in order.
type load struct {
	late  atomic.Bool // set when the backup has ended
	mu    sync.Mutex
	acks  []acked
	grew  chan struct{} // a tick per acknowledged answer, dropped when full
	stop  chan struct{}
	wg    sync.WaitGroup
	fails []error
}

func startLoad(engine *bot.Engine, users int) *load {
	l := &load{grew: make(chan struct{}, 1), stop: make(chan struct{})}
	for u := range users {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for round := 0; ; round++ {
				addr := bot.Address{Platform: "bench", Chat: fmt.Sprintf("u%d-r%d", u, round), User: strconv.Itoa(u)}
				for i, text := range benchScript {
					select {
					case <-l.stop:
						return
					default:
					}
					ev := bot.Event{ID: strconv.Itoa(i), Addr: addr, Text: text, LangHint: "de"}
					late := l.late.Load()
					if err := engine.Handle(context.Background(), ev); err != nil {
						l.mu.Lock()
						l.fails = append(l.fails, err)
						l.mu.Unlock()
						return
					}
					l.mu.Lock()
					l.acks = append(l.acks, acked{addr.Key(), "bench:" + ev.ID, late})
					l.mu.Unlock()
					select {
					case l.grew <- struct{}{}:
					default:
					}
				}
			}
		}()
	}
	return l
}

// count counts the acknowledged answers, the late ones only if late.
func (l *load) count(late bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, a := range l.acks {
		if a.late || !late {
			n++
		}
	}
	return n
}

// waitFor waits until at least n answers (late ones, if late) are
// acknowledged.
func (l *load) waitFor(t *testing.T, n int, late bool) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for l.count(late) < n {
		select {
		case <-l.grew:
		case <-timeout:
			t.Fatalf("load: %d answers acknowledged, waited for %d", l.count(late), n)
		}
	}
}

func (l *load) end(t *testing.T) []acked {
	t.Helper()
	close(l.stop)
	l.wg.Wait()
	for _, err := range l.fails {
		t.Errorf("load: %v", err)
	}
	return l.acks
}

func seen(t *testing.T, path string, acks []acked) (have, missing []acked) {
	t.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, a := range acks {
		ok, err := db.Seen(context.Background(), a.key, a.id)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			have = append(have, a)
		} else {
			missing = append(missing, a)
		}
	}
	return have, missing
}

// TestRestoreDrill: users answer while `ampel backup` copies the running
// store through the admin endpoint; restore refuses while the store is
// open, and once it is closed puts the copy in place. Every answer
// acknowledged before the backup started is in the restored database;
// answers acknowledged after the copy was taken are not (it is the copy,
// not the live file), and they are still in PATH.before-restore.
func TestRestoreDrill(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ampel.db")
	copyPath := filepath.Join(dir, "backups", "drill.db")
	os.Mkdir(filepath.Dir(copyPath), 0o700)
	db, engine := openEngine(t, path)
	mux := http.NewServeMux()
	mux.Handle("POST "+backupPath, adminHandler(db, adminToken, quiet))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	l := startLoad(engine, 8)
	l.waitFor(t, 60, false)
	l.mu.Lock()
	before := slices.Clone(l.acks)
	l.mu.Unlock()
	r := runAmpel(t, env("AMPEL_ADMIN_TOKEN", adminToken), nil, "backup", "--to", copyPath, "--http-addr", srv.URL)
	if r.err != nil {
		t.Fatalf("ampel backup under load: %v\n%s", r.err, r.errOut)
	}
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(copyPath) + `: \d+ bytes, checked: schema \d+; \d+ conversations`).MatchString(r.out) {
		t.Errorf("ampel backup printed %q", r.out)
	}
	taken := l.count(false)
	l.late.Store(true)
	l.waitFor(t, 16, true)

	r = runAmpel(t, env(), nil, "restore", "--from", copyPath, "--db", path)
	if r.err == nil || !strings.Contains(r.err.Error(), "open in a running ampel") {
		t.Errorf("restore over the open database: %v, want a refusal saying it is open", r.err)
	}
	acks := l.end(t)
	var after []acked // handed to the engine once the copy was on disk
	for _, a := range acks {
		if a.late {
			after = append(after, a)
		}
	}
	engine.Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if t.Failed() {
		return
	}

	r = runAmpel(t, env(), nil, "restore", "--from", copyPath, "--db", path)
	if r.err != nil {
		t.Fatalf("restore: %v", r.err)
	}
	if !strings.Contains(r.out, path+".before-restore") {
		t.Errorf("restore does not say where the old file is: %q", r.out)
	}
	if _, missing := seen(t, path, before); len(missing) > 0 {
		t.Errorf("%d of %d answers acknowledged before the backup are not in the restored database, e.g. %v", len(missing), len(before), missing[0])
	}
	if have, _ := seen(t, path, after); len(have) > 0 {
		t.Errorf("%d answers acknowledged after the backup are in the restored database: it is not the copy", len(have))
	}
	if _, missing := seen(t, path+".before-restore", acks); len(missing) > 0 {
		t.Errorf("PATH.before-restore lacks %d acknowledged answers: the replaced file was not kept whole", len(missing))
	}
	t.Logf("%d answers before the backup, %d during it, %d in all", len(before), taken-len(before), len(acks))
}

// TestRestoreRefusesBadCopies: a copy that fails the check, or is not an
// ampel database, is refused before anything is touched; so is a second
// restore that would overwrite the first one's PATH.before-restore.
func TestRestoreRefusesBadCopies(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ampel.db")
	if r := runAmpel(t, german, lines("/check zo-kmu", "1"), "--db", path); r.err != nil {
		t.Fatal(r.err)
	}
	good := filepath.Join(dir, "good.db")
	if _, err := os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	copyFile(t, path, good)
	damaged := filepath.Join(dir, "damaged.db")
	copyFile(t, path, damaged)
	damageRecord(t, damaged, console.Address().Key())
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte(strings.Repeat("not a database ", 1000)), 0o600)
	orig, _ := os.ReadFile(path)

	for _, tc := range []struct{ from, want string }{
		{damaged, "fails the check"},
		{junk, "junk.db"},
		{filepath.Join(dir, "missing.db"), "no such file"},
	} {
		r := runAmpel(t, env(), nil, "restore", "--from", tc.from, "--db", path)
		if r.err == nil || !strings.Contains(r.err.Error(), tc.want) {
			t.Errorf("restore --from %s: %v, want an error saying %q", filepath.Base(tc.from), r.err, tc.want)
		}
		if now, _ := os.ReadFile(path); string(now) != string(orig) {
			t.Fatalf("restore --from %s changed the database", filepath.Base(tc.from))
		}
		if _, err := os.Stat(path + ".before-restore"); err == nil {
			t.Fatalf("restore --from %s left a .before-restore", filepath.Base(tc.from))
		}
	}
	if r := runAmpel(t, env(), nil, "restore", "--from", good, "--db", path); r.err != nil {
		t.Fatal(r.err)
	}
	r := runAmpel(t, env(), nil, "restore", "--from", good, "--db", path)
	if r.err == nil || !strings.Contains(r.err.Error(), "before-restore exists") {
		t.Errorf("second restore: %v, want a refusal naming the earlier .before-restore", r.err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("%s left behind", e.Name())
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestBackupDuringBench: a backup taken halfway through `ampel bench`,
// while the users go on answering, opens and passes the check.
func TestBackupDuringBench(t *testing.T) {
	dir := t.TempDir()
	to := filepath.Join(dir, "copy.db")
	r := runAmpel(t, env(), strings.NewReader(""), "bench", "--users", "40", "--db", filepath.Join(dir, "bench.db"), "--backup", to)
	if r.err != nil {
		t.Fatalf("bench --backup: %v\n%s", r.err, r.errOut)
	}
	m := regexp.MustCompile(`(?m)^backup=` + regexp.QuoteMeta(to) + ` copy_ms=\d+ check_ms=\d+ conversations=(\d+) checked=ok$`).FindStringSubmatch(r.out)
	if m == nil {
		t.Fatalf("bench --backup printed %q", r.out)
	}
	rep, err := verifyCopy(to)
	if err != nil {
		t.Fatalf("the copy taken during the bench: %v", err)
	}
	if n, _ := strconv.Atoi(m[1]); rep.Conversations != n || n < 1 || n > 40 {
		t.Errorf("copy has %d conversations, bench said %s; want 1 to 40", rep.Conversations, m[1])
	}
}

// TestBackupFromRunningAmpel: with AMPEL_ADMIN_TOKEN and --http-addr the
// running bot hands `ampel backup` a checked copy; a wrong token is
// refused and writes nothing; without the token there is no endpoint; an
// existing file is never replaced.
func TestBackupFromRunningAmpel(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	in, feed := io.Pipe()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	var out, errOut syncBuffer
	getenv := env("LANG", "de_DE.UTF-8", "AMPEL_ADMIN_TOKEN", adminToken)
	go func() {
		done <- run(ctx, []string{"--db", filepath.Join(dir, "a.db"), "--http-addr", addr, "--log-level", "info"}, getenv, in, &out, &errOut)
	}()
	io.WriteString(feed, "/check zo-kmu\n1\n")
	waitFor(t, &out, "2/7", hangGuard)

	to := filepath.Join(dir, "copy.db")
	r := runAmpel(t, env("AMPEL_ADMIN_TOKEN", "wrong-token-but-long-enough"), nil, "backup", "--to", to, "--http-addr", addr)
	if r.err == nil || !strings.Contains(r.err.Error(), "refused the admin token") {
		t.Errorf("backup with a wrong token: %v", r.err)
	}
	if _, err := os.Stat(to); err == nil {
		t.Error("a refused backup wrote a file")
	}
	r = runAmpel(t, env("AMPEL_ADMIN_TOKEN", adminToken, "AMPEL_HTTP_ADDR", addr), nil, "backup", "--to", to)
	if r.err != nil {
		t.Fatalf("backup: %v", r.err)
	}
	if rep, err := verifyCopy(to); err != nil || rep.Conversations != 1 {
		t.Errorf("the copy: %+v, %v; want one conversation", rep, err)
	}
	if r := runAmpel(t, env("AMPEL_ADMIN_TOKEN", adminToken), nil, "backup", "--to", to, "--http-addr", addr); r.err == nil || !strings.Contains(r.err.Error(), "exists") {
		t.Errorf("backup onto an existing file: %v, want a refusal", r.err)
	}
	feed.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "component=backup") || strings.Contains(errOut.String(), adminToken) {
		t.Errorf("log:\n%s", errOut.String())
	}

	// Without a token the endpoint does not exist.
	addr = freeAddr(t)
	in, feed = io.Pipe()
	go func() {
		done <- run(ctx, []string{"--db", filepath.Join(dir, "b.db"), "--http-addr", addr}, german, in, io.Discard, io.Discard)
	}()
	waitHealthy(t, addr)
	r = runAmpel(t, env("AMPEL_ADMIN_TOKEN", adminToken), nil, "backup", "--to", filepath.Join(dir, "none.db"), "--http-addr", addr)
	if r.err == nil || !strings.Contains(r.err.Error(), "no admin endpoint") {
		t.Errorf("backup from an ampel without a token: %v", r.err)
	}
	feed.Close()
	<-done

	// A token too short to be a secret is refused at start.
	r = runAmpel(t, env("AMPEL_ADMIN_TOKEN", "short"), nil, "--db", filepath.Join(dir, "c.db"), "--http-addr", addr)
	if r.err == nil || !strings.Contains(r.err.Error(), "too short") {
		t.Errorf("a 5-character admin token: %v", r.err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitHealthy waits until `ampel health` passes against addr.
func waitHealthy(t *testing.T, addr string) {
	t.Helper()
	for deadline := time.Now().Add(hangGuard); ; time.Sleep(20 * time.Millisecond) {
		r := runAmpel(t, env(), nil, "health", "--http-addr", addr)
		if r.err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ampel health: %v", r.err)
		}
	}
}

// TestScheduledBackups: with --backup-dir each copy is named by its UTC
// time and checked; the oldest beyond --backup-keep is removed only after
// a new copy passed; a failed copy is logged and removes nothing; the next
// copy is due --backup-every after the newest, also after a restart.
func TestScheduledBackups(t *testing.T) {
	dir := t.TempDir()
	db, engine := openEngine(t, filepath.Join(dir, "ampel.db"))
	defer db.Close()
	defer engine.Close()
	for i := range 3 {
		ev := bot.Event{ID: strconv.Itoa(i), Addr: bot.Address{Platform: "bench", Chat: "c"}, Text: benchScript[i], LangHint: "de"}
		if err := engine.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	backups := filepath.Join(dir, "backups")
	os.Mkdir(backups, 0o700)
	os.WriteFile(filepath.Join(backups, "notes.txt"), []byte("the operator's own file"), 0o600)
	now := time.Date(2027, 3, 15, 2, 0, 0, 0, time.UTC)
	var logs syncBuffer
	b := &scheduledBackups{db: db, dir: backups, every: 24 * time.Hour, keep: 3,
		log: slog.New(slog.NewTextHandler(&logs, nil)), now: func() time.Time { return now }}
	if got := b.next(); !got.Equal(now) {
		t.Errorf("first copy due at %v, want at once (%v)", got, now)
	}
	for range 5 {
		if err := b.once(context.Background()); err != nil {
			t.Fatal(err)
		}
		now = now.Add(24 * time.Hour)
	}
	names, _ := b.copies()
	want := []string{"ampel-20270317T020000Z.db", "ampel-20270318T020000Z.db", "ampel-20270319T020000Z.db"}
	if !slices.Equal(names, want) {
		t.Errorf("copies kept: %v, want the newest three %v", names, want)
	}
	for _, n := range names {
		if r, err := verifyCopy(filepath.Join(backups, n)); err != nil || r.Conversations != 1 {
			t.Errorf("%s: %+v %v", n, r, err)
		}
	}
	if _, err := os.Stat(filepath.Join(backups, "notes.txt")); err != nil {
		t.Error("a file not named as a copy was removed")
	}
	// After a restart one hour after the newest copy, the next is due in 23 h.
	now = time.Date(2027, 3, 19, 3, 0, 0, 0, time.UTC)
	if got := b.next(); !got.Equal(time.Date(2027, 3, 20, 2, 0, 0, 0, time.UTC)) {
		t.Errorf("next copy due at %v, want 24 h after the newest", got)
	}

	// A copy that fails (the store is closed) is logged by the loop, keeps
	// the older copies, leaves no partial file, and is retried in an hour.
	engine.Close()
	db.Close()
	now = time.Date(2027, 3, 20, 2, 0, 0, 0, time.UTC)
	waits := make(chan time.Duration)
	fire := make(chan time.Time)
	b.after = func(d time.Duration) <-chan time.Time { waits <- d; return fire }
	ctx, cancel := context.WithCancel(context.Background())
	loopDone := make(chan struct{})
	go func() { defer close(loopDone); b.run(ctx) }()
	if d := <-waits; d != 0 {
		t.Errorf("loop waits %v for a copy due now", d)
	}
	fire <- now
	if d := <-waits; d != time.Hour {
		t.Errorf("after a failed copy the loop waits %v, want 1h", d)
	}
	cancel()
	<-loopDone
	if names2, _ := b.copies(); !slices.Equal(names2, want) {
		t.Errorf("after a failed copy: %v, want %v kept", names2, want)
	}
	entries, _ := os.ReadDir(backups)
	if len(entries) != 4 {
		t.Errorf("backup dir holds %d entries, want the 3 copies and notes.txt", len(entries))
	}
	if !strings.Contains(logs.String(), "backup failed; the older copies are kept") {
		t.Errorf("the failure is not logged:\n%s", logs.String())
	}
}
