//! 邻里 linli: the co-governance platform of residents' communities.

rust_i18n::i18n!("locales", fallback = "zh");

pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod council;
pub mod db;
pub mod demo;
pub mod entity;
pub mod error;
pub mod fieldwork;
pub mod home;
pub mod i18n;
pub mod input;
pub mod logging;
pub mod media;
pub mod org;
pub mod participation;
pub mod people;
pub mod pii;
pub mod places;
pub mod points;
pub mod tickets;
pub mod transfer;
pub mod web;
