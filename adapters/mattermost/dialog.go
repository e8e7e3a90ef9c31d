package mattermost

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/ampel-bot/ampel/adapters/internal/httpkit"
	"github.com/ampel-bot/ampel/bot"
)

// Interactive dialogs.
//
// A Message's Form (see bot.Form) is offered as one more button under the
// question, labelled with the form's Open label (else its title): the
// opener. The dialog shows the form's Intro above its fields. The Form itself
// stays in memory (forms, bounded) under a short ID derived from the
// message's nonce, so that a retried send refers to the same form; the
// opener's context carries that ID, signed like every button's context
// (see press), but under its own domain.
//
// A press on the opener is verified like any press and does not reach the
// engine: it opens the dialog (POST /actions/dialogs/open) with the
// press's trigger_id, which the server accepts only for a few seconds,
// and answers with an empty response, so the post keeps its buttons (the
// user may cancel the dialog and press one of them instead).
//
// The dialog's submission is POSTed by the server to DialogPath, unsigned
// as well, and the dialog's state is shown to the submitting client. So
// the state carries the form's ID, the channel, the user who opened it
// and the form's action, with an HMAC over all of them; a submission is
// accepted only with that HMAC and from that user, and it acts only as
// that user, in that channel, with that action: the same as submitting
// the dialog. It becomes one Event with the form's Action and the answers
// in Event.Form, whose ID is derived from the state, the user and the
// answers, so that a resent submission has no second effect. A wrong
// answer is explained by the engine in the channel, not in the dialog.
//
// After a restart the forms in memory are gone: an old opener then gets
// 410 (the server shows the user its generic error; the question's other
// buttons still answer). A dialog opened before the restart can still be
// submitted: everything its submission needs is in its state.

// maxForms bounds the forms kept for openers; the oldest goes first.
const maxForms = 1024

// forms keeps the Forms of sent messages for their openers.
type forms struct {
	mu    sync.Mutex
	byID  map[string]*bot.Form
	order []string // IDs, oldest first
}

func (f *forms) put(id string, form *bot.Form) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.byID == nil {
		f.byID = map[string]*bot.Form{}
	}
	if _, ok := f.byID[id]; !ok {
		if len(f.order) >= maxForms {
			delete(f.byID, f.order[0])
			f.order = slices.Delete(f.order, 0, 1)
		}
		f.order = append(f.order, id)
	}
	c := *form
	c.Fields = slices.Clone(form.Fields)
	f.byID[id] = &c
}

func (f *forms) get(id string) *bot.Form {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.byID[id]
}

// forget drops every form, as a restart does.
func (f *forms) forget() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.byID, f.order = nil, nil
}

// opensForm reports whether m has a form that can be offered.
func opensForm(m bot.Message) bool {
	f := m.Form
	return f != nil && f.Action != "" && f.Title != "" && len(f.Fields) > 0
}

// formID is the ID of a message's form: stable across retries of the
// message's send (they keep its nonce).
func formID(nonce string) string {
	h := sha256.Sum256([]byte("ampel-form\x00" + nonce))
	return idEncoding.EncodeToString(h[:])[:16]
}

// opener is the button that opens form's dialog, signed for chat, the
// user allowed and the post's pending ID, like the other buttons.
func (a *Adapter) opener(chat, allowed, pending, nonce string, form *bot.Form) *model.PostAction {
	id := formID(nonce)
	a.forms.put(id, form)
	label := form.Open
	if label == "" {
		label = form.Title
	}
	p := press{form: id, label: label, channel: chat, user: allowed, nonce: pending}
	return &model.PostAction{
		Type: model.PostActionTypeButton, Name: label, Style: "primary",
		Integration: &model.PostActionIntegration{URL: a.callback, Context: map[string]any{
			"v": ctxVersion, "f": p.form, "l": p.label, "c": p.channel, "u": p.user, "n": p.nonce, "s": a.sign(p),
		}},
	}
}

// dialogState is a dialog's state: who may submit it, where and to what
// effect, signed.
type dialogState struct {
	V      string `json:"v"`
	Form   string `json:"f"`
	Chat   string `json:"c"`
	User   string `json:"u"`
	Action string `json:"a"`
	Sig    string `json:"s"`
}

func (a *Adapter) signState(s dialogState) string {
	return a.mac("ampel-mm-dialog", ctxVersion, s.Form, s.Chat, s.User, s.Action)
}

