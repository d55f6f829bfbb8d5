//! The check of a chained table (`linli ledger verify`): each row's hash is its content
//! after its predecessor's hash, places follow one another with none missing, and the
//! chain ends at its head. Each problem names its row.
//!
//! A long chain is checked in parts side by side, each part starting from the stored hash
//! of the row before it. On SQLite the parts read the file through rusqlite, which lends
//! each value in place; sqlx copies every value of every row, and that alone made ten
//! million rows take a minute.

use std::path::PathBuf;
use std::time::Duration;

use rusqlite::types::ValueRef;
use serde_json::Value;

use super::{Chained, Col, content, hash_at, link, push_int, push_json, push_key, push_null, push_text, value};
use crate::db::citus::Span;
use crate::db::{Builder, Db};

/// Places per part: a chain shorter than two parts is read in one.
pub const PART: i64 = 250_000;
/// Rows per page where rows are read in pages (PostgreSQL).
const PAGE: i64 = 20_000;

/// A stretch of a chain: places `lo` to `hi`, or to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Part {
    lo: i64,
    hi: Option<i64>,
}

/// A chain of `last` places cut into at most `most` parts of at least `size` places; the
/// last part runs to the end, so that rows past the head are seen too.
fn parts(last: i64, most: usize, size: i64) -> Vec<Part> {
    let n = (last / size.max(1)).clamp(1, most.max(1) as i64);
    (0..n).map(|i| Part { lo: 1 + i * last / n, hi: (i + 1 < n).then(|| (i + 1) * last / n) }).collect()
}

/// What a walk along one part found.
struct Walked {
    checked: usize,
    problems: Vec<String>,
    /// The last place it saw, and that row's stored hash.
    end: i64,
    head: Option<Vec<u8>>,
}

/// A walk along a part of a community's chain, row by row in order of place.
struct Walk<'s> {
    spec: &'s Chained,
    community_id: i64,
    part: Part,
    expect: i64,
    prev: Option<Vec<u8>>,
    checked: usize,
    problems: Vec<String>,
}

