//! Writing records: creating, updating and archiving them in one transaction each, with
//! personal values sealed into their columns and derived data kept in step.

use serde_json::{Map, Value};

use super::checks::{check_refs, check_rules, check_write, context, placement, shown};
use super::{Record, check_read, fetch, resolve_refs};
use crate::auth::model::Actor;
use crate::db::{Arg, Builder, Db, Tx, now_ms, query};
use crate::error::{AppError, AppResult};
use crate::services::audit::{self, Action, By};
use crate::services::pii::Pii;
use crate::services::records::model::{self, EntityDef, Kind, Mode, NewCommunityFn, Tenancy, Val, Values};
use crate::services::settings;

/// Bumped after every write, so that caches of records (the tickets' directory of
/// categories and grids) know to reload.
pub static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn bump() {
    GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// The columns and parameters a value is stored as (a personal value: sealed, hashed, masked).
pub fn to_columns(pii: &Pii, f: &model::Field, v: &Val) -> Vec<(String, Arg)> {
    let col = f.name.to_string();
    match (f.kind, v) {
        (Kind::Phone, Val::Personal(p)) => {
            let s = pii.seal_phone(p);
            vec![
                (format!("{col}_enc"), Arg::from(s.enc)),
                (format!("{col}_hash"), Arg::from(s.hash)),
                (format!("{col}_masked"), Arg::from(s.masked)),
                (format!("{col}_tail"), Arg::from(p[p.len() - 4..].to_string())),
            ]
        }
        (Kind::IdNumber, Val::Personal(id)) => {
            let s = pii.seal_id_number(id);
            vec![
                (format!("{col}_enc"), Arg::from(s.enc)),
                (format!("{col}_hash"), Arg::from(s.hash)),
                (format!("{col}_masked"), Arg::from(s.masked)),
            ]
        }
        (Kind::Phone, _) => ["enc", "hash", "masked", "tail"]
            .iter()
            .map(|sfx| {
                (
                    format!("{col}_{sfx}"),
                    if *sfx == "enc" || *sfx == "hash" { Arg::Bytes(None) } else { Arg::Text(None) },
                )
            })
            .collect(),
        (Kind::IdNumber, _) => ["enc", "hash", "masked"]
            .iter()
            .map(|sfx| (format!("{col}_{sfx}"), if *sfx == "masked" { Arg::Text(None) } else { Arg::Bytes(None) }))
            .collect(),
        (_, Val::Null) => vec![(col, null_of(f.kind))],
        (_, Val::Int(n)) => vec![(col, Arg::from(*n))],
        (_, Val::Float(x)) => vec![(col, Arg::from(*x))],
        (_, Val::Bool(b)) => vec![(col, Arg::from(*b))],
        (_, Val::Text(s)) => vec![(col, Arg::from(s.clone()))],
        (_, Val::Date(d)) => vec![(col, Arg::from(*d))],
        (_, Val::Tags(t)) => vec![(col, Arg::from(model::tags_to_column(t)))],
        (_, Val::Json(j)) => vec![(col, Arg::from(j.clone()))],
        (_, Val::Personal(p)) => vec![(col, Arg::from(p.clone()))],
    }
}

/// A typed NULL (PostgreSQL wants the parameter's type to fit the column).
fn null_of(kind: Kind) -> Arg {
    match kind {
        Kind::Int { .. } | Kind::Ref(_) | Kind::UserRef => Arg::I64(None),
        Kind::Float { .. } => Arg::F64(None),
        Kind::Bool => Arg::Bool(None),
        Kind::Date => Arg::Date(None),
        Kind::Polygon | Kind::Questions => Arg::Json(None),
        _ => Arg::Text(None),
    }
}

/// Creates a record from raw input. Everything is checked first; one transaction.
/// `hooks` are what a new community gets from each capability (`AppState::new_community_hooks`).
pub async fn create(
    db: &Db,
    pii: &Pii,
    hooks: &[NewCommunityFn],
    actor: &Actor,
    def: &EntityDef,
    community_id: Option<i64>,
    input: &Map<String, Value>,
) -> AppResult<Record> {
    if def.tenancy == Tenancy::Community && community_id.is_none() {
        return Err(AppError::NotFound);
    }
    let mut tx = db.begin().await?;
    let ctx = context(&mut tx, community_id).await?;
    let mut values = model::validate(def, input, Mode::Full, &ctx).map_err(AppError::Invalid)?;
    let mut errors = check_refs(&mut tx, def, community_id, &values).await?;
    if def.kind == "resident" {
        errors.extend(model::derive_from_id_number(&mut values));
    }
    errors.extend(check_rules(&mut tx, def, community_id, None, &shown(def, &values)).await?);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let id = tx.next_id().await?;
    let after = shown(def, &values);
    let place = match community_id {
        Some(c) if def.grid_column.is_some() => placement(&mut tx, def, c, id, &after).await?,
        _ => (None, None),
    };
    check_write(actor, def, community_id, None, &after, place)?;

    let now = now_ms();
    let mut cols: Vec<String> = vec!["id".into(), "created_at".into(), "updated_at".into()];
    let mut args: Vec<Arg> = vec![id.into(), now.into(), now.into()];
    if let Some(c) = community_id.filter(|_| def.tenancy == Tenancy::Community) {
        cols.push("community_id".into());
        args.push(c.into());
    }
    if def.kind == "resident" {
        cols.push("grid_id".into());
        args.push(place.0.into());
    }
    for f in def.fields {
        if let Some(v) = values.get(f.name) {
            for (c, a) in to_columns(pii, f, v) {
                cols.push(c);
                args.push(a);
            }
        }
    }
    let placeholders: Vec<String> = (1..=args.len()).map(|i| format!("${i}")).collect();
    query(format!("INSERT INTO {} ({}) VALUES ({})", def.table, cols.join(", "), placeholders.join(", ")))
        .bind_all(args)
        .execute(&mut tx)
        .await?;
    after_write(&mut tx, hooks, def, community_id, id, None, &values).await?;
    let audit_community = community_id.filter(|_| def.tenancy == Tenancy::Community).unwrap_or(audit::PLATFORM);
    audit::record(
        &mut tx,
        audit_community,
        &By::from(actor),
        Action::Create,
        def.kind,
        id,
        None,
        Some(&Value::Object(after)),
    )
    .await?;
    let mut record = fetch(&mut tx, def, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    bump();
    let mut conn = db.read().await?;
    resolve_refs(&mut conn, def, std::slice::from_mut(&mut record)).await?;
    Ok(record)
}

/// Updates a record: all fields (`Mode::Full`, forms) or the given ones (`Mode::Partial`).
pub async fn update(
    db: &Db,
    pii: &Pii,
    actor: &Actor,
    def: &EntityDef,
    community_id: Option<i64>,
    id: i64,
    input: &Map<String, Value>,
    mode: Mode,
) -> AppResult<Record> {
    let mut tx = db.begin().await?;
    let before = fetch(&mut tx, def, community_id, id).await?.ok_or(AppError::NotFound)?;
    check_read(actor, def, &before)?;
    let ctx = context(&mut tx, community_id).await?;
    let mut values = model::validate(def, input, mode, &ctx).map_err(AppError::Invalid)?;
    // Personal fields left empty in a form keep their value: the form never shows them.
    for f in def.fields.iter().filter(|f| f.kind.is_personal()) {
        if mode == Mode::Full
            && values.get(f.name) == Some(&Val::Null)
            && input.get(f.name).is_none_or(|v| v.as_str() == Some(""))
        {
            values.remove(f.name);
        }
    }
    let mut errors = check_refs(&mut tx, def, community_id, &values).await?;
    if def.kind == "resident" {
        errors.extend(model::derive_from_id_number(&mut values));
    }
    let mut will_be = before.values.clone();
    will_be.extend(shown(def, &values));
    errors.extend(check_rules(&mut tx, def, community_id, Some(id), &will_be).await?);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut merged = before.values.clone();
    merged.extend(shown(def, &values));
    let before_place = (before.grid_id, before.household_id);
    check_write(actor, def, community_id, Some(id), &merged, before_place)?;
    let place = match community_id {
        Some(c) if def.grid_column.is_some() => placement(&mut tx, def, c, id, &merged).await?,
        _ => (None, None),
    };
    check_write(actor, def, community_id, Some(id), &merged, place)?;

    let mut b = Builder::new(format!("UPDATE {} SET updated_at = ", def.table));
    b.arg(now_ms());
    if def.kind == "resident" {
        b.push(", grid_id = ").arg(place.0);
    }
    for f in def.fields {
        if let Some(v) = values.get(f.name) {
            for (c, a) in to_columns(pii, f, v) {
                b.push(&format!(", {c} = ")).arg(a);
            }
        }
    }
    b.push(" WHERE id = ").arg(id);
    if def.tenancy == Tenancy::Community {
        b.push(" AND community_id = ").arg(community_id);
    }
    b.build().execute(&mut tx).await?;
    after_write(&mut tx, &[], def, community_id, id, Some(&before), &values).await?;
    let mut record = fetch(&mut tx, def, community_id, id).await?.ok_or(AppError::NotFound)?;
    let audit_community = community_id.filter(|_| def.tenancy == Tenancy::Community).unwrap_or(audit::PLATFORM);
    if record.values != before.values {
        let (old, new) = (Value::Object(before.values.clone()), Value::Object(record.values.clone()));
        audit::record(&mut tx, audit_community, &By::from(actor), Action::Update, def.kind, id, Some(&old), Some(&new))
            .await?;
    }
    tx.commit().await?;
    bump();
    let mut conn = db.read().await?;
    resolve_refs(&mut conn, def, std::slice::from_mut(&mut record)).await?;
    Ok(record)
}

/// Archives (or brings back) a record. Nothing is ever deleted.
pub async fn set_archived(
    db: &Db,
    actor: &Actor,
    def: &EntityDef,
    community_id: Option<i64>,
    id: i64,
    archived: bool,
) -> AppResult<Record> {
    let mut tx = db.begin().await?;
    let before = fetch(&mut tx, def, community_id, id).await?.ok_or(AppError::NotFound)?;
    check_read(actor, def, &before)?;
    check_write(actor, def, community_id, Some(id), &before.values, (before.grid_id, before.household_id))?;
    let mut b = Builder::new(format!("UPDATE {} SET archived_at = ", def.table));
    b.arg(archived.then(now_ms)).push(", updated_at = ").arg(now_ms()).push(" WHERE id = ").arg(id);
    if def.tenancy == Tenancy::Community {
        b.push(" AND community_id = ").arg(community_id);
    }
    b.build().execute(&mut tx).await?;
    let action = if archived { Action::Archive } else { Action::Unarchive };
    let audit_community = community_id.filter(|_| def.tenancy == Tenancy::Community).unwrap_or(audit::PLATFORM);
    audit::record(&mut tx, audit_community, &By::from(actor), action, def.kind, id, None, None).await?;
    let record = fetch(&mut tx, def, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    bump();
    Ok(record)
}

/// Keeps derived data in step (the kind's own `after_write`), and gives a new community
/// what each capability gives one.
async fn after_write(
    tx: &mut Tx,
    hooks: &[NewCommunityFn],
    def: &EntityDef,
    community_id: Option<i64>,
    id: i64,
    before: Option<&Record>,
    values: &Values,
) -> AppResult<()> {
    if def.kind == "community" && before.is_none() {
        for hook in hooks {
            hook(tx, id).await?;
        }
    }
    if let (Some(c), Some(after)) = (community_id, def.after_write) {
        after(tx, c, id, before.map(|b| &b.values), values).await?;
    }
    // The settings it holds go to their table (the record is the community).
    for (name, v) in values {
        if let Some(s) = def.setting(name) {
            let text = match v {
                Val::Int(n) => n.to_string(),
                Val::Bool(b) => b.to_string(),
                Val::Text(t) => t.clone(),
                Val::Tags(t) => model::tags_to_column(t),
                _ => continue,
            };
            settings::set(tx, id, s, &text).await?;
        }
    }
    Ok(())
}
