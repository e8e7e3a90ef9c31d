package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/ampel-bot/ampel/store"
)

// runDB looks into the database file, read only: "check" reports what
// cannot be read, "quarantine" lists what the bot has set aside. Neither
// can run beside the bot on the same file (stop it, or look at a backup).
func runDB(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 1 || (args[0] != "check" && args[0] != "quarantine") {
		return errors.New("usage: ampel db check|quarantine [--db PATH]")
	}
	fset := newFlagSet("ampel db "+args[0], stderr)
	path := fset.String("db", dbDefault(getenv), "bbolt database file [AMPEL_DB]")
	var dump *string
	if args[0] == "quarantine" {
		dump = fset.String("dump", "", "also write each record set aside, as found, to a file in this directory")
	}
	if err := fset.Parse(args[1:]); err != nil {
		return err
	}
	if fset.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see ampel help)", fset.Arg(0))
	}
	if _, err := os.Stat(*path); err != nil {
		return fmt.Errorf("database: %w", err) // read only: never create one
	}
	if args[0] == "check" {
		return dbCheck(*path, stdout)
	}
	return dbQuarantine(*path, *dump, stdout)
}

func dbCheck(path string, stdout io.Writer) error {
	r, err := store.InspectFile(path)
	if err != nil {
		return err
	}
	status := "OK"
	if len(r.Damaged) > 0 {
		status = "DAMAGED"
	}
	fmt.Fprintf(stdout, "%s: %s: schema %d; %d conversations, %d records, %d outbox messages, %d reminders read\n",
		path, status, r.Schema, r.Conversations, r.Records, r.Outbox, r.Reminders)
	for _, d := range r.Damaged {
		fmt.Fprintf(stdout, "damaged: %s\n", d)
	}
	if r.SetAside > 0 {
		fmt.Fprintf(stdout, "set aside: %d (conversations among them waiting for a new start: %d); ampel db quarantine lists them\n", r.SetAside, r.Held)
	}
	if len(r.Damaged) > 0 {
		return fmt.Errorf("%d damaged records or pages; the bot sets a damaged record aside when it meets it, and --on-damage decides whether its chat starts afresh", len(r.Damaged))
	}
	return nil
}

func dbQuarantine(path, dump string, stdout io.Writer) error {
	entries, err := store.QuarantineFile(path)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		fmt.Fprintln(stdout, "nothing set aside")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "kind\tkey\tref\tset aside\tstate\tbytes\treason")
	for _, e := range entries {
		ref := e.Ref
		if ref == "" {
			ref = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", e.Kind, e.Key, ref, e.At.Format(time.RFC3339), e.State, len(e.Raw), e.Reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if dump == "" {
		return nil
	}
	if err := os.MkdirAll(dump, 0o700); err != nil {
		return err
	}
	for i, e := range entries {
		name := fmt.Sprintf("%03d-%s-%s.bin", i+1, e.Kind, e.Ref)
		if e.Ref == "" {
			name = fmt.Sprintf("%03d-%s-%s.bin", i+1, e.Kind, e.Key)
		}
		if err := os.WriteFile(filepath.Join(dump, name), e.Raw, 0o600); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "%d records written to %s\n", len(entries), dump)
	return nil
}
