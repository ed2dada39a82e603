-- SCIM endpoint, part two (db/scim_*.go): what keeps a request's cost
-- independent of the table size.

-- Live (status <> 'deleted') users and groups per account, for a list's
-- totalResults without COUNT(*) over the account. Triggers keep it, in the
-- transaction of every write, whichever code path writes (Apply, the SCIM
-- handlers, account deletion): a row that becomes live adds one, a row that
-- stops being live (soft delete, hard delete) takes one away. They run once
-- per statement over its transition tables, so a 500-row upsert updates
-- the counter once, not 500 times.
CREATE TABLE scim_counts (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    resource   TEXT NOT NULL CHECK (resource IN ('users', 'groups')),
    live       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, resource)
);

INSERT INTO scim_counts (account_id, resource, live)
SELECT a.id, 'users', (SELECT COUNT(*) FROM users u WHERE u.account_id = a.id AND u.status <> 'deleted') FROM accounts a;
INSERT INTO scim_counts (account_id, resource, live)
SELECT a.id, 'groups', (SELECT COUNT(*) FROM groups g WHERE g.account_id = a.id AND g.status <> 'deleted') FROM accounts a;

CREATE FUNCTION scim_counts_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO scim_counts (account_id, resource, live) VALUES (NEW.id, 'users', 0), (NEW.id, 'groups', 0);
    RETURN NULL;
END $$;
CREATE TRIGGER scim_counts_account AFTER INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION scim_counts_account();

-- TG_ARGV[0] is the resource ('users' or 'groups').
CREATE FUNCTION scim_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE scim_counts c SET live = c.live + d.n
    FROM (SELECT account_id, COUNT(*) AS n FROM new_rows WHERE status <> 'deleted' GROUP BY account_id) d
    WHERE c.account_id = d.account_id AND c.resource = TG_ARGV[0];
    RETURN NULL;
END $$;
CREATE FUNCTION scim_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE scim_counts c SET live = c.live - d.n
    FROM (SELECT account_id, COUNT(*) AS n FROM old_rows WHERE status <> 'deleted' GROUP BY account_id) d
    WHERE c.account_id = d.account_id AND c.resource = TG_ARGV[0];
    RETURN NULL;
END $$;
CREATE FUNCTION scim_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE scim_counts c SET live = c.live + d.n
    FROM (SELECT account_id, SUM(n) AS n FROM (
            SELECT account_id, 1 AS n FROM new_rows WHERE status <> 'deleted'
            UNION ALL
            SELECT account_id, -1 AS n FROM old_rows WHERE status <> 'deleted') x
          GROUP BY account_id HAVING SUM(n) <> 0) d
    WHERE c.account_id = d.account_id AND c.resource = TG_ARGV[0];
    RETURN NULL;
END $$;

CREATE TRIGGER scim_counts_users_insert AFTER INSERT ON users REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION scim_counts_insert('users');
CREATE TRIGGER scim_counts_users_delete AFTER DELETE ON users REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION scim_counts_delete('users');
CREATE TRIGGER scim_counts_users_update AFTER UPDATE ON users REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION scim_counts_update('users');
CREATE TRIGGER scim_counts_groups_insert AFTER INSERT ON groups REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION scim_counts_insert('groups');
CREATE TRIGGER scim_counts_groups_delete AFTER DELETE ON groups REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION scim_counts_delete('groups');
CREATE TRIGGER scim_counts_groups_update AFTER UPDATE ON groups REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION scim_counts_update('groups');

-- A group's members in the order the endpoint returns them (users first,
-- then by id): one index range and no sort for a group of 5,000 members.
CREATE INDEX group_members_scim_order_idx ON group_members (group_id, member_type DESC, member_id);

-- A page sorted by userName is cut from this index alone (an index-only
-- scan: the rows before the page are not read from the table), then joined
-- to its rows.
CREATE INDEX users_scim_user_name_page_idx ON users (account_id, user_name_lower) INCLUDE (id) WHERE status <> 'deleted';

-- A user's groups (every user read over SCIM) from one index: it replaces
-- group_members_member_idx, whose member_id prefix it keeps for the
-- deletes that use it.
CREATE INDEX group_members_scim_member_idx ON group_members (member_id, account_id, group_id);
DROP INDEX group_members_member_idx;
