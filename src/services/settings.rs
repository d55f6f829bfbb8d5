//! A community's settings, each a typed key that a capability declares (its name, its
//! kind and range, its default), kept in one table instead of a column per setting. The
//! record engine shows them on the community's form and takes them in its API, so a new
//! capability's settings need no migration of `communities`.

use crate::db::{Exec, Tx, now_ms, query};
use crate::error::{AppResult, FieldError};
use crate::services::records::model::Kind;
pub use crate::services::records::model::Setting;

async fn raw(ex: &mut impl Exec, community_id: i64, s: &Setting) -> AppResult<String> {
    Ok(query("SELECT value FROM settings WHERE community_id = $1 AND key = $2")
        .bind(community_id)
        .bind(s.key)
        .scalar_optional::<String>(ex)
        .await?
        .unwrap_or_else(|| s.default_text().to_string()))
}

pub async fn int(ex: &mut impl Exec, community_id: i64, s: &Setting) -> AppResult<i64> {
    Ok(raw(ex, community_id, s).await?.parse().unwrap_or_else(|_| s.default_text().parse().unwrap_or(0)))
}

pub async fn bool(ex: &mut impl Exec, community_id: i64, s: &Setting) -> AppResult<bool> {
    Ok(raw(ex, community_id, s).await? == "true")
}

pub async fn text(ex: &mut impl Exec, community_id: i64, s: &Setting) -> AppResult<String> {
    raw(ex, community_id, s).await
}

pub async fn tags(ex: &mut impl Exec, community_id: i64, s: &Setting) -> AppResult<Vec<String>> {
    Ok(crate::services::records::model::tags_from_column(&raw(ex, community_id, s).await?))
}

/// A setting's value as text from a typed value, checked against its kind: the error
/// names the setting's field.
pub fn check(s: &Setting, value: &str) -> Result<String, FieldError> {
    let err = |key| FieldError::new(s.field.name, key);
    match s.field.kind {
        Kind::Int { min, max } => match value.trim().parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n.to_string()),
            Ok(_) => Err(err("validation.range").with("min", min).with("max", max)),
            Err(_) => Err(err("validation.integer")),
        },
        Kind::Bool => match value.trim() {
            "true" | "on" | "1" | "是" => Ok("true".into()),
            "false" | "off" | "0" | "否" => Ok("false".into()),
            _ => Err(err("validation.bool")),
        },
        Kind::Choice(choices) if choices.contains(&value.trim()) => Ok(value.trim().to_string()),
        _ => Err(err("validation.choice")),
    }
}

/// Sets a checked value.
pub async fn set(tx: &mut Tx, community_id: i64, s: &Setting, value: &str) -> AppResult<()> {
    query(
        "INSERT INTO settings (community_id, key, value, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (community_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(community_id)
    .bind(s.key)
    .bind(value)
    .bind(now_ms())
    .execute(tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    static LIMIT: Setting = Setting::int("tickets:reopen_limit", "ticket_reopen_limit", 0, 10, "2");
    static SECRET: Setting = Setting::bool("council:secret", "council_secret", "true");

    #[test]
    fn values_are_checked_by_kind_and_named_by_field() {
        assert_eq!(check(&LIMIT, " 3 "), Ok("3".into()));
        assert_eq!(check(&LIMIT, "50").unwrap_err().key, "validation.range");
        assert_eq!(check(&LIMIT, "abc").unwrap_err().field, "ticket_reopen_limit");
        assert_eq!(check(&SECRET, "on"), Ok("true".into()));
        assert!(check(&SECRET, "maybe").is_err());
    }
}
