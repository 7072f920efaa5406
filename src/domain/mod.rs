//! Pure domain validators (no I/O) for form input: unified social credit
//! codes, login IDs, passwords and mainland mobile numbers.
//!
//! Every error type's `Display` is a Chinese message meant to be shown to a
//! clerk beside the offending form field.

pub mod credit_code;
pub mod login_id;
pub mod mobile;
pub mod mrz;
pub mod password;
pub mod visitor_sheet;

pub use credit_code::CreditCode;
pub use login_id::LoginId;
pub use mobile::Mobile;
pub use password::Password;
pub mod access_log;
pub mod account;
pub mod audit;
pub mod fields;
pub mod flow;
pub mod group;
pub mod group_fields;
pub mod group_flow;
pub mod period;
pub mod principal;
pub mod rating;
pub mod refdata;
pub mod registration;
pub mod registration_flow;
pub mod second_factor;
pub mod settings;
pub mod texts;
pub mod time_limit;
pub mod visit;
pub mod visit_flow;
