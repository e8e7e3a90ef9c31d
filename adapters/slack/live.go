package slack

import (
	"context"
	"errors"
	"strings"

	slackapi "github.com/slack-go/slack"

	"github.com/ampel-bot/ampel/adapters/internal/sendkit"
	"github.com/ampel-bot/ampel/bot"
)

// liveBlockPrefix starts the block IDs of a live message's buttons: a
// press of one comes with the message's blocks, and the message is then
// left as it is (the engine edits it), also after a restart.
const liveBlockPrefix = "ampel_live_"

// goneMessage are chat.update's answers for a message that cannot be
// edited any more.
var goneMessage = []string{"message_not_found", "cant_update_message", "edit_window_closed"}

var _ bot.Editor = (*Adapter)(nil)

// livePart renders a live message as one post: its text cut to one
// section's length, its buttons marked as a live message's.
func livePart(m bot.Message) part {
	m.Text = truncate(m.Text, maxSection)
	p := render(m, nil)[0] // a live message has text or buttons, and no files
	for _, b := range p.blocks {
		if ab, ok := b.(*slackapi.ActionBlock); ok {
			ab.BlockID = liveBlockPrefix + ab.BlockID
		}
	}
	return p
}

// isLive reports whether a message's blocks are a live message's.
func isLive(blocks slackapi.Blocks) bool {
	for _, b := range blocks.BlockSet {
		if strings.HasPrefix(b.ID(), liveBlockPrefix) {
			return true
		}
	}
	return false
}

// SendLive implements bot.Editor: one post, under the channel's posting
// limit; its ts is the reference.
func (a *Adapter) SendLive(ctx context.Context, to bot.Address, m bot.Message) (string, error) {
	channel, err := a.channelOf(to)
	if err != nil {
		return "", err
	}
	if err := a.lim.wait(ctx, channel); err != nil {
		return "", err
	}
	posted, ts, err := a.sendPart(ctx, channel, livePart(m), nil)
	if err != nil {
		return "", err
	}
	a.postedIn(to, channel, posted)
	a.alarm.Clear(a.log, "slack takes messages again")
	return ts, nil
}

// Edit implements bot.Editor with chat.update, under the update tier's
// limit, not the channel's posting limit. A message that is gone wraps
// bot.ErrMessageGone.
func (a *Adapter) Edit(ctx context.Context, to bot.Address, ref string, m bot.Message) error {
	channel, err := a.channelOf(to)
	if err != nil || ref == "" {
		return a.r.errorf([]error{bot.ErrMessageGone}, "slack: %q/%q/%q is no Slack message", to.Platform, to.Chat, ref)
	}
	if !isDM(channel) && to.Chat == "" { // chat.update needs the DM's ID, not the user's
		if channel = a.dmWith(ctx, to.User); channel == "" {
			return a.r.errorf(nil, "slack: no DM channel with the user to edit in")
		}
	}
	if err := a.upd.wait(ctx, ""); err != nil {
		return err
	}
	p := livePart(m)
	err = a.call(ctx, "chat.update", func(ctx context.Context) error {
		_, _, _, err := a.api.UpdateMessageContext(ctx, channel, ref,
			slackapi.MsgOptionBlocks(p.blocks...), slackapi.MsgOptionText(p.text, false))
		return err
	})
	if err != nil && sendkit.ContainsAny(err.Error(), goneMessage) {
		return a.r.errorf([]error{bot.ErrMessageGone}, "%v", err)
	}
	return err
}

// waitUpdate waits for chat.update's turn, however far away (within ctx):
// for the calls made after an event, which wait on no one's path.
func (a *Adapter) waitUpdate(ctx context.Context) error {
	for {
		err := a.upd.wait(ctx, "")
		rl, ok := errors.AsType[*bot.RateLimited](err)
		if !ok {
			return err
		}
		if err := a.upd.sleep(ctx, rl.RetryAfter); err != nil {
			return err
		}
	}
}
