package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ampel-bot/ampel/store"
)

// Backups. The running process writes a consistent copy of its database
// (store.DB.BackupTo: one read transaction, commits go on beside it):
//   - on request, streamed to `ampel backup --to FILE` over the HTTP server
//     with the admin token: the operator's machine need not be the server;
//   - every --backup-every into --backup-dir, keeping the newest
//     --backup-keep copies.
//
// Every copy is written to FILE.tmp, fsynced, opened and checked as
// `ampel db check` checks a file, and only then renamed into place; a copy
// that fails leaves nothing behind and removes no older copy.

// backupPath is where the admin server serves the copy.
const backupPath = "/admin/backup"

// minAdminToken is the shortest admin token accepted.
const minAdminToken = 16

// backupStall is how long a backup's reader may take no bytes before the
// server gives up: the copy's read transaction stays open while it is
// streamed, and with it the pages freed meanwhile.
const backupStall = 30 * time.Second

// adminHandler serves the database's copy to a request that carries the
// admin token; one copy at a time.
func adminHandler(db *store.DB, token secret, log *slog.Logger) http.Handler {
	want := sha256.Sum256([]byte(token.Reveal()))
	var busy sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		// Comparing hashes compares equal lengths in constant time: the
		// comparison tells nothing about the token, not even its length.
		sum := sha256.Sum256([]byte(got))
		if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			log.Warn("admin request refused: wrong or missing token", "path", r.URL.Path)
			w.Header().Set("WWW-Authenticate", "Bearer")
			http.Error(w, "unauthorised", http.StatusUnauthorized)
			return
		}
		if !busy.TryLock() {
			http.Error(w, "a backup is being taken already", http.StatusConflict)
			return
		}
		defer busy.Unlock()
		rc := http.NewResponseController(w)
		t0 := time.Now()
		started := false
		n, err := db.BackupTo(&deadlineWriter{w: w, rc: rc}, func(size int64) {
			started = true
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Length", fmt.Sprint(size))
			w.Header().Set("Content-Disposition", `attachment; filename="`+backupName(time.Now())+`"`)
		})
		if err != nil {
			log.Error("backup for an admin request failed", "bytes", n, "err", err)
			if !started {
				http.Error(w, "the backup could not be taken; see the log", http.StatusInternalServerError)
			}
			// Otherwise the status is sent; the client sees a body shorter
			// than its length and throws the copy away.
			return
		}
		log.Info("backup streamed", "bytes", n, "took", time.Since(t0).Round(time.Millisecond))
	})
}

// deadlineWriter gives each write backupStall, however long the whole
// copy takes (the server's write timeout is for short answers).
type deadlineWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	d.rc.SetWriteDeadline(time.Now().Add(backupStall))
	return d.w.Write(p)
}

// verifyCopy opens a copy read only and checks it as `ampel db check`
// does: it must be an ampel database this binary can open, every record
// must read back and bbolt's own check must pass.
func verifyCopy(path string) (store.Report, error) {
	r, err := store.InspectFile(path)
	if err != nil {
		return r, err
	}
	switch {
	case r.Schema == 0:
		return r, fmt.Errorf("%s is not an ampel database (it has no schema version)", path)
	case r.Schema > store.SchemaVersion():
		return r, fmt.Errorf("%s has schema %d, newer than this ampel understands (%d); use a newer ampel", path, r.Schema, store.SchemaVersion())
	case len(r.Damaged) > 0:
		return r, fmt.Errorf("%s fails the check: %d damaged records or pages, the first: %s", path, len(r.Damaged), r.Damaged[0])
	}
	return r, nil
}

// writeVerified writes a database file to path: fill writes it to
// path.tmp, which is fsynced, verified, and then renamed to path, after
// before (if not nil) has run; the directory is fsynced last. On any
// failure path.tmp is removed and path left as it was.
func writeVerified(path string, fill func(io.Writer) error, before func() error) (store.Report, error) {
	if err := spool(path, fill); err != nil {
		return store.Report{}, err
	}
	return settle(path, before)
}

// spool is writeVerified's first half: fill writes path.tmp.
func spool(path string, fill func(io.Writer) error) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	err = fill(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	return nil
}

