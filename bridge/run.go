package bridge

import "time"

// RunStatus is where a run stands.
type RunStatus string

const (
	RunRunning   RunStatus = "running"
	RunSucceeded RunStatus = "succeeded"
	RunFailed    RunStatus = "failed"
	RunHeld      RunStatus = "held" // would exceed the deletion threshold; waits for approval
	RunCancelled RunStatus = "cancelled"
)

// Trigger says who started a run.
type Trigger string

const (
	TriggerSchedule Trigger = "schedule"
	TriggerManual   Trigger = "manual"
	TriggerCLI      Trigger = "cli"
	TriggerDemo     Trigger = "demo"
	TriggerApproval Trigger = "approval"
)

// RunKind is a full enumeration or a delta since the last cursor.
type RunKind string

const (
	RunFull  RunKind = "full"
	RunDelta RunKind = "delta"
)

// Action is what a plan does to one object.
type Action string

const (
	ActionAdd        Action = "add"
	ActionUpdate     Action = "update"
	ActionDeactivate Action = "deactivate"
	ActionReactivate Action = "reactivate"
	ActionDelete     Action = "delete"
	ActionUnchanged  Action = "unchanged"
	ActionSkip       Action = "skip"
	ActionRefuse     Action = "refuse"
	ActionError      Action = "error"
)

// Counts are a run's per-action numbers for one object type.
type Counts struct {
	Added       int `json:"added"`
	Updated     int `json:"updated"`
	Deactivated int `json:"deactivated"`
	Reactivated int `json:"reactivated"`
	Deleted     int `json:"deleted"`
	Unchanged   int `json:"unchanged"`
	Skipped     int `json:"skipped"`
	Refused     int `json:"refused"`
	Errors      int `json:"errors"`
}

// Add counts one action.
func (c *Counts) Add(a Action) {
	switch a {
	case ActionAdd:
		c.Added++
	case ActionUpdate:
		c.Updated++
	case ActionDeactivate:
		c.Deactivated++
	case ActionReactivate:
		c.Reactivated++
	case ActionDelete:
		c.Deleted++
	case ActionUnchanged:
		c.Unchanged++
	case ActionSkip:
		c.Skipped++
	case ActionRefuse:
		c.Refused++
	case ActionError:
		c.Errors++
	}
}

// RunCounts splits counts by object type.
type RunCounts struct {
	Users  Counts `json:"users"`
	Groups Counts `json:"groups"`
}

// Run is one sync run and its report.
type Run struct {
	ID         string     `json:"id"`
	AccountID  string     `json:"accountId"`
	Trigger    Trigger    `json:"trigger"`
	Kind       RunKind    `json:"kind"`
	KindReason string     `json:"kindReason,omitempty"`
	DryRun     bool       `json:"dryRun"`
	Status     RunStatus  `json:"status"`
	Error      string     `json:"error"`
	StartedAt  time.Time  `json:"startedAt"`
	FinishedAt *time.Time `json:"finishedAt,omitempty"`
	Counts     RunCounts  `json:"counts"`
	// Cursor is the delta high-water mark this run reached (JSON, opaque to
	// the store).
	Cursor string `json:"-"`
	// ApprovedRunID is the held run this run carries out, if any.
	ApprovedRunID string `json:"approvedRunId,omitempty"`
}

// RunEvent is one object touched, skipped or refused by a run.
type RunEvent struct {
	ID         int64      `json:"id"`
	RunID      string     `json:"runId"`
	AccountID  string     `json:"accountId"`
	ObjectType ObjectType `json:"objectType"`
	Action     Action     `json:"action"`
	DN         string     `json:"dn,omitempty"`
	ExternalID string     `json:"externalId,omitempty"`
	ResourceID string     `json:"resourceId,omitempty"`
	Name       string     `json:"name,omitempty"`
	Reason     string     `json:"reason,omitempty"`
	Changed    []string   `json:"changed,omitempty"`
	At         time.Time  `json:"at"`
}
