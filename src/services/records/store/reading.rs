//! Reading records: one by id, a page of them with search and filters within the actor's
//! reach, choices for reference fields, and a personal value revealed in full (logged).

use super::{ListParams, Page, Record, WORKS_IN_COMMUNITY, check_read, decode, fetch, resolve_refs, select_columns};
use crate::auth::model::{Access, Actor, Permission};
use crate::db::{Builder, Db, DbKind, escape_like, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::pii::Pii;
use crate::services::records::model::{EntityDef, FilterKind, Kind, Search, Tenancy};

/// The reach of `perm` for this kind in this community, or `NotFound`.
fn reach(actor: &Actor, def: &EntityDef, community_id: i64, perm: Permission) -> AppResult<Access> {
    let access = actor.access(community_id, perm);
    if access.is_none() {
        return Err(AppError::NotFound);
    }
    if def.grid_column.is_none() && def.household_column.is_none() && !access.all {
        // Partial (grid/household) reach only means something for registry records.
        return Err(AppError::NotFound);
    }
    Ok(access)
}

/// Adds the scope condition for a partial reach.
fn push_scope(b: &mut Builder, def: &EntityDef, access: &Access) {
    if access.all {
        return;
    }
    // Conditions are joined without a constant `1 = 0 OR …` head: SQLite would not use an
    // index behind one.
    let grids = def.grid_column.filter(|_| !access.grids.is_empty());
    let households = def.household_column.filter(|_| !access.households.is_empty());
    match (grids, households) {
        (None, None) => {
            b.push(" AND 1 = 0");
        }
        (Some(g), None) => {
            b.push(&format!(" AND {g} IN ")).list(access.grids.iter().copied());
        }
        (None, Some(h)) => {
            b.push(&format!(" AND {h} IN ")).list(access.households.iter().copied());
        }
        (Some(g), Some(h)) => {
            b.push(&format!(" AND ({g} IN ")).list(access.grids.iter().copied());
            b.push(&format!(" OR {h} IN ")).list(access.households.iter().copied()).push(")");
        }
    }
}

/// One record, if the actor may read it.
pub async fn get(db: &Db, actor: &Actor, def: &EntityDef, community_id: Option<i64>, id: i64) -> AppResult<Record> {
    let mut conn = db.read().await?;
    let record = fetch(&mut conn, def, community_id, id).await?.ok_or(AppError::NotFound)?;
    check_read(actor, def, &record)?;
    let mut one = vec![record];
    resolve_refs(&mut conn, def, &mut one).await?;
    Ok(one.pop().expect("one record"))
}

/// A page of records in the given communities (one, or several for subdistrict views).
pub async fn list(
    db: &Db,
    pii: &Pii,
    actor: &Actor,
    def: &EntityDef,
    community_ids: &[i64],
    params: &ListParams,
) -> AppResult<Page> {
    let per_page = params.per_page.clamp(1, 200);
    let page = params.page.max(1);
    let mut b = Builder::new(String::new());
    b.push(" FROM ").push(def.table).push(" WHERE 1 = 1");
    match def.tenancy {
        Tenancy::Community => {
            let mut visible: Vec<(i64, Access)> = Vec::new();
            for &c in community_ids {
                if let Ok(a) = reach(actor, def, c, def.read) {
                    visible.push((c, a));
                }
            }
            if visible.is_empty() {
                return Err(AppError::NotFound);
            }
            if let [(c, access)] = visible.as_slice() {
                b.push(" AND community_id = ").arg(*c);
                push_scope(&mut b, def, access);
            } else {
                // Across communities only whole-community reach is listed.
                let whole: Vec<i64> = visible.iter().filter(|(_, a)| a.all).map(|(c, _)| *c).collect();
                b.push(" AND community_id IN ").list(whole);
            }
        }
        Tenancy::Global => match (def.kind, actor.community_ids()) {
            (_, None) => {}
            ("community", Some(ids)) => {
                b.push(" AND id IN ").list(ids);
            }
            (_, Some(ids)) => {
                b.push(" AND id IN (SELECT subdistrict_id FROM communities WHERE id IN ");
                b.list(ids).push(")");
                let managed: Vec<i64> = actor.grants.iter().filter_map(|g| g.subdistrict_id).collect();
                if !managed.is_empty() {
                    b.push(" OR id IN ").list(managed);
                }
            }
        },
    }
    if !params.include_archived {
        b.push(" AND archived_at IS NULL");
    }
    if let Some((column, id)) = params.parent {
        b.push(&format!(" AND {column} = ")).arg(id);
    }
    for (column, value) in &params.filters {
        let Some(filter) = def.filters.iter().find(|f| f.column == column) else {
            return Err(AppError::field(column.clone(), "validation.unknown_field"));
        };
        if value.is_empty() {
            continue;
        }
        match filter.kind {
            FilterKind::Ref(_) => {
                let id: i64 = value.parse().map_err(|_| AppError::field(column.clone(), "validation.reference"))?;
                b.push(&format!(" AND {} = ", filter.column)).arg(id);
            }
            FilterKind::Tag => {
                b.push(&format!(" AND {} LIKE ", filter.column)).arg(format!("%|{value}|%"));
            }
            FilterKind::Bool => {
                let on = matches!(value.as_str(), "true" | "1" | "on" | "yes");
                b.push(&format!(" AND {} = ", filter.column)).arg(on);
            }
        }
    }
    let mut order = "id DESC".to_string();
    if let Some(q) = params.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        if q.chars().count() > 100 {
            return Err(AppError::Invalid(vec![FieldError::new("q", "validation.too_long").with("max", 100)]));
        }
        push_search(&mut b, db.kind(), def, pii, q, &mut order);
    }
    let count_sql = format!("SELECT COUNT(*){}", b.sql);
    let count_args = b.args.clone();
    b.sql = format!(
        "SELECT {}{} ORDER BY {order} LIMIT {per_page} OFFSET {}",
        select_columns(def),
        b.sql,
        u64::from(page - 1) * u64::from(per_page)
    );
    let mut conn = db.read_over(community_ids).await?;
    let total: i64 = query(count_sql).bind_all(count_args).scalar(&mut conn).await?;
    let rows = b.build().rows(&mut conn).await?;
    let mut items = rows.iter().map(|r| decode(def, r)).collect::<Result<Vec<_>, _>>()?;
    resolve_refs(&mut conn, def, &mut items).await?;
    Ok(Page { items, total, page, per_page })
}