impl<'s> Walk<'s> {
    fn new(spec: &'s Chained, community_id: i64, part: Part, prev: Option<Vec<u8>>) -> Walk<'s> {
        Walk { spec, community_id, part, expect: part.lo, prev, checked: 0, problems: Vec::new() }
    }

    fn row(&mut self, id: i64, seq: i64, stored_prev: Option<&[u8]>, stored: Option<&[u8]>, content: &[u8]) {
        let mut wrong = Vec::new();
        if seq != self.expect {
            wrong.push(format!("rows {} to {} are missing", self.expect, seq - 1));
        }
        if stored_prev != self.prev.as_deref() {
            wrong.push("does not follow the row before it".to_string());
        }
        if stored != Some(link(self.prev.as_deref(), content).as_slice()) {
            wrong.push("its content was changed after it was written".to_string());
        }
        for what in wrong {
            self.problems.push(format!(
                "{} row {id} (community {}, place {seq} in the chain): {what}",
                self.spec.table, self.community_id
            ));
        }
        self.checked += 1;
        self.prev = stored.map(<[u8]>::to_vec);
        self.expect = seq + 1;
    }

    fn finish(mut self) -> Walked {
        if let Some(hi) = self.part.hi.filter(|hi| self.expect <= *hi) {
            self.problems.push(format!(
                "{} (community {}): rows {} to {hi} of the chain are missing",
                self.spec.table, self.community_id, self.expect
            ));
        }
        Walked { checked: self.checked, problems: self.problems, end: self.expect - 1, head: self.prev }
    }
}

/// What is wrong with a chained table, each problem naming its row; and how many rows
/// were checked.
pub async fn verify(
    db: &Db,
    spec: &'static Chained,
    community_id: Option<i64>,
) -> anyhow::Result<(usize, Vec<String>)> {
    verify_in_parts(db, spec, community_id, PART).await
}

/// `verify`, with a chain cut into parts of `size` places (the tests cut short chains).
pub async fn verify_in_parts(
    db: &Db,
    spec: &'static Chained,
    community_id: Option<i64>,
    size: i64,
) -> anyhow::Result<(usize, Vec<String>)> {
    let whole = community_id.is_none();
    let mut conn = if whole { db.span(Span::Maintenance).await? } else { db.read().await? };
    let mut problems = Vec::new();
    let mut b = Builder::new(format!("SELECT community_id, id FROM {} WHERE seq IS NULL", spec.table));
    if let Some(c) = community_id {
        b.push(" AND community_id = ").arg(c);
    }
    let loose: Vec<(i64, i64)> = b.build().fetch_all(&mut conn).await?;
    for (c, id) in loose {
        problems.push(format!(
            "{} row {id} (community {c}): not in the chain (written around the application)",
            spec.table
        ));
    }
    let mut b = Builder::new("SELECT community_id, seq, head FROM chains WHERE chain = ");
    b.arg(spec.chain);
    if let Some(c) = community_id {
        b.push(" AND community_id = ").arg(c);
    }
    let heads: Vec<(i64, i64, Option<Vec<u8>>)> = b.build().fetch_all(&mut conn).await?;
    drop(conn);
    let most = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
    let mut checked = 0;
    for (community_id, last, stored_head) in heads {
        let mut walks = Vec::new();
        for part in parts(last, most, size) {
            let prev = if part.lo > 1 { hash_at(db, spec, community_id, part.lo - 1).await? } else { None };
            walks.push(walk(db, whole, Walk::new(spec, community_id, part, prev)));
        }
        let walked = futures::future::try_join_all(walks).await?;
        let (end, head) = walked.last().map(|w| (w.end, w.head.clone())).unwrap_or_default();
        for w in walked {
            checked += w.checked;
            problems.extend(w.problems);
        }
        if end != last || head != stored_head {
            problems.push(format!(
                "{} (community {community_id}): the chain ends at place {end} but its head says {last}: rows were removed from its end",
                spec.table
            ));
        }
    }
    Ok((checked, problems))
}

async fn walk(db: &Db, whole: bool, walk: Walk<'static>) -> anyhow::Result<Walked> {
    match db.sqlite_file() {
        Some(path) => Ok(tokio::task::spawn_blocking(move || walk_file(path, walk)).await??),
        None => walk_pages(db, whole, walk).await,
    }
}

/// Walks a part of a chain in a SQLite file, each value read where it lies.
fn walk_file(path: PathBuf, mut walk: Walk<'_>) -> rusqlite::Result<Walked> {
    let (spec, community_id, part) = (walk.spec, walk.community_id, walk.part);
    use rusqlite::OpenFlags;
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    let columns: Vec<&str> = spec.columns.iter().map(|(c, _)| *c).collect();
    let mut statement = conn.prepare(&format!(
        "SELECT id, seq, prev_hash, hash, {} FROM {} WHERE community_id = ?1 AND seq >= ?2 AND seq <= ?3 ORDER BY seq",
        columns.join(", "),
        spec.table
    ))?;
    let mut rows = statement.query((community_id, part.lo, part.hi.unwrap_or(i64::MAX)))?;
    let mut buf = Vec::with_capacity(512);
    while let Some(row) = rows.next()? {
        let (id, seq): (i64, i64) = (row.get(0)?, row.get(1)?);
        buf.clear();
        push_key(&mut buf, community_id, id);
        for (i, (_, kind)) in spec.columns.iter().enumerate() {
            push_cell(&mut buf, *kind, row.get_ref(4 + i)?);
        }
        walk.row(id, seq, bytes(row.get_ref(2)?), bytes(row.get_ref(3)?), &buf);
    }
    Ok(walk.finish())
}

fn bytes(v: ValueRef<'_>) -> Option<&[u8]> {
    match v {
        ValueRef::Blob(b) | ValueRef::Text(b) => Some(b),
        _ => None,
    }
}

/// A value as `content` hashes it: as it was written when its type is the column's, and
/// as text otherwise (so that a changed type shows as a changed row).
fn push_cell(out: &mut Vec<u8>, kind: Col, v: ValueRef<'_>) {
    match (kind, v) {
        (_, ValueRef::Null) => push_null(out),
        (Col::Int, ValueRef::Integer(n)) => push_int(out, n),
        (Col::Json, ValueRef::Text(t)) => match serde_json::from_slice::<Value>(t) {
            Ok(json) => push_json(out, &json),
            Err(_) => push_text(out, t),
        },
        (_, ValueRef::Text(t) | ValueRef::Blob(t)) => push_text(out, t),
        (_, ValueRef::Integer(n)) => push_text(out, n.to_string().as_bytes()),
        (_, ValueRef::Real(x)) => push_text(out, x.to_string().as_bytes()),
    }
}

/// Walks a part of a chain page by page through the pool (PostgreSQL).
async fn walk_pages(db: &Db, whole: bool, mut walk: Walk<'_>) -> anyhow::Result<Walked> {
    let (spec, community_id, part) = (walk.spec, walk.community_id, walk.part);
    let mut conn = if whole { db.span(Span::Maintenance).await? } else { db.read().await? };
    let columns: Vec<&str> = spec.columns.iter().map(|(c, _)| *c).collect();
    loop {
        let mut b =
            Builder::new(format!("SELECT id, seq, prev_hash, hash, {} FROM {}", columns.join(", "), spec.table));
        b.push(" WHERE community_id = ").arg(community_id).push(" AND seq >= ").arg(walk.expect);
        if let Some(hi) = part.hi {
            b.push(" AND seq <= ").arg(hi);
        }
        b.push(&format!(" ORDER BY seq LIMIT {PAGE}"));
        let rows = b.build().rows(&mut conn).await?;
        let done = (rows.len() as i64) < PAGE;
        for row in rows {
            let (id, seq): (i64, i64) = (row.get("id")?, row.get("seq")?);
            let stored_prev: Option<Vec<u8>> = row.get("prev_hash")?;
            let stored: Option<Vec<u8>> = row.get("hash")?;
            let values = spec.columns.iter().map(|(c, k)| value(&row, c, *k)).collect::<Result<Vec<_>, _>>()?;
            walk.row(id, seq, stored_prev.as_deref(), stored.as_deref(), &content(community_id, id, &values));
        }
        if done {
            break;
        }
    }
    Ok(walk.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_chain_is_cut_into_parts_that_meet_and_the_last_runs_to_the_end() {
        assert_eq!(parts(0, 4, PART), vec![Part { lo: 1, hi: None }]);
        assert_eq!(parts(PART, 4, PART), vec![Part { lo: 1, hi: None }]);
        let cut = parts(10_000_000, 4, PART);
        assert_eq!(cut.len(), 4);
        assert_eq!(cut[0].lo, 1);
        for pair in cut.windows(2) {
            assert_eq!(pair[0].hi.map(|hi| hi + 1), Some(pair[1].lo), "no place between two parts");
        }
        assert_eq!(cut[3].hi, None);
    }

    #[test]
    fn a_walk_names_the_row_that_was_changed_and_the_places_missing() {
        let spec = Chained { table: "t", chain: "c", columns: &[] };
        let rows: Vec<(i64, Vec<u8>)> = (1i64..=4).map(|id| (id, id.to_be_bytes().to_vec())).collect();
        let mut hashes: Vec<Vec<u8>> = Vec::new();
        for (_, c) in &rows {
            hashes.push(link(hashes.last().map(Vec::as_slice), c));
        }
        let part = Part { lo: 1, hi: Some(5) };
        let mut walk = Walk::new(&spec, 7, part, None);
        // Row 2 is gone; row 3's content was changed.
        walk.row(1, 1, None, Some(&hashes[0]), &rows[0].1);
        walk.row(3, 3, Some(&hashes[1]), Some(&hashes[2]), b"changed");
        walk.row(4, 4, Some(&hashes[2]), Some(&hashes[3]), &rows[3].1);
        let walked = walk.finish();
        assert_eq!(walked.checked, 3);
        assert_eq!(walked.end, 4);
        let all = walked.problems.join("\n");
        assert!(all.contains("t row 3 (community 7, place 3 in the chain): rows 2 to 2 are missing"), "{all}");
        assert!(all.contains("t row 3 (community 7, place 3 in the chain): does not follow"), "{all}");
        assert!(all.contains("t row 3 (community 7, place 3 in the chain): its content was changed"), "{all}");
        assert!(all.contains("t (community 7): rows 5 to 5 of the chain are missing"), "{all}");
        assert!(!all.contains("row 4"), "the rows after a changed one still follow it: {all}");
    }
}
