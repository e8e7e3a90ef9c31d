package check

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/export"
	"github.com/ampel-bot/ampel/flows"
)

// MakePicture names the maker of the result picture (bot.File.Make): it is
// drawn when the result is sent, off the turn (export.Picture takes
// milliseconds; a turn takes tens of microseconds).
const MakePicture = "picture"

// pictureSpec is everything the picture is drawn from, as the turn saw it.
type pictureSpec struct {
	Flow string `json:"flow"`
	Lang string `json:"lang"`
	// Zone is the user's zone by name, and its offset then for a zone no
	// longer known by that name.
	Zone   string    `json:"tz"`
	Offset int       `json:"off"`
	Now    time.Time `json:"now"`
	Run    *bot.Run  `json:"run"`
	Prev   *bot.Run  `json:"prev,omitempty"`
	Owner  string    `json:"owner,omitempty"`
}

// Owner names, for the picture and the PDF, whose result a team's run is:
// the team check and how many rated; "" for a person's own run.
func Owner(t *bot.Turn, run *bot.Run) string {
	members := 0
	for _, n := range run.Spread {
		sum := 0
		for _, k := range n {
			sum += k
		}
		members = max(members, sum)
	}
	if members == 0 {
		return ""
	}
	return t.N("export.owner.team", members)
}

// resultPicture is the picture of the conversation's result, to be drawn
// when sent.
func resultPicture(t *bot.Turn, f *flows.Flow, run, prev *bot.Run) (bot.File, error) {
	zone, now := t.Zone(), t.Now()
	_, off := now.In(zone).Zone()
	spec, err := json.Marshal(pictureSpec{Flow: f.ID, Lang: t.Lang(), Zone: zone.String(), Offset: off, Now: now, Run: run, Prev: prev, Owner: Owner(t, run)})
	if err != nil {
		return bot.File{}, err
	}
	in := export.Input{Texts: t.Texts(), Lang: t.Lang(), Zone: zone, Now: now, Flow: f, Run: run}
	return bot.File{Name: export.PictureName(in), MIME: "image/png", Make: MakePicture, Spec: spec}, nil
}

// drawPicture is the maker of MakePicture.
func drawPicture(texts *bot.Texts, catalog *flows.Catalog, raw []byte) ([]byte, error) {
	var s pictureSpec
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	f, ok := catalog.Get(s.Flow)
	if !ok || s.Run == nil {
		return nil, errors.New("picture: its check is gone")
	}
	zone, err := time.LoadLocation(s.Zone)
	if err != nil {
		zone = time.FixedZone(s.Zone, s.Offset)
	}
	pic, err := export.Picture(export.Input{Texts: texts, Lang: s.Lang, Zone: zone, Now: s.Now, Flow: f, Run: s.Run, Prev: s.Prev, Spread: s.Run.Spread, Owner: s.Owner})
	return pic.Data, err
}
