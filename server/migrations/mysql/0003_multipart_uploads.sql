-- The multipart uploads this backend started (#30): which key and owner each upload ID is
-- for, the declared size and part size it signs parts for, and when a part was last
-- signed, so uploads nobody continues are aborted. link_ends_at: until when the object's
-- check treats it as still changing (moved to the completion when it completes). state:
-- open, completing, done, aborting, aborted. A lease (as on checks) lets one instance abort
-- an idle upload while another takes over if it dies.
CREATE TABLE uploads (
    upload_id VARBINARY(255) NOT NULL PRIMARY KEY,
    file_id VARBINARY(1100) NOT NULL,
    object_key VARBINARY(900) NOT NULL,
    url VARBINARY(2048) NOT NULL,
    owner VARCHAR(200) NOT NULL,
    size BIGINT NOT NULL,
    part_size BIGINT NOT NULL,
    content_type VARCHAR(255) NULL,
    link_ends_at BIGINT NOT NULL,
    state VARCHAR(16) NOT NULL,
    created_at BIGINT NOT NULL,
    touched_at BIGINT NOT NULL,
    lease_owner VARCHAR(64) NULL,
    lease_until BIGINT NULL,
    KEY uploads_by_touch (state, touched_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
