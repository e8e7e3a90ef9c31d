package mattermost

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/ampel-bot/ampel/adapters/internal/httpkit"
	"github.com/ampel-bot/ampel/adapters/internal/sendkit"
	"github.com/ampel-bot/ampel/bot"
)

// maxPost is the server's limit on a post's message, in runes
// (model.PostMessageMaxRunesV2); the limit applies to the escaped text.
const maxPost = model.PostMessageMaxRunesV2

// maxFilesPerPost is how many files one post may carry (the server's
// long-standing limit; newer servers allow more).
const maxFilesPerPost = 5

// Send implements bot.Adapter: it posts the text, split at the server's
// limit, with the buttons (as an attachment with actions, if CallbackURL
// is set, else as numbered lines) under its last part, and uploads the
// files and attaches them to that part (or to posts of their own).
//
// Every post is created with a pending_post_id derived from a nonce kept
// for the message until it is sent whole: when the engine retries after
// an unknown outcome, the same post carries the same pending_post_id, and
// the server drops the create as a duplicate if it comes within 30 s. The
// nonce comes from the outbox ID when the engine gives one, so that a
// restarted process resending a post the last one sent just before it
// died is recognised too (within those 30 s). The
// parts already sent are remembered too, so that a retry continues where
// the failure stopped.
func (a *Adapter) Send(ctx context.Context, to bot.Address, m bot.Message) error {
	chat, err := a.chatOf(ctx, to)
	if err != nil {
		return err
	}
	key := sendkit.Key(chat, m)
	st := a.parts.Get(key)
	if st.nonce == "" {
		st.nonce = a.nonceFor(ctx, key)
	}
	allowed, err := a.allowed(ctx, chat, m)
	if err != nil {
		return a.sendError(ctx, chat, err)
	}
	parts := a.render(chat, allowed, st.nonce, m)
	for i := st.next; i < len(parts); i++ {
		if err := a.sendPart(ctx, chat, parts[i]); err != nil {
			err = a.sendError(ctx, chat, err)
			if errors.Is(err, bot.ErrRecipientGone) {
				a.parts.Forget(key)
			} else {
				a.parts.Set(key, partState{next: i, nonce: st.nonce})
			}
			return err
		}
	}
	a.parts.Forget(key)
	a.alarm.Clear(a.log, "mattermost takes posts again")
	return nil
}

// chatOf is the channel a message to to goes to: its chat, or, for an
// address with a user and no chat, the direct channel of the bot and the
// user (POST channels/direct, which returns the channel if it exists and
// opens it if not), kept per user. The server's own 403 or 404 there (the
// user is gone, or the bot may not write to them) makes the message
// undeliverable for good; a proxy's is retried, as for posts.
func (a *Adapter) chatOf(ctx context.Context, to bot.Address) (string, error) {
	switch {
	case to.Platform != Platform || to.Chat == "" && to.User == "":
		// Never deliverable, so the outbox must drop it, not retry it.
		return "", a.r.errorf([]error{bot.ErrRecipientGone}, "mattermost: %q/%q is not a Mattermost channel", to.Platform, to.Chat)
	case to.Chat != "":
		return to.Chat, nil
	}
	if ch, ok := a.directs.Newest(to.User); ok {
		return ch, nil
	}
	var ch *model.Channel
	err := a.call(ctx, "direct channel", func(ctx context.Context) (*model.Response, error) {
		var resp *model.Response
		var err error
		ch, resp, err = a.api.CreateDirectChannel(ctx, a.botID, to.User)
		return resp, err
	})
	switch {
	case errors.Is(err, errNotFound) && errors.Is(err, errFromServer):
		return "", a.r.errorf([]error{bot.ErrRecipientGone}, "%v", err)
	case errors.Is(err, errNotFound):
		return "", a.r.errorf(withoutNotFound(err), "%v", err)
	case err != nil:
		return "", a.sendError(ctx, "", err)
	case ch == nil || ch.Id == "":
		return "", errors.New("mattermost direct channel: no channel in the answer")
	}
	a.channels.put(ch.Id, string(ch.Type), ch.Name)
	a.directs.Set(to.User, ch.Id)
	return ch.Id, nil
}

