package slack

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http/httptrace"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"github.com/ampel-bot/ampel/adapters/internal/sendkit"
	"github.com/ampel-bot/ampel/bot"
)

const (
	// maxSection is Slack's limit on a text object in a section block.
	maxSection = 3000
	// sectionsPerPost keeps a long text's posts well inside Slack's 50
	// blocks and 40,000 characters per message, with room for buttons.
	sectionsPerPost = 8
	// maxButtonText is Slack's limit on a button's text.
	maxButtonText = 75
	// maxActionsPerBlock is Slack's limit on the elements of an actions block.
	maxActionsPerBlock = 25
	// maxFallback bounds the fallback text: it only shows in
	// notifications, where a preview is enough.
	maxFallback = 300
)

// Send implements bot.Adapter: it posts the text as plain-text section
// blocks (split at Slack's limits into several posts if need be), the
// buttons as actions blocks under the last post, then the files through
// Slack's three-step upload. Every post waits for its turn under the
// channel's limit. If a part fails, the parts already sent are
// remembered, so that the outbox's retry of the same message continues
// where it stopped instead of repeating them.
func (a *Adapter) Send(ctx context.Context, to bot.Address, m bot.Message) error {
	channel, err := a.channelOf(to)
	if err != nil {
		return err
	}
	parts := render(m, a.openerButton(m.Form))
	key := sendkit.Key(cmp.Or(to.Chat, "@"+to.User), m)
	tag, tagged := tagOf(ctx, to, m)
	for i := a.parts.Get(key); i < len(parts); i++ {
		if parts[i].file != nil && !isDM(channel) && to.Chat == "" {
			// A file needs the DM's channel ID, which no post told yet.
			if channel = a.dmWith(ctx, to.User); channel == "" {
				a.parts.Set(key, i)
				return a.r.errorf(nil, "slack: no DM channel with the user for a file")
			}
		}
		if err := a.lim.wait(ctx, channel); err != nil {
			a.parts.Set(key, i)
			return err
		}
		var last *outboxTag
		if tagged && i == len(parts)-1 {
			last = &tag
		}
		posted, ts, err := a.sendPart(ctx, channel, parts[i], last)
		if err != nil {
			if errors.Is(err, bot.ErrRecipientGone) {
				a.parts.Forget(key)
			} else {
				a.parts.Set(key, i)
			}
			return err
		}
		channel = a.postedIn(to, channel, posted)
		if parts[i].buttons && ts != "" {
			a.kbs.Set(channel, ts)
		}
	}
	a.parts.Forget(key)
	a.alarm.Clear(a.log, "slack takes messages again")
	return nil
}

// part is one post or one file of a message.
type part struct {
	blocks  []slackapi.Block
	text    string // the fallback text, escaped
	buttons bool   // it carries the message's buttons
	file    *bot.File
}

// channelOf is the channel a message to to is posted in: its chat, or,
// for an address with a user and no chat, the app's DM with the user if
// it is known, else the user's ID, which chat.postMessage takes for that
// DM (the app's Messages tab); its answer names the DM (see postedIn).
func (a *Adapter) channelOf(to bot.Address) (string, error) {
	switch {
	case to.Platform != Platform || to.Chat == "" && to.User == "":
		// Never deliverable, so the outbox must drop it, not retry it.
		return "", a.r.errorf([]error{bot.ErrRecipientGone}, "slack: %q/%q is not a Slack channel", to.Platform, to.Chat)
	case to.Chat != "":
		return to.Chat, nil
	}
	if dm, ok := a.dms.get(to.User); ok {
		return dm, nil
	}
	return to.User, nil
}

// postedIn is the channel the rest of a message to to goes to after a
// part was posted to channel and Slack answered with the channel posted:
// for a post to a user's ID, the DM's channel ID, which is remembered.
func (a *Adapter) postedIn(to bot.Address, channel, posted string) string {
	if to.Chat != "" || !isDM(posted) || posted == channel {
		return channel
	}
	a.dms.set(to.User, posted)
	return posted
}

