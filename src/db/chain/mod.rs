//! Tables that show tampering: each row carries a hash over its content and over the
//! hash of the row before it, chained per community (`seq` gives the order). Changing,
//! removing or slipping in a row breaks the chain at that row, and `verify` names it; a
//! head published earlier (`head`) lets anyone check later that nothing before it changed.
//!
//! A row is linked when its transaction commits (`Tx::chain` registers it): the chain's
//! head row is locked last of all, so that writers never wait on each other in a circle.

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Arg, Builder, Db, DynRow, Tx, query};

mod verify;
pub use verify::{verify, verify_in_parts};

/// How a column's value enters the hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Int,
    Text,
    Json,
}

/// A chained table: its name, the chain's name, and the columns its hash covers (in
/// order; `community_id` and `id` always come first).
pub struct Chained {
    pub table: &'static str,
    pub chain: &'static str,
    pub columns: &'static [(&'static str, Col)],
}

/// A row written in this transaction, to be linked at commit.
pub(super) struct Pending {
    pub spec: &'static Chained,
    pub community_id: i64,
    pub id: i64,
    pub content: Vec<u8>,
    /// Its columns when it is still to be written (`Tx::insert_chained`).
    pub row: Option<Vec<Arg>>,
}

/// A JSON value with its keys in order, so that the same value always hashes alike
/// whichever way a database gave it back.
fn canonical_json(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, &Value> = map.iter().collect();
            out.push('{');
            for (i, (k, v)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical_json(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The start of a row's content: its community and id.
pub(super) fn push_key(out: &mut Vec<u8>, community_id: i64, id: i64) {
    out.extend_from_slice(&community_id.to_be_bytes());
    out.extend_from_slice(&id.to_be_bytes());
}

/// A number in a row's content.
pub(super) fn push_int(out: &mut Vec<u8>, n: i64) {
    out.push(1);
    out.extend_from_slice(&n.to_be_bytes());
}

/// A text in a row's content, with its length, so that no two different rows give the
/// same bytes.
pub(super) fn push_text(out: &mut Vec<u8>, text: &[u8]) {
    out.push(2);
    out.extend_from_slice(&(text.len() as u64).to_be_bytes());
    out.extend_from_slice(text);
}

/// A missing value in a row's content.
pub(super) fn push_null(out: &mut Vec<u8>) {
    out.push(0);
}

/// A JSON value in a row's content, in its canonical form.
pub(super) fn push_json(out: &mut Vec<u8>, v: &Value) {
    let mut s = String::new();
    canonical_json(v, &mut s);
    push_text(out, s.as_bytes());
}

/// The bytes a row's hash covers: each value tagged with its kind and, for text, its
/// length, so that no two different rows give the same bytes.
pub fn content(community_id: i64, id: i64, values: &[Arg]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + values.len() * 16);
    push_key(&mut out, community_id, id);
    for v in values {
        match v {
            Arg::I64(Some(n)) => push_int(&mut out, *n),
            Arg::Bool(Some(b)) => push_int(&mut out, i64::from(*b)),
            Arg::Text(Some(s)) => push_text(&mut out, s.as_bytes()),
            Arg::Json(Some(j)) => push_json(&mut out, j),
            Arg::F64(Some(x)) => push_text(&mut out, x.to_string().as_bytes()),
            Arg::Date(Some(d)) => push_text(&mut out, d.to_string().as_bytes()),
            Arg::Bytes(Some(b)) => push_text(&mut out, hex::encode(b).as_bytes()),
            _ => push_null(&mut out),
        }
    }
    out
}

/// The hash of a row, after the row before it (`prev`, none for the first).
pub fn link(prev: Option<&[u8]>, content: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(prev.unwrap_or(&[]));
    h.update(content);
    h.finalize().to_vec()
}

/// Links the rows this transaction wrote, chain by chain (in a fixed order), under the
/// lock of each chain's head.
pub(super) async fn link_pending(tx: &mut Tx, pending: Vec<Pending>) -> Result<(), sqlx::Error> {
    let mut groups: BTreeMap<(&'static str, i64), Vec<Pending>> = BTreeMap::new();
    for p in pending {
        groups.entry((p.spec.chain, p.community_id)).or_default().push(p);
    }
    for ((_, community_id), rows) in groups {
        let spec = rows[0].spec;
        let contents: Vec<&[u8]> = rows.iter().map(|r| r.content.as_slice()).collect();
        let links = link_now(tx, spec, community_id, &contents).await?;
        let table = spec.table;
        let mut written = Vec::new();
        let mut linked: Vec<(i64, Link)> = Vec::new();
        for (r, l) in rows.into_iter().zip(links) {
            match r.row {
                Some(values) => {
                    written.push([vec![Arg::from(community_id), r.id.into()], values, l.columns().to_vec()].concat())
                }
                None => linked.push((r.id, l)),
            }
        }
        if !written.is_empty() {
            let columns: Vec<&str> = ["community_id", "id"]
                .into_iter()
                .chain(spec.columns.iter().map(|(c, _)| *c))
                .chain(["seq", "prev_hash", "hash"])
                .collect();
            super::insert_many(tx, table, &columns, written).await?;
        }
        for chunk in linked.chunks(400) {
            let mut b = Builder::new(format!(
                "UPDATE {table} SET seq = d.column2, prev_hash = d.column3, hash = d.column4 FROM (VALUES "
            ));
            for (i, (id, l)) in chunk.iter().enumerate() {
                if i > 0 {
                    b.push(", ");
                }
                b.list([
                    Arg::from(*id),
                    Arg::from(l.seq),
                    Arg::Bytes(l.prev.clone()),
                    Arg::Bytes(Some(l.hash.clone())),
                ]);
            }
            b.push(&format!(") AS d WHERE {table}.community_id = ")).arg(community_id);
            b.push(&format!(" AND {table}.id = d.column1"));
            b.build().execute(tx).await?;
        }
    }
    Ok(())
}

/// A row's place in its chain: its number, its predecessor's hash and its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub seq: i64,
    pub prev: Option<Vec<u8>>,
    pub hash: Vec<u8>,
}

impl Link {
    /// The row's `seq, prev_hash, hash` columns.
    pub fn columns(self) -> [Arg; 3] {
        [Arg::from(self.seq), Arg::Bytes(self.prev), Arg::Bytes(Some(self.hash))]
    }
}

/// Puts rows (their contents, in order) at the end of a community's chain and moves its
/// head past them, under the head's lock: for a writer that has taken every other lock it
/// needs first (the head is always locked last) and writes the rows already linked, once.
pub async fn link_now(
    tx: &mut Tx,
    spec: &'static Chained,
    community_id: i64,
    contents: &[&[u8]],
) -> Result<Vec<Link>, sqlx::Error> {
    let lock = tx.kind().lock_rows();
    query("INSERT INTO chains (community_id, chain, seq, head) VALUES ($1, $2, 0, NULL) ON CONFLICT (community_id, chain) DO NOTHING")
        .bind(community_id)
        .bind(spec.chain)
        .execute(&mut *tx)
        .await?;
    let (mut seq, mut head): (i64, Option<Vec<u8>>) =
        query(format!("SELECT seq, head FROM chains WHERE community_id = $1 AND chain = $2{lock}"))
            .bind(community_id)
            .bind(spec.chain)
            .fetch_one(&mut *tx)
            .await?;
    let mut links = Vec::with_capacity(contents.len());
    for content in contents {
        seq += 1;
        let hash = link(head.as_deref(), content);
        links.push(Link { seq, prev: head.take(), hash: hash.clone() });
        head = Some(hash);
    }
    query("UPDATE chains SET seq = $1, head = $2 WHERE community_id = $3 AND chain = $4")
        .bind(seq)
        .bind(head)
        .bind(community_id)
        .bind(spec.chain)
        .execute(&mut *tx)
        .await?;
    Ok(links)
}

/// Links the rows written before their table was chained, once (the migration that
/// chained them leaves a mark; a row that turns up unlinked later is reported, never
/// linked).
pub async fn link_unlinked(db: &Db, specs: &[&'static Chained]) -> Result<usize, sqlx::Error> {
    const MARK: &str = "SELECT COUNT(*) FROM chains WHERE community_id = 0 AND chain = 'unlinked'";
    if query(MARK).scalar::<i64>(&mut db.read().await?).await? == 0 {
        return Ok(0);
    }
    let mut tx = db.begin_span(super::citus::Span::Maintenance).await?;
    let mut linked = 0;
    for spec in specs {
        let columns: Vec<&str> = spec.columns.iter().map(|(c, _)| *c).collect();
        let rows = query(format!(
            "SELECT community_id, id, {} FROM {} WHERE seq IS NULL ORDER BY community_id, id",
            columns.join(", "),
            spec.table
        ))
        .rows(&mut tx)
        .await?;
        let mut pending = Vec::with_capacity(rows.len());
        for row in rows {
            let (community_id, id): (i64, i64) = (row.get("community_id")?, row.get("id")?);
            let values = spec.columns.iter().map(|(c, k)| value(&row, c, *k)).collect::<Result<Vec<Arg>, _>>()?;
            pending.push(Pending { spec, community_id, id, content: content(community_id, id, &values), row: None });
        }
        linked += pending.len();
        link_pending(&mut tx, pending).await?;
    }
    query("DELETE FROM chains WHERE community_id = 0 AND chain = 'unlinked'").execute(&mut tx).await?;
    tx.commit().await?;
    Ok(linked)
}

/// A chain's length and head, as anyone may publish it.
pub async fn head(db: &Db, community_id: i64, chain: &str) -> Result<(i64, Option<Vec<u8>>), sqlx::Error> {
    let mut conn = db.read().await?;
    Ok(query("SELECT seq, head FROM chains WHERE community_id = $1 AND chain = $2")
        .bind(community_id)
        .bind(chain)
        .fetch_optional(&mut conn)
        .await?
        .unwrap_or((0, None)))
}

/// The hash of the row at a place in a chain (to compare with a head kept earlier).
pub async fn hash_at(db: &Db, spec: &Chained, community_id: i64, seq: i64) -> Result<Option<Vec<u8>>, sqlx::Error> {
    let mut conn = db.read().await?;
    Ok(query(format!("SELECT hash FROM {} WHERE community_id = $1 AND seq = $2", spec.table))
        .bind(community_id)
        .bind(seq)
        .scalar_optional::<Option<Vec<u8>>>(&mut conn)
        .await?
        .flatten())
}

/// A column of a row read back, as it was written.
fn value(row: &DynRow, column: &str, kind: Col) -> Result<Arg, sqlx::Error> {
    Ok(match kind {
        Col::Int => Arg::I64(row.get::<Option<i64>>(column)?),
        Col::Text => Arg::Text(row.get::<Option<String>>(column)?),
        Col::Json => Arg::Json(row.get::<Option<sqlx::types::Json<Value>>>(column)?.map(|j| j.0)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_row_hashes_alike_and_any_change_shows() {
        let a = content(
            1,
            2,
            &[Arg::from(5i64), Arg::from("理由"), Arg::Json(Some(serde_json::json!({"b": 1, "a": [1, 2]})))],
        );
        let b = content(
            1,
            2,
            &[Arg::from(5i64), Arg::from("理由"), Arg::Json(Some(serde_json::json!({"a": [1, 2], "b": 1})))],
        );
        assert_eq!(a, b, "JSON keys in any order");
        let changed = content(1, 2, &[Arg::from(6i64), Arg::from("理由"), Arg::Json(None)]);
        assert_ne!(link(None, &a), link(None, &changed));
        assert_ne!(link(Some(&[1]), &a), link(None, &a), "the predecessor counts");
        // Text boundaries count: ("ab", "c") is not ("a", "bc").
        assert_ne!(
            content(1, 2, &[Arg::from("ab"), Arg::from("c")]),
            content(1, 2, &[Arg::from("a"), Arg::from("bc")])
        );
        assert_ne!(content(1, 2, &[Arg::I64(None)]), content(1, 2, &[Arg::Text(None), Arg::Text(None)]));
    }
}
