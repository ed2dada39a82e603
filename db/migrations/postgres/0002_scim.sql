-- Indexes for the SCIM endpoint (db/scim_*.go). Every SCIM query reads live
-- rows (status <> 'deleted') of one account, so the indexes are partial on
-- that predicate.

-- displayName is caseExact false: filters compare lower(display_name).
-- Entra ID's first call for a group is `filter=displayName eq "..."`.
CREATE INDEX groups_scim_display_name_idx ON groups (account_id, lower(display_name)) WHERE status <> 'deleted';
CREATE INDEX users_scim_display_name_idx ON users (account_id, lower(display_name)) WHERE status <> 'deleted';
-- The default order of a list without sortBy, for stable pages.
CREATE INDEX users_scim_id_idx ON users (account_id, id) WHERE status <> 'deleted';
CREATE INDEX groups_scim_id_idx ON groups (account_id, id) WHERE status <> 'deleted';
-- meta.lastModified filters (clients polling for changes).
CREATE INDEX users_scim_updated_idx ON users (account_id, updated_at) WHERE status <> 'deleted';
CREATE INDEX groups_scim_updated_idx ON groups (account_id, updated_at) WHERE status <> 'deleted';
