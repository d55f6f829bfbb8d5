//! Brands' queries and writes, community first: a brand, what it gathers (teams and events
//! by its name, what staff tagged), and its figures from the dictionary.

use crate::auth::guard::{CommunityRef, require};
use crate::auth::model::{Actor, Permission};
use crate::db::{Exec, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::media::{self, Checked, Media};
use crate::web::AppState;
use crate::web::dictionary::{self, Period, Tagged, Values};

use super::{Draft, TagKind, check};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Brand {
    pub community_id: i64,
    pub id: i64,
    pub name: String,
    pub story: String,
    pub people: String,
    pub created_at: i64,
}

const COLUMNS: &str = "community_id, id, name, story, people, created_at";

/// One line of what a brand gathered: its title, a detail, its page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub title: String,
    pub detail: String,
    pub href: String,
}

/// What a brand gathered, by kind, and the ids the dictionary counts over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gathered {
    pub teams: Vec<Line>,
    pub events: Vec<Line>,
    pub needs: Vec<Line>,
    pub projects: Vec<Line>,
    pub tickets: Vec<Line>,
    pub tagged: Tagged,
}

pub async fn list(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<Brand>> {
    Ok(query(format!("SELECT {COLUMNS} FROM brands WHERE community_id = $1 ORDER BY created_at, id"))
        .bind(community_id)
        .fetch_all(ex)
        .await?)
}

pub async fn get(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Brand> {
    query(format!("SELECT {COLUMNS} FROM brands WHERE community_id = $1 AND id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?
        .ok_or(AppError::NotFound)
}

/// The brand's logo, its latest photo.
pub async fn logo(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Media>> {
    Ok(media::of(ex, community_id, "brand", id).await?.into_iter().max_by_key(|m| (m.created_at, m.id)))
}

/// Refuses a name the community's other brand has, naming it.
async fn name_free(ex: &mut impl Exec, c: i64, name: &str, other_than: i64) -> AppResult<()> {
    let taken: Option<i64> = query("SELECT id FROM brands WHERE community_id = $1 AND name = $2 AND id <> $3")
        .bind(c)
        .bind(name)
        .bind(other_than)
        .scalar_optional(ex)
        .await?;
    match taken {
        Some(_) => Err(AppError::Invalid(vec![FieldError::new("name", "brands.name_taken")])),
        None => Ok(()),
    }
}

/// Creates a brand with its logo (if one is sent): staff of the community.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    d: &Draft,
    logo: &[(Vec<u8>, Checked)],
) -> AppResult<i64> {
    require(actor, c.id, Permission::ManageCommunity)?;
    check(d).map_err(AppError::Invalid)?;
    let mut tx = state.db.begin().await?;
    name_free(&mut tx, c.id, &d.name, 0).await?;
    let id = tx.next_id().await?;
    let now = now_ms();
    query(
        "INSERT INTO brands (community_id, id, name, story, people, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(c.id)
    .bind(id)
    .bind(d.name.trim())
    .bind(d.story.trim())
    .bind(d.people.trim())
    .bind(actor.user_id)
    .bind(now)
    .execute(&mut tx)
    .await?;
    media::attach(state, &mut tx, c.id, "brand", id, Some(actor.user_id), logo).await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes a brand's name, story and people, and its logo when a new one is sent.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    id: i64,
    d: &Draft,
    logo: &[(Vec<u8>, Checked)],
) -> AppResult<()> {
    require(actor, c.id, Permission::ManageCommunity)?;
    check(d).map_err(AppError::Invalid)?;
    let mut tx = state.db.begin().await?;
    get(&mut tx, c.id, id).await?;
    name_free(&mut tx, c.id, &d.name, id).await?;
    query("UPDATE brands SET name = $3, story = $4, people = $5, updated_at = $6 WHERE community_id = $1 AND id = $2")
        .bind(c.id)
        .bind(id)
        .bind(d.name.trim())
        .bind(d.story.trim())
        .bind(d.people.trim())
        .bind(now_ms())
        .execute(&mut tx)
        .await?;
    media::attach(state, &mut tx, c.id, "brand", id, Some(actor.user_id), logo).await?;
    tx.commit().await?;
    Ok(())
}

/// Tags a need, council project (by the number of the decision it carries out, as its
/// page shows it) or ticket of the community with the brand (once); a number of another
/// community, or of nothing, is refused naming `subject`.
pub async fn tag(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    id: i64,
    kind: &str,
    subject: Option<i64>,
) -> AppResult<()> {
    require(actor, c.id, Permission::ManageCommunity)?;
    let kind =
        TagKind::parse(kind).ok_or_else(|| AppError::Invalid(vec![FieldError::new("kind", "validation.choice")]))?;
    let missing = || AppError::Invalid(vec![FieldError::new("subject", "brands.no_such_subject")]);
    let subject = subject.ok_or_else(missing)?;
    let find = match kind {
        TagKind::Need => "SELECT id FROM needs WHERE community_id = $1 AND id = $2",
        TagKind::Project => "SELECT id FROM council_projects WHERE community_id = $1 AND proposal_id = $2",
        TagKind::Ticket => "SELECT id FROM tickets WHERE community_id = $1 AND id = $2",
    };
    let mut tx = state.db.begin().await?;
    get(&mut tx, c.id, id).await?;
    let found: Option<i64> = query(find).bind(c.id).bind(subject).scalar_optional(&mut tx).await?;
    let subject = found.ok_or_else(missing)?;
    query(
        "INSERT INTO brand_tags (community_id, brand_id, kind, subject_id, tagged_by, tagged_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT DO NOTHING",
    )
    .bind(c.id)
    .bind(id)
    .bind(kind.as_str())
    .bind(subject)
    .bind(actor.user_id)
    .bind(now_ms())
    .execute(&mut tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What the brand gathered: the teams and events carrying its name, and what was tagged.
pub async fn gathered(ex: &mut impl Exec, c: &CommunityRef, b: &Brand) -> AppResult<Gathered> {
    let mut g = Gathered::default();
    let teams: Vec<(i64, String, String)> = query(
        "SELECT id, name, kind FROM teams WHERE community_id = $1 AND brand = $2 AND archived_at IS NULL ORDER BY id",
    )
    .bind(c.id)
    .bind(&b.name)
    .fetch_all(&mut *ex)
    .await?;
    for (id, name, kind) in teams {
        g.tagged.teams.push(id);
        g.teams.push(Line { title: name, detail: kind, href: format!("/c/{}/teams/{id}/members", c.code) });
    }
    let events: Vec<(i64, String, String)> =
        query("SELECT id, title, status FROM events WHERE community_id = $1 AND brand = $2 ORDER BY id DESC")
            .bind(c.id)
            .bind(&b.name)
            .fetch_all(&mut *ex)
            .await?;
    for (id, title, status) in events {
        g.tagged.events.push(id);
        g.events.push(Line { title, detail: status, href: format!("/c/{}/events/{id}", c.code) });
    }
    let tags: Vec<(String, i64)> =
        query("SELECT kind, subject_id FROM brand_tags WHERE community_id = $1 AND brand_id = $2 ORDER BY tagged_at")
            .bind(c.id)
            .bind(b.id)
            .fetch_all(&mut *ex)
            .await?;
    for (kind, subject) in tags {
        let (sql, href, list, ids) = match TagKind::parse(&kind) {
            Some(TagKind::Need) => ("SELECT title, status, id FROM needs", "needs", &mut g.needs, &mut g.tagged.needs),
            // A project is shown on the page of the decision it carries out.
            Some(TagKind::Project) => (
                "SELECT title, owner_name, proposal_id FROM council_projects",
                "council",
                &mut g.projects,
                &mut g.tagged.projects,
            ),
            Some(TagKind::Ticket) => {
                ("SELECT description, status, id FROM tickets", "tickets", &mut g.tickets, &mut g.tagged.tickets)
            }
            None => continue,
        };
        let row: Option<(String, String, i64)> = query(format!("{sql} WHERE community_id = $1 AND id = $2"))
            .bind(c.id)
            .bind(subject)
            .fetch_optional(&mut *ex)
            .await?;
        if let Some((title, detail, page)) = row {
            ids.push(subject);
            let title = title.chars().take(40).collect();
            list.push(Line { title, detail, href: format!("/c/{}/{href}/{page}", c.code) });
        }
    }
    Ok(g)
}

/// The brand's figures over its whole life, from the dictionary.
pub async fn figures(state: &AppState, c: &CommunityRef, b: &Brand, g: &Gathered) -> AppResult<Values> {
    let since = crate::web::fmt::to_cst(b.created_at.min(now_ms() - 365 * 86_400_000)).date_naive();
    dictionary::within(state, c, &Period::since(since), &g.tagged).await
}

/// A brand's figures over its whole life, from what it gathers now.
pub async fn figures_of(state: &AppState, c: &CommunityRef, b: &Brand) -> AppResult<Values> {
    let g = gathered(&mut state.db.read().await?, c, b).await?;
    figures(state, c, b, &g).await
}

/// Logos are public: anyone who sees the community sees them.
pub fn media_check<'a>(
    state: &'a AppState,
    _actor: &'a Actor,
    m: &'a Media,
) -> futures::future::BoxFuture<'a, AppResult<bool>> {
    Box::pin(async move { media::seen(get(&mut state.db.read().await?, m.community_id, m.owner_id).await) })
}
