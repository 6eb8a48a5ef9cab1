-- The multipart uploads this backend started (#30): which key and owner each upload ID is
-- for, the declared size and part size it signs parts for, and when a part was last
-- signed, so uploads nobody continues are aborted. link_ends_at: until when the object's
-- check treats it as still changing (moved to the completion when it completes). state:
-- open, completing, done, aborting, aborted. A lease (as on checks) lets one instance abort
-- an idle upload while another takes over if it dies.
CREATE TABLE uploads (
    upload_id BLOB PRIMARY KEY NOT NULL,
    file_id BLOB NOT NULL,
    object_key BLOB NOT NULL,
    url BLOB NOT NULL,
    owner TEXT NOT NULL,
    size INTEGER NOT NULL,
    part_size INTEGER NOT NULL,
    content_type TEXT NULL,
    link_ends_at INTEGER NOT NULL,
    state TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    touched_at INTEGER NOT NULL,
    lease_owner TEXT NULL,
    lease_until INTEGER NULL
);
CREATE INDEX uploads_by_touch ON uploads (state, touched_at);
