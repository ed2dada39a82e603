-- Delta runs (bridge.DeltaStore, db/objects_delta.go) resolve the DNs that
-- changed objects name (members, managers, parent OUs) to stored objects
-- without loading the account: WHERE account_id = ? AND lower(dn) IN (...).
-- Numbered 0010 to stay clear of migrations being written in parallel;
-- versions need not be contiguous.
CREATE INDEX users_account_dn_lower_idx ON users (account_id, lower(dn));
CREATE INDEX groups_account_dn_lower_idx ON groups (account_id, lower(dn));
