//! 邻里 linli: the co-governance platform of residents' communities.
//!
//! `capabilities/` holds what residents and staff do (one folder each, registered in
//! `capabilities::ALL`); `services/` the shared services they call; the rest is the house
//! they stand in: configuration, errors, the database, pages and the API, sign-in.

rust_i18n::i18n!("locales", fallback = "zh");

pub mod app;
pub mod auth;
pub mod capabilities;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod i18n;
pub mod input;
pub mod logging;
pub mod natural;
pub mod services;
mod text_enum;
pub mod time;
pub mod web;
