-- A delta that deletes needs the deletion threshold's base: the live AD
-- objects with an objectGUID. db/objects_delta.go (LiveADCount) takes the
-- live rows from scim_counts and subtracts the few live rows that are local
-- or have no objectGUID, counted through these partial indexes, instead of
-- visiting every row of the account. The query repeats the predicate
-- literally, so both databases can use the index.
CREATE INDEX users_account_unanchored_idx ON users (account_id, status) WHERE source <> 'ad' OR external_id = '';
CREATE INDEX groups_account_unanchored_idx ON groups (account_id, status) WHERE source <> 'ad' OR external_id = '';
