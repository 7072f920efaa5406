//! The settings an administrator edits (and the server's own secret), by key: every place that
//! reads or writes one names it through [`Setting`], never as a string.

/// A setting's key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Setting {
    /// The server secret for CSRF tokens and SMS code hashes (shared by every instance).
    Secret,
    CityName,
    OfficeName,
    SystemName,
    OfficePhone,
    /// Working days within which the office answers (时限).
    ProcessingDays,
    /// Public holidays, dates separated by commas, spaces or lines.
    Holidays,
    /// Days after the planned departure when a visitor without 销签登记 is overdue.
    OverdueDays,
    /// Extra days before the overdue warning shows on a unit's pages.
    OverdueWarnDays,
    /// "1" when overdue post-visit registrations block new applications.
    OverdueBlocksApplications,
    /// Bumped by every edit of reference data (instances re-read their cached lists).
    RefdataVersion,
    /// The staff roles whose accounts must have a second sign-in factor, comma-separated role
    /// codes ("county,city,admin"); administrators by default.
    SecondFactorRoles,
    /// Days the access log (个人信息访问记录) is kept: 365 by default, never fewer than 180.
    AccessLogRetentionDays,
    /// Years the visitors' personal data and files are kept after a group's last post-visit
    /// registration was completed or its invitation cancelled (3 by default).
    PersonalDataRetentionYears,
}

impl Setting {
    /// The settings an administrator edits on 系统设置, in the page's order.
    pub const EDITABLE: [Setting; 12] = [
        Setting::CityName,
        Setting::OfficeName,
        Setting::SystemName,
        Setting::OfficePhone,
        Setting::ProcessingDays,
        Setting::OverdueDays,
        Setting::OverdueWarnDays,
        Setting::OverdueBlocksApplications,
        Setting::Holidays,
        Setting::SecondFactorRoles,
        Setting::AccessLogRetentionDays,
        Setting::PersonalDataRetentionYears,
    ];

    /// The key in the `settings` table.
    pub fn key(self) -> &'static str {
        match self {
            Setting::Secret => "secret",
            Setting::CityName => "city_name",
            Setting::OfficeName => "office_name",
            Setting::SystemName => "system_name",
            Setting::OfficePhone => "office_phone",
            Setting::ProcessingDays => "processing_days",
            Setting::Holidays => "holidays",
            Setting::OverdueDays => "overdue_days",
            Setting::OverdueWarnDays => "overdue_warn_days",
            Setting::OverdueBlocksApplications => "overdue_blocks_applications",
            Setting::RefdataVersion => "refdata_version",
            Setting::SecondFactorRoles => "second_factor_roles",
            Setting::AccessLogRetentionDays => "access_log_retention_days",
            Setting::PersonalDataRetentionYears => "personal_data_retention_years",
        }
    }
}
