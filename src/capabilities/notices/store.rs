//! Notices in the database. A notice's readers are written when it is published (at once,
//! or by the job when its time comes), each with their household, grid and building, so
//! that reading and acknowledging are one guarded update of one row, and the counts by
//! grid and building read one table.

use serde::Serialize;
use serde_json::json;

use super::{Audience, Category, Draft, Wording, changes, check};
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Access, Actor, Permission};
use crate::db::citus::Span;
use crate::db::{Arg, Builder, Exec, Tx, insert_many, now_ms, query};
use crate::error::{AppError, AppResult};
use crate::services::audit::{self, Action, By};
use crate::services::media::{self, Checked};
use crate::services::notify::{self, Note, Subject};
use crate::web::AppState;

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Notice {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub category: Category,
    pub title: String,
    pub body: String,
    #[sqlx(try_from = "String")]
    pub audience: Audience,
    pub targets: String,
    pub publish_at: i64,
    pub expires_at: Option<i64>,
    pub pinned: bool,
    pub asks_ack: bool,
    pub version: i64,
    pub sent_at: Option<i64>,
    pub created_by: i64,
    pub author: String,
}

impl Notice {
    pub fn targets(&self) -> Vec<i64> {
        crate::services::records::model::tags_from_column(&self.targets).iter().filter_map(|t| t.parse().ok()).collect()
    }

    /// Whether anyone may read it: to the whole community, and published.
    pub fn is_public(&self, now: i64) -> bool {
        self.audience == Audience::Community && self.sent_at.is_some() && self.publish_at <= now
    }

    pub fn wording(&self) -> Wording {
        Wording {
            category: self.category.as_str().into(),
            title: self.title.clone(),
            body: self.body.clone(),
            expires_at: self.expires_at,
            pinned: self.pinned,
        }
    }
}

const NOTICE: &str = "SELECT n.id, n.category, n.title, n.body, n.audience, n.targets, n.publish_at, n.expires_at, n.pinned, \
    n.asks_ack, n.version, n.sent_at, n.created_by, u.display_name AS author FROM notices n JOIN users u ON u.id = n.created_by";

