package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/ampel-bot/ampel/adapters/mattermost"
	"github.com/ampel-bot/ampel/adapters/slack"
	"github.com/ampel-bot/ampel/adapters/telegram"
	"github.com/ampel-bot/ampel/bot"
)

// redelivery is how long each platform may deliver an event again, for the
// store's window of remembered event IDs.
var redelivery = map[string]time.Duration{
	telegram.Platform:   telegram.Redelivery,
	slack.Platform:      slack.Redelivery,
	mattermost.Platform: mattermost.Redelivery,
}

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
			Commands: engine.Commands, Langs: engine.Langs(), Log: component(log, telegram.Platform), Observer: engine.Observer(),
		})
		if err != nil {
			return nil, nil, fmt.Errorf("telegram: %w", err)
		}
		adapters = append(adapters, tg)
		if cfg.TelegramWebhook != "" {
			handlers["POST /telegram/webhook"] = tg.WebhookHandler(engine)
		}
	}
	if tok := cfg.SlackBotToken.Reveal(); tok != "" {
		if cfg.SlackSigning != "" && cfg.HTTPAddr == "" {
			return nil, nil, fmt.Errorf("AMPEL_SLACK_SIGNING_SECRET (HTTP mode) needs AMPEL_HTTP_ADDR to serve Slack's requests on")
		}
		ping, err := time.ParseDuration(cfg.SlackPing)
		if err != nil || ping < 0 {
			return nil, nil, fmt.Errorf("slack ping interval %q: use a duration such as 30s", cfg.SlackPing)
		}
		sl, err := slack.New(ctx, slack.Config{
			BotToken: tok, AppToken: cfg.SlackAppToken.Reveal(), SigningSecret: cfg.SlackSigning.Reveal(),
			APIURL: cfg.SlackAPI, PingInterval: ping, Commands: engine.Commands, Plan: engine.PlanView,
			Log: component(log, slack.Platform), Observer: engine.Observer(),
		})
		if err != nil {
			return nil, nil, err
		}
		adapters = append(adapters, sl)
		for path, h := range sl.HTTPHandlers(engine) {
			handlers[path] = h
		}
	} else if cfg.SlackAppToken != "" || cfg.SlackSigning != "" {
		return nil, nil, fmt.Errorf("Slack needs AMPEL_SLACK_BOT_TOKEN too")
	}
	switch tok := cfg.MattermostToken.Reveal(); {
	case tok != "" && cfg.MattermostURL != "":
		if (cfg.MattermostCB != "" || cfg.MattermostCommand != "") && cfg.HTTPAddr == "" {
			return nil, nil, fmt.Errorf("Mattermost buttons and the slash command need AMPEL_HTTP_ADDR to serve them on")
		}
		mm, err := mattermost.New(ctx, mattermost.Config{
			URL: cfg.MattermostURL, Token: tok, CallbackURL: cfg.MattermostCB,
			CommandToken: cfg.MattermostCommand.Reveal(), Log: component(log, mattermost.Platform), Observer: engine.Observer(),
		})
		if err != nil {
			return nil, nil, err
		}
		adapters = append(adapters, mm)
		for path, h := range mm.HTTPHandlers(engine) {
			handlers[path] = h
		}
	case tok != "" || cfg.MattermostURL != "":
		return nil, nil, fmt.Errorf("Mattermost needs both AMPEL_MATTERMOST_URL and AMPEL_MATTERMOST_TOKEN")
	}
	return adapters, handlers, nil
}
