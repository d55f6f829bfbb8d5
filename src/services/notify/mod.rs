//! Notifications: a line in each concerned user's inbox, and the same news on their open
//! pages (`live`). A notification is about a subject (a ticket, a service record, a
//! need…) and goes to users, to the holders of a role, or to everyone in a grid or a
//! community; the audience is resolved in the database inside the writer's transaction,
//! and the live news goes through the database too, so several server processes all
//! hear it.

pub mod live;
pub mod pages;

use serde::Serialize;

use crate::auth::model::{Actor, Role};
use crate::db::citus::Span;
use crate::db::{Arg, Builder, Conn, Db, Exec, Tx, insert_many, now_ms, query};
use crate::error::AppResult;
pub use live::{Bus, News};

/// What a notification is about: a kind that a capability names (`ticket`) and its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subject {
    pub kind: &'static str,
    pub id: i64,
}

/// Who hears it, within the notification's community.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    Users(Vec<i64>),
    /// Everyone holding the role in the community.
    Role(Role),
    /// Everyone whose role is in the grid: its worker, and the residents of its households.
    Grid(i64),
    /// Everyone with a role in the community.
    Community,
}

/// One notification.
#[derive(Debug, Clone)]
pub struct Note {
    pub community_id: i64,
    pub subject: Option<Subject>,
    /// What happened (`accept`, `approved`, `escalate`, …): the inbox's kind of line.
    pub action: String,
    pub text: String,
}

impl Note {
    pub fn new(community_id: i64, subject: Option<Subject>, action: &str, text: impl Into<String>) -> Note {
        Note { community_id, subject, action: action.to_string(), text: text.into() }
    }
}

/// The users an audience means, each once.
pub async fn audience(ex: &mut impl Exec, community_id: i64, to: &Audience) -> AppResult<Vec<i64>> {
    let mut users = match to {
        Audience::Users(u) => u.clone(),
        Audience::Role(role) => {
            query("SELECT user_id FROM grants WHERE community_id = $1 AND role = $2")
                .bind(community_id)
                .bind(role.as_str())
                .scalars(ex)
                .await?
        }
        Audience::Grid(grid) => {
            query(
                "SELECT g.user_id FROM grants g LEFT JOIN households h ON h.community_id = g.community_id AND h.id = g.household_id
                 WHERE g.community_id = $1 AND (g.grid_id = $2 OR h.grid_id = $2)",
            )
            .bind(community_id)
            .bind(*grid)
            .scalars(ex)
            .await?
        }
        Audience::Community => {
            query("SELECT user_id FROM grants WHERE community_id = $1").bind(community_id).scalars(ex).await?
        }
    };
    users.sort_unstable();
    users.dedup();
    Ok(users)
}

/// Puts the note in its audience's inboxes and on their open pages, when `tx` commits.
/// Answers who heard it.
pub async fn send(tx: &mut Tx, bus: &Bus, note: Note, to: Audience) -> AppResult<Vec<i64>> {
    let users = audience(tx, note.community_id, &to).await?;
    send_many(tx, bus, vec![(note, users.clone())]).await?;
    Ok(users)
}

/// Many notes to users already known, in one write (a batch of submissions).
pub async fn send_many(tx: &mut Tx, bus: &Bus, notes: Vec<(Note, Vec<i64>)>) -> AppResult<()> {
    let count = notes.iter().map(|(_, users)| users.len()).sum();
    if count == 0 {
        return Ok(());
    }
    let mut ids = tx.next_ids(count).await?.into_iter();
    let now = now_ms();
    let mut rows: Vec<Vec<Arg>> = Vec::with_capacity(count);
    let mut news = Vec::with_capacity(notes.len());
    for (note, users) in notes.into_iter().filter(|(_, users)| !users.is_empty()) {
        let (kind, id) = match note.subject {
            Some(s) => (Some(s.kind), Some(s.id)),
            None => (None, None),
        };
        for (u, row) in users.iter().zip(ids.by_ref()) {
            rows.push(vec![
                note.community_id.into(),
                row.into(),
                (*u).into(),
                now.into(),
                kind.into(),
                id.into(),
                note.action.as_str().into(),
                note.text.as_str().into(),
            ]);
        }
        news.push(News {
            community_id: note.community_id,
            subject_kind: kind.map(String::from),
            subject_id: id,
            users,
            action: note.action,
            text: note.text,
        });
    }
    insert_many(tx, "notifications", &COLUMNS, rows).await?;
    for n in news {
        bus.publish(tx, n).await?;
    }
    Ok(())
}

const COLUMNS: [&str; 8] = ["community_id", "id", "user_id", "at", "subject_kind", "subject_id", "kind", "text"];

/// A line of an inbox.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct InboxLine {
    pub community_id: i64,
    pub id: i64,
    pub at: i64,
    pub subject_kind: Option<String>,
    pub subject_id: Option<i64>,
    pub kind: String,
    pub text: String,
    pub read_at: Option<i64>,
}

/// Lines of one (subject kind, action): the inbox's tabs are made of these.
pub type Sort = (Option<String>, String);

