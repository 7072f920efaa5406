-- The paths of a group beyond the review (issue 16): 已撤回 and 已取消 are new values of
-- invitation_groups.state (TEXT, nothing to alter). A cancelled invitation (取消邀请) keeps its
-- reason and who called it off; each of its visitors gets a cancellation record instead of a
-- post-visit registration (销签登记), which takes them out of every overdue list and reminder.
CREATE TABLE group_cancellations (
    group_id BIGINT PRIMARY KEY REFERENCES invitation_groups(id),
    reason TEXT NOT NULL,
    cancelled_by TEXT NOT NULL,
    user_id BIGINT REFERENCES users(id),
    cancelled_at BIGINT NOT NULL
);

CREATE TABLE visitor_cancellations (
    visitor_id BIGINT PRIMARY KEY REFERENCES group_visitors(id),
    group_id BIGINT NOT NULL REFERENCES invitation_groups(id),
    unit_id BIGINT NOT NULL REFERENCES units(id),
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX visitor_cancellations_group ON visitor_cancellations (group_id);
