-- Post-visit registration (销签登记, issue 5): one record per visitor of a dispatched group.

CREATE TABLE visit_records (
    id {ID},
    visitor_id BIGINT NOT NULL UNIQUE REFERENCES group_visitors(id),
    group_id BIGINT NOT NULL REFERENCES invitation_groups(id),
    unit_id BIGINT NOT NULL REFERENCES units(id),
    state TEXT NOT NULL,
    kind TEXT NOT NULL,
    entry_date TEXT,
    entry_port_id BIGINT REFERENCES ports(id),
    exit_date TEXT,
    exit_port_id BIGINT REFERENCES ports(id),
    cancel_reason TEXT,
    return_reason TEXT,
    returned_by TEXT,
    submitted_at BIGINT,
    county_passed_at BIGINT,
    completed_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX visit_records_queue ON visit_records (state, submitted_at);
CREATE INDEX visit_records_unit ON visit_records (unit_id);

CREATE TABLE visit_files (
    record_id BIGINT NOT NULL REFERENCES visit_records(id),
    kind TEXT NOT NULL,
    file_id BIGINT NOT NULL REFERENCES files(id),
    uploaded_at BIGINT NOT NULL,
    PRIMARY KEY (record_id, kind)
);

-- Overdue reminders, claimed in the database so that two server instances send each once.
CREATE TABLE visit_reminders (
    visitor_id BIGINT PRIMARY KEY REFERENCES group_visitors(id),
    first_sent_at BIGINT NOT NULL,
    last_sent_at BIGINT NOT NULL,
    sent_count BIGINT NOT NULL
);

CREATE INDEX groups_dispatched ON invitation_groups (state, departure);