/// The user's inbox, newest first: every line, or only those of some sorts.
pub async fn inbox(db: &Db, actor: &Actor, limit: i64, only: Option<&[Sort]>) -> AppResult<Vec<InboxLine>> {
    let Some(mine) = Mine::of(actor) else { return Ok(Vec::new()) };
    let mut b =
        Builder::new("SELECT community_id, id, at, subject_kind, subject_id, kind, text, read_at FROM notifications");
    mine.filter(&mut b);
    of_sorts(&mut b, only);
    b.push(" ORDER BY at DESC, id DESC LIMIT ").arg(limit);
    Ok(b.build().fetch_all(&mut mine.read(db).await?).await?)
}

/// How many lines the user has of each sort, and how many of them are unread.
pub async fn tally(db: &Db, actor: &Actor) -> AppResult<Vec<(Sort, i64, i64)>> {
    let Some(mine) = Mine::of(actor) else { return Ok(Vec::new()) };
    let mut b = Builder::new(
        "SELECT subject_kind, kind, COUNT(*), SUM(CASE WHEN read_at IS NULL THEN 1 ELSE 0 END) FROM notifications",
    );
    mine.filter(&mut b);
    b.push(" GROUP BY subject_kind, kind");
    let rows: Vec<(Option<String>, String, i64, i64)> = b.build().fetch_all(&mut mine.read(db).await?).await?;
    Ok(rows.into_iter().map(|(k, a, n, unread)| ((k, a), n, unread)).collect())
}

/// One of the user's lines (None when it is not theirs).
pub async fn line(db: &Db, actor: &Actor, community_id: i64, id: i64) -> AppResult<Option<InboxLine>> {
    let Some(mine) = Mine::of(actor) else { return Ok(None) };
    let mut b =
        Builder::new("SELECT community_id, id, at, subject_kind, subject_id, kind, text, read_at FROM notifications");
    mine.filter(&mut b);
    b.push(" AND community_id = ").arg(community_id).push(" AND id = ").arg(id);
    Ok(b.build().fetch_optional(&mut mine.read(db).await?).await?)
}

/// Which lines to mark read.
pub enum Read<'a> {
    One {
        community_id: i64,
        id: i64,
    },
    /// Every unread line, or those of some sorts.
    All(Option<&'a [Sort]>),
}

/// Marks lines read; answers how many were unread.
pub async fn mark_read(db: &Db, actor: &Actor, which: Read<'_>) -> AppResult<u64> {
    let Some(mine) = Mine::of(actor) else { return Ok(0) };
    let mut b = Builder::new("UPDATE notifications SET read_at = ");
    b.arg(now_ms());
    mine.filter(&mut b);
    b.push(" AND read_at IS NULL");
    let mut tx = match which {
        Read::One { community_id, id } => {
            b.push(" AND community_id = ").arg(community_id).push(" AND id = ").arg(id);
            db.begin().await?
        }
        Read::All(only) => {
            of_sorts(&mut b, only);
            mine.write(db).await?
        }
    };
    let n = b.build().execute(&mut tx).await?;
    tx.commit().await?;
    Ok(n)
}

/// ` AND` the line is of one of the sorts (none at all when the list is empty).
fn of_sorts(b: &mut Builder, only: Option<&[Sort]>) {
    let Some(sorts) = only else { return };
    if sorts.is_empty() {
        b.push(" AND 1 = 0");
        return;
    }
    b.push(" AND (");
    for (i, (subject, action)) in sorts.iter().enumerate() {
        b.push(if i == 0 { "(" } else { " OR (" });
        match subject {
            Some(k) => b.push("subject_kind = ").arg(k.as_str()),
            None => b.push("subject_kind IS NULL"),
        };
        b.push(" AND kind = ").arg(action.as_str()).push(")");
    }
    b.push(")");
}

/// How many lines the user has not read. Every page asks, so when the user works in one
/// community one shard answers.
pub async fn unread(db: &Db, actor: &Actor) -> AppResult<i64> {
    let Some(mine) = Mine::of(actor) else { return Ok(0) };
    let mut b = Builder::new("SELECT COUNT(*) FROM notifications");
    mine.filter(&mut b);
    b.push(" AND read_at IS NULL");
    Ok(b.build().scalar(&mut mine.read(db).await?).await?)
}

/// Where a user's lines are: the communities they have a role in (notifications are only
/// sent there), or every community for a platform admin.
struct Mine {
    user_id: i64,
    communities: Option<Vec<i64>>,
}

impl Mine {
    /// None for a user with no community, who has no lines to find.
    fn of(actor: &Actor) -> Option<Mine> {
        let communities = actor.community_ids();
        (communities.as_ref().is_none_or(|c| !c.is_empty())).then_some(Mine { user_id: actor.user_id, communities })
    }

    /// ` WHERE` the line is theirs, naming their communities so that Citus reads only those.
    fn filter(&self, b: &mut Builder) {
        b.push(" WHERE user_id = ").arg(self.user_id);
        if let Some(ids) = &self.communities {
            b.push(" AND community_id IN ").list(ids.iter().copied());
        }
    }

    async fn read(&self, db: &Db) -> AppResult<Conn> {
        Ok(match &self.communities {
            Some(ids) => db.read_over(ids).await?,
            None => db.span(Span::User).await?,
        })
    }

    async fn write(&self, db: &Db) -> AppResult<Tx> {
        Ok(match &self.communities {
            Some(ids) if ids.len() == 1 => db.begin().await?,
            _ => db.begin_span(Span::User).await?,
        })
    }
}