// allowed is who may press m's buttons in chat: in a direct channel only
// the partner; elsewhere any member ("", the engine decides what a member
// may do).
func (a *Adapter) allowed(ctx context.Context, chat string, m bot.Message) (string, error) {
	if a.callback == "" || len(m.Flat()) == 0 && !opensForm(m) {
		return "", nil
	}
	ci, err := a.channels.get(ctx, a, chat)
	if err != nil {
		return "", err
	}
	return ci.partner(a.botID), nil
}

// sendError turns a failed send into what the outbox understands. A 403
// or 404 (or the refusal of an archived channel) is bot.ErrRecipientGone
// only when the server itself confirms that the channel is gone for the
// bot (see channelGone); a proxy or maintenance page in front of the
// server answers 403 and 404 too, and those must not drop a message, let
// alone switch a conversation's reminders off. Everything else is kept
// for a retry, and a trouble of the server as a whole is logged once.
func (a *Adapter) sendError(ctx context.Context, chat string, err error) error {
	if errors.Is(err, errNotFound) || errors.Is(err, errArchived) {
		gone, why := a.channelGone(ctx, chat)
		if gone {
			return a.r.errorf([]error{bot.ErrRecipientGone}, "%v", err)
		}
		if ctx.Err() == nil {
			a.alarm.Raise(a.log, "unconfirmed", "mattermost refused a post, but the server does not confirm that the channel is gone (a proxy or maintenance page?); messages are kept and retried",
				"err", err, "check", why)
		}
		return a.r.errorf(withoutNotFound(err), "%v; kept, as %v", err, why)
	}
	if ctx.Err() != nil {
		return err
	}
	var rl *bot.RateLimited
	switch {
	case errors.As(err, &rl):
	case errors.Is(err, errUnauthorized):
		a.alarm.Raise(a.log, "token", "mattermost rejects the bot's token; messages are kept and retried", "err", err)
	case errors.Is(err, errFromServer):
		// The server refused this message (a 400): about the message,
		// not the server; the engine logs it.
	default:
		a.alarm.Raise(a.log, "unreachable", "mattermost cannot be reached or fails; messages are kept and retried", "err", err)
	}
	return err
}

// channelGone asks the server whether chat is gone for the bot, after a
// send to it failed with 403 or 404: only if the server answers /users/me
// as itself with the bot's account (the server and the token work), and
// then answers for the channel, in its own error format, that the channel
// or the bot's membership is not there (or the channel is archived). If
// not, why says what the check found.
func (a *Adapter) channelGone(ctx context.Context, chat string) (gone bool, why error) {
	var me *model.User
	err := a.call(ctx, "users/me", func(ctx context.Context) (*model.Response, error) {
		var resp *model.Response
		var err error
		me, resp, err = a.api.GetMe(ctx, "")
		return resp, err
	})
	if err != nil {
		return false, err
	}
	if me == nil || me.Id != a.botID {
		return false, errors.New("mattermost users/me: not the bot's account")
	}
	serverSaysGone := func(err error) bool { return errors.Is(err, errNotFound) && errors.Is(err, errFromServer) }
	var ch *model.Channel
	err = a.call(ctx, "get channel", func(ctx context.Context) (*model.Response, error) {
		var resp *model.Response
		var err error
		ch, resp, err = a.api.GetChannel(ctx, chat)
		return resp, err
	})
	switch {
	case err != nil:
		return serverSaysGone(err), err
	case ch == nil:
		return false, errors.New("mattermost get channel: no channel in the answer")
	case ch.DeleteAt != 0:
		return true, nil
	}
	err = a.call(ctx, "channel membership", func(ctx context.Context) (*model.Response, error) {
		_, resp, err := a.api.GetChannelMember(ctx, chat, a.botID, "")
		return resp, err
	})
	if err != nil {
		return serverSaysGone(err), err
	}
	return false, errors.New("the channel and the bot's membership are there")
}