// openerAnswer opens the dialog of a verified opener press and answers the
// press: empty (the post stays as it is) once the dialog is open, 410 if
// the form is no longer known, 502 if the server refused to open it.
func (a *Adapter) openerAnswer(w http.ResponseWriter, r *http.Request, req *model.PostActionIntegrationRequest, p press) {
	form := a.forms.get(p.form)
	if form == nil {
		a.log.Info("mattermost form opener for a forgotten form", "post", httpkit.Opaque(req.PostId))
		http.Error(w, "form expired", http.StatusGone)
		return
	}
	if req.TriggerId == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	st := dialogState{V: ctxVersion, Form: p.form, Chat: req.ChannelId, User: req.UserId, Action: form.Action}
	st.Sig = a.signState(st)
	state, _ := json.Marshal(st)
	if err := a.openDialog(r.Context(), req.TriggerId, p.form, string(state), form); err != nil {
		a.log.Warn("mattermost dialog not opened", "post", httpkit.Opaque(req.PostId), "err", a.r.redact(err.Error()))
		http.Error(w, "dialog not opened", http.StatusBadGateway)
		return
	}
	writeJSON(w, model.PostActionIntegrationResponse{})
}

// openDialog opens form as a dialog. Date fields are date pickers; a
// server that does not know them (older than the model this adapter is
// built on) answers 400, and the dialog is opened once more with text
// fields for the dates (the trigger ID stays valid for its few seconds).
func (a *Adapter) openDialog(ctx context.Context, trigger, id, state string, form *bot.Form) error {
	var err error
	for _, picker := range []bool{true, false} {
		req := model.OpenDialogRequest{TriggerId: trigger, URL: a.dialog, Dialog: model.Dialog{
			CallbackId: id, Title: truncBytes(form.Title, model.DialogTitleMaxLength),
			IntroductionText: escape(form.Intro), // Markdown, as posts
			Elements:         dialogElements(form, picker), SubmitLabel: form.Submit, State: state,
		}}
		status := 0
		err = a.call(ctx, "open dialog", func(ctx context.Context) (*model.Response, error) {
			resp, err := a.api.OpenInteractiveDialog(ctx, req)
			if resp != nil {
				status = resp.StatusCode
			}
			return resp, err
		})
		if err == nil || status != http.StatusBadRequest || !hasDate(form) {
			return err
		}
	}
	return err
}

func hasDate(form *bot.Form) bool {
	return slices.ContainsFunc(form.Fields, func(f bot.FormField) bool { return f.Kind == bot.FieldDate })
}

// dialogElements renders a form's fields within the server's limits
// (which count bytes): select fields as selects, text fields as text
// (textarea when longer than a text element's default may be), dates as
// date pickers or, without picker, as text with the date as default.
func dialogElements(form *bot.Form, picker bool) []model.DialogElement {
	var out []model.DialogElement
	for _, f := range form.Fields {
		el := model.DialogElement{
			Name: f.Name, DisplayName: truncBytes(f.Label, model.DialogElementDisplayNameMaxLength),
			HelpText: truncBytes(f.Hint, model.DialogElementHelpTextMaxLength), Optional: f.Optional,
		}
		if el.DisplayName == "" {
			el.DisplayName = truncBytes(f.Name, model.DialogElementDisplayNameMaxLength)
		}
		switch f.Kind {
		case bot.FieldSelect:
			el.Type = "select"
			for _, o := range f.Options {
				el.Options = append(el.Options, &model.PostActionOptions{Text: o.Label, Value: o.Value})
				if o.Value == f.Value {
					el.Default = f.Value
				}
			}
		case bot.FieldDate:
			if _, err := time.Parse(model.ISODateFormat, f.Value); err == nil {
				el.Default = f.Value
			}
			el.Type = "text"
			if picker {
				el.Type = "date"
			}
		default:
			el.Type, el.MaxLength = "text", max(f.MaxLen, 0)
			limit := model.DialogElementTextMaxLength
			if f.MaxLen > model.DialogElementTextMaxLength {
				el.Type, limit = "textarea", model.DialogElementTextareaMaxLength
			}
			el.Default = truncBytes(f.Value, limit)
		}
		out = append(out, el)
	}
	return out
}

