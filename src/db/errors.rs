//! What a database error means for the user: a value already taken, or a database (or,
//! on Citus, the node of one community) that does not answer.

/// The input field behind a unique-key violation, if that is what `e` is.
///
/// Unique indexes are named `uq_<table>__<column>`; PostgreSQL reports that name,
/// SQLite reports `UNIQUE constraint failed: table.col, table.col` and the last column
/// is the one that matters. A `_hash` suffix (keyed hashes of personal data) is dropped.
pub fn unique_violation_field(e: &sqlx::Error) -> Option<String> {
    let db = e.as_database_error()?;
    if !db.is_unique_violation() {
        return None;
    }
    // Citus relays a worker's error with the constraint only in its message.
    let quoted = db.message().split('"').nth(1).filter(|n| n.contains("__"));
    let column = match db.constraint().or(quoted) {
        Some(name) => without_shard_suffix(name.rsplit("__").next()?).to_string(),
        None => {
            let msg = db.message();
            let cols = msg.split(':').nth(1)?;
            cols.split(',').next_back()?.trim().rsplit('.').next()?.to_string()
        }
    };
    Some(column.trim_end_matches("_hash").to_string())
}

/// Citus names a constraint on a shard after the table's with the shard's id appended
/// (`uq_users__username_102054`); a column name never ends in `_` and four digits or more.
fn without_shard_suffix(name: &str) -> &str {
    match name.rsplit_once('_') {
        Some((head, id)) if id.len() >= 4 && id.bytes().all(|b| b.is_ascii_digit()) => head,
        _ => name,
    }
}

/// Whether an error means the database could not be reached or gave up on the request
/// (a connection refused or lost, a pool with no free connection, a server shutting down,
/// a Citus worker that cannot be reached): answered 503, and the request may be retried.
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // 08: connection exceptions (Citus reports an unreachable worker as 08006);
            // 57P01..57P03: the server is shutting down or not accepting connections yet.
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_s_constraint_names_the_same_column() {
        assert_eq!(without_shard_suffix("username_102054"), "username");
        assert_eq!(without_shard_suffix("username"), "username");
        assert_eq!(without_shard_suffix("line_2"), "line_2");
    }

    #[test]
    fn a_lost_connection_is_unavailable_and_a_bad_query_is_not() {
        assert!(is_unavailable(&sqlx::Error::PoolTimedOut));
        assert!(is_unavailable(&sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))));
        assert!(!is_unavailable(&sqlx::Error::RowNotFound));
    }
}
