//! What a write is checked against before anything is stored: references that must exist,
//! the rules a kind adds, and whether the actor may write the record where it will be.

use serde_json::{Map, Value, json};

use super::WORKS_IN_COMMUNITY;
use crate::auth::model::{Actor, Permission};
use crate::db::{Builder, Exec, Tx, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::records;
use crate::services::records::model::{self, Context, EntityDef, Kind, Tenancy, Val, Values};

pub(super) async fn context(ex: &mut impl Exec, community_id: Option<i64>) -> AppResult<Context> {
    let Some(c) = community_id else { return Ok(Context::default()) };
    let tags: Option<String> =
        query("SELECT care_tags FROM communities WHERE id = $1").bind(c).scalar_optional(ex).await?;
    Ok(Context { care_tags: model::tags_from_column(&tags.unwrap_or_default()) })
}

/// Checks that referenced records exist (and are not archived) in the same community.
pub(super) async fn check_refs(
    tx: &mut Tx,
    def: &EntityDef,
    community_id: Option<i64>,
    values: &Values,
) -> AppResult<Vec<FieldError>> {
    let mut errors = Vec::new();
    for f in def.fields {
        let Some(Val::Int(id)) = values.get(f.name) else { continue };
        let found: Option<i64> = match f.kind {
            Kind::Ref(kind) => {
                let target = records::by_kind(kind).expect("reference to a known kind");
                let mut b = Builder::new(format!("SELECT id FROM {} WHERE id = ", target.table));
                b.arg(*id).push(" AND archived_at IS NULL");
                if let (Tenancy::Community, Some(c)) = (target.tenancy, community_id) {
                    b.push(" AND community_id = ").arg(c);
                }
                b.build().scalar_optional(tx).await?
            }
            Kind::UserRef => match community_id {
                Some(c) => {
                    query(format!("SELECT u.id FROM users u WHERE u.id = $2 AND {WORKS_IN_COMMUNITY}"))
                        .bind(c)
                        .bind(*id)
                        .scalar_optional(tx)
                        .await?
                }
                None => {
                    query("SELECT id FROM users WHERE id = $1 AND disabled_at IS NULL")
                        .bind(*id)
                        .scalar_optional(tx)
                        .await?
                }
            },
            _ => continue,
        };
        if found.is_none() {
            errors.push(FieldError::new(f.name, "validation.reference"));
        }
    }
    Ok(errors)
}

/// The grid and household a registry row will have after the write (for scope checks).
pub(super) async fn placement(
    tx: &mut Tx,
    def: &EntityDef,
    community_id: i64,
    id: i64,
    merged: &Map<String, Value>,
) -> AppResult<(Option<i64>, Option<i64>)> {
    match def.kind {
        "household" => Ok((merged.get("grid_id").and_then(Value::as_i64), Some(id))),
        "resident" => {
            let household = merged.get("household_id").and_then(Value::as_i64);
            let grid = match household {
                Some(h) => query("SELECT grid_id FROM households WHERE community_id = $1 AND id = $2")
                    .bind(community_id)
                    .bind(h)
                    .scalar_optional::<Option<i64>>(tx)
                    .await?
                    .flatten(),
                None => None,
            };
            Ok((grid, household))
        }
        _ => Ok((None, None)),
    }
}

/// The display form of validated values (what `Record::values` holds), for the audit
/// log and to check scope before writing.
pub(super) fn shown(def: &EntityDef, values: &Values) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, v) in values {
        let kind = def.field(name).map(|f| f.kind);
        let j = match (kind, v) {
            (_, Val::Null) => Value::Null,
            (_, Val::Int(n)) => json!(n),
            (_, Val::Float(x)) => json!(x),
            (_, Val::Bool(b)) => json!(b),
            (_, Val::Text(s)) => json!(s),
            (_, Val::Date(d)) => json!(d.to_string()),
            (_, Val::Tags(t)) => json!(t),
            (_, Val::Json(j)) => j.clone(),
            (Some(Kind::Phone), Val::Personal(p)) => json!(crate::services::pii::mask_phone(p)),
            (_, Val::Personal(p)) => json!(crate::services::pii::mask_id_number(p)),
        };
        out.insert(name.to_string(), j);
    }
    out
}

pub(super) fn check_write(
    actor: &Actor,
    def: &EntityDef,
    community_id: Option<i64>,
    id: Option<i64>,
    merged: &Map<String, Value>,
    placement: (Option<i64>, Option<i64>),
) -> AppResult<()> {
    let ok = match (def.tenancy, community_id) {
        (Tenancy::Community, Some(c)) => {
            let access = actor.access(c, def.write);
            if access.is_none() {
                // Say "not found" unless the actor can see the record at all.
                return Err(if actor.can(c, def.read) { AppError::Forbidden } else { AppError::NotFound });
            }
            access.all || (def.grid_column.is_some() && access.covers(placement.0, placement.1))
        }
        _ => match (def.kind, id) {
            ("subdistrict", None) => actor.is_platform_admin(),
            ("subdistrict", Some(id)) => actor.manages_subdistrict(id),
            (_, None) => {
                merged.get("subdistrict_id").and_then(Value::as_i64).is_some_and(|s| actor.manages_subdistrict(s))
            }
            (_, Some(id)) => actor.can(id, Permission::ManageCommunity),
        },
    };
    if ok { Ok(()) } else { Err(AppError::Forbidden) }
}

/// The rules across fields or needing the database, on the record as it will be
/// (`merged`: what it was, with the new values): party organisation levels, a ticket
/// category's handler.
pub(super) async fn check_rules(
    tx: &mut Tx,
    def: &EntityDef,
    community_id: Option<i64>,
    id: Option<i64>,
    merged: &Map<String, Value>,
) -> AppResult<Vec<FieldError>> {
    match def.rules {
        Some(rules) => rules(tx, community_id, id, merged).await,
        None => Ok(Vec::new()),
    }
}
