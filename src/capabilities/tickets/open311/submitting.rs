//! Submitting service requests with an API key, written through a group commit:
//! requests arriving while one commit is on its way to disk go together in the next.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use futures::future::BoxFuture;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Format, app_error, attributes_of, error, jurisdiction, reply};
use crate::capabilities::tickets::store::{self, Category, NewTicket, Prepared};
use crate::db::group::{Batch, Committer};
use crate::db::{Tx, now_ms, query};
use crate::error::{AppError, AppResult};
use crate::web::AppState;

fn hash_key(key: &str) -> Vec<u8> {
    Sha256::digest(key.as_bytes()).to_vec()
}

/// Creates an API key for a community's Open311 clients; answers the key (shown once).
pub async fn create_key(state: &AppState, community_id: i64, label: &str) -> AppResult<String> {
    let mut raw = [0u8; 24];
    getrandom::fill(&mut raw).map_err(|e| AppError::Internal(anyhow::anyhow!("random: {e}")))?;
    let key = format!("lk_{}", hex::encode(raw));
    let mut tx = state.db.begin().await?;
    let id = tx.next_id().await?;
    query("INSERT INTO api_keys (id, community_id, key_hash, label, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(community_id)
        .bind(hash_key(&key))
        .bind(label)
        .bind(now_ms())
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(key)
}

async fn key_community(state: &AppState, key: &str) -> AppResult<Option<i64>> {
    super::runtime(state).api_key(&state.db, hash_key(key)).await
}

/// Submissions written together: all the tickets of a batch in a few multi-row inserts.
pub struct Submissions {
    pii: std::sync::Arc<crate::services::pii::Pii>,
    bus: std::sync::Arc<crate::services::notify::Bus>,
}

impl Batch for Submissions {
    type Item = Prepared;
    type Out = i64;

    fn write<'a>(&'a self, tx: &'a mut Tx, items: &'a [Prepared]) -> BoxFuture<'a, AppResult<Vec<AppResult<i64>>>> {
        Box::pin(async move { Ok(store::write(tx, &self.pii, &self.bus, items).await?.into_iter().map(Ok).collect()) })
    }
}

/// Submits through the group commit; answers the ticket's id once it is on disk.
pub async fn submit_grouped(state: &AppState, prepared: Prepared) -> AppResult<i64> {
    let committer = super::runtime(state)
        .submissions
        .get_or_init(|| async {
            let batch = Submissions { pii: state.pii.clone(), bus: state.bus.clone() };
            Committer::start(state.db.clone(), batch, 2000)
        })
        .await;
    committer.submit(prepared).await
}

#[derive(Serialize)]
struct Created {
    service_request_id: String,
    service_notice: Option<String>,
    account_id: Option<String>,
}

/// Checks the answers to a category's extra questions (`attribute[code]=value`).
fn check_attributes(cat: &Category, p: &BTreeMap<String, String>) -> Result<Option<Value>, String> {
    let defs = attributes_of(cat);
    let mut answers = serde_json::Map::new();
    for (k, v) in p {
        let Some(code) = k.strip_prefix("attribute[").and_then(|r| r.strip_suffix(']')) else { continue };
        let Some(def) = defs.iter().find(|d| d.get("code").and_then(Value::as_str) == Some(code)) else {
            return Err(format!("attribute[{code}]: 不是这个服务类别的问题"));
        };
        if let Some(values) = def.get("values").and_then(Value::as_array) {
            let keys: Vec<String> = values
                .iter()
                .filter_map(|x| x.get("key"))
                .map(|k| k.to_string().trim_matches('"').to_string())
                .collect();
            if !v.split(',').all(|one| keys.iter().any(|k| k == one.trim())) {
                return Err(format!("attribute[{code}]: 不是可选的值"));
            }
        }
        answers.insert(code.to_string(), Value::String(v.clone()));
    }
    for d in &defs {
        let code = d.get("code").and_then(Value::as_str).unwrap_or("");
        if d.get("required").and_then(Value::as_bool) == Some(true) && !answers.contains_key(code) {
            return Err(format!("attribute[{code}]: 必填"));
        }
    }
    Ok((!answers.is_empty()).then_some(Value::Object(answers)))
}

