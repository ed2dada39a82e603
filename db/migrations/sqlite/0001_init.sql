-- scimbridge schema, SQLite dialect. Keep in step with ../postgres/0001_init.sql
-- and with db/models.go. Times are written by the driver as
-- "2006-01-02 15:04:05.999999999+00:00" (always UTC), which sorts correctly as text.
-- JSON lives in TEXT columns.

CREATE TABLE accounts (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL
);

CREATE TABLE directory_settings (
    account_id      TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    document        TEXT NOT NULL,             -- settings JSON, never the password
    sealed_password BLOB,                      -- the password, encrypted by the caller
    updated_at      DATETIME NOT NULL
);

CREATE TABLE users (
    id              TEXT PRIMARY KEY,          -- SCIM id (UUID)
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    external_id     TEXT NOT NULL DEFAULT '',  -- objectGUID for AD users
    source          TEXT NOT NULL,
    user_name       TEXT NOT NULL,
    -- Lower-cased in Go (strings.ToLower): SQLite's lower() only folds ASCII,
    -- PostgreSQL's folds Unicode, so an expression index would not agree.
    user_name_lower TEXT NOT NULL,
    display_name    TEXT NOT NULL DEFAULT '',
    active          BOOLEAN NOT NULL DEFAULT 1,
    status          TEXT NOT NULL,
    dn              TEXT NOT NULL DEFAULT '',
    ou_path         TEXT NOT NULL DEFAULT '',
    attributes      TEXT NOT NULL DEFAULT '{}',
    hash            TEXT NOT NULL DEFAULT '',
    version         INTEGER NOT NULL DEFAULT 1,
    deleted_at      DATETIME,
    delete_reason   TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);
CREATE UNIQUE INDEX users_account_external_id_key ON users (account_id, external_id) WHERE external_id <> '';
-- A soft-deleted user must not block a new user with the same userName.
CREATE UNIQUE INDEX users_account_user_name_live_key ON users (account_id, user_name_lower) WHERE status <> 'deleted';
CREATE INDEX users_account_user_name_idx ON users (account_id, user_name);
CREATE INDEX users_account_external_id_idx ON users (account_id, external_id);
CREATE INDEX users_account_status_idx ON users (account_id, status);

CREATE TABLE groups (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    external_id   TEXT NOT NULL DEFAULT '',
    source        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    display_name  TEXT NOT NULL DEFAULT '',
    dn            TEXT NOT NULL DEFAULT '',
    parent_id     TEXT NOT NULL DEFAULT '',    -- no FK: parents and children arrive in any order
    status        TEXT NOT NULL,
    attributes    TEXT NOT NULL DEFAULT '{}',
    hash          TEXT NOT NULL DEFAULT '',
    version       INTEGER NOT NULL DEFAULT 1,
    deleted_at    DATETIME,
    delete_reason TEXT NOT NULL DEFAULT '',
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL,
    UNIQUE (id, account_id)                    -- target of group_members' FK
);
CREATE UNIQUE INDEX groups_account_external_id_key ON groups (account_id, external_id) WHERE external_id <> '';
CREATE INDEX groups_account_display_name_idx ON groups (account_id, display_name);
CREATE INDEX groups_account_external_id_idx ON groups (account_id, external_id);
CREATE INDEX groups_account_status_idx ON groups (account_id, status);

CREATE TABLE group_members (
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    group_id    TEXT NOT NULL,
    member_id   TEXT NOT NULL,                 -- a user or a group: no single FK target
    member_type TEXT NOT NULL CHECK (member_type IN ('User', 'Group')),
    PRIMARY KEY (group_id, member_id),
    -- The pair, not group_id alone: a membership can never point at
    -- another account's group.
    FOREIGN KEY (group_id, account_id) REFERENCES groups (id, account_id) ON DELETE CASCADE
);
CREATE INDEX group_members_member_idx ON group_members (member_id);

CREATE TABLE runs (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    "trigger"       TEXT NOT NULL,
    kind            TEXT NOT NULL DEFAULT '',
    kind_reason     TEXT NOT NULL DEFAULT '',
    dry_run         BOOLEAN NOT NULL DEFAULT 0,
    status          TEXT NOT NULL,
    error           TEXT NOT NULL DEFAULT '',
    started_at      DATETIME NOT NULL,
    finished_at     DATETIME,
    counts          TEXT NOT NULL DEFAULT '{}',
    "cursor"        TEXT NOT NULL DEFAULT '',
    approved_run_id TEXT NOT NULL DEFAULT '',
    UNIQUE (id, account_id)                    -- target of run_events' FK
);
CREATE INDEX runs_account_started_idx ON runs (account_id, started_at DESC);
CREATE INDEX runs_status_idx ON runs (status);

CREATE TABLE run_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id      TEXT NOT NULL,
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    object_type TEXT NOT NULL,
    action      TEXT NOT NULL,
    dn          TEXT NOT NULL DEFAULT '',
    external_id TEXT NOT NULL DEFAULT '',
    resource_id TEXT NOT NULL DEFAULT '',
    name        TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    changed     TEXT NOT NULL DEFAULT '[]',
    at          DATETIME NOT NULL,
    -- An event belongs to a run of its own account.
    FOREIGN KEY (run_id, account_id) REFERENCES runs (id, account_id) ON DELETE CASCADE
);
CREATE INDEX run_events_run_action_idx ON run_events (run_id, action);

CREATE TABLE protections (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role        TEXT NOT NULL,
    object_type TEXT NOT NULL,
    external_id TEXT NOT NULL DEFAULT '',
    resource_id TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL
);
CREATE UNIQUE INDEX protections_account_object_key ON protections (account_id, role, external_id, resource_id);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    hash         BLOB NOT NULL UNIQUE,         -- SHA-256 of the secret
    created_at   DATETIME NOT NULL,
    last_used_at DATETIME
);
CREATE INDEX api_tokens_account_idx ON api_tokens (account_id);

-- The sync lease on SQLite (PostgreSQL uses advisory locks instead).
CREATE TABLE sync_locks (
    account_id   TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    holder       TEXT NOT NULL,
    run_id       TEXT NOT NULL DEFAULT '',
    acquired_at  DATETIME NOT NULL,
    heartbeat_at DATETIME NOT NULL
);
