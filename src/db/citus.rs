//! linli on Citus: PostgreSQL sharded by community.
//!
//! The same schema and the same SQL serve SQLite, PostgreSQL and Citus. What Citus needs
//! is decided here, table by table, and applied after the migrations (`distribute`, safe
//! to run again, so a new migration's tables are placed at the next start):
//! - reference tables, small and global, copied to every node: [`REFERENCE`];
//! - tables that stay on the coordinator: [`COORDINATOR`];
//! - every other table carries `community_id` and is distributed by it, all colocated,
//!   so a community's rows, joins and foreign keys stay on one node.
//!
//! A table that fits none of these stops the start with its name: a new global table
//! must be listed on purpose. Queries that serve one community name it (`community_id =
//! $1`) and Citus routes them to one shard; the few views meant to span communities say
//! so with a [`Span`], the one list of them.

use anyhow::{Context, bail};

use super::{Tx, TxInner, query};

/// Small global tables, copied to every node, so any shard joins them locally.
pub const REFERENCE: &[&str] = &[
    "subdistricts",
    "communities",
    "users",
    "grants",
    "api_keys",
    "ticket_duration_buckets",
    "holidays",
    "incident_groups",
    "subdistrict_brands",
    "subdistrict_brand_members",
];

/// Tables only the coordinator needs: sign-in state and the migrations' own record.
pub const COORDINATOR: &[&str] = &["sessions", "login_failures", "schema_migrations"];

/// Append-only guards that are triggers on SQLite and PostgreSQL. Citus refuses triggers
/// on distributed tables, so there they give way to privileges (no UPDATE but of the
/// chain's own columns, no DELETE, no TRUNCATE) and to the hash chain, which `linli
/// ledger verify` checks.
const APPEND_ONLY: &[(&str, &str, &str)] = &[
    ("audit_log", "audit_log_append_only", "seq, hash, prev_hash"),
    ("pii_access_log", "pii_access_log_append_only", ""),
    ("ledger_movements", "ledger_movements_append_only", "seq, hash, prev_hash"),
];

/// The views that read across communities on purpose; everything else is answered by
/// the shard of one community, and a test cluster refuses any other multi-shard query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// A subdistrict's lists and figures over its communities.
    Subdistrict,
    /// The platform administrator's pages over every community, and lookups by a key
    /// that names no community (an Open311 client's token).
    Platform,
    /// A user's own things in every community they belong to (their inbox, their roles).
    User,
    /// Background jobs and checks over all communities (`ledger verify`, the demo).
    Maintenance,
}

/// Whether the database is a Citus coordinator.
pub async fn detect(pool: &sqlx::PgPool) -> anyhow::Result<bool> {
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_extension WHERE extname = 'citus'").fetch_one(pool).await?;
    Ok(n > 0)
}

/// How linli's sessions on a Citus coordinator are set up: every statement is planned
/// with its parameters' values (`plan_cache_mode`), because Citus can route a reused
/// generic plan of some statements (an UPDATE joined to a VALUES list, say) only by
/// asking every shard.
pub fn session_options(opts: sqlx::postgres::PgConnectOptions) -> sqlx::postgres::PgConnectOptions {
    opts.options([("plan_cache_mode", "force_custom_plan")])
}

