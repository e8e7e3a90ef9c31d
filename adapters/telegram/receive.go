package telegram

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/ampel-bot/ampel/bot"
)

// allowedUpdates are the kinds of update the bot acts on; Telegram keeps
// the others away.
var allowedUpdates = []string{"message", "callback_query"}

// poll is the receiving loop of long-polling mode.
//
// The offset, which tells Telegram which updates are confirmed, lives in
// memory only, and it moves past an update only after h.Handle returned nil
// for it, which the engine does once the update's effects are committed
// together with its ID. Telegram keeps an update until a getUpdates with a
// higher offset confirms it, so:
//   - a crash (or a failed Handle) before that leaves the update
//     unconfirmed, and Telegram delivers it again: nothing is lost;
//   - a crash after the commit but before the next getUpdates also makes
//     Telegram deliver it again, and the engine, which stored the update's
//     ID in the same transaction as its effects, ignores it: nothing is
//     doubled.
//
// Persisting the offset would add nothing to that, which is why it is not.
// The library's GetUpdatesChan, in contrast, confirms a batch as soon as it
// has buffered it.
func (a *Adapter) poll(ctx context.Context, h bot.Handler) error {
	offset := 0
	deleteWebhook := true // getUpdates does not work while a webhook is set
	failures := 0
	fail := func() error {
		a.link.Down(time.Now(), a.backoffMin)
		failures++
		return a.pause(ctx, failures-1)
	}
	for ctx.Err() == nil {
		if deleteWebhook {
			if _, err := a.request(ctx, tgbotapi.DeleteWebhookConfig{}, "deleteWebhook"); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				if errors.Is(err, errUnauthorized) {
					return fmt.Errorf("telegram: the token was rejected; stopping: %w", err)
				}
				a.log.Warn("telegram deleteWebhook failed; retrying", "err", err)
				if fail() != nil {
					return nil
				}
				continue
			}
			deleteWebhook = false
		}
		updates, err := a.getUpdates(ctx, offset)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, errUnauthorized) {
				return fmt.Errorf("telegram: the token was rejected; stopping: %w", err)
			}
			if strings.Contains(err.Error(), "webhook is active") {
				deleteWebhook = true // someone set one meanwhile
			}
			a.log.Warn("telegram getUpdates failed; retrying", "err", err)
			if fail() != nil {
				return nil
			}
			continue
		}
		a.link.Up()
		next, failedID, err := a.handleBatch(ctx, h, updates, offset)
		offset = next
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			a.log.Warn("telegram update not handled; it will be fetched again", "update_id", failedID, "err", a.r.redact(err.Error()))
			if fail() != nil {
				return nil
			}
			continue
		}
		failures = 0
	}
	return nil
}

func (a *Adapter) getUpdates(ctx context.Context, offset int) ([]tgbotapi.Update, error) {
	cfg := tgbotapi.UpdateConfig{
		Offset: offset, Limit: 100, AllowedUpdates: allowedUpdates,
		// At least a second: 0 would be short polling, a busy loop.
		Timeout: max(1, int(a.cfg.PollTimeout/time.Second)),
	}
	c := &call{ctx: ctx, client: a.client}
	updates, err := a.with(c).GetUpdates(cfg)
	if err != nil {
		return nil, a.classify(ctx, c, "getUpdates", err)
	}
	return updates, nil
}

