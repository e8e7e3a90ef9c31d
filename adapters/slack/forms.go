package slack

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/ampel-bot/ampel/adapters/internal/httpkit"
	"github.com/ampel-bot/ampel/bot"
)

// Forms: a message with a bot.Form gets, under its buttons, one more
// button, the opener ("📝 " and the form's title). The form itself stays
// in memory (see formStore), and the opener's value is its short ID.
// Pressing the opener is no engine event: the adapter opens the form as a
// modal (views.open, with the press's trigger_id) and acknowledges. The
// modal's submission (view_submission) is the engine event: its Action is
// the form's, its answers are in Event.Form by field name, and its address
// is the channel and user the modal was opened for, carried in the view's
// private_metadata. Slack signs the request (or delivers it over the app's
// own Socket Mode connection), so the metadata is not signed again.
//
// The step-by-step buttons stay under the message: a form is a second way
// to answer the same question, and the only way after a restart, when the
// opener's form is no longer in memory (its press is then logged and
// ignored).

// Forms implements bot.FormAdapter: Slack shows forms as modals.
func (a *Adapter) Forms() bool { return true }

const (
	// openerActionID marks the opener button; buttons of the engine are
	// "ampel_b<n>".
	openerActionID = "ampel_form"
	// formCallbackID marks the adapter's modals.
	formCallbackID = "ampel_form"
	// formBlockPrefix starts the block_id of a field's input; the rest is
	// the field's name. userBlockPrefix does the same for the user picker
	// offered next to a "responsible" field.
	formBlockPrefix = "f:"
	userBlockPrefix = "u:"
	// responsibleField is the field that gets a user picker as well.
	responsibleField = "responsible"

	// Slack's limits on modals and their elements.
	maxViewTitle    = 24
	maxOptions      = 100
	maxOptionText   = 75
	maxOptionValue  = 150
	maxLabel        = 2000
	maxHint         = 2000
	maxInputLen     = 3000
	maxBlockID      = 255
	maxMetadata     = 3000
	maxFormsInStore = 4096
	maxOpenModals   = 4096
)

// formStore keeps the forms of recently sent messages by ID, in memory
// and bounded: the oldest go first. The ID is derived from the form's
// content, so that a resend of the same message keeps its ID.
type formStore struct {
	mu    sync.Mutex
	m     map[string]bot.Form
	order []string
}

func formID(f bot.Form) string {
	js, _ := json.Marshal(f) // strings only: cannot fail
	sum := sha256.Sum256(js)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

func (s *formStore) put(f bot.Form) string {
	id := formID(f)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]bot.Form{}
	}
	if _, ok := s.m[id]; ok {
		return id
	}
	for len(s.order) >= maxFormsInStore {
		delete(s.m, s.order[0])
		s.order = s.order[1:]
	}
	s.m[id] = f
	s.order = append(s.order, id)
	return id
}

func (s *formStore) get(id string) (bot.Form, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.m[id]
	return f, ok
}

// openerButton is the button that opens the form, or nil without one.
func (a *Adapter) openerButton(f *bot.Form) *slackapi.ButtonBlockElement {
	if f == nil || f.Action == "" || len(f.Fields) == 0 {
		return nil
	}
	label := f.Open
	if strings.TrimSpace(label) == "" {
		label = f.Title
	}
	if strings.TrimSpace(label) == "" {
		label = f.Submit
	}
	id := a.forms.put(*f)
	return slackapi.NewButtonBlockElement(openerActionID, id,
		slackapi.NewTextBlockObject(slackapi.PlainTextType, buttonText("📝 "+label), false, false))
}

// opener is a press of an opener button.
type opener struct {
	trigger, formID string
	team, user      string
	press           *press // the message, to mark once the form is submitted
}

// formMeta is a modal's private_metadata: what the submission needs.
type formMeta struct {
	Action  string `json:"a"`
	Team    string `json:"w,omitempty"`
	Channel string `json:"c"`
	User    string `json:"u"`
	// Key finds the opener's message in modals: the trigger_id of the
	// press that opened the modal.
	Key string `json:"k,omitempty"`
}

