-- SCIM endpoint, part three (db/scim_seek.go): a change counter per
-- account, so that the next page of a list can be sought from the last row
-- of the previous one (WHERE key > last ORDER BY key LIMIT n) instead of
-- walking OFFSET rows, and only while the seek returns what OFFSET would.
-- Any write to a user or group of the account moves n, in the transaction
-- of the write, whichever code path writes; a page reads n in the statement
-- that reads its rows, so the two are of one snapshot. Memberships do not
-- move it: a list whose filter reads group_members is never sought. The
-- triggers run once per statement, as scim_counts' do; like those, the row
-- they update is held until the writing transaction commits.
--
-- The seeks read these indexes: users_scim_id_idx and groups_scim_id_idx
-- (0002; no sortBy), users_account_user_name_live_key (0004, which folded
-- 0003's users_scim_user_name_page_idx into it; sortBy=userName),
-- groups_scim_display_name_idx (0002; Groups by displayName).
CREATE TABLE scim_changes (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    n          BIGINT NOT NULL DEFAULT 0
);

INSERT INTO scim_changes (account_id) SELECT id FROM accounts;

CREATE FUNCTION scim_changes_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO scim_changes (account_id) VALUES (NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER scim_changes_account AFTER INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION scim_changes_account();

CREATE FUNCTION scim_changes_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE scim_changes SET n = n + 1 WHERE account_id IN (SELECT account_id FROM new_rows);
    RETURN NULL;
END $$;
CREATE FUNCTION scim_changes_old() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE scim_changes SET n = n + 1 WHERE account_id IN (SELECT account_id FROM old_rows);
    RETURN NULL;
END $$;
CREATE FUNCTION scim_changes_both() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE scim_changes SET n = n + 1
    WHERE account_id IN (SELECT account_id FROM new_rows UNION SELECT account_id FROM old_rows);
    RETURN NULL;
END $$;

CREATE TRIGGER scim_changes_users_insert AFTER INSERT ON users REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION scim_changes_new();
CREATE TRIGGER scim_changes_users_update AFTER UPDATE ON users REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION scim_changes_both();
CREATE TRIGGER scim_changes_users_delete AFTER DELETE ON users REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION scim_changes_old();
CREATE TRIGGER scim_changes_groups_insert AFTER INSERT ON groups REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION scim_changes_new();
CREATE TRIGGER scim_changes_groups_update AFTER UPDATE ON groups REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION scim_changes_both();
CREATE TRIGGER scim_changes_groups_delete AFTER DELETE ON groups REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION scim_changes_old();
