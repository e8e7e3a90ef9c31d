package main

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/ampel-bot/ampel/bot"
)

// platformAdapters builds the adapters whose credentials are configured,
// and the HTTP handlers they serve, by path.
func platformAdapters(ctx context.Context, cfg Config, engine *bot.Engine, log *slog.Logger) ([]bot.Adapter, map[string]http.Handler, error) {
	return nil, map[string]http.Handler{}, nil
}
