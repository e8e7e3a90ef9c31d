package main

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestNetworkFSDecision: a database directory on NFS, SMB/CIFS, FUSE, 9p or
// CephFS is refused with the reason; local file systems (ext4, XFS, btrfs,
// tmpfs, overlayfs of a container) are not; --allow-network-fs turns the
// refusal into a warning.
func TestNetworkFSDecision(t *testing.T) {
	for _, tc := range []struct {
		magic uint32
		name  string // "" for a local file system
	}{
		{0x6969, "NFS"}, {0x517B, "SMB"}, {0xFE534D42, "SMB2"}, {0xFF534D42, "CIFS"},
		{0x65735546, "FUSE"}, {0x01021997, "9P"}, {0x00C36400, "CephFS"},
		{0xEF53, ""}, {0x58465342, ""}, {0x9123683E, ""}, {0x01021994, ""}, {0x794C7630, ""},
	} {
		ctx := context.WithValue(context.Background(), statfsKey{}, func(string) (uint32, error) { return tc.magic, nil })
		warning, err := checkFileSystem(ctx, "/data/ampel.db", false)
		if tc.name == "" {
			if err != nil || warning != "" {
				t.Errorf("%#x (local): %q, %v; want it allowed", tc.magic, warning, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%#x (%s): allowed, want a refusal", tc.magic, tc.name)
			continue
		}
		for _, want := range []string{"/data", tc.name, "network file system", "lock", "--allow-network-fs"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%#x: refusal %q does not say %q", tc.magic, err, want)
			}
		}
		warning, err = checkFileSystem(ctx, "/data/ampel.db", true)
		if err != nil || !strings.Contains(warning, tc.name) {
			t.Errorf("%#x with --allow-network-fs: %q, %v; want a warning naming %s", tc.magic, warning, err, tc.name)
		}
	}
	// A directory statfs cannot read is left to the store to report.
	ctx := context.WithValue(context.Background(), statfsKey{}, func(string) (uint32, error) { return 0, errors.New("no such directory") })
	if _, err := checkFileSystem(ctx, "/nowhere/ampel.db", false); err != nil {
		t.Errorf("statfs failing: %v", err)
	}
	// The real statfs of a temporary directory is a local file system here.
	if _, err := checkFileSystem(context.Background(), filepath.Join(t.TempDir(), "a.db"), false); err != nil {
		t.Errorf("a temporary directory: %v", err)
	}
}

// TestNetworkFSRefusedAtStart: ampel does not open a database on NFS; it
// says why and how to override; with --allow-network-fs it starts and
// logs a warning.
func TestNetworkFSRefusedAtStart(t *testing.T) {
	db := tempDB(t)
	nfs := context.WithValue(context.Background(), statfsKey{}, func(string) (uint32, error) { return 0x6969, nil })
	var out, errOut syncBuffer
	err := run(nfs, []string{"--db", db}, german, lines("/check"), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "NFS") {
		t.Fatalf("run on NFS = %v, want a refusal naming NFS", err)
	}
	if out.String() != "" {
		t.Errorf("the bot answered on NFS: %q", out.String())
	}
	if m, _ := filepath.Glob(db); len(m) != 0 {
		t.Error("the database file was created before the refusal")
	}
	err = run(nfs, []string{"--db", db, "--allow-network-fs"}, german, lines("/check zo-kmu"), &out, &errOut)
	if err != nil || !strings.Contains(out.String(), "1/7") {
		t.Fatalf("with --allow-network-fs: %v, output %q", err, out.String())
	}
	if !strings.Contains(errOut.String(), "level=WARN") || !strings.Contains(errOut.String(), "NFS") {
		t.Errorf("no warning logged:\n%s", errOut.String())
	}
	if err := run(nfs, []string{"--db", db, "--allow-network-fs=maybe"}, german, lines(), &out, &errOut); err == nil {
		t.Error("--allow-network-fs=maybe accepted")
	}
}