/// Lets the rest of this transaction touch several shards (on Citus; a no-op elsewhere).
pub async fn allow_span(tx: &mut TxInner) -> Result<(), sqlx::Error> {
    if let TxInner::Pg(t) = tx {
        sqlx::query("SET LOCAL citus.multi_task_query_log_level = 'off'").execute(&mut **t).await?;
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Placement {
    Reference,
    Coordinator,
    Distributed,
}

/// Where a table goes: listed, or by its `community_id`.
fn placement(table: &str, has_community: bool) -> Option<Placement> {
    if REFERENCE.contains(&table) {
        Some(Placement::Reference)
    } else if COORDINATOR.contains(&table) {
        Some(Placement::Coordinator)
    } else if has_community {
        Some(Placement::Distributed)
    } else {
        None
    }
}

/// Tables in an order where each comes after those it references (within `tables`).
fn referenced_first(tables: &[String], refs: &[(String, String)]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut left: Vec<String> = tables.to_vec();
    while !left.is_empty() {
        let ready: Vec<String> = left
            .iter()
            .filter(|t| refs.iter().all(|(from, to)| from != *t || to == *t || !left.contains(to)))
            .cloned()
            .collect();
        // A cycle cannot be ordered; take the rest as they come (Citus will say what fails).
        let take = if ready.is_empty() { left.clone() } else { ready };
        left.retain(|t| !take.contains(t));
        out.extend(take);
    }
    out
}

/// Places every table as decided above; tables already placed are left as they are.
pub async fn distribute(tx: &mut Tx) -> anyhow::Result<()> {
    allow_span(tx.inner()).await?;
    let tables: Vec<(String, bool)> = query(
        "SELECT c.relname, EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'community_id' AND NOT a.attisdropped)
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname",
    )
    .fetch_all(&mut *tx)
    .await?;
    // Citus turns a plain table that a reference table's foreign key touches into a
    // "local" one (partmethod 'n', replicated to no node); those are still to be placed.
    let placed: Vec<(String, String)> = query(
        "SELECT logicalrelid::regclass::text, partmethod::text FROM pg_dist_partition WHERE partmethod <> 'n' OR repmodel = 't'",
    )
    .fetch_all(&mut *tx)
    .await?;
    let refs: Vec<(String, String)> = query(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint
         WHERE contype = 'f' AND connamespace = current_schema()::regnamespace",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut reference = Vec::new();
    let mut distributed = Vec::new();
    for (t, has_community) in &tables {
        match placement(t, *has_community) {
            Some(Placement::Reference) => reference.push(t.clone()),
            Some(Placement::Distributed) => distributed.push(t.clone()),
            Some(Placement::Coordinator) => {}
            None => bail!("table {t} has no community_id and is not listed in db::citus (REFERENCE or COORDINATOR)"),
        }
    }
    let is_placed = |t: &str| placed.iter().any(|(p, _)| p == t);
    for t in referenced_first(&reference, &refs) {
        if !is_placed(&t) {
            tracing::info!(table = %t, "citus: reference table");
            query(format!("SELECT create_reference_table('{t}')"))
                .execute(&mut *tx)
                .await
                .with_context(|| format!("create_reference_table({t})"))?;
        }
    }
    // A table cannot be distributed while a plain table's foreign key points to it, and
    // these tables point to each other: their keys among themselves are set aside and
    // made again once all are distributed (Citus then keeps them shard by shard).
    let todo: Vec<String> = referenced_first(&distributed, &refs).into_iter().filter(|t| !is_placed(t)).collect();
    let keys: Vec<(String, String, String)> = query(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
         WHERE contype = 'f' AND connamespace = current_schema()::regnamespace ORDER BY conrelid::regclass::text, conname",
    )
    .fetch_all(&mut *tx)
    .await?;
    let set_aside: Vec<&(String, String, String)> = keys.iter().filter(|(t, _, _)| todo.contains(t)).collect();
    for (table, name, _) in &set_aside {
        query(format!("ALTER TABLE {table} DROP CONSTRAINT {name}")).execute(&mut *tx).await?;
    }
    let mut anchor = placed.iter().find(|(_, m)| m == "h").map(|(t, _)| t.clone());
    for t in todo {
        guard_append_only(tx, &t).await?;
        let colocate = anchor.clone().unwrap_or_else(|| "default".into());
        tracing::info!(table = %t, "citus: distributed by community_id");
        query(format!("SELECT create_distributed_table('{t}', 'community_id', colocate_with => '{colocate}')"))
            .execute(&mut *tx)
            .await
            .with_context(|| format!("create_distributed_table({t})"))?;
        anchor.get_or_insert(t);
    }
    for (table, name, def) in set_aside {
        query(format!("ALTER TABLE {table} ADD CONSTRAINT {name} {def}"))
            .execute(&mut *tx)
            .await
            .with_context(|| format!("foreign key {name} on {table}"))?;
    }
    Ok(())
}

/// Replaces a table's append-only trigger by privileges before it is distributed.
async fn guard_append_only(tx: &mut Tx, table: &str) -> anyhow::Result<()> {
    let triggers: Vec<String> =
        query("SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass($1) AND NOT tgisinternal ORDER BY tgname")
            .bind(table)
            .scalars(&mut *tx)
            .await?;
    let guard = APPEND_ONLY.iter().find(|(t, _, _)| *t == table);
    for name in &triggers {
        match guard {
            Some((_, trigger, _)) if name == trigger => {
                query(format!("DROP TRIGGER {name} ON {table}")).execute(&mut *tx).await?;
            }
            _ => bail!("table {table} has trigger {name}: Citus refuses triggers on distributed tables"),
        }
    }
    if let Some((_, _, columns)) = guard {
        // Even the owner gives these up; only a superuser (who bypasses privileges) could
        // still change a row, and the chain would show it.
        query(format!("REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM PUBLIC, CURRENT_USER"))
            .execute(&mut *tx)
            .await?;
        if !columns.is_empty() {
            query(format!("GRANT UPDATE ({columns}) ON {table} TO CURRENT_USER")).execute(&mut *tx).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_has_a_place_and_global_ones_are_listed() {
        assert_eq!(placement("communities", false), Some(Placement::Reference));
        assert_eq!(placement("users", true), Some(Placement::Reference));
        assert_eq!(placement("sessions", false), Some(Placement::Coordinator));
        assert_eq!(placement("tickets", true), Some(Placement::Distributed));
        assert_eq!(placement("new_global_thing", false), None);
    }

    #[test]
    fn tables_come_after_those_they_reference() {
        let tables: Vec<String> = ["tickets", "grids", "households", "zones"].map(String::from).to_vec();
        let refs = [("tickets", "households"), ("households", "grids"), ("grids", "zones"), ("tickets", "tickets")]
            .map(|(a, b)| (a.to_string(), b.to_string()));
        let order = referenced_first(&tables, &refs);
        let at = |t: &str| order.iter().position(|x| x == t).unwrap();
        assert!(at("zones") < at("grids") && at("grids") < at("households") && at("households") < at("tickets"));
    }
}
