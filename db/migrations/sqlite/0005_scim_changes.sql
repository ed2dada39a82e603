-- SCIM endpoint, part three (db/scim_seek.go): a change counter per
-- account, so that the next page of a list can be sought from the last row
-- of the previous one (WHERE key > last ORDER BY key LIMIT n) instead of
-- walking OFFSET rows, and only while the seek returns what OFFSET would.
-- Any write to a user or group of the account moves n, in the transaction
-- of the write, whichever code path writes; a page reads n in the statement
-- that reads its rows, so the two are of one snapshot. Memberships do not
-- move it: a list whose filter reads group_members is never sought.
--
-- The seeks read these indexes (from 0002 and 0003): users_scim_id_idx and
-- groups_scim_id_idx (no sortBy), users_account_user_name_live_key
-- (sortBy=userName), groups_scim_display_name_idx (Groups by displayName).
CREATE TABLE scim_changes (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    n          INTEGER NOT NULL DEFAULT 0
);

INSERT INTO scim_changes (account_id) SELECT id FROM accounts;

CREATE TRIGGER scim_changes_account AFTER INSERT ON accounts BEGIN
    INSERT INTO scim_changes (account_id) VALUES (NEW.id);
END;

CREATE TRIGGER scim_changes_users_insert AFTER INSERT ON users BEGIN
    UPDATE scim_changes SET n = n + 1 WHERE account_id = NEW.account_id;
END;
CREATE TRIGGER scim_changes_users_update AFTER UPDATE ON users BEGIN
    UPDATE scim_changes SET n = n + 1 WHERE account_id IN (OLD.account_id, NEW.account_id);
END;
CREATE TRIGGER scim_changes_users_delete AFTER DELETE ON users BEGIN
    UPDATE scim_changes SET n = n + 1 WHERE account_id = OLD.account_id;
END;
CREATE TRIGGER scim_changes_groups_insert AFTER INSERT ON groups BEGIN
    UPDATE scim_changes SET n = n + 1 WHERE account_id = NEW.account_id;
END;
CREATE TRIGGER scim_changes_groups_update AFTER UPDATE ON groups BEGIN
    UPDATE scim_changes SET n = n + 1 WHERE account_id IN (OLD.account_id, NEW.account_id);
END;
CREATE TRIGGER scim_changes_groups_delete AFTER DELETE ON groups BEGIN
    UPDATE scim_changes SET n = n + 1 WHERE account_id = OLD.account_id;
END;
