package db

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
)

// encodeAttributes writes a JSON object column; an empty map is
// written as "{}" rather than null.
func encodeAttributes(m map[string]any) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	// bridge.AppendJSON gives encoding/json's bytes without its reflection
	// over map[string]any (the cost of a full sync's writes, after SQL).
	bp := encodeBuffers.Get().(*[]byte)
	defer encodeBuffers.Put(bp)
	b, err := bridge.AppendJSON((*bp)[:0], m)
	*bp = b
	if err != nil {
		return "", fmt.Errorf("encode attributes: %w", err)
	}
	return string(b), nil
}

// encodeBuffers are encodeAttributes' scratch buffers: only the string
// copied out of one leaves it.
var encodeBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, 1024)
	return &b
}}

// decodeAttributes reads a JSON object; "{}" and NULL read as nil, so an
// object stored without attributes reads back the way it was written.
func decodeAttributes(s string) (map[string]any, error) {
	if s == "" || s == "{}" || s == "null" {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("decode attributes: %w", err)
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

// userAttributes is the attributes column of u: the JSON the mapper
// rendered with the content hash when it left it (AppendJSON's bytes, the
// same encodeAttributes writes, and off the single writer's critical
// path), or the encoding of the map. See bridge.User.AttributesJSON for
// why the rendering cannot be stale.
func userAttributes(u *bridge.User) (string, error) {
	if u.AttributesJSON != "" {
		return u.AttributesJSON, nil
	}
	return encodeAttributes(u.Attributes)
}

func userToRow(account string, u bridge.User) (userRow, error) {
	attrs, err := userAttributes(&u)
	if err != nil {
		return userRow{}, err
	}
	t := now()
	r := userRow{
		ID: u.ID, AccountID: account, ExternalID: u.ExternalID, Source: string(u.Source),
		UserName: u.UserName, UserNameLower: strings.ToLower(u.UserName), DisplayName: u.DisplayName,
		Active: u.Active, Status: string(u.Status), DN: u.DN, OUPath: u.OUPath, Attributes: attrs,
		Hash: u.Hash, Version: 1, CreatedAt: norm(u.CreatedAt), UpdatedAt: t,
	}
	if u.CreatedAt.IsZero() {
		r.CreatedAt = t
	}
	if r.Source == "" {
		r.Source = string(bridge.SourceAD)
	}
	if r.Status == "" {
		r.Status = string(bridge.StatusActive)
	}
	return r, nil
}

func userFromRow(r userRow) (bridge.User, error) {
	attrs, err := decodeAttributes(r.Attributes)
	if err != nil {
		return bridge.User{}, fmt.Errorf("user %s: %w", r.ID, err)
	}
	return bridge.User{
		ID: r.ID, AccountID: r.AccountID, ExternalID: r.ExternalID, Source: bridge.Source(r.Source),
		UserName: r.UserName, DisplayName: r.DisplayName, Active: r.Active, Status: bridge.Status(r.Status),
		DN: r.DN, OUPath: r.OUPath, Attributes: attrs, Hash: r.Hash, Version: r.Version,
		DeletedAt: utcPtr(r.DeletedAt), DeleteReason: r.DeleteReason, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}, nil
}

func groupToRow(account string, g bridge.Group) (groupRow, error) {
	attrs, err := encodeAttributes(g.Attributes)
	if err != nil {
		return groupRow{}, err
	}
	t := now()
	r := groupRow{
		ID: g.ID, AccountID: account, ExternalID: g.ExternalID, Source: string(g.Source), Kind: string(g.Kind),
		DisplayName: g.DisplayName, DN: g.DN, ParentID: g.ParentID, Status: string(g.Status), Attributes: attrs,
		Hash: g.Hash, Version: 1, CreatedAt: norm(g.CreatedAt), UpdatedAt: t,
	}
	if g.CreatedAt.IsZero() {
		r.CreatedAt = t
	}
	if r.Source == "" {
		r.Source = string(bridge.SourceAD)
	}
	if r.Status == "" {
		r.Status = string(bridge.StatusActive)
	}
	if r.Kind == "" {
		r.Kind = string(bridge.KindSecurity)
	}
	return r, nil
}

func groupFromRow(r groupRow) (bridge.Group, error) {
	attrs, err := decodeAttributes(r.Attributes)
	if err != nil {
		return bridge.Group{}, fmt.Errorf("group %s: %w", r.ID, err)
	}
	return bridge.Group{
		ID: r.ID, AccountID: r.AccountID, ExternalID: r.ExternalID, Source: bridge.Source(r.Source),
		Kind: bridge.GroupKind(r.Kind), DisplayName: r.DisplayName, DN: r.DN, ParentID: r.ParentID,
		Status: bridge.Status(r.Status), Attributes: attrs, Hash: r.Hash, Version: r.Version,
		DeletedAt: utcPtr(r.DeletedAt), DeleteReason: r.DeleteReason, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}, nil
}

func eventToRow(account string, e bridge.RunEvent) (runEventRow, error) {
	changed := "[]"
	if len(e.Changed) > 0 {
		b, err := json.Marshal(e.Changed)
		if err != nil {
			return runEventRow{}, err
		}
		changed = string(b)
	}
	r := runEventRow{
		RunID: e.RunID, AccountID: account, ObjectType: string(e.ObjectType), Action: string(e.Action),
		DN: e.DN, ExternalID: e.ExternalID, ResourceID: e.ResourceID, Name: e.Name, Reason: e.Reason,
		Changed: changed, At: norm(e.At),
	}
	if e.At.IsZero() {
		r.At = now()
	}
	return r, nil
}

func eventFromRow(r runEventRow) (bridge.RunEvent, error) {
	var changed []string
	if r.Changed != "" && r.Changed != "[]" && r.Changed != "null" {
		if err := json.Unmarshal([]byte(r.Changed), &changed); err != nil {
			return bridge.RunEvent{}, fmt.Errorf("event %d: decode changed: %w", r.ID, err)
		}
	}
	return bridge.RunEvent{
		ID: r.ID, RunID: r.RunID, AccountID: r.AccountID, ObjectType: bridge.ObjectType(r.ObjectType),
		Action: bridge.Action(r.Action), DN: r.DN, ExternalID: r.ExternalID, ResourceID: r.ResourceID,
		Name: r.Name, Reason: r.Reason, Changed: changed, At: r.At.UTC(),
	}, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
