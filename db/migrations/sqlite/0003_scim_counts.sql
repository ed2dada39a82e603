-- SCIM endpoint, part two (db/scim_*.go): what keeps a request's cost
-- independent of the table size.

-- Live (status <> 'deleted') users and groups per account, for a list's
-- totalResults without COUNT(*) over the account. Triggers keep it, in the
-- transaction of every write, whichever code path writes (Apply, the SCIM
-- handlers, account deletion): a row that becomes live adds one, a row that
-- stops being live (soft delete, hard delete) takes one away.
CREATE TABLE scim_counts (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    resource   TEXT NOT NULL CHECK (resource IN ('users', 'groups')),
    live       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, resource)
);

INSERT INTO scim_counts (account_id, resource, live)
SELECT a.id, 'users', (SELECT COUNT(*) FROM users u WHERE u.account_id = a.id AND u.status <> 'deleted') FROM accounts a;
INSERT INTO scim_counts (account_id, resource, live)
SELECT a.id, 'groups', (SELECT COUNT(*) FROM groups g WHERE g.account_id = a.id AND g.status <> 'deleted') FROM accounts a;

CREATE TRIGGER scim_counts_account AFTER INSERT ON accounts BEGIN
    INSERT INTO scim_counts (account_id, resource, live) VALUES (NEW.id, 'users', 0), (NEW.id, 'groups', 0);
END;

CREATE TRIGGER scim_counts_users_insert AFTER INSERT ON users WHEN NEW.status <> 'deleted' BEGIN
    UPDATE scim_counts SET live = live + 1 WHERE account_id = NEW.account_id AND resource = 'users';
END;
CREATE TRIGGER scim_counts_users_delete AFTER DELETE ON users WHEN OLD.status <> 'deleted' BEGIN
    UPDATE scim_counts SET live = live - 1 WHERE account_id = OLD.account_id AND resource = 'users';
END;
CREATE TRIGGER scim_counts_users_update AFTER UPDATE OF status, account_id ON users
WHEN (OLD.status <> 'deleted') <> (NEW.status <> 'deleted') OR OLD.account_id <> NEW.account_id BEGIN
    UPDATE scim_counts SET live = live - 1 WHERE OLD.status <> 'deleted' AND account_id = OLD.account_id AND resource = 'users';
    UPDATE scim_counts SET live = live + 1 WHERE NEW.status <> 'deleted' AND account_id = NEW.account_id AND resource = 'users';
END;

CREATE TRIGGER scim_counts_groups_insert AFTER INSERT ON groups WHEN NEW.status <> 'deleted' BEGIN
    UPDATE scim_counts SET live = live + 1 WHERE account_id = NEW.account_id AND resource = 'groups';
END;
CREATE TRIGGER scim_counts_groups_delete AFTER DELETE ON groups WHEN OLD.status <> 'deleted' BEGIN
    UPDATE scim_counts SET live = live - 1 WHERE account_id = OLD.account_id AND resource = 'groups';
END;
CREATE TRIGGER scim_counts_groups_update AFTER UPDATE OF status, account_id ON groups
WHEN (OLD.status <> 'deleted') <> (NEW.status <> 'deleted') OR OLD.account_id <> NEW.account_id BEGIN
    UPDATE scim_counts SET live = live - 1 WHERE OLD.status <> 'deleted' AND account_id = OLD.account_id AND resource = 'groups';
    UPDATE scim_counts SET live = live + 1 WHERE NEW.status <> 'deleted' AND account_id = NEW.account_id AND resource = 'groups';
END;

-- A group's members in the order the endpoint returns them (users first,
-- then by id), with every column it reads: one index range, no sort, no
-- table lookups, for a group of 5,000 members.
CREATE INDEX group_members_scim_order_idx ON group_members (group_id, member_type DESC, member_id);

-- A user's groups (every user read over SCIM) from one index: it replaces
-- group_members_member_idx, whose member_id prefix it keeps for the
-- deletes that use it.
CREATE INDEX group_members_scim_member_idx ON group_members (member_id, account_id, group_id);
DROP INDEX group_members_member_idx;
