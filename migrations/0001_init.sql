-- Initial schema. Written once for SQLite and PostgreSQL: {ID} becomes the dialect's
-- auto-increment primary key. Times are UTC unix seconds (BIGINT); dates are 'YYYY-MM-DD' text;
-- flags are 0/1 BIGINT so that both databases decode them the same way.

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE districts (
    id {ID},
    name TEXT NOT NULL UNIQUE,
    sort BIGINT NOT NULL DEFAULT 0,
    retired BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE files (
    id {ID},
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    mime TEXT NOT NULL,
    original_name TEXT NOT NULL,
    uploaded_by BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE attachment_types (
    id {ID},
    code TEXT NOT NULL UNIQUE,
    scope TEXT NOT NULL,
    name TEXT NOT NULL,
    required BIGINT NOT NULL,
    sort BIGINT NOT NULL,
    template_name TEXT,
    template_file_id BIGINT REFERENCES files(id),
    retired BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE content (
    key TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE units (
    id {ID},
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    english_name TEXT NOT NULL,
    credit_code TEXT NOT NULL UNIQUE,
    district_id BIGINT NOT NULL REFERENCES districts(id),
    address TEXT NOT NULL,
    unit_type TEXT NOT NULL,
    legal_rep TEXT NOT NULL,
    contact_name TEXT NOT NULL,
    landline TEXT NOT NULL,
    mobile TEXT NOT NULL,
    email TEXT NOT NULL,
    state TEXT NOT NULL,
    return_reason TEXT,
    county_passed BIGINT NOT NULL DEFAULT 0,
    submitted_at BIGINT,
    approved_at BIGINT,
    blacklisted BIGINT NOT NULL DEFAULT 0,
    blacklist_reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX units_queue ON units (state, district_id, submitted_at);

CREATE TABLE users (
    id {ID},
    role TEXT NOT NULL,
    login_id TEXT NOT NULL,
    login_key TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    display_name TEXT NOT NULL,
    unit_id BIGINT REFERENCES units(id),
    district_id BIGINT REFERENCES districts(id),
    must_change_password BIGINT NOT NULL DEFAULT 0,
    disabled BIGINT NOT NULL DEFAULT 0,
    last_login_at BIGINT,
    last_login_ip TEXT,
    prev_login_at BIGINT,
    prev_login_ip TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX users_unit ON users (unit_id);

CREATE TABLE unit_attachments (
    id {ID},
    unit_id BIGINT NOT NULL REFERENCES units(id),
    type_id BIGINT NOT NULL REFERENCES attachment_types(id),
    file_id BIGINT NOT NULL REFERENCES files(id),
    uploaded_at BIGINT NOT NULL,
    UNIQUE (unit_id, type_id)
);

-- A change request of an approved unit: the proposed registration (JSON) and attachments
-- (JSON map type id -> file id). The approved data in `units` stays in force until approval.
CREATE TABLE unit_changes (
    id {ID},
    unit_id BIGINT NOT NULL REFERENCES units(id),
    data TEXT NOT NULL,
    attachments TEXT NOT NULL,
    state TEXT NOT NULL,
    return_reason TEXT,
    county_passed BIGINT NOT NULL DEFAULT 0,
    submitted_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX unit_changes_unit ON unit_changes (unit_id, state);
CREATE INDEX unit_changes_queue ON unit_changes (state, submitted_at);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    ip TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_failures (
    login_key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    locked_until BIGINT
);

CREATE TABLE sms_codes (
    id {ID},
    mobile TEXT NOT NULL,
    purpose TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    ip TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    consumed BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sms_codes_mobile ON sms_codes (mobile, created_at);
CREATE INDEX sms_codes_ip ON sms_codes (ip, created_at);

-- Multi-step anonymous flows (registration wizard, password recovery), keyed by a cookie token.
CREATE TABLE flows (
    token_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE messages (
    id {ID},
    unit_id BIGINT NOT NULL REFERENCES units(id),
    sender_user_id BIGINT REFERENCES users(id),
    sender_label TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT,
    deleted_at BIGINT,
    next_popup_at BIGINT NOT NULL
);
CREATE INDEX messages_unit ON messages (unit_id, deleted_at, created_at);

CREATE TABLE audit_log (
    id {ID},
    at BIGINT NOT NULL,
    actor_user_id BIGINT,
    actor TEXT NOT NULL,
    ip TEXT NOT NULL,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_object ON audit_log (object_type, object_id, at);
CREATE INDEX audit_at ON audit_log (at);
