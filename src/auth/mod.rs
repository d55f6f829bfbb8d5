//! Sign-in, sessions and roles.

pub mod accounts;
pub mod api;
pub mod guard;
pub mod model;
pub mod pages;
pub mod password;
pub mod session;
