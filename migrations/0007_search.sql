-- Staff search (issue 6): exact lookups of 核实单号 and of visitors' names at any table size.
CREATE INDEX groups_verification ON invitation_groups (verification_no);
CREATE INDEX visitors_surname ON group_visitors (UPPER(surname));
CREATE INDEX visitors_given_name ON group_visitors (UPPER(given_name));
CREATE INDEX visitors_full_name ON group_visitors (UPPER(surname || ' ' || given_name));