// openForm opens the pressed opener's form as a modal. Best effort: the
// press was acknowledged already, and the question can still be answered
// with its buttons.
func (a *Adapter) openForm(ctx context.Context, o *opener) {
	f, ok := a.forms.get(o.formID)
	if !ok {
		a.log.Info("slack form no longer known (restarted?); the question's buttons still work", "form", httpkit.Opaque(o.formID))
		return
	}
	channel := ""
	if o.press != nil {
		channel = o.press.channel
	}
	meta, _ := json.Marshal(formMeta{Action: f.Action, Team: o.team, Channel: channel, User: o.user, Key: o.trigger})
	if len(meta) > maxMetadata {
		a.log.Warn("slack form metadata too long; form not opened", "len", len(meta))
		return
	}
	view := modalView(f)
	view.PrivateMetadata = string(meta)
	// Remembered before the modal opens: its submission may come before
	// views.open's answer.
	if o.press != nil && o.press.ts != "" {
		a.modals.put(o.trigger, o.press)
	}
	err := a.call(ctx, "views.open", func(ctx context.Context) error {
		_, err := a.api.OpenViewContext(ctx, o.trigger, view)
		return err
	})
	if err != nil {
		a.modals.drop(o.trigger)
		if ctx.Err() == nil {
			a.log.Info("slack views.open failed", "err", err)
		}
	}
}

// modalView renders a form as a modal: its Intro as a context block at
// the top, selects as static_select, text as plain_text_input, dates as
// datepicker, each an input block whose block_id names the field. All
// texts are escaped and cut to Slack's limits.
func modalView(f bot.Form) slackapi.ModalViewRequest {
	title := f.Title
	if strings.TrimSpace(title) == "" {
		title = f.Submit
	}
	if strings.TrimSpace(title) == "" {
		title = "Ampel"
	}
	var blocks []slackapi.Block
	if strings.TrimSpace(f.Intro) != "" {
		blocks = append(blocks, slackapi.NewContextBlock("intro", plain(cut(f.Intro, maxHint))))
	}
	for _, fl := range f.Fields {
		if fl.Name == "" || len(formBlockPrefix+fl.Name) > maxBlockID {
			continue
		}
		label := plain(cut(fl.Label, maxLabel))
		if strings.TrimSpace(fl.Label) == "" {
			label = plain(cut(fl.Name, maxLabel))
		}
		var hint *slackapi.TextBlockObject
		if fl.Hint != "" {
			hint = plain(cut(fl.Hint, maxHint))
		}
		var el slackapi.BlockElement
		switch {
		case fl.Kind == bot.FieldSelect && len(fl.Options) > 0:
			sel := slackapi.NewOptionsSelectBlockElement(slackapi.OptTypeStatic, nil, "v")
			for _, o := range fl.Options[:min(len(fl.Options), maxOptions)] {
				if o.Value == "" || len(o.Value) > maxOptionValue {
					continue
				}
				opt := slackapi.NewOptionBlockObject(o.Value, plain(cut(o.Label, maxOptionText)), nil)
				sel.Options = append(sel.Options, opt)
				if o.Value == fl.Value && sel.InitialOption == nil {
					sel.InitialOption = opt
				}
			}
			el = sel
		case fl.Kind == bot.FieldDate:
			dp := slackapi.NewDatePickerBlockElement("v")
			if _, err := time.Parse(time.DateOnly, fl.Value); err == nil {
				dp.InitialDate = fl.Value
			}
			el = dp
		default: // text, and a select without options
			in := slackapi.NewPlainTextInputBlockElement(nil, "v")
			if fl.MaxLen > 0 {
				in.MaxLength = min(fl.MaxLen, maxInputLen)
			}
			if fl.Value != "" {
				in.InitialValue = fl.Value
			}
			el = in
		}
		optional := fl.Optional
		if fl.Name == responsibleField {
			// A person picked in the workspace, or a name typed: either
			// will do, so each of the two inputs is optional on its own.
			optional = true
			pick := slackapi.NewInputBlock(userBlockPrefix+fl.Name, plain(cut("👤 "+labelOf(fl), maxLabel)), nil,
				slackapi.NewOptionsSelectBlockElement(slackapi.OptTypeUser, nil, "v"))
			pick.Optional = true
			blocks = append(blocks, pick)
		}
		in := slackapi.NewInputBlock(formBlockPrefix+fl.Name, label, hint, el)
		in.Optional = optional
		blocks = append(blocks, in)
		if len(blocks) >= maxViewBlocks-1 {
			break
		}
	}
	v := slackapi.ModalViewRequest{
		Type:       slackapi.VTModal,
		Title:      plain(cut(title, maxViewTitle)),
		Blocks:     slackapi.Blocks{BlockSet: blocks},
		CallbackID: formCallbackID,
	}
	if f.Submit != "" {
		v.Submit = plain(cut(f.Submit, maxViewTitle))
	}
	return v
}