// withoutNotFound returns the sentinels of err other than errNotFound and
// errArchived.
func withoutNotFound(err error) []error {
	var kinds []error
	for _, k := range []error{bot.ErrUnknownOutcome, errUnauthorized, errFromServer, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, k) {
			kinds = append(kinds, k)
		}
	}
	return kinds
}

// part is one post of a message.
type part struct {
	text    string // escaped
	files   []bot.File
	actions []*model.PostAction // the buttons, if this part carries them
	pending string              // pending_post_id
}

// render turns a message into the posts that send it.
func (a *Adapter) render(chat, allowed, nonce string, m bot.Message) []part {
	text := m.Text
	flat := m.Flat()
	buttons := a.callback != "" && len(flat) > 0
	opener := a.callback != "" && opensForm(m)
	if len(flat) > 0 && a.callback == "" {
		// Without buttons the choices are numbered lines, the typed twins
		// the engine understands.
		text = strings.TrimRight(text, "\n") + "\n\n" + numbered(m.Buttons)
		text = strings.TrimLeft(text, "\n")
	}
	var parts []part
	for _, c := range sendkit.Split(text, maxPost, escapedLen) {
		parts = append(parts, part{text: escape(c)})
	}
	for i := 0; i < len(m.Files); i += maxFilesPerPost {
		group := m.Files[i:min(i+maxFilesPerPost, len(m.Files))]
		if i == 0 && len(parts) > 0 {
			parts[len(parts)-1].files = group
			continue
		}
		parts = append(parts, part{files: group})
	}
	if len(parts) == 0 {
		parts = append(parts, part{text: "\u200b"}) // only buttons: never sent by the engine
	}
	for i := range parts {
		parts[i].pending = pendingID(nonce, i)
	}
	if buttons || opener {
		// On the last text part: under the question they answer.
		at := 0
		for i, p := range parts {
			if p.text != "" {
				at = i
			}
		}
		parts[at].actions = a.actions(chat, allowed, parts[at].pending, m.Live != "", flat)
		if opener {
			parts[at].actions = append(parts[at].actions, a.opener(chat, allowed, parts[at].pending, nonce, m.Form))
		}
	}
	return parts
}

// numbered lists buttons as "1) Label", a line per row.
func numbered(rows [][]bot.Button) string {
	var b strings.Builder
	n := 0
	for _, row := range rows {
		if len(row) == 0 {
			continue
		}
		if n > 0 {
			b.WriteByte('\n')
		}
		for j, btn := range row {
			if j > 0 {
				b.WriteString("   ")
			}
			n++
			fmt.Fprintf(&b, "%d) %s", n, btn.Label)
		}
	}
	return b.String()
}

func (a *Adapter) sendPart(ctx context.Context, chat string, p part) error {
	created, err := a.createPost(ctx, chat, p)
	if err != nil {
		return err
	}
	if len(p.actions) > 0 && created != nil && created.Id != "" {
		a.presses.bind(p.pending, created.Id)
		a.supersede(ctx, chat, created, p.actions)
	}
	return nil
}

// createPost uploads a part's files and creates its post.
func (a *Adapter) createPost(ctx context.Context, chat string, p part) (*model.Post, error) {
	post := &model.Post{ChannelId: chat, Message: p.text, PendingPostId: p.pending}
	for _, f := range p.files {
		name := f.Name
		if name == "" {
			name = "file"
		}
		var up *model.FileUploadResponse
		err := a.call(ctx, "upload file", func(ctx context.Context) (*model.Response, error) {
			var resp *model.Response
			var err error
			up, resp, err = a.api.UploadFile(ctx, f.Data, chat, name)
			return resp, err
		})
		if err != nil {
			// An upload that went through anyway is an unused file, not a
			// message: the outcome of the message is still known.
			return nil, a.r.errorf(withoutUnknown(err), "%v", err)
		}
		if up == nil || len(up.FileInfos) == 0 {
			return nil, errors.New("mattermost upload file: no file in the answer")
		}
		post.FileIds = append(post.FileIds, up.FileInfos[0].Id)
	}
	if len(p.actions) > 0 {
		model.ParseMessageAttachment(post, []*model.MessageAttachment{{Actions: p.actions}})
	}
	var created *model.Post
	err := a.call(ctx, "create post", func(ctx context.Context) (*model.Response, error) {
		var resp *model.Response
		var err error
		created, resp, err = a.api.CreatePost(ctx, post)
		return resp, err
	})
	if err != nil {
		return nil, err
	}
	a.created.keep(created)
	return created, nil
}

