package telegram

import (
	"bytes"
	"image"
	_ "image/jpeg" // pictures Telegram shows as photos
	_ "image/png"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/ampel-bot/ampel/bot"
)

// Files implements bot.FileAdapter: the adapter sends a message's files,
// so the result picture comes with a check's result.
func (a *Adapter) Files() bool { return true }

// Telegram's limits on a photo (Bot API, sendPhoto): 10 MB, width and
// height together at most 10,000 pixels, the one at most 20 times the other.
const (
	maxPhotoBytes = 10 << 20
	maxPhotoSides = 10000
	maxPhotoRatio = 20
)

// filePart is the request that sends one file, with the keyboard kb if it
// carries the message's buttons: a picture Telegram can show (a PNG or
// JPEG within its photo limits, the result picture) as a photo, seen in
// the chat at once; anything else (a PDF, a table, a calendar), and a
// picture Telegram would refuse as a photo, as a document.
func filePart(chat int64, f bot.File, kb any) part {
	name := f.Name
	if name == "" {
		name = "file"
	}
	data := tgbotapi.FileBytes{Name: name, Bytes: f.Data}
	if photo(f) {
		p := tgbotapi.NewPhoto(chat, data)
		if kb != nil {
			p.ReplyMarkup = kb
		}
		return part{p, "sendPhoto", kb != nil}
	}
	doc := tgbotapi.NewDocument(chat, data)
	if kb != nil {
		doc.ReplyMarkup = kb
	}
	return part{doc, "sendDocument", kb != nil}
}

// photo reports whether Telegram takes f as a photo.
func photo(f bot.File) bool {
	if f.MIME != "image/png" && f.MIME != "image/jpeg" || len(f.Data) > maxPhotoBytes {
		return false
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(f.Data))
	if err != nil {
		return false
	}
	w, h := cfg.Width, cfg.Height
	return w > 0 && h > 0 && w+h <= maxPhotoSides && max(w, h) <= maxPhotoRatio*min(w, h)
}