// handleBatch hands a batch of updates to h: the updates of each chat in
// order, different chats in parallel, so that one busy chat (whose replies
// wait for Telegram's per-chat limit) does not hold up the others. It
// returns the next offset: past the whole batch if every update was
// handled, else the first update that failed, so that it and everything
// after it is fetched again (updates already handled come back as
// duplicates and are ignored by the engine). A chat stops at its first
// failure, to keep its order.
func (a *Adapter) handleBatch(ctx context.Context, h bot.Handler, updates []tgbotapi.Update, offset int) (next, failedID int, err error) {
	if len(updates) == 0 {
		return offset, 0, nil
	}
	var order []string
	byChat := map[string][]tgbotapi.Update{}
	for _, u := range updates {
		k := chatOf(u)
		if _, ok := byChat[k]; !ok {
			order = append(order, k)
		}
		byChat[k] = append(byChat[k], u)
	}
	for _, u := range updates {
		if u.Message != nil && u.Message.MigrateToChatID != 0 {
			// A group moving to a new chat ID touches two chats: the
			// whole batch goes in order, one update after the other.
			order, byChat = []string{""}, map[string][]tgbotapi.Update{"": updates}
			break
		}
	}
	var mu sync.Mutex
	failedID = -1
	var wg sync.WaitGroup
	for _, k := range order {
		wg.Go(func() {
			for _, u := range byChat[k] {
				if e := a.handleUpdate(ctx, h, u); e != nil {
					mu.Lock()
					if failedID < 0 || u.UpdateID < failedID {
						failedID, err = u.UpdateID, e
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if failedID >= 0 {
		return failedID, failedID, err
	}
	// Past the newest of the batch, and not past the offset before it: a
	// week without updates makes Telegram number the next ones from a
	// random value, often lower than the old offset, which Telegram then
	// ignores and the batch would come again and again.
	next = 0
	for _, u := range updates {
		next = max(next, u.UpdateID+1)
	}
	return next, 0, nil
}

// chatOf is the chat an update belongs to, for ordering; "" for updates
// without one.
func chatOf(u tgbotapi.Update) string {
	switch {
	case u.Message != nil && u.Message.Chat != nil:
		return strconv.FormatInt(u.Message.Chat.ID, 10)
	case u.CallbackQuery != nil && u.CallbackQuery.Message != nil && u.CallbackQuery.Message.Chat != nil:
		return strconv.FormatInt(u.CallbackQuery.Message.Chat.ID, 10)
	}
	return ""
}

// handleUpdate processes one update, from polling or the webhook: the
// event goes to h, and once h has committed it, the pressed button (if
// any) is answered, so that the client stops its spinner, and the pressed
// message is edited to show the choice. Those calls run after it returned
// (see afterPress): the update is acknowledged (the offset moves, the
// webhook answers 200) without waiting for them, and so is the next update
// of the chat. It returns h's error, so that the update is delivered
// again, unless the error is bot.ErrDamaged.
func (a *Adapter) handleUpdate(ctx context.Context, h bot.Handler, u tgbotapi.Update) error {
	ev, cq, ok := a.event(u)
	if !ok {
		if cq != nil {
			a.afterPress(cq, false, false, u.UpdateID)
		}
		return nil
	}
	// Whether the pressed message carries the open question must be
	// known before the next one is sent.
	current := true
	if cq != nil {
		newest, known := a.kbs.Newest(cq.Message.Chat.ID)
		current = !known || newest == cq.Message.MessageID
	}
	hctx, refused := bot.WithRefusal(ctx)
	if err := h.Handle(hctx, ev); err != nil {
		if errors.Is(err, bot.ErrDamaged) {
			// Its conversation's record cannot be read or written, and
			// will not be on the next try either: fetching it again would
			// stall every update behind it. Anything else (a full disk)
			// may pass and is retried.
			a.log.Warn("telegram update skipped: its conversation's stored record is damaged", "update_id", u.UpdateID)
			if cq != nil {
				a.afterPress(cq, false, false, u.UpdateID) // stop the client's spinner
			}
			return nil
		}
		return err
	}
	if cq != nil {
		// A live message's buttons stay: the engine edits it. So do those
		// of a refused press (someone else's button): they are for
		// whoever may press them.
		mark := !a.live.Has(msgRef{cq.Message.Chat.ID, cq.Message.MessageID}) && !refused()
		a.afterPress(cq, mark, current, u.UpdateID)
	}
	return nil
}

// afterPress answers a pressed button's callback query at once, on a
// goroutine of its own (answered again if the update comes again; Telegram
// then says the query is too old, which does no harm), and, with mark,
// edits the pressed message after the chat's earlier edits (see
// showChoice). Both are best effort: the press is committed whatever
// happens here.
func (a *Adapter) afterPress(cq *tgbotapi.CallbackQuery, mark, current bool, updateID int) {
	a.after.Go("q:"+cq.ID, func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, afterTimeout)
		defer cancel()
		if _, err := a.request(ctx, tgbotapi.NewCallback(cq.ID, ""), "answerCallbackQuery"); err != nil {
			a.log.Info("telegram answerCallbackQuery failed", "update_id", updateID, "err", err)
		}
	})
	if mark {
		a.after.Go("c:"+strconv.FormatInt(cq.Message.Chat.ID, 10), func(ctx context.Context) {
			a.showChoice(ctx, cq, current, updateID)
		})
	}
}

// afterTimeout bounds the calls made after an update, the wait for the
// limiter included.
const afterTimeout = 2 * time.Minute

// anonymousAdmin is the sender Telegram shows for messages that a group's
// anonymous administrators write ("GroupAnonymousBot"); all of them share
// it.
const anonymousAdmin = 1087968824

// event translates an update into an engine event. cq is the callback
// query to answer, if the update is one; ok is false for updates the bot
// does not act on:
//   - messages without text (stickers, photos, service messages): the bot
//     has nothing to say to them;
//   - messages from bots, so that two bots cannot talk to each other
//     forever;
//   - channel posts and the copies of them Telegram forwards into a linked
//     discussion group: a channel broadcasts, nobody there is in a dialogue;
//   - commands addressed to another bot ("/start@other_bot") in a group.
//
// Messages in a group from an anonymous administrator, or from a user
// posting as a channel, have no person behind them that Telegram names.
// They are handled as the group's (the conversation belongs to the chat
// anyway) with an empty Address.User and no language hint, rather than
// dropped: an anonymous admin is often the very person running the
// group's check.
func (a *Adapter) event(u tgbotapi.Update) (ev bot.Event, cq *tgbotapi.CallbackQuery, ok bool) {
	id := strconv.Itoa(u.UpdateID)
	if q := u.CallbackQuery; q != nil {
		// Without the message (an inline message, or one too old for
		// Telegram to include) there is no chat to act in.
		if q.Data == "" || q.Message == nil || q.Message.Chat == nil || q.From == nil || q.From.IsBot {
			return ev, q, false
		}
		return bot.Event{
			ID: id, Action: q.Data, LangHint: q.From.LanguageCode, Group: !q.Message.Chat.IsPrivate(),
			UserName: strings.TrimSpace(q.From.FirstName + " " + q.From.LastName),
			Addr:     bot.Address{Platform: Platform, Chat: strconv.FormatInt(q.Message.Chat.ID, 10), User: strconv.FormatInt(q.From.ID, 10)},
		}, q, true
	}
	m := u.Message
	if m != nil && m.Chat != nil && m.MigrateToChatID != 0 {
		// The group became a supergroup with a new ID: its conversation
		// moves there. (The supergroup's matching migrate_from message
		// has no text and is ignored: one move is enough.)
		return bot.Event{
			ID: id, Addr: bot.Address{Platform: Platform, Chat: strconv.FormatInt(m.Chat.ID, 10)},
			MovedTo: strconv.FormatInt(m.MigrateToChatID, 10),
		}, nil, true
	}
	if m != nil && m.Chat != nil && m.LeftChatMember != nil {
		return a.left(id, m)
	}
	if m == nil || m.Chat == nil || m.Text == "" || m.IsAutomaticForward || m.Chat.IsChannel() {
		return ev, nil, false
	}
	ev = bot.Event{ID: id, Text: m.Text, Addr: bot.Address{Platform: Platform, Chat: strconv.FormatInt(m.Chat.ID, 10)},
		Group: !m.Chat.IsPrivate()}
	switch {
	case m.SenderChat != nil || (m.From != nil && m.From.ID == anonymousAdmin):
		// chat-only, see above
	case m.From == nil || m.From.IsBot:
		return ev, nil, false
	default:
		ev.Addr.User = strconv.FormatInt(m.From.ID, 10)
		ev.LangHint = m.From.LanguageCode
		ev.UserName = strings.TrimSpace(m.From.FirstName + " " + m.From.LastName)
	}
	if a.forOtherBot(m.Text) {
		return ev, nil, false
	}
	if (m.Chat.IsGroup() || m.Chat.IsSuperGroup()) && !a.addressed(m) {
		// Group talk that is not for the bot (privacy mode off, or a
		// member chatting) must not get a hint after every message.
		return ev, nil, false
	}
	switch {
	case a.self == "":
	case !strings.HasPrefix(ev.Text, "/"):
		// "@ampel_bot 2" answers 2: the mention only addressed the bot.
		ev.Text = strings.TrimSpace(a.mention.ReplaceAllString(ev.Text, ""))
	default:
		// "/check@ampel_bot zo-kmu" is "/check zo-kmu" (forOtherBot left
		// out the commands for other bots).
		end := strings.IndexFunc(ev.Text, unicode.IsSpace)
		if end < 0 {
			end = len(ev.Text)
		}
		if at := strings.IndexByte(ev.Text[:end], '@'); at >= 0 {
			ev.Text = ev.Text[:at] + ev.Text[end:]
		}
	}
	return ev, nil, true
}

// left translates a message saying that someone left the group or was
// removed from it (left_chat_member, a service message Telegram sends to
// every bot in the group, privacy mode or not) into a Left event; its ID
// is the update's, the same on every redelivery. The bot's own removal
// comes without a user (see bot.Event.Left); other bots leaving are no
// event, as nothing they say is heard.
func (a *Adapter) left(id string, m *tgbotapi.Message) (ev bot.Event, cq *tgbotapi.CallbackQuery, ok bool) {
	who := m.LeftChatMember
	if m.Chat.IsPrivate() || m.Chat.IsChannel() || (who.IsBot && who.ID != a.selfID) {
		return ev, nil, false
	}
	ev = bot.Event{ID: id, Left: true, Group: true, Addr: bot.Address{Platform: Platform, Chat: strconv.FormatInt(m.Chat.ID, 10)}}
	if who.ID != a.selfID {
		ev.Addr.User = strconv.FormatInt(who.ID, 10)
		ev.UserName = strings.TrimSpace(who.FirstName + " " + who.LastName)
	}
	return ev, nil, true
}

// addressed reports whether a group message is for the bot: a command, a
// reply to one of its messages, or a mention of its name.
func (a *Adapter) addressed(m *tgbotapi.Message) bool {
	if strings.HasPrefix(m.Text, "/") {
		return true
	}
	if r := m.ReplyToMessage; r != nil && r.From != nil && r.From.IsBot && strings.EqualFold(r.From.UserName, a.self) {
		return true
	}
	return a.self != "" && strings.Contains(strings.ToLower(m.Text), "@"+strings.ToLower(a.self))
}

// mentionOf matches "@name" as a whole word, in any case.
func mentionOf(name string) *regexp.Regexp {
	return regexp.MustCompile(`(?i)@` + regexp.QuoteMeta(name) + `\b`)
}

// forOtherBot reports a command addressed to another bot by name.
func (a *Adapter) forOtherBot(text string) bool {
	if !strings.HasPrefix(text, "/") || a.self == "" {
		return false
	}
	cmd := strings.Fields(text)[0]
	_, name, found := strings.Cut(cmd, "@")
	return found && !strings.EqualFold(name, a.self)
}

// showChoice edits the message whose button was pressed: it shows the
// chosen label under the text and loses its keyboard, so that the chat
// reads as a record of the answers and old buttons cannot be pressed by
// mistake. A press on an older message than the open question (current
// is false) was refused by the engine, which said so: that message only
// loses its keyboard. Best effort: the answer is committed whatever
// happens here.
func (a *Adapter) showChoice(ctx context.Context, q *tgbotapi.CallbackQuery, current bool, updateID int) {
	msg := q.Message
	label := ""
	if msg.ReplyMarkup != nil {
		for _, row := range msg.ReplyMarkup.InlineKeyboard {
			for _, b := range row {
				if b.CallbackData != nil && *b.CallbackData == q.Data {
					label = b.Text
				}
			}
		}
	}
	if label == "" {
		return // the keyboard is gone already: a second press of the same button
	}
	chat := msg.Chat.ID
	ctx, cancel := context.WithTimeout(ctx, afterTimeout)
	defer cancel()
	if _, err := a.waitLimit(ctx, chat, 0); err != nil {
		return
	}
	var cfg tgbotapi.Chattable
	method := "editMessageText"
	if msg.Text != "" && current {
		suffix := "\n\n✓ " + label
		text := msg.Text
		if utf16Len(text)+utf16Len(suffix) > maxText {
			text = truncateUTF16(text, maxText-utf16Len(suffix)-1) + "…"
		}
		// The message as Telegram returns it is plain text: escape it
		// again, as when it was sent.
		e := tgbotapi.NewEditMessageText(chat, msg.MessageID, escape(text+suffix))
		e.ParseMode = tgbotapi.ModeHTML
		e.DisableWebPagePreview = true
		cfg = e // no reply_markup: the keyboard goes
	} else {
		// A stale press, or buttons under a document: only drop them.
		cfg = tgbotapi.EditMessageReplyMarkupConfig{BaseEdit: tgbotapi.BaseEdit{ChatID: chat, MessageID: msg.MessageID}}
		method = "editMessageReplyMarkup"
	}
	// Request, not Send: an edit may return True rather than a Message.
	if _, err := a.request(ctx, cfg, method); err != nil && ctx.Err() == nil &&
		!strings.Contains(err.Error(), "message is not modified") {
		a.log.Info("telegram could not mark the chosen button", "update_id", updateID, "err", err)
	}
}

// truncateUTF16 cuts s to at most n UTF-16 code units, at a rune boundary.
func truncateUTF16(s string, n int) string {
	units := 0
	for i, r := range s {
		u := 1
		if r >= 0x10000 {
			u = 2
		}
		if units+u > n {
			return s[:i]
		}
		units += u
	}
	return s
}
