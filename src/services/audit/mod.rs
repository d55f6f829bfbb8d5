//! The audit log: every write, who and when, with the record before and after.
//! Append-only (the database refuses UPDATE and DELETE on it) and chained per community
//! (`db::chain`), so that a row changed or removed behind the application's back shows;
//! personal values appear only masked.

use serde_json::Value;

use crate::auth::model::Actor;
use crate::db::chain::{Chained, Col};
use crate::db::{Arg, Exec, Tx, now_ms, query};
use crate::error::AppResult;

/// Community id under which platform-level records (subdistricts, communities, users)
/// are audited.
pub const PLATFORM: i64 = 0;

/// The audit log's chain: what each row's hash covers.
pub static CHAIN: Chained = Chained {
    table: "audit_log",
    chain: "audit",
    columns: &[
        ("at", Col::Int),
        ("actor_id", Col::Int),
        ("actor_name", Col::Text),
        ("action", Col::Text),
        ("entity", Col::Text),
        ("entity_id", Col::Int),
        ("old_values", Col::Json),
        ("new_values", Col::Json),
    ],
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Archive,
    Unarchive,
    Import,
    Grant,
    Revoke,
    PasswordReset,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Archive => "archive",
            Action::Unarchive => "unarchive",
            Action::Import => "import",
            Action::Grant => "grant",
            Action::Revoke => "revoke",
            Action::PasswordReset => "password_reset",
        }
    }
}

/// Who did it: a signed-in user, or a command run by the operator.
#[derive(Debug, Clone)]
pub struct By {
    pub id: Option<i64>,
    pub name: String,
}

impl By {
    /// The operator's commands, named `system:{what}` in the log and shown by `who_key`.
    pub fn system(what: &str) -> By {
        By { id: None, name: format!("system:{what}") }
    }
}

impl From<&Actor> for By {
    fn from(a: &Actor) -> By {
        By { id: Some(a.user_id), name: a.display_name.clone() }
    }
}

#[allow(clippy::too_many_arguments)]
pub async fn record(
    tx: &mut Tx,
    community_id: i64,
    by: &By,
    action: Action,
    entity: &str,
    entity_id: i64,
    before: Option<&Value>,
    after: Option<&Value>,
) -> AppResult<()> {
    let id = tx.next_id().await?;
    let values = [
        Arg::from(now_ms()),
        Arg::from(by.id),
        Arg::from(by.name.as_str()),
        Arg::from(action.as_str()),
        Arg::from(entity),
        Arg::from(entity_id),
        Arg::Json(before.cloned()),
        Arg::Json(after.cloned()),
    ];
    tx.insert_chained(&CHAIN, community_id, id, values.to_vec());
    Ok(())
}

/// Many audit rows at once (an import): each is `community_id, id`, then the columns of
/// `CHAIN` in order.
pub async fn record_rows(tx: &mut Tx, rows: Vec<Vec<Arg>>) -> AppResult<()> {
    for mut row in rows {
        if let (Arg::I64(Some(c)), Arg::I64(Some(id))) = (row[0].clone(), row[1].clone()) {
            tx.insert_chained(&CHAIN, c, id, row.split_off(2));
        }
    }
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Entry {
    pub at: i64,
    pub actor_name: String,
    pub action: String,
    pub old_values: Option<sqlx::types::Json<Value>>,
    pub new_values: Option<sqlx::types::Json<Value>>,
}

/// Who did it, as people read it: the user's name, or a translation key for the
/// operator's commands (系统 · 演示数据, 系统 · 命令行) rather than `system:demo`.
pub fn who(actor_name: &str) -> Result<&str, &'static str> {
    match actor_name.strip_prefix("system:") {
        None => Ok(actor_name),
        Some("demo") => Err("audit.by.demo"),
        Some(w) if w.starts_with("cli") => Err("audit.by.cli"),
        Some(_) => Err("audit.by.system"),
    }
}

impl Entry {
    /// The fields that changed, as (field, before, after).
    pub fn changes(&self) -> Vec<(String, String, String)> {
        let empty = serde_json::Map::new();
        let before = self.old_values.as_ref().and_then(|j| j.0.as_object()).unwrap_or(&empty);
        let after = self.new_values.as_ref().and_then(|j| j.0.as_object()).unwrap_or(&empty);
        let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
        keys.sort();
        keys.dedup();
        keys.into_iter()
            .filter(|k| before.get(*k) != after.get(*k))
            .map(|k| (k.clone(), show(before.get(k)), show(after.get(k))))
            .collect()
    }
}

fn show(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items.iter().map(|i| show(Some(i))).collect::<Vec<_>>().join("、"),
        Some(other) => other.to_string(),
    }
}

/// The history of one record, newest first.
pub async fn history(ex: &mut impl Exec, community_id: i64, entity: &str, entity_id: i64) -> AppResult<Vec<Entry>> {
    Ok(query(
        "SELECT at, actor_name, action, old_values, new_values FROM audit_log
         WHERE community_id = $1 AND entity = $2 AND entity_id = $3 ORDER BY at DESC, id DESC LIMIT 200",
    )
    .bind(community_id)
    .bind(entity)
    .bind(entity_id)
    .fetch_all(ex)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_list_only_what_differs() {
        let e = Entry {
            at: 0,
            actor_name: "x".into(),
            action: "update".into(),
            old_values: Some(sqlx::types::Json(json!({"name": "甲", "floors": 3, "tags": ["a"]}))),
            new_values: Some(sqlx::types::Json(json!({"name": "乙", "floors": 3, "tags": ["a", "b"]}))),
        };
        assert_eq!(
            e.changes(),
            vec![("name".into(), "甲".into(), "乙".into()), ("tags".into(), "a".into(), "a、b".into())]
        );
    }

    #[test]
    fn the_operators_commands_are_not_shown_by_their_log_names() {
        assert_eq!(who("王芳"), Ok("王芳"));
        assert_eq!(who(&By::system("demo").name), Err("audit.by.demo"));
        assert_eq!(who(&By::system("cli import").name), Err("audit.by.cli"));
        assert_eq!(who(&By::system("volunteer sign-up").name), Err("audit.by.system"));
    }
}
