package main

import (
	"log/slog"
	"testing"

	"github.com/ampel-bot/ampel/internal/heaptest"
)

// What a server keeps of its content from start to end, before any user
// comes: the checks, every language's message IDs and vocabulary, and the
// default language's messages. It was 2.4 MB of live heap (1.75 times that
// in memory at the GC target): the files' bytes, and through the parsed
// texts the TOML parser's copy of whole files, were kept as well, a bundle
// per language for the vocabulary, a map of message IDs per language, and
// over half a kilobyte of the library's per message of the default language
// and of every language's vocabulary (1.0 MB with only the last two, 0.48
// MB with only the last; now 0.36 MB).
func TestContentKeepsLittle(t *testing.T) {
	n := heaptest.Live(func() any {
		catalog, texts, err := loadContent(Config{}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return []any{catalog, texts}
	})
	if n > 450<<10 {
		t.Errorf("the loaded content keeps %d KB live, want at most 450 KB", n>>10)
	}
}
