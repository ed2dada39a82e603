package bridge

func hasMember(ms []Member, ids map[string]bool) bool {
	if len(ids) == 0 {
		return false
	}
	for _, m := range ms {
		if ids[m.ID] {
			return true
		}
	}
	return false
}

func nonNilMembers(ms []Member) []Member {
	if ms == nil {
		return []Member{}
	}
	return ms
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