fn push_search(b: &mut Builder, kind: DbKind, def: &EntityDef, pii: &Pii, q: &str, order: &mut String) {
    // A personal value, if the query looks like one, wins over names.
    if def.search.contains(&Search::Personal) {
        if let Ok(phone) = crate::services::pii::normalize_contact_number(q) {
            b.push(" AND phone_hash = ").arg(pii.blind_index("phone", &phone));
            return;
        }
        if let Ok(id) = crate::services::pii::normalize_id_number(q) {
            b.push(" AND id_number_hash = ").arg(pii.blind_index("id_number", &id));
            return;
        }
        let bytes = q.as_bytes();
        if q.len() == 11 && bytes[..3].iter().all(u8::is_ascii_digit) && &q[3..7] == "****" {
            b.push(" AND phone_masked = ").arg(q);
            return;
        }
        if q.len() == 4 && bytes.iter().all(u8::is_ascii_digit) {
            b.push(" AND phone_tail = ").arg(q);
            return;
        }
        if q.len() == 18 && q.contains('*') {
            b.push(" AND id_number_masked = ").arg(q.to_ascii_uppercase());
            return;
        }
    }
    b.push(" AND (");
    let mut first = true;
    for s in def.search {
        if *s == Search::Personal {
            continue;
        }
        if !first {
            b.push(" OR ");
        }
        first = false;
        match s {
            Search::Contains(col) => {
                b.push(&format!("{col} LIKE ")).arg(format!("%{}%", escape_like(q))).push(" ESCAPE '\\'");
            }
            Search::Prefix(col) => {
                kind.push_prefix(b, col, q);
                *order = format!("{col}, id");
            }
            Search::Personal => {}
        }
    }
    b.push(if first { "1 = 0)" } else { ")" });
}

