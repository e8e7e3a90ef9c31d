package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/ampel-bot/ampel/adapters/telegram"
	"github.com/ampel-bot/ampel/bot"
)

// platformAdapters builds the adapters whose credentials are configured,
// and the HTTP handlers they serve, by path.
func platformAdapters(ctx context.Context, cfg Config, engine *bot.Engine, log *slog.Logger) ([]bot.Adapter, map[string]http.Handler, error) {
	var adapters []bot.Adapter
	handlers := map[string]http.Handler{}
	if tok := cfg.TelegramToken.Reveal(); tok != "" {
		if cfg.TelegramWebhook != "" && cfg.HTTPAddr == "" {
			return nil, nil, fmt.Errorf("AMPEL_TELEGRAM_WEBHOOK_URL needs AMPEL_HTTP_ADDR to serve it on")
		}
		tg, err := telegram.New(ctx, telegram.Config{
			Token: tok, APIURL: cfg.TelegramAPI, WebhookURL: cfg.TelegramWebhook,
			Commands: engine.Commands, Langs: engine.Langs(), Log: log.With("platform", telegram.Platform),
		})
		if err != nil {
			return nil, nil, fmt.Errorf("telegram: %w", err)
		}
		adapters = append(adapters, tg)
		if cfg.TelegramWebhook != "" {
			handlers["POST /telegram/webhook"] = tg.WebhookHandler(engine)
		}
	}
	return adapters, handlers, nil
}
