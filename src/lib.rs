//! laihua (来华): the information system through which a city Foreign Affairs Office handles
//! invitations of foreigners to China.

pub mod app;
pub mod backup;
pub mod clock;
pub mod collate;
pub mod config;
pub mod db;
pub mod domain;
pub mod files;
pub mod jobs;
pub mod keys;
pub mod markdown;
pub mod metrics;
pub mod pdf;
pub mod refdata;
pub mod security;
pub mod seed;
pub mod sms;
pub mod state;
pub mod store;
pub mod synth;
pub mod web;
pub mod workflow;
