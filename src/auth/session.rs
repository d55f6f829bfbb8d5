//! Sessions stored in the database (so they survive restarts and are shared by several
//! server processes), sign-in with throttling, and password changes.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use sha2::{Digest, Sha256};

use super::model::{Actor, Grant, Role};
use super::password;
use crate::db::{Builder, Db, Exec, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::i18n::Lang;
use crate::services::audit::{self, Action, By};
use crate::services::pii::Pii;

pub const COOKIE: &str = "linli_session";
/// A session ends after a week without use, and after 30 days in any case.
const IDLE_MS: i64 = 7 * 24 * 3600 * 1000;
const ABSOLUTE_MS: i64 = 30 * 24 * 3600 * 1000;
/// Activity is written at most this often.
const TOUCH_MS: i64 = 5 * 60 * 1000;
/// Failed sign-ins allowed in the window: for one account from one address; from one
/// address whatever the account; and for one account from everywhere. Someone guessing
/// from one address so locks out only themselves, not the account's owner.
const WINDOW_MS: i64 = 15 * 60 * 1000;
const MAX_FAILS_ACCOUNT_AT_ADDRESS: i64 = 5;
const MAX_FAILS_ADDRESS: i64 = 30;
const MAX_FAILS_ACCOUNT: i64 = 100;

#[derive(Debug, Clone)]
pub struct Session {
    pub actor: Actor,
    pub csrf: String,
    pub lang: Option<Lang>,
}

fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("system random source");
    B64.encode(buf)
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    password_hash: String,
}