// settle is writeVerified's second half: path.tmp is fsynced, verified,
// and renamed to path after before has run.
func settle(path string, before func() error) (r store.Report, err error) {
	tmp := path + ".tmp"
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	f, err := os.OpenFile(tmp, os.O_RDWR, 0)
	if err != nil {
		return r, err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return r, fmt.Errorf("sync %s: %w", tmp, err)
	}
	if r, err = verifyCopy(tmp); err != nil {
		return r, err
	}
	if before != nil {
		if err = before(); err != nil {
			return r, err
		}
	}
	if err = os.Rename(tmp, path); err != nil {
		return r, err
	}
	return r, syncDir(filepath.Dir(path))
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// ctxWriter stops a copy when ctx is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// backupFile writes a verified copy of db to path.
func backupFile(ctx context.Context, db *store.DB, path string) (store.Report, error) {
	return writeVerified(path, copyOf(ctx, db), nil)
}

// copyOf fills a file with a copy of db.
func copyOf(ctx context.Context, db *store.DB) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := db.BackupTo(ctxWriter{ctx, w}, nil)
		return err
	}
}

// backupNameLayout names the copies in --backup-dir by their UTC time, so
// that they sort by age.
const backupNameLayout = "ampel-20060102T150405Z.db"

var backupNameRE = regexp.MustCompile(`^ampel-\d{8}T\d{6}Z\.db$`)

func backupName(t time.Time) string { return t.UTC().Format(backupNameLayout) }

// scheduledBackups keeps the newest keep copies of db in dir, one every
// every. Its clock and timer are fields so that tests step them.
type scheduledBackups struct {
	db    *store.DB
	dir   string
	every time.Duration
	keep  int
	log   *slog.Logger
	now   func() time.Time
	after func(time.Duration) <-chan time.Time
}

// copies lists the copies in dir, oldest first; other files are not ours
// and are left alone.
func (b *scheduledBackups) copies() ([]string, error) {
	entries, err := os.ReadDir(b.dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && backupNameRE.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// next says when the next copy is due: every after the newest, so that a
// process restarted often neither skips copies nor churns through them.
func (b *scheduledBackups) next() time.Time {
	names, err := b.copies()
	if err != nil || len(names) == 0 {
		return b.now()
	}
	t, err := time.Parse(backupNameLayout, names[len(names)-1])
	if err != nil {
		return b.now()
	}
	return t.Add(b.every)
}

// once writes a new copy, verifies it, and only then removes the oldest
// copies beyond keep.
func (b *scheduledBackups) once(ctx context.Context) error {
	path := filepath.Join(b.dir, backupName(b.now()))
	t0 := time.Now()
	r, err := backupFile(ctx, b.db, path)
	if err != nil {
		return err
	}
	names, err := b.copies()
	if err != nil {
		return err
	}
	var removed int
	for len(names)-removed > b.keep {
		if err := os.Remove(filepath.Join(b.dir, names[removed])); err != nil {
			return fmt.Errorf("remove old backup: %w", err)
		}
		removed++
	}
	b.log.Info("backup written", "file", path, "conversations", r.Conversations, "removed_old", removed,
		"took", time.Since(t0).Round(time.Millisecond))
	return nil
}

// run writes copies until ctx is done. A failed copy is logged, leaves
// the older copies, and is tried again after an hour (or every, if
// shorter).
func (b *scheduledBackups) run(ctx context.Context) {
	due := b.next()
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.after(max(due.Sub(b.now()), 0)):
		}
		if err := b.once(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			b.log.Error("backup failed; the older copies are kept", "dir", b.dir, "err", err)
			due = b.now().Add(min(b.every, time.Hour))
			continue
		}
		due = b.next()
	}
}

