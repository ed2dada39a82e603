-- Fewer indexes to maintain on every write (issue #6: a first full sync
-- of 100,000 users writes each of them into every index of users). These
-- four serve no SCIM query and no sync query:
--
-- users_account_user_name_idx (account_id, user_name) and
-- groups_account_display_name_idx (account_id, display_name): SCIM compares
-- and sorts userName through user_name_lower (users_account_user_name_live_key)
-- and displayName through lower(display_name) (the *_scim_display_name_idx
-- of 0002), both case-insensitive as SCIM says. The exact-case columns only
-- ordered Store.ListUsers and ListGroups, which no server path calls.
--
-- users_account_status_idx and groups_account_status_idx (account_id,
-- status): every SCIM read filters status <> 'deleted', which an equality
-- index does not serve (the live partial indexes of 0002 and 0003 do), and
-- loading an account's states reads the whole account.
DROP INDEX users_account_user_name_idx;
DROP INDEX groups_account_display_name_idx;
DROP INDEX users_account_status_idx;
DROP INDEX groups_account_status_idx;

-- PostgreSQL only: users_scim_user_name_page_idx (0003) repeated the key and
-- predicate of the unique users_account_user_name_live_key, to carry id for
-- index-only page scans. One unique index with INCLUDE (id) does both jobs,
-- under the unique key's name, and every write maintains one index less.
-- SCIM pages by userName, OFFSET or sought from a cursor (db/scim_page.go,
-- 0005), are cut from it: keep (account_id, user_name_lower) INCLUDE (id).
DROP INDEX users_scim_user_name_page_idx;
DROP INDEX users_account_user_name_live_key;
CREATE UNIQUE INDEX users_account_user_name_live_key ON users (account_id, user_name_lower) INCLUDE (id) WHERE status <> 'deleted';