/// Choices for a reference field: (id, title), at most `limit` of them, from the
/// communities listed (a community kind's records come from nowhere else).
///
/// A record that belongs to a parent (a building to its compound) is named with it, so
/// that the four 1栋 of four compounds are told apart: 海盛花园 1栋. They come in natural
/// order (2栋 before 10栋).
pub async fn options(db: &Db, def: &EntityDef, communities: &[i64], limit: i64) -> AppResult<Vec<(i64, String)>> {
    let parent = def.fields.iter().find_map(|f| match f.kind {
        Kind::Ref(kind) if f.required && def.tenancy == Tenancy::Community => {
            crate::services::records::by_kind(kind).filter(|p| p.tenancy == Tenancy::Community).map(|p| (f.name, p))
        }
        _ => None,
    });
    let label = match parent {
        Some((_, p)) => format!("COALESCE(p.{} || ' ', '') || t.{}", p.title, def.title),
        None => format!("t.{}", def.title),
    };
    let mut b = Builder::new(format!("SELECT t.id, {label} FROM {} t", def.table));
    if let Some((column, p)) = parent {
        b.push(&format!(" LEFT JOIN {} p ON p.community_id = t.community_id AND p.id = t.{column}", p.table));
    }
    b.push(" WHERE t.archived_at IS NULL");
    if def.tenancy == Tenancy::Community {
        b.push(" AND t.community_id IN ").list(communities.iter().copied());
    }
    b.push(&format!(" ORDER BY {label} LIMIT {limit}"));
    let mut conn = db.read_over(communities).await?;
    let mut rows: Vec<(i64, String)> = b.build().fetch_all(&mut conn).await?;
    crate::natural::sort_by_name(&mut rows, |r| r.1.as_str());
    Ok(rows)
}

/// Users who may be named in a user field of this community.
pub async fn user_options(db: &Db, community_id: i64) -> AppResult<Vec<(i64, String)>> {
    let mut conn = db.read().await?;
    Ok(query(format!("SELECT u.id, u.display_name FROM users u WHERE {WORKS_IN_COMMUNITY} ORDER BY u.display_name"))
        .bind(community_id)
        .fetch_all(&mut conn)
        .await?)
}

/// Shows one personal value in full, and logs that it was shown.
pub async fn reveal(
    db: &Db,
    pii: &Pii,
    actor: &Actor,
    def: &EntityDef,
    community_id: i64,
    id: i64,
    field: &str,
) -> AppResult<Option<String>> {
    let f = def.field(field).filter(|f| f.kind.is_personal()).ok_or(AppError::NotFound)?;
    let mut tx = db.begin().await?;
    let record = fetch(&mut tx, def, Some(community_id), id).await?.ok_or(AppError::NotFound)?;
    check_read(actor, def, &record)?;
    if !actor.access(community_id, Permission::RevealPii).covers(record.grid_id, record.household_id) {
        return Err(AppError::Forbidden);
    }
    let sealed: Option<Vec<u8>> =
        query(format!("SELECT {}_enc FROM {} WHERE community_id = $1 AND id = $2", f.name, def.table))
            .bind(community_id)
            .bind(id)
            .scalar::<Option<Vec<u8>>>(&mut tx)
            .await?;
    let Some(sealed) = sealed else { return Ok(None) };
    let value = pii.decrypt(&sealed)?;
    crate::services::pii::store::log_reveal(&mut tx, community_id, actor, def.kind, id, field).await?;
    tx.commit().await?;
    Ok(Some(value))
}