// adminURL turns an --http-addr into the URL a client on the same machine
// (or, given a host, elsewhere) reaches it at: ":8080" and "0.0.0.0:8080"
// are this machine; a full URL (https://…) is taken as it is.
func adminURL(addr string) (string, error) {
	if addr == "" {
		return "", errors.New("no address: give --http-addr or set AMPEL_HTTP_ADDR (e.g. 127.0.0.1:8080)")
	}
	if strings.Contains(addr, "://") {
		return strings.TrimSuffix(addr, "/"), nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("address %q: %w", addr, err)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

// clientAddr is the --http-addr flag of the commands that talk to a
// running ampel.
func clientAddr(fset *flag.FlagSet, getenv func(string) string) *string {
	return fset.String("http-addr", getenv("AMPEL_HTTP_ADDR"), "address of the running ampel's HTTP server [AMPEL_HTTP_ADDR]")
}

// runBackup is `ampel backup --to FILE`: it asks the running ampel for a
// copy of its database and writes it, verified, to FILE.
func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fset := newFlagSet("ampel backup", stderr)
	to := fset.String("to", "", "file to write the copy to (must not exist)")
	addr := clientAddr(fset, getenv)
	if err := fset.Parse(args); err != nil {
		return err
	}
	if fset.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see ampel help)", fset.Arg(0))
	}
	if *to == "" {
		return errors.New("usage: ampel backup --to FILE [--http-addr ADDR]")
	}
	if _, err := os.Lstat(*to); err == nil {
		return fmt.Errorf("%s exists; choose a new name (a backup never replaces a file)", *to)
	}
	token, err := readSecret(getenv, "AMPEL_ADMIN_TOKEN")
	if err != nil {
		return err
	}
	if token == "" {
		return errors.New("AMPEL_ADMIN_TOKEN (or AMPEL_ADMIN_TOKEN_FILE) must be set to the running ampel's admin token")
	}
	base, err := adminURL(*addr)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+backupPath, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token.Reveal())
	client := &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: time.Minute,
	}}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized:
		return errors.New("backup: the running ampel refused the admin token")
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return fmt.Errorf("backup: %s has no admin endpoint; is AMPEL_ADMIN_TOKEN set where ampel runs?", base)
	default:
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return fmt.Errorf("backup: %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	r, err := writeVerified(*to, func(w io.Writer) error {
		_, err := io.Copy(w, resp.Body)
		return err
	}, nil)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	st, _ := os.Stat(*to)
	fmt.Fprintf(stdout, "%s: %d bytes, checked: schema %d; %d conversations, %d records, %d outbox messages, %d reminders\n",
		*to, st.Size(), r.Schema, r.Conversations, r.Records, r.Outbox, r.Reminders)
	return nil
}

// runRestore is `ampel restore --from FILE --db PATH`: it puts a checked
// copy in place of a database no ampel has open, keeping the file it
// replaces as PATH.before-restore.
func runRestore(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fset := newFlagSet("ampel restore", stderr)
	from := fset.String("from", "", "the backup to restore")
	path := fset.String("db", dbDefault(getenv), "the database file to replace [AMPEL_DB]")
	if err := fset.Parse(args); err != nil {
		return err
	}
	if fset.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see ampel help)", fset.Arg(0))
	}
	if *from == "" {
		return errors.New("usage: ampel restore --from FILE [--db PATH]")
	}
	// The copy is checked where it is, so that a refusal names it, and
	// again where it is copied to, before it replaces anything.
	if _, err := os.Stat(*from); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if _, err := verifyCopy(*from); err != nil {
		return fmt.Errorf("restore refused: %w", err)
	}
	src, err := os.Open(*from)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer src.Close()
	// Held to the end, so that no ampel opens the old file meanwhile.
	release, err := store.Hold(*path)
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("restore: %s is open in a running ampel; stop it first (restoring under it would lose what it writes next)", *path)
	}
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer release()
	old := *path + ".before-restore"
	if _, err := os.Lstat(old); err == nil {
		return fmt.Errorf("restore: %s exists from an earlier restore; move it away first", old)
	}
	_, exists := os.Lstat(*path)
	r, err := writeVerified(*path, func(w io.Writer) error {
		_, err := io.Copy(w, src)
		return err
	}, func() error {
		if exists != nil {
			return nil
		}
		return keepOld(*path, old)
	})
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(stdout, "%s restored from %s: schema %d; %d conversations, %d records, %d outbox messages, %d reminders\n",
		*path, *from, r.Schema, r.Conversations, r.Records, r.Outbox, r.Reminders)
	if exists == nil {
		fmt.Fprintf(stdout, "the file it replaced is %s\n", old)
	}
	return nil
}

// keepOld keeps the file at path also as old: a hard link, so that path
// is never missing (an ampel started meanwhile would create an empty
// database there), or a copy where links are not supported.
func keepOld(path, old string) error {
	if err := os.Link(path, old); err == nil {
		return nil
	}
	in, err := os.Open(path)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(old, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(old)
		return fmt.Errorf("keep %s: %w", old, err)
	}
	return nil
}

// dbDefault is the database path when --db is not given.
func dbDefault(getenv func(string) string) string {
	if v := getenv("AMPEL_DB"); v != "" {
		return v
	}
	return "ampel.db"
}

// runHealth is `ampel health`: it asks the running ampel's /healthz and
// fails unless it answers 200. The container's HEALTHCHECK runs it (the
// image has no shell and no curl).
func runHealth(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fset := newFlagSet("ampel health", stderr)
	addr := clientAddr(fset, getenv)
	if err := fset.Parse(args); err != nil {
		return err
	}
	base, err := adminURL(*addr)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("unhealthy: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unhealthy: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprintln(stdout, strings.TrimSpace(string(body)))
	return nil
}
