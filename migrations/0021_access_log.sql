-- 个人信息访问记录 (issue 18): every page view, file download, print, export and search hit
-- that shows visitors' personal data, with who (the account and its label as the audit log
-- names it), when, from where, what kind of view on which page and object, and which visitors
-- (the child table, so that "who saw visitor X" is an index lookup). Entries carry ids only:
-- never a passport number. Kept at least 180 days (网络安全法 Art. 21): the purge job deletes
-- entries older than the setting, which refuses less.
CREATE TABLE access_log (
    id {ID},
    at BIGINT NOT NULL,
    user_id BIGINT REFERENCES users(id),
    actor TEXT NOT NULL,
    ip TEXT NOT NULL,
    -- 'page', 'file', 'export', 'search', 'print'.
    kind TEXT NOT NULL,
    -- The page in words (团组记录, 销签待办 …).
    page TEXT NOT NULL,
    -- The object shown: 'group:12', 'file:34', 'visitor:5', 'export:review.groups' …
    object TEXT NOT NULL,
    -- How many visitors the entry names (the rows of access_log_visitors).
    visitors BIGINT NOT NULL
);
CREATE INDEX access_log_user ON access_log (user_id, id);
CREATE INDEX access_log_at ON access_log (at);
-- No foreign key to group_visitors: a visitor deleted with its draft (or erased at the end of
-- its retention) keeps the record that it was seen.
CREATE TABLE access_log_visitors (
    access_id BIGINT NOT NULL REFERENCES access_log(id),
    visitor_id BIGINT NOT NULL,
    PRIMARY KEY (access_id, visitor_id)
);
CREATE INDEX access_log_visitors_visitor ON access_log_visitors (visitor_id, access_id);
