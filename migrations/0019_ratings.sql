-- 好差评 (issue 16): the unit's ratings of the steps of its groups (each 发件 and each 退件, the
-- audit entry of that step naming it), one per step and round; a rating of 不满意 or worse is
-- also a follow-up item (差评整改) of the city office, closed by its reply. The unit may rate
-- the step again (the next round) once the office replied.
CREATE TABLE ratings (
    id {ID},
    group_id BIGINT NOT NULL REFERENCES invitation_groups(id),
    unit_id BIGINT NOT NULL REFERENCES units(id),
    -- The unit's district when it rated (the statistics by district).
    district_id BIGINT NOT NULL,
    -- The audit entry of the step rated, its action and time (kept here too, so that the rating
    -- reads on its own).
    step_id BIGINT NOT NULL,
    step_action TEXT NOT NULL,
    step_at BIGINT NOT NULL,
    round BIGINT NOT NULL,
    level TEXT NOT NULL,
    comment TEXT NOT NULL,
    rated_by BIGINT NOT NULL REFERENCES users(id),
    rated_at BIGINT NOT NULL,
    -- 'none' (satisfied: no follow-up), 'open' (waits for the city office), 'done' (replied).
    followup TEXT NOT NULL,
    reply TEXT,
    replied_by BIGINT REFERENCES users(id),
    replied_at BIGINT,
    UNIQUE (step_id, round)
);
CREATE INDEX ratings_group ON ratings (group_id, step_id, round);
CREATE INDEX ratings_followup ON ratings (followup, rated_at);
CREATE INDEX ratings_rated ON ratings (rated_at, district_id);
