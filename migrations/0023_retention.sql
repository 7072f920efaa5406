-- Issue 18: personal data kept no longer than needed. When the retention period after a
-- group's last post-visit registration was completed (or its invitation cancelled) has passed,
-- the retention job erases its visitors' personal data and every file of the group and of its
-- registrations, keeping the statistics (nationality, sex, counts, dates); the group records
-- when. A group whose unit has not confirmed that its visitors were told of the rules on
-- personal information (个人信息处理规则) is not saved: informed_at records the confirmation.
ALTER TABLE invitation_groups ADD COLUMN personal_data_erased_at BIGINT;
ALTER TABLE invitation_groups ADD COLUMN informed_at BIGINT;
-- When the unit's clerk accepted the rules at registration.
ALTER TABLE units ADD COLUMN rules_accepted_at BIGINT;
