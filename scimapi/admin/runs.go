package admin

import (
	"context"
	"encoding/csv"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
)

// RunRequest is the body of POST /accounts/{a}/runs.
type RunRequest struct {
	DryRun bool `json:"dryRun"`
	Full   bool `json:"full,omitempty"`
}

// startTimeout bounds how long Run Now waits for the run to be recorded.
const startTimeout = 30 * time.Second

func (h *handler) runNow(w http.ResponseWriter, r *http.Request) {
	var in RunRequest
	if data, err := readBody(w, r, h.opt.MaxBodyBytes); err != nil {
		h.fail(w, r, err)
		return
	} else if strings.TrimSpace(string(data)) != "" {
		r.Body = http.NoBody
		if err := decodeBytes(data, &in); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	a := account(r)
	if _, err := h.opt.Store.GetAccount(r.Context(), a); err != nil {
		h.fail(w, r, err)
		return
	}
	h.start(w, r, bridge.RunOptions{Account: a, Trigger: bridge.TriggerManual, DryRun: in.DryRun, Full: in.Full})
}

func (h *handler) start(w http.ResponseWriter, r *http.Request, opt bridge.RunOptions) {
	if h.opt.Runner == nil {
		problem(w, r, http.StatusServiceUnavailable, "This server does not run syncs.")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), startTimeout)
	defer cancel()
	run, err := h.opt.Runner.Start(ctx, opt)
	// A run records its end before it lets go of the account's lock, so
	// for a moment the lock is held while no run is running: wait that
	// moment out rather than answer 409 for a run the admin sees finished.
	for i := 0; errors.Is(err, bridge.ErrRunInProgress) && i < lockReleaseRetries; i++ {
		if _, ok, _ := bridge.RunningRun(r.Context(), h.opt.Store, opt.Account); ok {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(lockReleaseWait):
		}
		run, err = h.opt.Runner.Start(ctx, opt)
	}
	if errors.Is(err, bridge.ErrRunInProgress) {
		p := Problem{Status: http.StatusConflict, Detail: "A sync run is already in progress for this account; run holds it."}
		if running, ok, _ := bridge.RunningRun(r.Context(), h.opt.Store, opt.Account); ok {
			p.Run = &running
			w.Header().Set("Location", runPath(running))
		} else {
			p.Detail = "A sync run is already in progress for this account."
		}
		writeProblem(w, r, p)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", runPath(run))
	writeJSON(w, http.StatusAccepted, run)
}

// How long Run Now waits for a finished run to release the account lock.
const (
	lockReleaseRetries = 20
	lockReleaseWait    = 100 * time.Millisecond
)

func runPath(run bridge.Run) string {
	return "/api/v1/accounts/" + run.AccountID + "/runs/" + run.ID
}

func (h *handler) listRuns(w http.ResponseWriter, r *http.Request) {
	offset, limit, err := paging(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	a := account(r)
	if _, err := h.opt.Store.GetAccount(r.Context(), a); err != nil {
		h.fail(w, r, err)
		return
	}
	runs, total, err := h.opt.Store.ListRuns(r.Context(), a, offset, limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if runs == nil {
		runs = []bridge.Run{}
	}
	writeJSON(w, http.StatusOK, Page[bridge.Run]{Items: runs, Total: total, Offset: offset, Limit: limit})
}

func (h *handler) getRun(w http.ResponseWriter, r *http.Request) {
	run, err := h.opt.Store.GetRun(r.Context(), account(r), idVar(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, run)
}

var actions = map[string]bool{"add": true, "update": true, "deactivate": true, "reactivate": true, "delete": true,
	"unchanged": true, "skip": true, "refuse": true, "error": true}

func (h *handler) runEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := bridge.EventFilter{}
	if v := q.Get("action"); v != "" {
		if !actions[v] {
			h.fail(w, r, badRequest("action %q is not one of add, update, deactivate, reactivate, delete, unchanged, skip, refuse, error.", v))
			return
		}
		f.Action = bridge.Action(v)
	}
	csvOut, err := wantCSV(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if f.Offset, f.Limit, err = paging(r); err != nil {
		h.fail(w, r, err)
		return
	}
	if csvOut && q.Get("limit") == "" {
		f.Limit = 0 // a CSV export is the whole run unless asked otherwise
	}
	a, id := account(r), idVar(r)
	if _, err := h.opt.Store.GetRun(r.Context(), a, id); err != nil {
		h.fail(w, r, err)
		return
	}
	events, total, err := h.opt.Store.ListRunEvents(r.Context(), a, id, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if csvOut {
		writeCSV(w, "run-"+id+"-events.csv", []string{"id", "runId", "at", "objectType", "action", "name", "dn", "externalId", "resourceId", "reason", "changed"},
			func(emit func([]string)) {
				for _, e := range events {
					emit([]string{strconv.FormatInt(e.ID, 10), e.RunID, e.At.UTC().Format(time.RFC3339), string(e.ObjectType), string(e.Action),
						e.Name, e.DN, e.ExternalID, e.ResourceID, e.Reason, strings.Join(e.Changed, ";")})
				}
			})
		return
	}
	if events == nil {
		events = []bridge.RunEvent{}
	}
	writeJSON(w, http.StatusOK, Page[bridge.RunEvent]{Items: events, Total: total, Offset: f.Offset, Limit: f.Limit})
}

func (h *handler) approveRun(w http.ResponseWriter, r *http.Request) {
	a, id := account(r), idVar(r)
	held, err := h.opt.Store.GetRun(r.Context(), a, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if held.Status != bridge.RunHeld {
		h.fail(w, r, clientErr(bridge.ErrConflict, "Run %s is %s; only a run held by the deletion threshold can be approved.", id, held.Status))
		return
	}
	h.start(w, r, bridge.RunOptions{Account: a, Trigger: bridge.TriggerApproval, ApproveRunID: id, Full: true})
}

func (h *handler) cancelRun(w http.ResponseWriter, r *http.Request) {
	if h.opt.Runner == nil {
		problem(w, r, http.StatusServiceUnavailable, "This server does not run syncs.")
		return
	}
	run, err := h.opt.Runner.Cancel(r.Context(), account(r), idVar(r))
	if err != nil {
		if errors.Is(err, bridge.ErrConflict) && !strings.HasPrefix(err.Error(), "db:") {
			err = clientErr(bridge.ErrConflict, "%s", sentence(strings.TrimPrefix(err.Error(), bridge.ErrConflict.Error()+": ")))
		}
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, run)
}

func wantCSV(r *http.Request) (bool, error) {
	switch v := r.URL.Query().Get("format"); v {
	case "", "json":
		return strings.Contains(r.Header.Get("Accept"), "text/csv"), nil
	case "csv":
		return true, nil
	default:
		return false, badRequest("format %q is not json or csv.", v)
	}
}

// writeCSV streams a CSV download. Cells that a spreadsheet would run as a
// formula are prefixed with a quote (CSV injection).
func writeCSV(w http.ResponseWriter, filename string, header []string, rows func(emit func([]string))) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	_ = cw.Write(header)
	rows(func(rec []string) {
		for i, c := range rec {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				rec[i] = "'" + c
			}
		}
		_ = cw.Write(rec)
	})
	cw.Flush()
}
