//! The integration suite: the real router, one fresh database per test, on SQLite by
//! default and on PostgreSQL when `LINLI_TEST_DATABASE_URL` is set.

mod databases;
mod helpers;

mod api;
mod appointments;
mod auth;
mod board;
mod brands;
mod browser;
mod citus;
mod cli;
mod council;
mod dashboard;
mod directory;
mod emergency;
mod emergency_means;
mod emergency_plans;
mod emergency_story;
mod event_days;
mod events;
mod fieldwork;
mod hardening;
mod import_export;
mod joining;
mod money;
mod notices;
mod ops;
mod pages;
mod participation;
mod people;
mod points;
mod registry;
mod scope;
mod tickets;
mod warm_stations;
