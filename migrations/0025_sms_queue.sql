-- Issue 20: every SMS the system sends is a row here. A notification is written in the same
-- transaction as the state change it tells of, then sent (at once, and again by the SMS job
-- with backoff after a failure). A row is claimed by one conditional UPDATE with a random
-- token and a lease, so it goes out at most once across instances; a claim whose lease ran out
-- (the instance stopped mid-send) is not sent again by itself ("unknown"): an administrator
-- sees it and may send it again. Verification codes are kept with their value masked.
CREATE TABLE sms_queue (
    id {ID},
    kind TEXT NOT NULL,
    mobile TEXT NOT NULL,
    -- The parameters by name, as JSON ({"group":"20260001"}).
    params TEXT NOT NULL,
    unit_id BIGINT REFERENCES units(id),
    created_at BIGINT NOT NULL,
    -- pending, sending, sent, failed, unknown
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_at BIGINT NOT NULL,
    claim TEXT,
    lease_until BIGINT,
    sent_at BIGINT,
    -- The provider's reference of a sent message (BizId, SerialNo).
    reference TEXT NOT NULL,
    last_error TEXT NOT NULL
);
CREATE INDEX sms_queue_due ON sms_queue (state, next_at);
CREATE INDEX sms_queue_unit ON sms_queue (unit_id, id);