// sendPart posts one part to channel and returns the channel Slack says
// it posted in (for a file: channel) and the post's ts. The last part of
// an outbox message carries its tag (see outboxTag).
func (a *Adapter) sendPart(ctx context.Context, channel string, p part, tag *outboxTag) (posted, ts string, err error) {
	if p.file != nil {
		f := p.file
		name := fileName(*f)
		filename := name
		if tag != nil {
			filename = tag.fileName(name)
		}
		err = a.call(ctx, "files.upload", func(ctx context.Context) error {
			// FileSize must be exact: Slack's upload step refuses a
			// mismatch.
			_, err := a.api.UploadFileContext(ctx, slackapi.UploadFileParameters{
				Filename: filename, Title: name, FileSize: len(f.Data), Reader: bytes.NewReader(f.Data), Channel: channel,
			})
			return err
		})
		return channel, "", err
	}
	err = a.call(ctx, "chat.postMessage", func(ctx context.Context) error {
		var err error
		opts := []slackapi.MsgOption{slackapi.MsgOptionBlocks(p.blocks...), slackapi.MsgOptionText(p.text, false)}
		if tag != nil {
			opts = append(opts, slackapi.MsgOptionMetadata(tag.metadata()))
		}
		posted, ts, err = a.api.PostMessageContext(ctx, channel, opts...)
		return err
	})
	return posted, ts, err
}

// render turns a message into its posts and files. All text is escaped
// (see escape) and put into plain_text objects, which Slack shows without
// formatting: what the engine or a user wrote comes out as written,
// "<!channel>" and "*bold*" included. A form's opener, if any, comes
// after the buttons, in an actions block of its own.
func render(m bot.Message, opener *slackapi.ButtonBlockElement) []part {
	var parts []part
	chunks := splitText(m.Text, maxSection)
	actions := actionBlocks(m.Buttons)
	if opener != nil {
		actions = append(actions, slackapi.NewActionBlock(openerActionID, opener))
	}
	for i := 0; i < len(chunks); i += sectionsPerPost {
		group := chunks[i:min(i+sectionsPerPost, len(chunks))]
		p := part{text: escape(truncate(strings.Join(group, "\n"), maxFallback))}
		for _, c := range group {
			p.blocks = append(p.blocks, slackapi.NewSectionBlock(
				slackapi.NewTextBlockObject(slackapi.PlainTextType, escape(c), false, false), nil, nil))
		}
		parts = append(parts, p)
	}
	if mention := mentionLine(m.Mentions); mention != "" && len(parts) > 0 {
		// The one mrkdwn element: user IDs checked to be IDs, nothing a
		// user wrote, so it can notify exactly the people meant.
		first := &parts[0]
		first.blocks = append(first.blocks, slackapi.NewContextBlock("ampel_mentions",
			slackapi.NewTextBlockObject(slackapi.MarkdownType, mention, false, false)))
	}
	if len(actions) > 0 {
		if len(parts) == 0 {
			// Files with buttons and no text: the buttons need a post.
			var names []string
			for _, f := range m.Files {
				names = append(names, f.Name)
			}
			parts = append(parts, part{text: escape(truncate(strings.Join(names, ", "), maxFallback))})
		}
		last := &parts[len(parts)-1]
		last.blocks = append(last.blocks, actions...)
		last.buttons = true
	}
	for i := range m.Files {
		parts = append(parts, part{file: &m.Files[i]})
	}
	return parts
}

var slackUserID = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)

// mentionLine renders the message's mentions as Slack user mentions,
// leaving out anything that is not a user ID.
func mentionLine(ids []string) string {
	var b []string
	for _, id := range ids {
		if slackUserID.MatchString(id) {
			b = append(b, "<@"+id+">")
		}
	}
	return strings.Join(b, " ")
}

// actionBlocks renders the buttons, one actions block per row (a row over
// Slack's limit continues in the next block). A button's value is its
// action, which comes back when it is pressed; block and action IDs are
// unique within the message, as Slack requires.
func actionBlocks(rows [][]bot.Button) []slackapi.Block {
	var blocks []slackapi.Block
	n := 0
	for _, row := range rows {
		for start := 0; start < len(row); start += maxActionsPerBlock {
			var els []slackapi.BlockElement
			for _, b := range row[start:min(start+maxActionsPerBlock, len(row))] {
				n++
				label := slackapi.NewTextBlockObject(slackapi.PlainTextType, buttonText(b.Label), false, false)
				els = append(els, slackapi.NewButtonBlockElement("ampel_b"+strconv.Itoa(n), b.Action, label))
			}
			blocks = append(blocks, slackapi.NewActionBlock("ampel_r"+strconv.Itoa(len(blocks)+1), els...))
		}
	}
	return blocks
}

// buttonText is a label escaped and cut to Slack's limit, counted after
// escaping.
func buttonText(label string) string {
	s := escape(label)
	if utf8.RuneCountInString(s) <= maxButtonText {
		return s
	}
	r := []rune(label)
	for len(r) > 0 && escapedLen(string(r))+1 > maxButtonText {
		r = r[:len(r)-1]
	}
	return escape(string(r)) + "…"
}