pub(super) async fn submit(
    state: &AppState,
    format: Format,
    p: &BTreeMap<String, String>,
    headers: &HeaderMap,
) -> Response {
    let Some(key) = p.get("api_key").filter(|k| !k.is_empty()) else {
        return error(format, StatusCode::FORBIDDEN, "api_key: 必填");
    };
    let c = match jurisdiction(state, p).await {
        Ok(c) => c,
        Err((s, m)) => return error(format, s, m),
    };
    match key_community(state, key).await {
        Ok(Some(k)) if k == c.id => {}
        Ok(_) => return error(format, StatusCode::FORBIDDEN, "api_key: 无效，或不属于这个社区"),
        Err(e) => return app_error(format, e),
    }
    let dir = match super::runtime(state).directory(&state.db, c.id).await {
        Ok(d) => d,
        Err(e) => return app_error(format, e),
    };
    let Some(code) = p.get("service_code").filter(|s| !s.is_empty()) else {
        return error(format, StatusCode::BAD_REQUEST, "service_code: 必填");
    };
    let Some(cat) = dir.categories.iter().find(|x| &x.code == code) else {
        return error(format, StatusCode::BAD_REQUEST, "service_code: 没有这个服务类别");
    };
    let number = |k: &str| -> Result<Option<f64>, String> {
        match p.get(k).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(v) => {
                v.parse::<f64>().ok().filter(|x| x.is_finite()).map(Some).ok_or_else(|| format!("{k}: 应为数字"))
            }
        }
    };
    let (lat, lng) = match (number("lat"), number("long")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return error(format, StatusCode::BAD_REQUEST, &e),
    };
    let attributes = match check_attributes(cat, p) {
        Ok(a) => a,
        Err(e) => return error(format, StatusCode::BAD_REQUEST, &e),
    };
    let name = [p.get("first_name"), p.get("last_name")]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    let description = p.get("description").cloned().unwrap_or_default();
    let idempotency_key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(String::from);
    let new = NewTicket {
        category_id: Some(cat.id),
        description: if description.trim().is_empty() { cat.name.clone() } else { description },
        channel: Some(super::Channel::Open311),
        household_id: None,
        lat,
        lng,
        address: p.get("address_string").or(p.get("address_id")).cloned(),
        submitter_name: (!name.is_empty()).then_some(name),
        caller_phone: p.get("phone").cloned(),
        attributes,
        idempotency_key: idempotency_key.clone(),
    };
    if let Some(k) = idempotency_key.as_deref()
        && let Ok(mut conn) = state.db.read().await
        && let Ok(Some(t)) = store::by_idempotency_key(&mut conn, c.id, k).await
    {
        return created(format, &t.id.to_string(), cat);
    }
    let prepared = match store::prepare(state, c.id, None, new).await {
        Ok(p) => p,
        Err(e) => return app_error(format, e),
    };
    match submit_grouped(state, prepared).await {
        Ok(id) => created(format, &id.to_string(), cat),
        // A retry that raced its first attempt: answer the first.
        Err(AppError::Invalid(f)) if f.iter().any(|f| f.field == "idempotency_key") => {
            let key = idempotency_key.unwrap_or_default();
            match state.db.read().await.map_err(AppError::from) {
                Ok(mut conn) => match store::by_idempotency_key(&mut conn, c.id, &key).await {
                    Ok(Some(t)) => created(format, &t.id.to_string(), cat),
                    Ok(None) => error(format, StatusCode::CONFLICT, "idempotency_key: 请重试"),
                    Err(e) => app_error(format, e),
                },
                Err(e) => app_error(format, e),
            }
        }
        Err(e) => app_error(format, e),
    }
}

fn created(format: Format, id: &str, cat: &Category) -> Response {
    let notice = format!("已受理，将在 {} 小时内处理", cat.deadline_hours);
    reply(
        format,
        "service_requests",
        "request",
        &[Created { service_request_id: id.to_string(), service_notice: Some(notice), account_id: None }],
    )
}