// supersede makes a new post with buttons the newest question in chat if
// it is one (not all its buttons last, see bot.Lasting: commands and a
// reminder's answers stay valid), and takes the buttons that do not last
// off the question it supersedes: they are stale, and a press on them
// would only ask the new question once more. Its text and other props
// stay. Best effort: the new post is sent, and a stale button still only
// gets the engine's "belongs to an earlier question".
func (a *Adapter) supersede(ctx context.Context, chat string, created *model.Post, actions []*model.PostAction) {
	var lasting []*model.PostAction
	for _, act := range actions {
		if action, _ := act.Integration.Context["a"].(string); action != "" && bot.Lasting(action) {
			lasting = append(lasting, act)
		}
	}
	if len(lasting) == len(actions) {
		return // a menu or a reminder: no question
	}
	old, ok := a.presses.setNewest(chat, question{post: created.Id, props: withoutButtons(created.GetProps()), lasting: lasting})
	if !ok {
		return
	}
	upd := &model.Post{}
	upd.SetProps(maps.Clone(old.props))
	if len(old.lasting) > 0 {
		model.ParseMessageAttachment(upd, []*model.MessageAttachment{{Actions: old.lasting}})
	}
	props := upd.GetProps()
	err := a.call(ctx, "patch post", func(ctx context.Context) (*model.Response, error) {
		_, resp, err := a.api.PatchPost(ctx, old.post, &model.PostPatch{Props: &props})
		return resp, err
	})
	if err != nil && ctx.Err() == nil {
		a.log.Info("mattermost superseded question keeps its buttons", "post", httpkit.Opaque(old.post), "err", err)
	}
}

// withoutUnknown returns the sentinels of err except bot.ErrUnknownOutcome.
func withoutUnknown(err error) []error {
	var kinds []error
	for _, k := range []error{errNotFound, errUnauthorized, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, k) {
			kinds = append(kinds, k)
		}
	}
	var rl *bot.RateLimited
	if errors.As(err, &rl) {
		kinds = append(kinds, rl)
	}
	return kinds
}

var idEncoding = base32.NewEncoding("ybndrfg8ejkmcpqxot1uwisza345h769").WithPadding(base32.NoPadding)

// nonceFor is the nonce of the message being sent: from its outbox ID,
// stable across restarts, the bot's user ID, as the server's cache of
// pending_post_ids is global, and key (the chat and the message), as an
// outbox ID is used again by a database started afresh or restored from
// a backup: a new message under an ID sent within the server's 30 s would
// otherwise be dropped as a duplicate and lost. Random outside the
// engine's sends.
func (a *Adapter) nonceFor(ctx context.Context, key [32]byte) string {
	if id, ok := bot.OutboxID(ctx); ok {
		return fmt.Sprintf("outbox\x00%s\x00%d\x00%x", a.botID, id, key)
	}
	return newNonce()
}

// newNonce returns a random nonce for a message's pending_post_ids.
func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails
	return idEncoding.EncodeToString(b[:])
}

// pendingID is the pending_post_id of part i of a message: 26 characters
// of Mattermost's ID alphabet.
func pendingID(nonce string, i int) string {
	h := sha256.Sum256(fmt.Appendf(nil, "ampel-pending\x00%s\x00%d", nonce, i))
	return idEncoding.EncodeToString(h[:])[:26]
}

// partState is what a message of several parts keeps between a failed
// send and its retry: how many parts went out, and the nonce of their
// pending_post_ids, so that a retried create is recognised by the server.
type partState struct {
	next  int
	nonce string
}
