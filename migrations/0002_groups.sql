-- Reference data of invitation groups, and the groups themselves (issue 4).

CREATE TABLE countries (
    alpha3 TEXT PRIMARY KEY,
    alpha2 TEXT NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    sort BIGINT NOT NULL,
    retired BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE missions (
    id {ID},
    host_alpha3 TEXT NOT NULL REFERENCES countries(alpha3),
    kind TEXT NOT NULL,
    name_zh TEXT NOT NULL UNIQUE,
    city_zh TEXT NOT NULL,
    sort BIGINT NOT NULL,
    retired BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX missions_host ON missions (host_alpha3);

CREATE TABLE ports (
    id {ID},
    name_zh TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    province_zh TEXT NOT NULL,
    sort BIGINT NOT NULL,
    retired BIGINT NOT NULL DEFAULT 0
);

-- Small code lists: kind 'purpose' (来华事由) and 'cost_bearer' (费用承担).
CREATE TABLE codes (
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    name_zh TEXT NOT NULL,
    sort BIGINT NOT NULL,
    retired BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, code)
);

-- Sequences per year (group numbers, acceptance numbers).
CREATE TABLE counters (
    name TEXT NOT NULL,
    year BIGINT NOT NULL,
    value BIGINT NOT NULL,
    PRIMARY KEY (name, year)
);

CREATE TABLE invitation_groups (
    id {ID},
    unit_id BIGINT NOT NULL REFERENCES units(id),
    number TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    name TEXT NOT NULL,
    purpose TEXT NOT NULL,
    arrival TEXT NOT NULL,
    departure TEXT NOT NULL,
    places TEXT NOT NULL,
    cost_bearer TEXT NOT NULL,
    mission_id BIGINT NOT NULL REFERENCES missions(id),
    entry_type TEXT NOT NULL,
    ground TEXT NOT NULL,
    contact_name TEXT NOT NULL,
    contact_phone TEXT NOT NULL,
    remarks TEXT NOT NULL,
    data_hash TEXT NOT NULL,
    printed_hash TEXT,
    scan_file_id BIGINT REFERENCES files(id),
    scan_hash TEXT,
    return_reason TEXT,
    returned_by TEXT,
    acceptance_no TEXT UNIQUE,
    verification_no TEXT,
    letter_file_id BIGINT REFERENCES files(id),
    submitted_at BIGINT,
    county_passed_at BIGINT,
    accepted_at BIGINT,
    reported_at BIGINT,
    dispatched_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX groups_unit ON invitation_groups (unit_id, created_at);
CREATE INDEX groups_queue ON invitation_groups (state, submitted_at);

CREATE TABLE group_visitors (
    id {ID},
    group_id BIGINT NOT NULL REFERENCES invitation_groups(id),
    seq BIGINT NOT NULL,
    surname TEXT NOT NULL,
    given_name TEXT NOT NULL,
    sex TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    nationality TEXT NOT NULL,
    passport_no TEXT NOT NULL,
    passport_expiry TEXT NOT NULL,
    employer TEXT NOT NULL,
    position TEXT NOT NULL,
    passport_file_id BIGINT REFERENCES files(id),
    visa_file_id BIGINT REFERENCES files(id)
);
CREATE INDEX visitors_group ON group_visitors (group_id, seq);
CREATE INDEX visitors_passport ON group_visitors (passport_no);

-- Group-level attachments by type code (clerk_id, multi_entry_proof, other).
CREATE TABLE group_attachments (
    group_id BIGINT NOT NULL REFERENCES invitation_groups(id),
    type_code TEXT NOT NULL,
    file_id BIGINT NOT NULL REFERENCES files(id),
    uploaded_at BIGINT NOT NULL,
    PRIMARY KEY (group_id, type_code)
);
