-- Issue #6: every foreign key is a check per inserted row. group_members
-- and run_events each carried two: one to accounts, and one on the pair
-- (group_id, account_id) to groups, or (run_id, account_id) to runs. The
-- pair already names the account through a row whose own account_id
-- references accounts, so the check to accounts proved nothing more, and
-- cost as much as the pair's: on the 100,000-user engine benchmark (200,000
-- memberships and 100,000 run events) it was a fifth of the time of each
-- membership or event insert. Deleting an account still removes both
-- tables' rows: accounts cascade to groups and runs, which cascade to them.
-- SQLite keeps both keys (its checks cost little next to the rest).
ALTER TABLE group_members DROP CONSTRAINT group_members_account_id_fkey;
ALTER TABLE run_events DROP CONSTRAINT run_events_account_id_fkey;