/// Signs in by username or mobile number. Answers the new session's cookie token.
pub async fn sign_in(
    db: &Db,
    pii: &Pii,
    identifier: &str,
    password: &str,
    address: Option<&str>,
) -> AppResult<(String, Session)> {
    let identifier = identifier.trim();
    let mut errors = Vec::new();
    if identifier.is_empty() {
        errors.push(FieldError::new("username", "validation.required"));
    }
    if password.is_empty() {
        errors.push(FieldError::new("password", "validation.required"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    // Counted by a keyed hash of the account asked for (a mobile number in any spelling is
    // one account), so that no typed phone number is kept.
    let asked = crate::services::pii::normalize_phone(identifier).unwrap_or_else(|_| identifier.to_lowercase());
    let account_key = format!("user:{}", hex::encode(pii.blind_index("sign_in", &asked)));
    let limits = [
        (format!("{account_key}@{}", address.unwrap_or("-")), MAX_FAILS_ACCOUNT_AT_ADDRESS),
        (format!("addr:{}", address.unwrap_or("-")), MAX_FAILS_ADDRESS),
        (account_key.clone(), MAX_FAILS_ACCOUNT),
    ];
    let since = now_ms() - WINDOW_MS;
    let mut conn = db.read().await?;
    let mut b = Builder::new("SELECT subject, COUNT(*) FROM login_failures WHERE at > ");
    b.arg(since).push(" AND subject IN ").list(limits.iter().map(|(k, _)| k.clone())).push(" GROUP BY subject");
    let fails: Vec<(String, i64)> = b.build().fetch_all(&mut conn).await?;
    if limits.iter().any(|(key, max)| fails.iter().any(|(k, n)| k == key && n >= max)) {
        return Err(AppError::TooManyRequests);
    }
    let user: Option<UserRow> = match crate::services::pii::normalize_phone(identifier) {
        Ok(phone) => query(
            "SELECT id, username, display_name, password_hash FROM users WHERE phone_hash = $1 AND disabled_at IS NULL",
        )
        .bind(pii.blind_index("phone", &phone))
        .fetch_optional(&mut conn)
        .await?,
        Err(_) => None,
    };
    let user = match user {
        Some(u) => Some(u),
        None => query(
            "SELECT id, username, display_name, password_hash FROM users WHERE username = $1 AND disabled_at IS NULL",
        )
        .bind(identifier)
        .fetch_optional(&mut conn)
        .await?,
    };
    drop(conn);
    let ok = password::verify(password.to_string(), user.as_ref().map(|u| u.password_hash.clone())).await;
    let mut tx = db.begin().await?;
    let Some(user) = user.filter(|_| ok) else {
        for (key, _) in &limits {
            let id = tx.next_id().await?;
            query("INSERT INTO login_failures (id, subject, at) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(key.as_str())
                .bind(now_ms())
                .execute(&mut tx)
                .await?;
        }
        tx.commit().await?;
        return Err(AppError::Invalid(vec![FieldError::new("password", "auth.wrong_credentials")]));
    };
    query("DELETE FROM login_failures WHERE subject = $1 OR subject = $2 OR at < $3")
        .bind(account_key.as_str())
        .bind(limits[0].0.as_str())
        .bind(since)
        .execute(&mut tx)
        .await?;
    let (token, csrf) = open(&mut tx, user.id).await?;
    tx.commit().await?;
    let mut conn = db.read().await?;
    let actor = load_actor(&mut conn, user.id, user.username, user.display_name).await?;
    Ok((token, Session { actor, csrf, lang: None }))
}

/// Opens a session for a user whose credentials were checked; answers the cookie token
/// and the form token.
pub async fn open(tx: &mut crate::db::Tx, user_id: i64) -> AppResult<(String, String)> {
    let token = random_token(32);
    let csrf = random_token(18);
    let now = now_ms();
    query("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(token_hash(&token))
        .bind(user_id)
        .bind(csrf.as_str())
        .bind(now)
        .bind(now)
        .bind(now + IDLE_MS)
        .execute(tx)
        .await?;
    Ok((token, csrf))
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    user_id: i64,
    csrf_token: String,
    created_at: i64,
    last_seen_at: i64,
    username: String,
    display_name: String,
    lang: Option<String>,
}

/// The session behind a cookie token, if it is valid.
pub async fn load(db: &Db, token: &str) -> AppResult<Option<Session>> {
    let hash = token_hash(token);
    let now = now_ms();
    let mut conn = db.read().await?;
    let row: Option<SessionRow> = query(
        "SELECT s.user_id, s.csrf_token, s.created_at, s.last_seen_at, u.username, u.display_name, u.lang
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL",
    )
    .bind(hash.clone())
    .bind(now)
    .fetch_optional(&mut conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let actor = load_actor(&mut conn, row.user_id, row.username, row.display_name).await?;
    drop(conn);
    if now - row.last_seen_at > TOUCH_MS {
        let expires = (now + IDLE_MS).min(row.created_at + ABSOLUTE_MS);
        let mut tx = db.begin().await?;
        query("UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE token_hash = $3")
            .bind(now)
            .bind(expires)
            .bind(hash)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
    }
    Ok(Some(Session { actor, csrf: row.csrf_token, lang: row.lang.as_deref().and_then(Lang::parse) }))
}

/// The user's grants, with each subdistrict's communities resolved.
pub async fn load_actor(ex: &mut impl Exec, user_id: i64, username: String, display_name: String) -> AppResult<Actor> {
    let grants: Vec<Grant> = query(
        "SELECT role, subdistrict_id, community_id, grid_id, household_id, partner_unit_id FROM grants WHERE user_id = $1 ORDER BY id",
    )
    .bind(user_id)
    .fetch_all(ex)
    .await?;
    let mut subdistrict_communities = BTreeMap::new();
    for g in grants.iter().filter(|g| g.role() == Role::SubdistrictAdmin) {
        if let Some(s) = g.subdistrict_id {
            let ids: Vec<i64> =
                query("SELECT id FROM communities WHERE subdistrict_id = $1 ORDER BY id").bind(s).scalars(ex).await?;
            subdistrict_communities.insert(s, ids);
        }
    }
    Ok(Actor { user_id, username, display_name, grants, subdistrict_communities })
}

pub async fn sign_out(db: &Db, token: &str) -> AppResult<()> {
    let mut tx = db.begin().await?;
    query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash(token)).execute(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Changes the password after checking the current one; other sessions end.
pub async fn change_password(
    db: &Db,
    actor: &Actor,
    token: &str,
    current: &str,
    new: &str,
    confirm: &str,
) -> AppResult<()> {
    let mut errors = Vec::new();
    if let Err(e) = password::check_strength("new_password", new) {
        errors.push(e);
    }
    if new != confirm {
        errors.push(FieldError::new("confirm_password", "validation.password_confirm"));
    }
    let mut conn = db.read().await?;
    let stored: String =
        query("SELECT password_hash FROM users WHERE id = $1").bind(actor.user_id).scalar(&mut conn).await?;
    drop(conn);
    if !password::verify(current.to_string(), Some(stored)).await {
        errors.push(FieldError::new("current_password", "auth.wrong_password"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let hashed = password::hash(new.to_string()).await?;
    let mut tx = db.begin().await?;
    query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(hashed)
        .bind(now_ms())
        .bind(actor.user_id)
        .execute(&mut tx)
        .await?;
    query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
        .bind(actor.user_id)
        .bind(token_hash(token))
        .execute(&mut tx)
        .await?;
    audit::record(&mut tx, audit::PLATFORM, &By::from(actor), Action::PasswordReset, "user", actor.user_id, None, None)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Remembers the user's language.
pub async fn set_lang(db: &Db, user_id: i64, lang: Lang) -> AppResult<()> {
    let mut tx = db.begin().await?;
    query("UPDATE users SET lang = $1 WHERE id = $2").bind(lang.code()).bind(user_id).execute(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}
