package telegram

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/ampel-bot/ampel/bot"
)

// maxWebhookBody bounds an update; real ones are a few kilobytes.
const maxWebhookBody = 1 << 20

// SecretHeader is the header in which Telegram sends the webhook's secret
// token.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// WebhookHandler serves Telegram's webhook requests (cmd mounts it at
// /telegram/webhook). A request without the right secret token is refused
// with 403 before its body is read, so that nobody but Telegram can make
// the bot parse, store or say anything. An update is handled synchronously
// and answered 200 only after h committed it; if h fails, the answer is
// 500 and Telegram delivers the update again, which the engine
// deduplicates by update_id.
func (a *Adapter) WebhookHandler(h bot.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Constant time, so that the secret cannot be found character by
		// character from response times.
		if subtle.ConstantTimeCompare([]byte(r.Header.Get(SecretHeader)), a.secret) != 1 {
			a.obs.Refused(Platform, bot.RefusedSignature)
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		var u tgbotapi.Update
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxWebhookBody)).Decode(&u); err != nil {
			if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
				http.Error(w, "update too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "bad update", http.StatusBadRequest)
			return
		}
		if err := a.handleUpdate(r.Context(), h, u); err != nil {
			a.log.Warn("telegram update not handled; Telegram will deliver it again", "update_id", u.UpdateID, "err", a.r.redact(err.Error()))
			http.Error(w, "not handled", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}
