//! Shared services that capabilities call; none of them knows any capability.

pub mod audit;
pub mod chains;
pub mod codes;
pub mod hours;
pub mod ledger;
pub mod media;
pub mod notify;
pub mod pdf;
pub mod pii;
pub mod records;
pub mod settings;
pub mod sheets;
