package mattermost

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/ampel-bot/ampel/adapters/internal/httpkit"
	"github.com/ampel-bot/ampel/adapters/internal/sendkit"
	"github.com/ampel-bot/ampel/bot"
)

var _ bot.Editor = (*Adapter)(nil)

// SendLive implements bot.Editor: a live message is one post (its text
// cut to the server's limit), whose ID is the reference. Its buttons are
// signed as a live message's: any member may press them, each once, and
// a press leaves the post as it is (the engine edits it). It is no
// question: it supersedes none.
func (a *Adapter) SendLive(ctx context.Context, to bot.Address, m bot.Message) (string, error) {
	chat, err := a.chatOf(ctx, to)
	if err != nil {
		return "", err
	}
	key := sendkit.Key(chat, m)
	st := a.parts.Get(key) // the nonce of an earlier try, for the server's dedupe
	if st.nonce == "" {
		st.nonce = newNonce()
	}
	p, err := a.livePart(ctx, chat, st.nonce, m)
	if err == nil {
		var created *model.Post
		if created, err = a.createPost(ctx, chat, p); err == nil {
			a.parts.Forget(key)
			a.presses.bind(p.pending, created.Id)
			a.alarm.Clear(a.log, "mattermost takes posts again")
			return created.Id, nil
		}
	}
	err = a.sendError(ctx, chat, err)
	if errors.Is(err, bot.ErrRecipientGone) {
		a.parts.Forget(key)
	} else {
		a.parts.Set(key, st)
	}
	return "", err
}

// Edit implements bot.Editor: it reads the post, to keep its props (the
// server's from_bot among them), and patches its message and buttons
// (PUT /api/v4/posts/{id}/patch). A post that is gone wraps
// bot.ErrMessageGone.
func (a *Adapter) Edit(ctx context.Context, to bot.Address, ref string, m bot.Message) error {
	if to.Platform != Platform || to.Chat == "" && to.User == "" || !model.IsValidId(ref) {
		return a.r.errorf([]error{bot.ErrMessageGone}, "mattermost: %q/%q/%q is no Mattermost post", to.Platform, to.Chat, ref)
	}
	chat, err := a.chatOf(ctx, to)
	if err != nil {
		return err
	}
	old, err := a.getPost(ctx, ref)
	if err == nil && (old == nil || old.DeleteAt != 0 || old.ChannelId != chat) {
		err = errNotFound
	}
	if errors.Is(err, errNotFound) {
		return a.r.errorf([]error{bot.ErrMessageGone}, "mattermost: live post: %v", err)
	}
	if err != nil {
		return err
	}
	nonce := newNonce()
	p, err := a.livePart(ctx, chat, nonce, m)
	if err != nil {
		return a.sendError(ctx, chat, err)
	}
	upd := &model.Post{}
	upd.SetProps(withoutButtons(old.GetProps()))
	if len(p.actions) > 0 {
		model.ParseMessageAttachment(upd, []*model.MessageAttachment{{Actions: p.actions}})
	}
	props := upd.GetProps()
	a.presses.bind(p.pending, ref) // before the patch: a press may come at once
	err = a.call(ctx, "patch post", func(ctx context.Context) (*model.Response, error) {
		patched, resp, err := a.api.PatchPost(ctx, ref, &model.PostPatch{Message: &p.text, Props: &props})
		if err == nil {
			a.created.keep(patched)
		}
		return resp, err
	})
	if errors.Is(err, errNotFound) {
		return a.r.errorf([]error{bot.ErrMessageGone}, "mattermost: live post: %v", err)
	}
	return err
}

// livePart renders a live message as one post.
func (a *Adapter) livePart(ctx context.Context, chat, nonce string, m bot.Message) (part, error) {
	if chunks := sendkit.Split(m.Text, maxPost-1, escapedLen); len(chunks) > 1 {
		m.Text = chunks[0] + "…"
	}
	allowed, err := a.allowed(ctx, chat, m)
	if err != nil {
		return part{}, err
	}
	return a.render(chat, allowed, nonce, m)[0], nil
}

// livePress serves a press of a live message's button: it goes to the
// engine like any press, but every member's press counts (each once, by
// its event ID), and the answer leaves the post as it is.
func (a *Adapter) livePress(w http.ResponseWriter, r *http.Request, h bot.Handler, req *model.PostActionIntegrationRequest, p press) {
	ev, err := a.pressEvent(r.Context(), req, p)
	if req.TriggerId != "" {
		// A live message's buttons are pressed again and again (Join
		// twice, Remind the others a day later) while the post stays the
		// same: each click is an event of its own. The server makes a
		// trigger ID per click; the same request sent again keeps it.
		ev.ID = pressID(req.PostId, p.sig+"\x00"+req.TriggerId, req.UserId)
	}
	if err == nil {
		err = h.Handle(r.Context(), ev)
	}
	if err != nil {
		a.log.Warn("mattermost button press not handled", "post", httpkit.Opaque(req.PostId), "err", a.r.redact(err.Error()))
		http.Error(w, "not handled", http.StatusInternalServerError)
		return
	}
	writeJSON(w, model.PostActionIntegrationResponse{})
}

// postedPosts keeps the last posts this process created, as the server
// returned them, so that the answer to a press (the acknowledgement) can
// update the pressed post without reading it first.
type postedPosts struct {
	mu    sync.Mutex
	m     map[string]*model.Post
	order []string
}

const maxPosted = 4096

func (p *postedPosts) keep(post *model.Post) {
	if post == nil || post.Id == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]*model.Post{}
	}
	for len(p.order) >= maxPosted {
		delete(p.m, p.order[0])
		p.order = p.order[1:]
	}
	if _, ok := p.m[post.Id]; !ok {
		p.order = append(p.order, post.Id)
	}
	p.m[post.Id] = post
}

func (p *postedPosts) get(id string) *model.Post {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.m[id]
}

// getPost reads a post as the server shows it to the bot.
func (a *Adapter) getPost(ctx context.Context, id string) (*model.Post, error) {
	var p *model.Post
	err := a.call(ctx, "get post", func(ctx context.Context) (*model.Response, error) {
		var resp *model.Response
		var err error
		p, resp, err = a.api.GetPost(ctx, id, "")
		return resp, err
	})
	return p, err
}