func labelOf(fl bot.FormField) string {
	if strings.TrimSpace(fl.Label) != "" {
		return fl.Label
	}
	return fl.Name
}

// plain is an escaped plain_text object.
func plain(s string) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.PlainTextType, s, false, false)
}

// cut escapes s and cuts it to n runes counted after escaping, marking a
// cut with "…".
func cut(s string, n int) string {
	if escapedLen(s) <= n {
		return escape(s)
	}
	r := []rune(s)
	for len(r) > 0 && escapedLen(string(r))+1 > n {
		r = r[:len(r)-1]
	}
	return escape(string(r)) + "…"
}

// fromSubmission translates a submitted form modal into the form's
// event. Its ID is the view's ID and hash, the same in every redelivery
// of one submission.
func (a *Adapter) fromSubmission(cb slackapi.InteractionCallback) inbound {
	v := cb.View
	if v.CallbackID != formCallbackID || v.ID == "" {
		return inbound{}
	}
	var meta formMeta
	if err := json.Unmarshal([]byte(v.PrivateMetadata), &meta); err != nil || meta.Action == "" || meta.Channel == "" || meta.User == "" {
		a.log.Warn("slack form submission without its metadata; dropped", "view", v.ID)
		return inbound{}
	}
	if cb.User.ID != meta.User {
		// A modal is shown to the one user it was opened for; anything
		// else is not a submission of this form.
		a.log.Warn("slack form submitted by another user than it was opened for; dropped", "view", v.ID)
		return inbound{}
	}
	team := meta.Team
	if team == "" {
		team = cb.Team.ID
	}
	if team == "" {
		team = a.team
	}
	answers := map[string]string{}
	picked := map[string]string{}
	if v.State != nil {
		for blockID, acts := range v.State.Values {
			for _, act := range acts {
				switch {
				case strings.HasPrefix(blockID, userBlockPrefix):
					if act.SelectedUser != "" {
						picked[strings.TrimPrefix(blockID, userBlockPrefix)] = act.SelectedUser
					}
				case strings.HasPrefix(blockID, formBlockPrefix):
					name := strings.TrimPrefix(blockID, formBlockPrefix)
					switch act.Type {
					case slackapi.ActionType(slackapi.OptTypeStatic):
						answers[name] = act.SelectedOption.Value
					case slackapi.ActionType(slackapi.METDatepicker):
						answers[name] = act.SelectedDate
					default:
						answers[name] = act.Value
					}
				}
			}
		}
	}
	return inbound{ok: true, order: "c:" + meta.Channel, picked: picked, view: meta.Key, ev: bot.Event{
		ID: "view:" + v.ID + ":" + v.Hash, Action: meta.Action, Form: answers, Group: !isDM(meta.Channel),
		Addr: bot.Address{Platform: Platform, Workspace: team, Chat: meta.Channel, User: meta.User},
	}}
}

// resolvePicked fills in the people picked in user pickers where no name
// was typed: by their real name, as the engine keeps a name as plain text
// (shown in the plan, reminders and exports, also outside Slack, where a
// "<@U…>" mention means nothing; the adapter shows all text literally, so
// even in Slack a mention would not render). If users.info fails, the
// user ID stands in: unambiguous, and better than losing the choice.
func (a *Adapter) resolvePicked(ctx context.Context, in *inbound) {
	for name, user := range in.picked {
		if strings.TrimSpace(in.ev.Form[name]) != "" {
			continue // a typed name wins: it was written on purpose
		}
		// The ID goes along, so that reminders can mention the person.
		in.ev.Form[name+"_user"] = user
		who := a.people.get(ctx, a, user).name
		if who == "" {
			who = user
		}
		in.ev.Form[name] = who
	}
}

// modals remembers, per modal opened (by the trigger_id that opened it,
// which its metadata carries), the message its opener was under, so
// that the message can be marked like a pressed one once the form was
// submitted. Memory only and bounded; unknown after a restart, when the
// message simply keeps its buttons.
type modals struct {
	mu    sync.Mutex
	m     map[string]*press
	order []string
}

func (s *modals) put(key string, p *press) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*press{}
	}
	for len(s.order) >= maxOpenModals {
		delete(s.m, s.order[0])
		s.order = s.order[1:]
	}
	s.m[key] = p
	s.order = append(s.order, key)
}

func (s *modals) get(key string) *press {
	if key == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[key]
}

// drop forgets a modal once its submission was handled; its order entry
// goes when it comes round.
func (s *modals) drop(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
}