pub async fn notice(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Notice>> {
    Ok(query(format!("{NOTICE} WHERE n.community_id = $1 AND n.id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// Whether the actor runs the community's notices (all of them), or only their grids'.
pub fn runs_all(actor: &Actor, community_id: i64) -> bool {
    actor.access(community_id, Permission::PublishNotices).all
}

/// A notice as the actor may see it: its author and those who run the community's notices
/// see it at any time; a reader once it is published to them. Anyone else: not found.
pub async fn visible(ex: &mut impl Exec, actor: &Actor, community_id: i64, id: i64) -> AppResult<Notice> {
    let n = notice(&mut *ex, community_id, id).await?.ok_or(AppError::NotFound)?;
    if runs_all(actor, community_id) || n.created_by == actor.user_id || is_reader(ex, community_id, id, actor).await? {
        Ok(n)
    } else {
        Err(AppError::NotFound)
    }
}

async fn is_reader(ex: &mut impl Exec, community_id: i64, id: i64, actor: &Actor) -> AppResult<bool> {
    let n: i64 =
        query("SELECT COUNT(*) FROM notice_recipients WHERE community_id = $1 AND notice_id = $2 AND user_id = $3")
            .bind(community_id)
            .bind(id)
            .bind(actor.user_id)
            .scalar(ex)
            .await?;
    Ok(n > 0)
}

/// The notices a user sees: those published to them (newest first, the pinned first), and,
/// for their authors and those who run notices, those they may manage.
pub async fn list(ex: &mut impl Exec, actor: &Actor, community_id: i64) -> AppResult<Vec<Notice>> {
    let mut b = Builder::new(format!("{NOTICE} WHERE n.community_id = "));
    b.arg(community_id);
    if !runs_all(actor, community_id) {
        b.push(" AND (n.created_by = ").arg(actor.user_id);
        b.push(" OR EXISTS (SELECT 1 FROM notice_recipients r WHERE r.community_id = ").arg(community_id);
        b.push(" AND r.notice_id = n.id AND r.user_id = ").arg(actor.user_id).push("))");
    }
    b.push(" ORDER BY n.pinned DESC, n.publish_at DESC, n.id DESC LIMIT 500");
    Ok(b.build().fetch_all(ex).await?)
}

/// The targets must be the community's, and within the author's grids when they publish
/// only to their grids (a grid worker). Refused naming `targets` or `audience`.
async fn check_scope(
    tx: &mut Tx,
    access: &Access,
    c: &CommunityRef,
    audience: Audience,
    targets: &[i64],
) -> AppResult<()> {
    if !access.all && !matches!(audience, Audience::Grids | Audience::Buildings) {
        return Err(AppError::field("audience", "notices.beyond_your_grids"));
    }
    let (table, grid_column) = match audience {
        Audience::Grids => ("grids", "id"),
        Audience::Buildings => ("buildings", "grid_id"),
        Audience::Team => ("teams", "NULL"),
        _ => return Ok(()),
    };
    let mut b = Builder::new(format!("SELECT id, {grid_column} FROM {table} WHERE community_id = "));
    b.arg(c.id).push(" AND id IN ").list(targets.iter().copied());
    let found: Vec<(i64, Option<i64>)> = b.build().fetch_all(&mut *tx).await?;
    let mut wanted = targets.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    if found.len() != wanted.len() {
        return Err(AppError::field("targets", "validation.reference"));
    }
    if !access.all && found.iter().any(|(_, g)| !g.is_some_and(|g| access.grids.contains(&g))) {
        return Err(AppError::field("targets", "notices.beyond_your_grids"));
    }
    Ok(())
}

/// Publishes a notice (now, or at its time by the job), with its attachments, as its
/// first version. Answers its id.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    d: Draft,
    files: &[(Vec<u8>, Checked)],
) -> AppResult<i64> {
    let access = actor.access(c.id, Permission::PublishNotices);
    if access.is_none() {
        return Err(AppError::Forbidden);
    }
    let now = now_ms();
    let ok = check(&d, now).map_err(AppError::Invalid)?;
    let mut tx = state.db.begin().await?;
    check_scope(&mut tx, &access, c, ok.audience, &d.targets).await?;
    let id = tx.next_id().await?;
    let targets =
        crate::services::records::model::tags_to_column(&d.targets.iter().map(i64::to_string).collect::<Vec<_>>());
    query(
        "INSERT INTO notices (community_id, id, category, title, body, audience, targets, publish_at, expires_at, pinned, \
         asks_ack, version, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $13, $13)",
    )
    .bind(c.id)
    .bind(id)
    .bind(ok.category.as_str())
    .bind(d.title.trim())
    .bind(d.body.trim())
    .bind(ok.audience.as_str())
    .bind(&targets)
    .bind(ok.publish_at)
    .bind(d.expires_at)
    .bind(d.pinned)
    .bind(d.asks_ack)
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut tx)
    .await?;
    let n = notice(&mut tx, c.id, id).await?.ok_or(AppError::NotFound)?;
    keep_version(&mut tx, (c.id, actor.user_id), &n, &[]).await?;
    media::attach(state, &mut tx, c.id, "notice", id, Some(actor.user_id), files).await?;
    let after =
        json!({"title": n.title, "audience": n.audience.as_str(), "targets": d.targets, "publish_at": n.publish_at});
    audit::record(&mut tx, c.id, &By::from(actor), Action::Create, "notice", id, None, Some(&after)).await?;
    if ok.publish_at <= now {
        publish(&mut tx, state, c.id, &n).await?;
    }
    tx.commit().await?;
    Ok(id)
}

async fn keep_version(tx: &mut Tx, (community_id, by): (i64, i64), n: &Notice, changed: &[&str]) -> AppResult<()> {
    let id = tx.next_id().await?;
    query(
        "INSERT INTO notice_versions (community_id, id, notice_id, version, category, title, body, changed, changed_by, changed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(community_id)
    .bind(id)
    .bind(n.id)
    .bind(n.version)
    .bind(n.category.as_str())
    .bind(&n.title)
    .bind(&n.body)
    .bind(changed.join(","))
    .bind(by)
    .bind(now_ms())
    .execute(tx)
    .await?;
    Ok(())
}

/// The people a notice's audience means, each once, with their household, grid and
/// building (a resident's; none for those who are no resident).
async fn readers(
    tx: &mut Tx,
    community_id: i64,
    n: &Notice,
) -> AppResult<Vec<(i64, Option<i64>, Option<i64>, Option<i64>)>> {
    let targets = n.targets();
    let mut b = Builder::new("SELECT p.user_id, h.id, COALESCE(h.grid_id, p.grid_id), h.building_id FROM (");
    match n.audience {
        Audience::Community => {
            b.push("SELECT user_id, grid_id FROM grants WHERE community_id = ").arg(community_id);
        }
        Audience::Grids => {
            b.push("SELECT g.user_id, g.grid_id FROM grants g LEFT JOIN households x ON x.community_id = ")
                .arg(community_id);
            b.push(" AND x.id = g.household_id WHERE g.community_id = ").arg(community_id);
            b.push(" AND (g.grid_id IN ").list(targets.iter().copied());
            b.push(" OR x.grid_id IN ").list(targets.iter().copied()).push(")");
        }
        Audience::Buildings => {
            b.push("SELECT g.user_id, CAST(NULL AS BIGINT) AS grid_id FROM grants g JOIN households x ON x.community_id = ");
            b.arg(community_id).push(" AND x.id = g.household_id WHERE g.community_id = ").arg(community_id);
            b.push(" AND x.building_id IN ").list(targets.iter().copied());
        }
        Audience::Team => {
            b.push("SELECT user_id, CAST(NULL AS BIGINT) AS grid_id FROM team_members WHERE community_id = ");
            b.arg(community_id).push(" AND team_id IN ").list(targets.iter().copied());
        }
        Audience::PartyMembers | Audience::PartnerUnits => {
            let role = if n.audience == Audience::PartyMembers { "party_member" } else { "partner_unit" };
            b.push("SELECT user_id, grid_id FROM grants WHERE community_id = ").arg(community_id);
            b.push(" AND role = ").arg(role);
        }
    }
    b.push(") p LEFT JOIN grants r ON r.community_id = ").arg(community_id);
    b.push(" AND r.user_id = p.user_id AND r.role = 'resident' LEFT JOIN households h ON h.community_id = ")
        .arg(community_id);
    b.push(" AND h.id = r.household_id ORDER BY p.user_id, h.id");
    let mut rows: Vec<(i64, Option<i64>, Option<i64>, Option<i64>)> = b.build().fetch_all(&mut *tx).await?;
    // One row a person: their household's when they have one.
    rows.sort_by_key(|r| (r.0, r.1.is_none()));
    rows.dedup_by_key(|r| r.0);
    Ok(rows)
}

/// Writes a notice's readers and tells them through the inbox, in `tx`.
async fn publish(tx: &mut Tx, state: &AppState, community_id: i64, n: &Notice) -> AppResult<usize> {
    let readers = readers(tx, community_id, n).await?;
    let rows: Vec<Vec<Arg>> = readers
        .iter()
        .map(|(u, h, g, b)| vec![community_id.into(), n.id.into(), (*u).into(), (*h).into(), (*g).into(), (*b).into()])
        .collect();
    const COLUMNS: [&str; 6] = ["community_id", "notice_id", "user_id", "household_id", "grid_id", "building_id"];
    insert_many(tx, "notice_recipients", &COLUMNS, rows).await?;
    query("UPDATE notices SET sent_at = $1 WHERE community_id = $2 AND id = $3")
        .bind(now_ms())
        .bind(community_id)
        .bind(n.id)
        .execute(&mut *tx)
        .await?;
    let ask = if n.asks_ack { "，请阅读后点击“已知悉”" } else { "" };
    let text = format!("【公告】{}{ask}", n.title);
    let users: Vec<i64> = readers.iter().map(|r| r.0).collect();
    let note = Note::new(community_id, Some(Subject { kind: "notice", id: n.id }), "notice", text);
    notify::send_many(tx, &state.bus, vec![(note, users)]).await?;
    Ok(readers.len())
}

/// Publishes the notices whose time has come, each once (another server doing the same
/// finds it taken).
pub async fn publish_due(state: &AppState, now: i64) -> AppResult<usize> {
    let due: Vec<(i64, i64)> = query("SELECT community_id, id FROM notices WHERE sent_at IS NULL AND publish_at <= $1")
        .bind(now)
        .fetch_all(&mut state.db.span(Span::Maintenance).await?)
        .await?;
    let mut done = 0;
    for (community_id, id) in due {
        let mut tx = state.db.begin().await?;
        let taken = query("UPDATE notices SET sent_at = $1 WHERE community_id = $2 AND id = $3 AND sent_at IS NULL")
            .bind(now)
            .bind(community_id)
            .bind(id)
            .execute(&mut tx)
            .await?;
        if taken == 1 {
            let n = notice(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
            publish(&mut tx, state, community_id, &n).await?;
            done += 1;
        }
        tx.commit().await?;
    }
    Ok(done)
}

pub fn publish_due_job(state: &AppState, now: i64) -> futures::future::BoxFuture<'_, anyhow::Result<()>> {
    Box::pin(async move {
        publish_due(state, now).await?;
        Ok(())
    })
}

/// Its author, or one who runs the community's notices, changes a notice's wording; each
/// change is a version with what changed (nothing changed: no version).
pub async fn edit(state: &AppState, actor: &Actor, c: &CommunityRef, id: i64, w: Wording) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    let n = visible(&mut tx, actor, c.id, id).await?;
    if n.created_by != actor.user_id && !runs_all(actor, c.id) {
        return Err(AppError::Forbidden);
    }
    let d = Draft {
        category: w.category.clone(),
        title: w.title.clone(),
        body: w.body.clone(),
        audience: n.audience.as_str().into(),
        targets: n.targets(),
        publish_at: Some(n.publish_at),
        expires_at: w.expires_at,
        pinned: w.pinned,
        asks_ack: n.asks_ack,
    };
    // A notice published long ago is checked against its own time, not against now.
    check(&d, n.publish_at).map_err(AppError::Invalid)?;
    let changed = changes(&n.wording(), &w);
    if changed.is_empty() {
        return Ok(());
    }
    let n2 = query(
        "UPDATE notices SET category = $1, title = $2, body = $3, expires_at = $4, pinned = $5, version = version + 1, \
         updated_at = $6 WHERE community_id = $7 AND id = $8 AND version = $9",
    )
    .bind(&w.category)
    .bind(w.title.trim())
    .bind(w.body.trim())
    .bind(w.expires_at)
    .bind(w.pinned)
    .bind(now_ms())
    .bind(c.id)
    .bind(id)
    .bind(n.version)
    .execute(&mut tx)
    .await?;
    if n2 == 0 {
        return Err(AppError::Conflict("notices.changed_meanwhile"));
    }
    let after = notice(&mut tx, c.id, id).await?.ok_or(AppError::NotFound)?;
    keep_version(&mut tx, (c.id, actor.user_id), &after, &changed).await?;
    let diff = json!({"changed": changed, "version": after.version});
    audit::record(&mut tx, c.id, &By::from(actor), Action::Update, "notice", id, None, Some(&diff)).await?;
    tx.commit().await?;
    Ok(())
}

/// One version of a notice, with what it changed.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Version {
    pub version: i64,
    pub title: String,
    pub body: String,
    pub changed: String,
    pub who: String,
    pub at: i64,
}

pub async fn versions(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Vec<Version>> {
    Ok(query(
        "SELECT v.version, v.title, v.body, v.changed, u.display_name AS who, v.changed_at AS at FROM notice_versions v \
         JOIN users u ON u.id = v.changed_by WHERE v.community_id = $1 AND v.notice_id = $2 ORDER BY v.version DESC",
    )
    .bind(community_id)
    .bind(id)
    .fetch_all(ex)
    .await?)
}

/// A reader opens the notice: read, once.
pub async fn mark_read(state: &AppState, actor: &Actor, community_id: i64, id: i64) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    query(
        "UPDATE notice_recipients SET read_at = $1 WHERE community_id = $2 AND notice_id = $3 AND user_id = $4 \
         AND read_at IS NULL",
    )
    .bind(now_ms())
    .bind(community_id)
    .bind(id)
    .bind(actor.user_id)
    .execute(&mut tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What an acknowledgement did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acked {
    Now,
    Before,
}

/// A reader acknowledges a notice that asks it (read too). Acknowledged before: says so.
pub async fn ack(state: &AppState, actor: &Actor, community_id: i64, id: i64) -> AppResult<Acked> {
    let mut tx = state.db.begin().await?;
    let asks: Option<bool> = query("SELECT asks_ack FROM notices WHERE community_id = $1 AND id = $2")
        .bind(community_id)
        .bind(id)
        .scalar_optional(&mut tx)
        .await?;
    if !asks.ok_or(AppError::NotFound)? {
        return Err(AppError::Conflict("notices.no_ack_asked"));
    }
    let now = now_ms();
    let n = query(
        "UPDATE notice_recipients SET acked_at = $1, read_at = COALESCE(read_at, $1) \
         WHERE community_id = $2 AND notice_id = $3 AND user_id = $4 AND acked_at IS NULL",
    )
    .bind(now)
    .bind(community_id)
    .bind(id)
    .bind(actor.user_id)
    .execute(&mut tx)
    .await?;
    if n == 1 {
        tx.commit().await?;
        return Ok(Acked::Now);
    }
    if is_reader(&mut tx, community_id, id, actor).await? { Ok(Acked::Before) } else { Err(AppError::NotFound) }
}

/// Whether a reader has acknowledged (none: not a reader).
pub async fn acked_by(ex: &mut impl Exec, community_id: i64, id: i64, user_id: i64) -> AppResult<Option<bool>> {
    let at: Option<Option<i64>> =
        query("SELECT acked_at FROM notice_recipients WHERE community_id = $1 AND notice_id = $2 AND user_id = $3")
            .bind(community_id)
            .bind(id)
            .bind(user_id)
            .scalar_optional(ex)
            .await?;
    Ok(at.map(|a| a.is_some()))
}

/// One reader as staff see them: where they live, whether they read and acknowledged.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Reader {
    pub name: String,
    pub grid: Option<String>,
    pub building: Option<String>,
    pub address: Option<String>,
    pub read_at: Option<i64>,
    pub acked_at: Option<i64>,
}

/// A notice's readers, by grid, building and address.
pub async fn readers_of(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Vec<Reader>> {
    Ok(query(
        "SELECT u.display_name AS name, g.name AS grid, b.name AS building, h.address, r.read_at, r.acked_at \
         FROM notice_recipients r JOIN users u ON u.id = r.user_id \
         LEFT JOIN grids g ON g.community_id = $1 AND g.id = r.grid_id \
         LEFT JOIN buildings b ON b.community_id = $1 AND b.id = r.building_id \
         LEFT JOIN households h ON h.community_id = $1 AND h.id = r.household_id \
         WHERE r.community_id = $1 AND r.notice_id = $2 ORDER BY g.name, b.name, h.address, u.display_name",
    )
    .bind(community_id)
    .bind(id)
    .fetch_all(ex)
    .await?)
}

/// A notice's attachments may be seen by whoever may see the notice.
pub fn media_check<'a>(
    state: &'a AppState,
    actor: &'a Actor,
    m: &'a media::Media,
) -> futures::future::BoxFuture<'a, AppResult<bool>> {
    Box::pin(async move {
        let mut conn = state.db.read().await?;
        media::seen(visible(&mut conn, actor, m.community_id, m.owner_id).await)
    })
}

/// The current notices published to a user that they have not read, the pinned first.
pub async fn unread(ex: &mut impl Exec, community_id: i64, user_id: i64, now: i64) -> AppResult<Vec<Notice>> {
    Ok(query(format!(
        "{NOTICE} JOIN notice_recipients r ON r.community_id = n.community_id AND r.notice_id = n.id \
         WHERE n.community_id = $1 AND r.user_id = $2 AND r.read_at IS NULL AND n.publish_at <= $3 \
         AND (n.expires_at IS NULL OR n.expires_at > $3) ORDER BY n.pinned DESC, n.publish_at DESC LIMIT 50"
    ))
    .bind(community_id)
    .bind(user_id)
    .bind(now)
    .fetch_all(ex)
    .await?)
}

/// The notices anyone may read: those to the whole community, published; the current
/// ones when `current_only`, the pinned first, the newest next.
pub async fn public(ex: &mut impl Exec, community_id: i64, now: i64, current_only: bool) -> AppResult<Vec<Notice>> {
    let expiry = if current_only { " AND (n.expires_at IS NULL OR n.expires_at > $2)" } else { "" };
    Ok(query(format!(
        "{NOTICE} WHERE n.community_id = $1 AND n.audience = 'community' AND n.sent_at IS NOT NULL \
         AND n.publish_at <= $2{expiry} ORDER BY n.pinned DESC, n.publish_at DESC LIMIT 200"
    ))
    .bind(community_id)
    .bind(now)
    .fetch_all(ex)
    .await?)
}
