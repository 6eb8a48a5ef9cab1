-- The record of what this backend issued links for, the checks it owes, and the counters
-- every instance shares (SQLite; migrations/mysql holds the same for MySQL and MariaDB).

-- One row per object a link was issued for. Keys and file IDs are bytes, compared as COS
-- compares them. state: pending (a link was issued, the object not checked yet), stored,
-- refused (found breaking its folder's limits, or unreadable: deleted; reason says which),
-- deleted (through the backend, or found gone).
CREATE TABLE files (
    file_id BLOB PRIMARY KEY NOT NULL,
    object_key BLOB NOT NULL,
    owner TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    declared_size INTEGER,
    declared_type TEXT,
    size INTEGER,
    content_type TEXT,
    crc64 TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX files_by_key ON files (object_key);
CREATE INDEX files_by_time ON files (created_at, object_key);

-- The checks owed: one per file, due at due_at; held by one instance at a time (a lease
-- that another may take over once lease_until has passed). watch = 1 once the object was
-- checked and found good: it is looked at again when its link ends (until then it could be
-- replaced); the per-user share counts only the checks not yet made (watch = 0).
CREATE TABLE checks (
    file_id BLOB PRIMARY KEY NOT NULL,
    owner TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    link_ends_at INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    watch INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX checks_by_due ON checks (due_at);
CREATE INDEX checks_by_owner ON checks (owner, watch);

-- Fixed one-minute windows of requests per name (a caller's rate, an address's failed
-- sign-ins), shared by every instance.
CREATE TABLE counters (
    name TEXT PRIMARY KEY NOT NULL,
    window_start INTEGER NOT NULL,
    count INTEGER NOT NULL
);
