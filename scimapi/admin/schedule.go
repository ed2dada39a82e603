package admin

import (
	"net/http"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
)

// ScheduleView is the schedule with its next five run times (GET); PUT
// accepts the same document and ignores nextRuns.
type ScheduleView struct {
	bridge.Schedule
	NextRuns []string `json:"nextRuns"`
}

func (h *handler) getSchedule(w http.ResponseWriter, r *http.Request) {
	st, err := h.opt.Store.GetSettings(r.Context(), account(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeSchedule(w, r, st.Settings.WithDefaults().Schedule)
}

func (h *handler) writeSchedule(w http.ResponseWriter, r *http.Request, s bridge.Schedule) {
	v := ScheduleView{Schedule: s, NextRuns: []string{}}
	if s.Enabled {
		next, err := s.NextRuns(h.now(), 5)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, t := range next {
			v.NextRuns = append(v.NextRuns, t.Format(time.RFC3339))
		}
	}
	writeJSON(w, http.StatusOK, v)
}

func (h *handler) putSchedule(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var in ScheduleView
	if err := decode(w, r, h.opt.MaxBodyBytes, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	s := in.Schedule
	if s.TimeZone == "" {
		s.TimeZone = "UTC"
	}
	if err := s.Validate(); err != nil {
		h.fail(w, r, err)
		return
	}
	st, err := h.opt.Store.GetSettings(ctx, account(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	st.Settings.Schedule = s
	st.UpdatedAt = h.now().UTC()
	if err := h.opt.Store.PutSettings(ctx, account(r), st); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.InfoContext(ctx, "schedule replaced", "account", account(r), "enabled", s.Enabled, "frequency", s.Frequency)
	h.writeSchedule(w, r, s)
}
