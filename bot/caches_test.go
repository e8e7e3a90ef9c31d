package bot

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

func count(m *sync.Map) int {
	n := 0
	m.Range(func(any, any) bool { n++; return true })
	return n
}

// TestCachesKeyedByInputStayBounded: message IDs, language hints and time
// zone names that users or clients choose cannot grow the engine's caches
// without end, and an ID nobody shipped reaches the log only as a length
// and a hash.
func TestCachesKeyedByInputStayBounded(t *testing.T) {
	var logs bytes.Buffer
	texts := shippedTexts(t, slog.NewTextHandler(&logs, nil))
	if got := texts.T("de", "priority.high"); got == "" || got == "priority.high" {
		t.Fatalf("T(priority.high): got %q, want the shipped text", got)
	}
	plain := func() int {
		n := 0
		for _, l := range texts.loc {
			n += count(&l.plain)
		}
		return n
	}
	before := plain()
	for i := range 3000 {
		texts.T("de", fmt.Sprintf("priority.</b><script>%d", i))
		texts.T(fmt.Sprintf("xx%d", i), "priority.high")
	}
	if got := plain(); got != before {
		t.Errorf("rendered-text cache: got %d entries after 6000 unknown IDs and languages, want %d as before", got, before)
	}
	if strings.Contains(logs.String(), "script") {
		t.Errorf("the log shows an ID a user chose:\n%.300s", logs.String())
	}
	if !strings.Contains(logs.String(), "id_len=") {
		t.Errorf("the log does not mention the unknown ID at all:\n%.300s", logs.String())
	}
	for i := range 3000 {
		texts.Supported(fmt.Sprintf("en-x-%d", i))
	}
	if got := count(&texts.matched); got > 1024 {
		t.Errorf("language hint cache: got %d entries after 3000 distinct hints, want at most %d", got, 1024)
	}
	if l, ok := texts.Supported("en-GB"); l != "en" || !ok {
		t.Errorf("Supported(en-GB) with a full cache: got %q, %v, want en, true", l, ok)
	}

	var z zoneCache
	for i := range 1100 {
		if _, err := z.load("Europe/" + strings.Repeat("./", i) + "Berlin"); err != nil {
			t.Fatalf("load: %v", err)
		}
	}
	if got := count(&z.m); got > 1024 {
		t.Errorf("zone cache: got %d entries, want at most %d", got, 1024)
	}
	// An odd spelling may be understood, but only ever as the zone's own
	// name: what is stored and cached is one of the database's names.
	for _, typed := range []string{"Europe//Berlin", "Europe/./Berlin", "Europe/Berlin/"} {
		if loc, ok := (&dateVocab{}).findZone(typed); ok && loc.String() != "Europe/Berlin" {
			t.Errorf("findZone(%q): got %q, want it refused or read as Europe/Berlin", typed, loc)
		}
	}
	if loc, ok := (&dateVocab{}).findZone("Europe/Berlin"); !ok || loc.String() != "Europe/Berlin" {
		t.Errorf("findZone(Europe/Berlin): got %v, %v", loc, ok)
	}
}
