//! Honours in the database: the honor roll, commendations for the board, and service
//! certificates with their public check codes.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;

use super::service::{RECORD_SELECT, ServiceRecord};
use super::volunteering::volunteer_for;
use crate::auth::model::Actor;
use crate::capabilities::points::{HonoreeKind, Period};
use crate::db::{Builder, Exec, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::audit::{self, Action, By};
use crate::web::AppState;

// ---------- the honor roll ----------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RankBy {
    Hours,
    Points,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranked {
    pub rank: usize,
    pub name: String,
    pub number: String,
    pub grid: Option<String>,
    pub value: i64,
}

/// Who gave most (hours of approved service, or points earned) in a period, in the
/// communities (and grid) asked. Names are masked unless the volunteer agreed.
pub async fn honor_roll(
    ex: &mut impl Exec,
    community_ids: &[i64],
    grid_id: Option<i64>,
    by: RankBy,
    period: Period,
    limit: i64,
) -> AppResult<Vec<Ranked>> {
    let from = period.start(crate::web::fmt::today()).map(crate::time::day_start_ms);
    let mut b = match by {
        RankBy::Hours => Builder::new(
            "SELECT v.name, v.number, v.show_name, g.name, CAST(SUM(s.minutes) AS BIGINT) AS total FROM service_records s
             JOIN volunteers v ON v.community_id = s.community_id AND v.id = s.volunteer_id
             LEFT JOIN grids g ON g.community_id = v.community_id AND g.id = v.grid_id
             WHERE s.status = 'approved' AND s.community_id IN ",
        ),
        RankBy::Points => Builder::new(
            "SELECT v.name, v.number, v.show_name, g.name, CAST(SUM(m.amount) AS BIGINT) AS total FROM ledger_movements m
             JOIN ledger_accounts a ON a.community_id = m.community_id AND a.id = m.to_account AND a.unit = 'points' AND a.kind = 'person'
             JOIN volunteers v ON v.community_id = a.community_id AND v.user_id = a.owner_id
             LEFT JOIN grids g ON g.community_id = v.community_id AND g.id = v.grid_id
             WHERE m.cause IN ('service', 'bonus') AND m.community_id IN ",
        ),
    };
    b.list(community_ids.iter().copied());
    if let Some(g) = grid_id {
        b.push(" AND v.grid_id = ").arg(g);
    }
    if let Some(from) = from {
        b.push(if by == RankBy::Hours { " AND s.started_at >= " } else { " AND m.at >= " }).arg(from);
    }
    b.push(&format!(" AND v.archived_at IS NULL GROUP BY v.community_id, v.id, v.name, v.number, v.show_name, g.name ORDER BY total DESC, v.number LIMIT {}", limit.clamp(1, 200)));
    let rows: Vec<(String, String, bool, Option<String>, i64)> = b.build().fetch_all(ex).await?;
    Ok(rows
        .into_iter()
        .enumerate()
        .map(|(i, (name, number, agreed, grid, value))| Ranked {
            rank: i + 1,
            name: crate::services::pii::public_name(&name, agreed),
            number,
            grid,
            value,
        })
        .collect())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Commendation {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub honoree_kind: HonoreeKind,
    pub honoree_name: String,
    pub title: String,
    pub awarded_on: NaiveDate,
    pub issuer: String,
}

/// Commendations for the board, newest first; a person is named as they agreed.
pub async fn commendations(ex: &mut impl Exec, community_ids: &[i64], limit: i64) -> AppResult<Vec<Commendation>> {
    let mut b = Builder::new(
        "SELECT c.id, c.honoree_kind, c.honoree_name, c.title, c.awarded_on, c.issuer, c.show_name
         FROM commendations c WHERE c.archived_at IS NULL AND c.community_id IN ",
    );
    b.list(community_ids.iter().copied());
    b.push(&format!(" ORDER BY c.awarded_on DESC, c.id DESC LIMIT {}", limit.clamp(1, 500)));
    let rows: Vec<(i64, String, String, String, NaiveDate, String, bool)> = b.build().fetch_all(ex).await?;
    rows.into_iter()
        .map(|(id, kind, name, title, awarded_on, issuer, agreed)| -> AppResult<Commendation> {
            let kind = HonoreeKind::try_from(kind).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
            Ok(Commendation {
                id,
                honoree_name: if kind == HonoreeKind::Person {
                    crate::services::pii::public_name(&name, agreed)
                } else {
                    name
                },
                honoree_kind: kind,
                title,
                awarded_on,
                issuer,
            })
        })
        .collect()
}

// ---------- certificates ----------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Certificate {
    pub community_id: i64,
    pub id: i64,
    pub volunteer_id: i64,
    pub code: String,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub records: i64,
    pub minutes: i64,
    pub issued_at: i64,
}

const CERTIFICATE_COLUMNS: &str =
    "community_id, id, volunteer_id, code, period_from, period_to, records, minutes, issued_at";

fn certificate_code() -> String {
    // No 0/O or 1/I to misread from paper.
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut b = [0u8; 12];
    getrandom::fill(&mut b).expect("system random source");
    b.iter().map(|x| ALPHABET[(*x as usize) % ALPHABET.len()] as char).collect()
}

/// The approved service of a volunteer over a period (days in China, both included).
pub async fn served(
    ex: &mut impl Exec,
    community_id: i64,
    volunteer_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<ServiceRecord>> {
    let end = crate::time::day_start_ms(to.succ_opt().unwrap_or(to));
    Ok(query(format!(
        "{RECORD_SELECT} WHERE s.community_id = $1 AND s.volunteer_id = $2 AND s.status = 'approved' AND s.started_at >= $3 AND s.started_at < $4 ORDER BY s.started_at"
    ))
    .bind(community_id)
    .bind(volunteer_id)
    .bind(crate::time::day_start_ms(from))
    .bind(end)
    .fetch_all(ex)
    .await?)
}

/// Issues a certificate of a volunteer's approved service over a period: for the
/// volunteer themselves, or by staff.
pub async fn issue_certificate(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    volunteer_id: i64,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> AppResult<Certificate> {
    let mut errors = Vec::new();
    if from.is_none() {
        errors.push(FieldError::new("from", "validation.date"));
    }
    if to.is_none() {
        errors.push(FieldError::new("to", "validation.date"));
    }
    let (Some(from), Some(to)) = (from, to) else { return Err(AppError::Invalid(errors)) };
    if to < from {
        return Err(AppError::field("to", "points.ends_before_start"));
    }
    let mut tx = state.db.begin().await?;
    let v = volunteer_for(&mut tx, actor, community_id, volunteer_id).await?;
    let records = served(&mut tx, community_id, v.id, from, to).await?;
    if records.is_empty() {
        return Err(AppError::field("from", "points.no_service_in_period"));
    }
    let minutes: i64 = records.iter().map(|r| r.minutes).sum();
    let id = tx.next_id().await?;
    let code = certificate_code();
    query(
        "INSERT INTO certificates (community_id, id, volunteer_id, code, period_from, period_to, records, minutes, issued_by, issued_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(community_id)
    .bind(id)
    .bind(v.id)
    .bind(code.as_str())
    .bind(from)
    .bind(to)
    .bind(records.len() as i64)
    .bind(minutes)
    .bind(actor.user_id)
    .bind(now_ms())
    .execute(&mut tx)
    .await?;
    let after = json!({"volunteer": v.number, "from": from, "to": to, "records": records.len(), "minutes": minutes, "code": code});
    audit::record(&mut tx, community_id, &By::from(actor), Action::Create, "certificate", id, None, Some(&after))
        .await?;
    let c = certificate(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(c)
}

pub async fn certificate(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Certificate>> {
    Ok(query(format!("SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE community_id = $1 AND id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// A certificate found by its code (public: anyone holding the paper may check it).
pub async fn certificate_by_code(ex: &mut impl Exec, community_id: i64, code: &str) -> AppResult<Option<Certificate>> {
    Ok(query(format!("SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE community_id = $1 AND code = $2"))
        .bind(community_id)
        .bind(code.trim().to_uppercase())
        .fetch_optional(ex)
        .await?)
}