// truncBytes cuts s to at most n bytes at a character boundary, ending it
// with "…" if it was cut.
func truncBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ell = "…"
	cut := max(n-len(ell), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if n < len(ell) {
		return s[:cut]
	}
	return s[:cut] + ell
}

var errDialogForged = errors.New("dialog submission refused")

// verifyDialog checks a submission against its state.
func (a *Adapter) verifyDialog(req *model.SubmitDialogRequest) (dialogState, error) {
	var st dialogState
	if err := json.Unmarshal([]byte(req.State), &st); err != nil {
		return st, errDialogForged
	}
	switch {
	case st.V != ctxVersion || st.Sig == "" || st.Form == "" || st.Chat == "" || st.User == "" || st.Action == "":
		return st, errDialogForged
	case !hmac.Equal([]byte(st.Sig), []byte(a.signState(st))):
		return st, errDialogForged
	case req.CallbackId != st.Form || req.UserId != st.User || req.UserId == a.botID:
		return st, errDialogForged
	}
	return st, nil
}

// maxAnswers bounds the answers read from a submission whose form is no
// longer in memory.
const maxAnswers = 32

// dialogHandler serves dialog submissions (see the comment at the top of
// this file): a verified submission goes to h as one Event; the answer,
// once h committed it, is an empty response, which closes the dialog. A
// cancellation is answered and has no effect. If h fails, the answer is
// 500: the dialog stays open, and submitting again is safe.
func (a *Adapter) dialogHandler(h bot.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := a.gate.ReadBody(w, r, maxCallbackBody) // as for presses
		if !ok {
			return
		}
		var req model.SubmitDialogRequest
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		st, err := a.verifyDialog(&req)
		if err != nil {
			a.log.Warn("mattermost dialog submission refused", "channel", httpkit.Opaque(req.ChannelId), "user", httpkit.Opaque(req.UserId))
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		if req.Cancelled {
			writeJSON(w, model.SubmitDialogResponse{})
			return
		}
		answers := formAnswers(a.forms.get(st.Form), req.Submission)
		ci, err := a.channels.get(r.Context(), a, st.Chat)
		if err == nil {
			ev := bot.Event{
				ID: dialogID(&req, answers), Action: st.Action, Form: answers,
				Group: ci.typ != string(model.ChannelTypeDirect),
				Addr:  bot.Address{Platform: Platform, Chat: st.Chat, User: st.User},
			}
			ev.LangHint, ev.ZoneHint, ev.UserName = a.people.hints(r.Context(), a, st.User)
			err = h.Handle(r.Context(), ev)
		}
		if err != nil {
			a.log.Warn("mattermost dialog submission not handled", "channel", st.Chat, "err", a.r.redact(err.Error()))
			http.Error(w, "not handled", http.StatusInternalServerError)
			return
		}
		writeJSON(w, model.SubmitDialogResponse{})
	})
}

// formAnswers turns a submission into answers by field name, as strings:
// the fields of form, or, if it is no longer known, whatever was
// submitted (bounded). Empty answers are left out.
func formAnswers(form *bot.Form, sub map[string]any) map[string]string {
	var names []string
	if form != nil {
		for _, f := range form.Fields {
			names = append(names, f.Name)
		}
	} else {
		for k := range sub {
			names = append(names, k)
		}
		sort.Strings(names)
		names = names[:min(len(names), maxAnswers)]
	}
	out := map[string]string{}
	for _, n := range names {
		var s string
		switch v := sub[n].(type) {
		case string:
			s = v
		case float64:
			s = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			s = strconv.FormatBool(v)
		}
		if s != "" {
			out[n] = s
		}
	}
	return out
}

// dialogID is the event ID of a submission: the same submission twice
// (the same dialog, user and answers) is one event.
func dialogID(req *model.SubmitDialogRequest, answers map[string]string) string {
	keys := make([]string, 0, len(answers))
	for k := range answers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	m := sha256.New()
	write := func(s string) { // length-prefixed: no two lists write the same bytes
		m.Write(strconv.AppendInt(nil, int64(len(s)), 10))
		m.Write([]byte{':'})
		m.Write([]byte(s))
	}
	write(req.CallbackId)
	write(req.State)
	write(req.UserId)
	for _, k := range keys {
		write(k)
		write(answers[k])
	}
	return "dialog:" + idEncoding.EncodeToString(m.Sum(nil))[:26]
}
