//! The web layer: handlers parse a request, call the workflow, and render a page. No SQL here.

pub mod account;
pub mod admin;
pub mod admin_refdata;
pub mod admin_settings;
pub mod admin_units;
pub mod auth;
pub mod ctx;
pub mod error;
pub mod export;
pub mod files;
pub mod flow;
pub mod group_review;
pub mod group_view;
pub mod groups;
pub mod help;
pub mod messages;
pub mod notices;
pub mod page;
pub mod registration;
pub mod review;
pub mod router;
pub mod search;
pub mod stats;
pub mod svg;
pub mod unit_pages;
pub mod visits;
