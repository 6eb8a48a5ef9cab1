-- The record of what this backend issued links for, the checks it owes, and the counters
-- every instance shares (MySQL 5.7/8.0 and MariaDB; migrations/sqlite holds the same for
-- SQLite). Keys and file IDs are bytes (VARBINARY), compared as COS compares them.

CREATE TABLE files (
    file_id VARBINARY(1100) NOT NULL PRIMARY KEY,
    object_key VARBINARY(900) NOT NULL,
    owner VARCHAR(200) NOT NULL,
    state VARCHAR(16) NOT NULL,
    reason VARCHAR(255) NULL,
    declared_size BIGINT NULL,
    declared_type VARCHAR(255) NULL,
    size BIGINT NULL,
    content_type VARCHAR(255) NULL,
    crc64 VARCHAR(20) NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE KEY files_by_key (object_key),
    KEY files_by_time (created_at, object_key)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE checks (
    file_id VARBINARY(1100) NOT NULL PRIMARY KEY,
    owner VARCHAR(200) NOT NULL,
    due_at BIGINT NOT NULL,
    link_ends_at BIGINT NOT NULL,
    lease_owner VARCHAR(64) NULL,
    lease_until BIGINT NULL,
    attempts INT NOT NULL DEFAULT 0,
    watch TINYINT NOT NULL DEFAULT 0,
    KEY checks_by_due (due_at),
    KEY checks_by_owner (owner, watch)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE counters (
    name VARCHAR(255) NOT NULL PRIMARY KEY,
    window_start BIGINT NOT NULL,
    count BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
