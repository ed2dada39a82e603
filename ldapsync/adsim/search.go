package adsim

import "github.com/jimlambrt/gldap"

// find returns the entries under base (by scope) that match filter, in
// insertion order, and whether base exists.
func (t *tree) find(base string, scope gldap.Scope, m *matcher, showDeleted bool) ([]*stored, bool, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	root, ok := t.byKey[base]
	if !ok && showDeleted {
		root, ok = t.tombs[base]
	}
	if !ok {
		return nil, false, nil
	}
	var out []*stored
	test := func(e *stored) error {
		ok, err := m.match(e)
		if err != nil {
			return err
		}
		if ok {
			out = append(out, e)
		}
		return nil
	}
	switch scope {
	case gldap.BaseObject:
		if err := test(root); err != nil {
			return nil, true, err
		}
	case gldap.SingleLevel:
		for _, e := range t.order {
			if e.parent == base {
				if err := test(e); err != nil {
					return nil, true, err
				}
			}
		}
	default:
		for _, e := range t.order {
			if under(e.key, base) {
				if err := test(e); err != nil {
					return nil, true, err
				}
			}
		}
	}
	if showDeleted && scope != gldap.BaseObject {
		for _, e := range t.tombOrder {
			if e != root && under(e.key, base) && (scope != gldap.SingleLevel || e.parent == base) {
				if err := test(e); err != nil {
					return nil, true, err
				}
			}
		}
	}
	return out, true, nil
}