// escape replaces Slack's three control characters by their entities, so
// that Slack shows them instead of parsing mentions ("<!channel>",
// "<@U123>") or links, and so that an entity typed by a user ("&lt;")
// shows as typed.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// escapedLen is the length of s in runes once escaped.
func escapedLen(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

func runeWidth(r rune) int {
	switch r {
	case '&':
		return 5
	case '<', '>':
		return 4
	}
	return 1
}

// truncate cuts s to at most n runes, marking a cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// splitText cuts s into parts whose escaped length is at most limit runes
// (see sendkit.Split for where it cuts).
func splitText(s string, limit int) []string { return sendkit.Split(s, limit, runeWidth) }

// goneErrors are Slack's answers about the recipient: the channel does
// not exist (or the bot cannot see it), the bot was removed from it, it was
// archived, or the person's account is gone or deactivated. Only these
// drop a message (and switch the conversation's reminders off).
var goneErrors = []string{"channel_not_found", "not_in_channel", "is_archived", "user_not_found", "user_disabled"}

// tokenErrors are Slack's answers about the bot itself: its token or
// workspace is inactive, revoked, expired or lacks a permission. They say
// nothing about the recipient: the message is retried with back-off, and
// the trouble is logged once (see Alarm), whatever the number of
// conversations it holds up.
var tokenErrors = []string{
	"not_authed", "invalid_auth", "account_inactive", "token_revoked", "token_expired",
	"no_permission", "missing_scope", "not_allowed_token_type", "ekm_access_denied",
	"team_access_not_granted", "org_login_required", "two_factor_setup_required", "enterprise_is_restricted",
}

// call runs one Web API request under ctx and classifies its error. It
// watches the request on the wire, to tell an error before the request
// was written (nothing reached Slack) from one after (the outcome is
// unknown).
func (a *Adapter) call(ctx context.Context, method string, f func(ctx context.Context) error) error {
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
		if info.Err == nil {
			wrote.Store(true)
		}
	}}
	err := f(httptrace.WithClientTrace(ctx, trace))
	if err == nil {
		return nil
	}
	return a.classify(ctx, method, err, wrote.Load())
}

// classify turns a failed request into the error the engine understands,
// redacted:
//   - Slack asked to wait (HTTP 429 with Retry-After): *bot.RateLimited.
//   - The recipient is gone (goneErrors): wraps bot.ErrRecipientGone.
//   - The request may have reached Slack (it was written, or a 5xx came):
//     wraps bot.ErrUnknownOutcome.
//   - Anything else (a refused connection, the bot's token refused, an
//     API error such as invalid_blocks): a plain error; nothing was posted.
//
// A trouble of Slack as a whole (the token refused, Slack unreachable or
// answering with an HTTP error) is logged once until a request succeeds.
func (a *Adapter) classify(ctx context.Context, method string, err error, wrote bool) error {
	if rl, ok := errors.AsType[*slackapi.RateLimitedError](err); ok {
		return &bot.RateLimited{RetryAfter: max(rl.RetryAfter, time.Second)}
	}
	if se, ok := errors.AsType[slackapi.SlackErrorResponse](err); ok {
		switch {
		case slices.Contains(goneErrors, se.Err):
			return a.r.errorf([]error{bot.ErrRecipientGone}, "slack %s: %s", method, se.Err)
		case se.Err == "ratelimited":
			return &bot.RateLimited{RetryAfter: time.Second}
		case slices.Contains(tokenErrors, se.Err):
			a.alarm.Raise(a.log, se.Err, "slack refuses the bot's token or workspace; messages are kept and retried", "method", method)
		}
		return a.r.errorf(nil, "slack %s: %s", method, se.Err)
	}
	kinds := kindsOf(err)
	if ctx.Err() != nil {
		kinds = append(kinds, ctx.Err())
	}
	if sc, ok := errors.AsType[slackapi.StatusCodeError](err); ok {
		if sc.Code >= 500 {
			kinds = append(kinds, bot.ErrUnknownOutcome)
		}
		a.alarm.Raise(a.log, "HTTP "+strconv.Itoa(sc.Code), "slack answers with an HTTP error; messages are kept and retried", "method", method)
		return a.r.errorf(kinds, "slack %s: HTTP %d", method, sc.Code)
	}
	if wrote || sendkit.MayHaveArrived(err) {
		kinds = append(kinds, bot.ErrUnknownOutcome)
	}
	e := a.r.errorf(kinds, "slack %s: %v", method, err)
	if ctx.Err() == nil {
		a.alarm.Raise(a.log, "unreachable", "slack cannot be reached; messages are kept and retried", "err", e)
	}
	return e
}

