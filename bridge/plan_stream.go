package bridge

import "strings"

// A first sync streams its users: they are planned and handed to the sink
// while the directory is still being read, so writing them overlaps the
// read instead of following it (issue #6: a full sync of 50,000 users at
// most 1.3 times the time ldapsearch needs to page them out).
//
// Only a first sync can: the account holds no AD object yet, so nothing
// can be missing, deleted, held by the deletion threshold or renamed, and
// the two decisions that otherwise wait for the whole read are made in
// read order anyway:
//
//   - userName clashes: local users keep their names and among AD users
//     the first read wins (as in finish, which makes the same decision
//     again for every user and so agrees with the stream);
//   - the manager: a user whose manager has not been read yet waits for
//     it, and is planned when the manager's entry arrives; users whose
//     manager never arrives (out of scope, not a user) are planned after
//     the read, as every user is in other runs.
//
// The price: a read that fails half-way leaves the users read before it
// written (the run says how many, and deletes nothing), where other runs
// write nothing. The next run is a normal full run that completes them.
type userStream struct {
	put   func(PlanItem) error
	taken map[string]bool // lower-case userNames held: local users, then AD users in read order
	// waiting holds users read before their manager, by the manager's
	// normalized DN.
	waiting map[string][]waitingUser
	planned int
}

type waitingUser struct {
	e   Entry
	idx int // in planBuilder.users
}

// canStream reports whether this read may stream its users: a full read
// into an account that holds no AD object.
func (b *planBuilder) canStream() bool {
	if b.delta != nil {
		return false
	}
	ad := false
	b.states.each(func(k string, _ ObjectState) bool {
		ad = !strings.HasPrefix(k, "local:")
		return !ad
	})
	return !ad
}

// startStream makes index hand users to put as soon as they can be
// planned. Call it after begin, before the read.
func (b *planBuilder) startStream(put func(PlanItem) error) {
	s := &userStream{put: put, taken: map[string]bool{}, waiting: map[string][]waitingUser{}}
	b.states.each(func(k string, st ObjectState) bool {
		// The names finish's holdName keeps for local users.
		if strings.HasPrefix(k, "local:") && st.Type == ObjectUser && st.Status != StatusDeleted && st.Name != "" {
			s.taken[strings.ToLower(st.Name)] = true
		}
		return true
	})
	b.stream = s
}

// streamUser plans the user index just recorded (the last of b.users),
// or makes it wait for its manager, then plans the users that waited for
// this one. now says the user itself was planned, so its entry need not
// be spilled for the pass after the read. It is a no-op unless the read
// streams.
func (b *planBuilder) streamUser(e Entry) (now bool, err error) {
	s := b.stream
	if s == nil || e.Kind != EntryUser || len(b.users) == 0 {
		return false, nil
	}
	idx := len(b.users) - 1
	p := &b.users[idx]
	if p.guid == "" || p.guid != e.GUID {
		return false, nil // not indexed as a user (no objectGUID): an error item after the read
	}
	if p.userName == "" {
		b.unref(p)
		return false, nil
	}
	name := strings.ToLower(p.userName)
	if s.taken[name] {
		// A clash: finish words the error; nothing may point at the loser.
		b.unref(p)
		return false, nil
	}
	s.taken[name] = true
	if mgr := e.Get("manager"); mgr != "" {
		if _, ok := b.refs[NormalizeDN(mgr)]; !ok {
			key := NormalizeDN(mgr)
			s.waiting[key] = append(s.waiting[key], waitingUser{e: e, idx: idx})
			return false, b.releaseWaiting(p.key)
		}
	}
	if err := b.planStreamed(e, idx); err != nil {
		return false, err
	}
	return true, b.releaseWaiting(p.key)
}

// releaseWaiting plans the users that waited for the user at key.
func (b *planBuilder) releaseWaiting(key string) error {
	s := b.stream
	ws, ok := s.waiting[key]
	if !ok {
		return nil
	}
	delete(s.waiting, key)
	if _, ok := b.refs[key]; !ok {
		return nil // the manager lost a userName clash: they wait for the end
	}
	for _, w := range ws {
		if err := b.planStreamed(w.e, w.idx); err != nil {
			return err
		}
	}
	return nil
}

func (b *planBuilder) planStreamed(e Entry, idx int) error {
	p := &b.users[idx]
	p.streamed = true
	b.stream.planned++
	return b.stream.put(b.userItem(e, *p))
}

// unref removes a user that will not be written from the references, as
// finish does, before any streamed user can point at it.
func (b *planBuilder) unref(p *userRec) {
	if r, ok := b.refs[p.key]; ok && r.ID == p.id {
		delete(b.refs, p.key)
	}
}

// endStream drops what the stream held: users still waiting are planned
// after the read, from the spill.
func (b *planBuilder) endStream() {
	if b.stream != nil {
		b.stream.waiting = nil
		b.stream.taken = nil
	}
}
