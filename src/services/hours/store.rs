//! The holiday calendar (one global table, shipped for this year and the next, edited by
//! the platform admin) and the hours of whatever a capability opens, kept by owner kind
//! and id inside a community.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde_json::json;

use super::{Calendar, Exception, HolidayDay, Hours, Minute, Rule, Special};
use crate::auth::model::Actor;
use crate::db::{Builder, Db, Exec, Tx, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::web::AppState;

/// How long a server trusts the calendar it read before reading it again (another
/// process may have changed it; this one forgets at once when it changes it).
const FRESH: Duration = Duration::from_secs(60);

/// The calendar as last read, shared by every request of a server.
#[derive(Default)]
pub struct Holidays {
    cached: RwLock<Option<(Instant, Arc<Calendar>)>>,
}

#[derive(sqlx::FromRow)]
struct DayRow {
    day: NaiveDate,
    special: String,
    name: String,
    provisional: bool,
}

impl Holidays {
    pub async fn calendar(&self, db: &Db) -> AppResult<Arc<Calendar>> {
        if let Ok(guard) = self.cached.read()
            && let Some((at, c)) = guard.as_ref()
            && at.elapsed() < FRESH
        {
            return Ok(c.clone());
        }
        let c = Arc::new(Calendar::new(read_days(&mut db.read().await?, None).await?));
        if let Ok(mut guard) = self.cached.write() {
            *guard = Some((Instant::now(), c.clone()));
        }
        Ok(c)
    }

    fn forget(&self) {
        if let Ok(mut guard) = self.cached.write() {
            *guard = None;
        }
    }

    /// The platform admin sets a day (a holiday or a make-up working day), replacing
    /// what it was.
    pub async fn set(&self, db: &Db, actor: &Actor, day: &HolidayDay) -> AppResult<()> {
        require_admin(actor)?;
        let mut errors = Vec::new();
        crate::input::check_text(&mut errors, "name", &day.name, 20, true);
        if !(2000..=2100).contains(&chrono::Datelike::year(&day.day)) {
            errors.push(FieldError::new("day", "validation.range").with("min", 2000).with("max", 2100));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let mut tx = db.begin().await?;
        query("DELETE FROM holidays WHERE day = $1").bind(day.day).execute(&mut tx).await?;
        query("INSERT INTO holidays (day, special, name, provisional, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(day.day)
            .bind(day.special.as_str())
            .bind(day.name.trim())
            .bind(day.provisional)
            .bind(actor.user_id)
            .bind(now_ms())
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        tracing::info!(day = %day.day, special = %day.special, by = actor.user_id, "holiday calendar: day set");
        self.forget();
        Ok(())
    }

    /// The platform admin takes a day out: it is what its weekday says again.
    pub async fn remove(&self, db: &Db, actor: &Actor, day: NaiveDate) -> AppResult<()> {
        require_admin(actor)?;
        let mut tx = db.begin().await?;
        let n = query("DELETE FROM holidays WHERE day = $1").bind(day).execute(&mut tx).await?;
        tx.commit().await?;
        if n == 0 {
            return Err(AppError::NotFound);
        }
        tracing::info!(day = %day, by = actor.user_id, "holiday calendar: day removed");
        self.forget();
        Ok(())
    }
}

/// Each community's hours of one kind of owner, as last read: the public directory's
/// search asks for them many times a second. This server forgets them when it changes
/// them; another server's change shows within `FRESH`.
#[derive(Default)]
pub struct Kept {
    cached: RwLock<HashMap<(i64, &'static str), (Instant, NaiveDate, Arc<HashMap<i64, Hours>>)>>,
    /// Counts what was forgotten, so that hours read before a change are not kept after it.
    forgotten: AtomicU64,
}

impl Kept {
    /// The hours of every owner of a kind in a community, exceptions from `today`.
    pub async fn hours(
        &self,
        db: &Db,
        community_id: i64,
        owner_kind: &'static str,
        today: NaiveDate,
    ) -> AppResult<Arc<HashMap<i64, Hours>>> {
        if let Ok(guard) = self.cached.read()
            && let Some((at, day, h)) = guard.get(&(community_id, owner_kind))
            && *day == today
            && at.elapsed() < FRESH
        {
            return Ok(h.clone());
        }
        let before = self.forgotten.load(Ordering::Acquire);
        let h = Arc::new(hours_of(&mut db.read().await?, community_id, owner_kind, None, today).await?);
        if let Ok(mut guard) = self.cached.write()
            && self.forgotten.load(Ordering::Acquire) == before
        {
            guard.insert((community_id, owner_kind), (Instant::now(), today, h.clone()));
        }
        Ok(h)
    }

    fn forget(&self, community_id: i64, owner_kind: &str) {
        if let Ok(mut guard) = self.cached.write() {
            self.forgotten.fetch_add(1, Ordering::AcqRel);
            guard.retain(|k, _| !(k.0 == community_id && k.1 == owner_kind));
        }
    }
}

fn require_admin(actor: &Actor) -> AppResult<()> {
    if actor.is_platform_admin() { Ok(()) } else { Err(AppError::Forbidden) }
}

/// The calendar's days, all or of one year.
pub async fn read_days(ex: &mut impl Exec, year: Option<i32>) -> AppResult<Vec<HolidayDay>> {
    let mut b = Builder::new("SELECT day, special, name, provisional FROM holidays");
    if let Some(y) = year {
        b.push(" WHERE day >= ").arg(NaiveDate::from_ymd_opt(y, 1, 1));
        b.push(" AND day <= ").arg(NaiveDate::from_ymd_opt(y, 12, 31));
    }
    b.push(" ORDER BY day");
    let rows: Vec<DayRow> = b.build().fetch_all(ex).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let special = Special::parse(&r.special)?;
            Some(HolidayDay { day: r.day, special, name: r.name, provisional: r.provisional })
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct RuleRow {
    owner_id: i64,
    weekdays: i64,
    opens: i64,
    closes: i64,
    valid_from: Option<NaiveDate>,
    valid_until: Option<NaiveDate>,
    on_holidays: bool,
}

#[derive(sqlx::FromRow)]
struct ExceptionRow {
    owner_id: i64,
    day: NaiveDate,
    opens: Option<i64>,
    closes: Option<i64>,
    note: String,
}

fn minute(v: i64) -> Minute {
    v.clamp(0, i64::from(super::DAY_END)) as Minute
}

/// The hours of each owner of a kind in a community (all of them, or those listed),
/// exceptions from `since` on.
pub async fn hours_of(
    ex: &mut impl Exec,
    community_id: i64,
    owner_kind: &str,
    owners: Option<&[i64]>,
    since: NaiveDate,
) -> AppResult<HashMap<i64, Hours>> {
    let mut b = Builder::new(
        "SELECT owner_id, weekdays, opens, closes, valid_from, valid_until, on_holidays FROM opening_hours WHERE community_id = ",
    );
    b.arg(community_id).push(" AND owner_kind = ").arg(owner_kind.to_string());
    if let Some(ids) = owners {
        b.push(" AND owner_id IN ").list(ids.iter().copied());
    }
    b.push(" ORDER BY owner_id, opens");
    let rules: Vec<RuleRow> = b.build().fetch_all(ex).await?;
    let mut b = Builder::new("SELECT owner_id, day, opens, closes, note FROM opening_exceptions WHERE community_id = ");
    b.arg(community_id).push(" AND owner_kind = ").arg(owner_kind.to_string());
    b.push(" AND day >= ").arg(since);
    if let Some(ids) = owners {
        b.push(" AND owner_id IN ").list(ids.iter().copied());
    }
    b.push(" ORDER BY owner_id, day");
    let exceptions: Vec<ExceptionRow> = b.build().fetch_all(ex).await?;
    let mut out: HashMap<i64, Hours> = HashMap::new();
    for r in rules {
        out.entry(r.owner_id).or_default().rules.push(Rule {
            weekdays: r.weekdays.clamp(0, 0x7f) as u8,
            opens: minute(r.opens),
            closes: minute(r.closes),
            valid_from: r.valid_from,
            valid_until: r.valid_until,
            on_holidays: r.on_holidays,
        });
    }
    for x in exceptions {
        let span = x.opens.zip(x.closes).map(|(a, b)| (minute(a), minute(b)));
        out.entry(x.owner_id).or_default().exceptions.push(Exception { day: x.day, span, note: x.note });
    }
    Ok(out)
}

/// Adds a weekly rule to an owner's hours (the caller checked the owner and the actor).
pub async fn add_rule(tx: &mut Tx, community_id: i64, owner: (&str, i64), rule: &Rule) -> AppResult<i64> {
    let errors = rule.check();
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let id = tx.next_id().await?;
    query(
        "INSERT INTO opening_hours (community_id, id, owner_kind, owner_id, weekdays, opens, closes, valid_from, valid_until, on_holidays, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(community_id)
    .bind(id)
    .bind(owner.0.to_string())
    .bind(owner.1)
    .bind(i64::from(rule.weekdays))
    .bind(i64::from(rule.opens))
    .bind(i64::from(rule.closes))
    .bind(rule.valid_from)
    .bind(rule.valid_until)
    .bind(rule.on_holidays)
    .bind(now_ms())
    .execute(tx)
    .await?;
    Ok(id)
}

/// Adds an exception for a day (closed, or other hours).
pub async fn add_exception(tx: &mut Tx, community_id: i64, owner: (&str, i64), x: &Exception) -> AppResult<i64> {
    let errors = x.check();
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let id = tx.next_id().await?;
    query(
        "INSERT INTO opening_exceptions (community_id, id, owner_kind, owner_id, day, opens, closes, note, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(community_id)
    .bind(id)
    .bind(owner.0.to_string())
    .bind(owner.1)
    .bind(x.day)
    .bind(x.span.map(|s| i64::from(s.0)))
    .bind(x.span.map(|s| i64::from(s.1)))
    .bind(x.note.trim().to_string())
    .bind(now_ms())
    .execute(tx)
    .await?;
    Ok(id)
}

/// Clears an owner's weekly rules (its hours set anew) and its exceptions from `since`.
pub async fn clear(tx: &mut Tx, community_id: i64, owner: (&str, i64)) -> AppResult<()> {
    for table in ["opening_hours", "opening_exceptions"] {
        query(format!("DELETE FROM {table} WHERE community_id = $1 AND owner_kind = $2 AND owner_id = $3"))
            .bind(community_id)
            .bind(owner.0.to_string())
            .bind(owner.1)
            .execute(tx)
            .await?;
    }
    Ok(())
}

/// What is written to an owner's hours.
pub enum Change {
    Rule(Rule),
    Exception(Exception),
    Clear,
}

/// Changes an owner's hours (a weekly rule added, a day's exception, or all cleared), in
/// the audit log of the owner. The caller checked the owner and the actor.
pub async fn change(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    owner: (&str, i64),
    change: Change,
) -> AppResult<()> {
    use super::{show_time, weekdays_of};
    let mut tx = state.db.begin().await?;
    let after = match &change {
        Change::Rule(r) => {
            add_rule(&mut tx, community_id, owner, r).await?;
            json!({"hours": {"weekdays": weekdays_of(r.weekdays), "opens": show_time(r.opens),
                "closes": show_time(r.closes), "valid_from": r.valid_from, "valid_until": r.valid_until,
                "on_holidays": r.on_holidays}})
        }
        Change::Exception(x) => {
            add_exception(&mut tx, community_id, owner, x).await?;
            json!({"exception": {"day": x.day, "opens": x.span.map(|s| show_time(s.0)),
                "closes": x.span.map(|s| show_time(s.1)), "note": x.note}})
        }
        Change::Clear => {
            clear(&mut tx, community_id, owner).await?;
            json!({"hours": "cleared"})
        }
    };
    let by = crate::services::audit::By::from(actor);
    crate::services::audit::record(
        &mut tx,
        community_id,
        &by,
        crate::services::audit::Action::Update,
        owner.0,
        owner.1,
        None,
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    state.hours.forget(community_id, owner.0);
    Ok(())
}