// kindsOf returns the sentinels of err that callers test for.
func kindsOf(err error) []error {
	var kinds []error
	for _, k := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, k) {
			kinds = append(kinds, k)
		}
	}
	return kinds
}

// outboxEvent is the event_type of the metadata the last post of a message
// carries (see outboxTag).
const outboxEvent = "ampel_outbox"

// outboxTag is what the last part of an outbox message carries, so that
// a restarted process can find it in the channel (Arrived): its outbox ID
// and a digest of where it goes and what it says. The ID alone is not
// enough: a database restored from a backup issues IDs again, and a new
// message under an old ID would be taken for the old one and never sent.
//
// A post carries the tag as metadata, which users do not see; a file (the
// last part of a message with files) in its name, as an 8-character
// suffix ("plan-k3q9x2ab.ics"), which shows only when it is downloaded:
// its title, which Slack shows, stays the name the bot gave it.
type outboxTag struct {
	id, sum string
}

// tagOf is the tag of the message m to to that the engine is sending
// (false outside the engine's sends). The digest covers the recipient,
// the text, the buttons, the form and the files' names, not the files'
// bytes, which the engine makes only to send (Arrived gets the message
// before that).
func tagOf(ctx context.Context, to bot.Address, m bot.Message) (outboxTag, bool) {
	id, ok := bot.OutboxID(ctx)
	if !ok {
		return outboxTag{}, false
	}
	h := sha256.New()
	names := make([]string, len(m.Files))
	for i, f := range m.Files {
		names[i] = fileName(f)
	}
	// Plain data: cannot fail.
	b, _ := json.Marshal([]any{to.Workspace, to.Chat, to.User, m.Text, m.Buttons, m.Form, m.Mentions, names})
	h.Write(b)
	return outboxTag{id: strconv.FormatUint(id, 10), sum: hex.EncodeToString(h.Sum(nil)[:8])}, true
}

func (t outboxTag) metadata() slackapi.SlackMetadata {
	return slackapi.SlackMetadata{EventType: outboxEvent, EventPayload: map[string]any{"id": t.id, "sum": t.sum}}
}

// fileName is name with the tag's suffix before its extension.
func (t outboxTag) fileName(name string) string {
	h := sha256.Sum256([]byte("ampel-file\x00" + t.id + "\x00" + t.sum))
	suffix := "-" + strings.ToLower(base32.StdEncoding.EncodeToString(h[:5]))
	if ext := path.Ext(name); ext != "" && ext != name {
		return strings.TrimSuffix(name, ext) + suffix + ext
	}
	return name + suffix
}

// fileName is the name a file is shown under.
func fileName(f bot.File) string { return cmp.Or(f.Name, "file") }

// arrivedLimit is how many of a channel's latest messages Arrived reads.
const arrivedLimit = 20

// Arrived implements bot.Arrivals: it looks in the channel's latest
// messages for the last part of the outbox message m in ctx, by the tag
// Send gave it (see outboxTag): a post by its metadata, a file by its
// name. Slack needs the history scope of the channel's kind for it
// (im:history for direct messages); without it the look fails and the
// message is resent. A message to a user address is looked for in the
// app's DM with the user (opened to learn its ID if need be).
func (a *Adapter) Arrived(ctx context.Context, to bot.Address, m bot.Message) (bool, error) {
	tag, ok := tagOf(ctx, to, m)
	channel := to.Chat
	if ok && channel == "" && to.User != "" {
		channel = a.dmWith(ctx, to.User)
	}
	if !ok || channel == "" {
		return false, nil
	}
	var file string
	if len(m.Files) > 0 {
		file = tag.fileName(fileName(m.Files[len(m.Files)-1]))
	}
	var found bool
	err := a.call(ctx, "conversations.history", func(ctx context.Context) error {
		h, err := a.api.GetConversationHistoryContext(ctx, &slackapi.GetConversationHistoryParameters{
			ChannelID: channel, Limit: arrivedLimit, IncludeAllMetadata: true})
		if err != nil {
			return err
		}
		for _, m := range h.Messages {
			if file == "" {
				found = found || m.Metadata.EventType == outboxEvent &&
					m.Metadata.EventPayload["id"] == tag.id && m.Metadata.EventPayload["sum"] == tag.sum
				continue
			}
			for _, f := range m.Files {
				found = found || f.Name == file
			}
		}
		return nil
	})
	return found, err
}
