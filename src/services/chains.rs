//! The heads of a community's chains (the ledger's and the audit log's), for anyone to
//! keep: someone who kept a head earlier asks for the hash at its place, and if it is the
//! same, nothing before it was changed since (`linli ledger verify` checks the rest).

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::guard;
use crate::db::chain::{self, Chained};
use crate::error::{AppError, AppResult};
use crate::services::{audit, ledger};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/communities/{code}/chains", get(heads))
}

const CHAINS: [&Chained; 2] = [&ledger::CHAIN, &audit::CHAIN];

/// Places in the chains to give the hash at (as kept from an earlier head).
#[derive(Deserialize)]
struct At {
    ledger: Option<i64>,
    audit: Option<i64>,
}

/// `GET /api/v1/communities/{code}/chains[?ledger=N][&audit=M]`: each chain's length and
/// head, and the hash at a place when asked. Public: hashes tell nothing of what they cover.
async fn heads(State(s): State<AppState>, Path(code): Path<String>, Query(at): Query<At>) -> AppResult<Json<Value>> {
    let c = guard::public_community(&s.db, &code).await?;
    let mut out = serde_json::Map::new();
    for spec in CHAINS {
        let (length, head) = chain::head(&s.db, c.id, spec.chain).await?;
        let mut entry = json!({"length": length, "head": head.map(hex::encode)});
        let asked = if spec.chain == "ledger" { at.ledger } else { at.audit };
        if let Some(seq) = asked {
            if !(1..=length).contains(&seq) {
                return Err(AppError::Invalid(vec![crate::input::range_error(spec.chain, 1..=length.max(1))]));
            }
            entry["at"] = json!({"seq": seq, "hash": chain::hash_at(&s.db, spec, c.id, seq).await?.map(hex::encode)});
        }
        out.insert(spec.chain.to_string(), entry);
    }
    Ok(Json(Value::Object(out)))
}
