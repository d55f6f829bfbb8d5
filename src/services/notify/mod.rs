//! Notifications: a line in each concerned user's inbox, and the same news on their open
//! pages (`live`). A notification is about a subject (a ticket, a service record, a
//! need…) and goes to users, to the holders of a role, or to everyone in a grid or a
//! community; the audience is resolved in the database inside the writer's transaction,
//! and the live news goes through the database too, so several server processes all
//! hear it.

pub mod live;
pub mod pages;

use serde::Serialize;

use crate::auth::model::Role;
use crate::db::citus::Span;
use crate::db::{Arg, Db, Exec, Tx, insert_many, now_ms, query};
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
async fn resolve(ex: &mut impl Exec, community_id: i64, to: &Audience) -> AppResult<Vec<i64>> {
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
    let users = resolve(tx, note.community_id, &to).await?;
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

/// The user's inbox, newest first; reading it marks it read.
pub async fn inbox(db: &Db, user_id: i64, limit: i64) -> AppResult<Vec<InboxLine>> {
    // A user's lines may come from every community they work in.
    let mut conn = db.span(Span::User).await?;
    let lines: Vec<InboxLine> = query(
        "SELECT community_id, id, at, subject_kind, subject_id, kind, text, read_at FROM notifications
         WHERE user_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(&mut conn)
    .await?;
    drop(conn);
    if lines.iter().any(|n| n.read_at.is_none()) {
        let mut tx = db.begin_span(Span::User).await?;
        query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
            .bind(now_ms())
            .bind(user_id)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
    }
    Ok(lines)
}

/// How many lines the user has not read.
pub async fn unread(db: &Db, user_id: i64) -> AppResult<i64> {
    let mut conn = db.span(Span::User).await?;
    Ok(query("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL")
        .bind(user_id)
        .scalar(&mut conn)
        .await?)
}
