package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ampel-bot/ampel/adapters/console"
	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/store"
)

// damageRecord makes the stored conversation under key unreadable, as a
// stray write on the disk would: the length its compressed form claims
// becomes 4 GB. Old copies in freed pages are hit too, harmlessly.
func damageRecord(t *testing.T, path, key string) {
	t.Helper()
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	needle := append([]byte(key), 0x01) // the key, then the record's tag
	n := 0
	for off := 0; ; n++ {
		i := bytes.Index(file[off:], needle)
		if i < 0 {
			break
		}
		copy(file[off+i+len(needle):], []byte{0xff, 0xff, 0xff, 0xff, 0x0f})
		off += i + 1
	}
	if n == 0 {
		t.Fatalf("no record of %s in the file", key)
	}
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDBCheckAndQuarantine: ampel db check finds a damaged conversation;
// the bot apologises to its chat and sets it aside; ampel db quarantine
// lists it; with --on-damage fresh the chat starts afresh.
func TestDBCheckAndQuarantine(t *testing.T) {
	db := tempDB(t)
	key := console.Address().Key()
	if r := runAmpel(t, german, lines("/check zo-kmu", "1"), "--db", db); r.err != nil {
		t.Fatalf("first run: %v\n%s", r.err, r.errOut)
	}
	r := runAmpel(t, env(), nil, "db", "check", "--db", db)
	if r.err != nil || !strings.Contains(r.out, db+": OK: schema 5; 1 conversations, 0 records, 0 outbox messages, 0 reminders read") {
		t.Fatalf("db check on a healthy file: %v\n%s", r.err, r.out)
	}
	r = runAmpel(t, env(), nil, "db", "quarantine", "--db", db)
	if r.err != nil || r.out != "nothing set aside\n" {
		t.Errorf("db quarantine on a healthy file: %v, %q", r.err, r.out)
	}

	damageRecord(t, db, key)
	r = runAmpel(t, env("AMPEL_DB", db), nil, "db", "check")
	if r.err == nil || !strings.Contains(r.out, "DAMAGED") ||
		!strings.Contains(r.out, "damaged: conversation "+key+": does not decode: uncompress: record claims 4294967295 bytes") {
		t.Errorf("db check on a damaged record: %v\n%s", r.err, r.out)
	}

	r = runAmpel(t, german, lines("/check zo-kmu"), "--db", db)
	if r.err != nil {
		t.Fatalf("run on the damaged file: %v\n%s", r.err, r.errOut)
	}
	if !strings.Contains(r.out, "Ihre gespeicherten Angaben lassen sich gerade nicht lesen") || strings.Contains(r.out, "1/7") {
		t.Errorf("the damaged chat's reply:\n%s", r.out)
	}
	if !strings.Contains(r.errOut, "conversation set aside") || !strings.Contains(r.errOut, "ref="+store.Ref(key)) || strings.Contains(r.errOut, key) {
		t.Errorf("log: want the record set aside, named by its reference and not by its chat; got:\n%s", r.errOut)
	}

	r = runAmpel(t, env(), nil, "db", "quarantine", "--db", db)
	if r.err != nil || !matches(`(?m)^conversation\s+`+regexp.QuoteMeta(key)+`\s+`+store.Ref(key)+`\s+\S+\s+held\s+\d+\s+does not decode`, r.out) {
		t.Errorf("db quarantine after the bot met it: %v\n%s", r.err, r.out)
	}
	r = runAmpel(t, env(), nil, "db", "check", "--db", db)
	if r.err != nil || !strings.Contains(r.out, ": OK: ") || !strings.Contains(r.out, "set aside: 1 (conversations among them waiting for a new start: 1)") {
		t.Errorf("db check once it is set aside: %v\n%s", r.err, r.out)
	}

	r = runAmpel(t, german, lines("/check zo-kmu"), "--db", db, "--on-damage", "fresh")
	if r.err != nil || !strings.Contains(r.out, "Wir fangen deshalb neu an") || !strings.Contains(r.out, "1/7") {
		t.Errorf("with --on-damage fresh: %v\n%s", r.err, r.out)
	}
	dump := filepath.Join(t.TempDir(), "aside")
	r = runAmpel(t, env(), nil, "db", "quarantine", "--db", db, "--dump", dump)
	if r.err != nil || !matches(`(?m)^conversation\s+`+regexp.QuoteMeta(key)+`\s+\S+\s+\S+\s+released\s`, r.out) {
		t.Errorf("db quarantine after the new start: %v\n%s", r.err, r.out)
	}
	raw, err := os.ReadFile(filepath.Join(dump, "001-conversation-"+store.Ref(key)+".bin"))
	if err != nil || !bytes.HasPrefix(raw, []byte{0x01, 0xff, 0xff, 0xff, 0xff, 0x0f}) {
		t.Errorf("dumped record: %x, %v; want the record as it was found", raw[:min(len(raw), 8)], err)
	}

	if r := runAmpel(t, env(), nil, "db", "check", "--db", filepath.Join(t.TempDir(), "none.db")); r.err == nil {
		t.Errorf("db check of a missing file: want an error")
	}
	if r := runAmpel(t, env(), nil, "db", "repair"); r.err == nil || !strings.Contains(r.err.Error(), "usage: ampel db check|quarantine") {
		t.Errorf("db repair: got %v, want the usage", r.err)
	}
}

func matches(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }

// TestDBCheckAndRestoreSeeRecords: a file holding a team's record (and
// where its live message is shown) passes ampel db check, which counts
// the record, and a copy of it restores with the record.
func TestDBCheckAndRestoreSeeRecords(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ampel.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	channel := bot.Address{Platform: "slack", Workspace: "T1", Chat: "C1"}
	q, err := db.CommitBatch(t.Context(), &bot.Batch{EventID: "team-start", Key: channel.Key(),
		Convs:   []bot.ConvWrite{{Key: channel.Key(), Conv: &bot.Conversation{Lang: "de"}}},
		Records: []bot.RecordWrite{{Ref: bot.RecordRef{Kind: "team", ID: "ab12"}, Data: []byte(`{"flow":"zo-kmu"}`)}},
		Outs:    []bot.Outgoing{{To: channel, Msg: bot.Message{Text: "0 of 5", Live: "team:ab12"}}}})
	if err == nil {
		err = db.SetLive(t.Context(), channel.Key(), "team:ab12", bot.LiveRef{Ref: "1.2", ID: q[0].ID})
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	r := runAmpel(t, env(), nil, "db", "check", "--db", path)
	if r.err != nil || !strings.Contains(r.out, ": OK: schema 5; 1 conversations, 1 records, 1 outbox messages") {
		t.Fatalf("db check: %v\n%s", r.err, r.out)
	}
	copyPath := filepath.Join(dir, "copy.db")
	copyFile(t, path, copyPath)
	restored := filepath.Join(dir, "restored.db")
	r = runAmpel(t, env(), nil, "restore", "--from", copyPath, "--db", restored)
	if r.err != nil || !strings.Contains(r.out, "1 conversations, 1 records, 1 outbox messages") {
		t.Fatalf("restore: %v\n%s", r.err, r.out)
	}
}
