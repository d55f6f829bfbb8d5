//! User accounts and their roles.

use serde::Serialize;

use crate::auth::model::{Actor, Grant, Permission, Role};
use crate::auth::password;
use crate::capabilities::registry::people::posts::{self, Post};
use crate::db::{Db, Tx, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::audit::{self, Action, By};
use crate::services::pii::{self, Pii};

#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub phone: Option<String>,
    pub grants: Vec<Grant>,
    /// The resident record this account belongs to, if any.
    pub resident_id: Option<i64>,
    /// A staff member's post (`people::posts`) and the compound or zone it looks after.
    pub post: Option<String>,
    pub post_place_id: Option<i64>,
}

/// What checking a new user yields: the normalised phone and the post.
#[derive(Debug, PartialEq, Eq)]
pub struct Valid {
    pub phone: Option<String>,
    pub post: Option<(Post, Option<i64>)>,
}

/// A user name starts with a letter and never holds a phone or ID number: user lists show
/// it to people who may not see personal data (people sign in by mobile through its keyed
/// hash, not through the name).
fn check_username(u: &str) -> Result<(), FieldError> {
    let ok = (3..=32).contains(&u.len())
        && u.starts_with(|c: char| c.is_ascii_lowercase())
        && u.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'-'));
    if !ok {
        Err(FieldError::new("username", "validation.username"))
    } else if pii::holds_personal_number(u) {
        Err(FieldError::new("username", "validation.username_personal"))
    } else {
        Ok(())
    }
}

/// User names made before that rule which hold a phone or ID number (volunteers signed up
/// by phone got theirs as the name) become `u<id>`. A mobile number that was only the name
/// becomes the account's phone first, so signing in with it still works. Run at start;
/// the names are found through the name's index (they start with a digit), so a start
/// with nothing to do reads almost nothing.
pub async fn rename_personal_usernames(db: &Db, pii: &Pii) -> anyhow::Result<usize> {
    const FIND: &str =
        "SELECT id, username, phone_hash IS NOT NULL FROM users WHERE username >= '0' AND username < ':'";
    let waiting: Vec<(i64, String, bool)> = query(FIND).fetch_all(&mut db.read().await?).await?;
    if !waiting.iter().any(|(_, u, _)| pii::holds_personal_number(u)) {
        return Ok(0);
    }
    let mut tx = db.begin().await?;
    let mut renamed = 0;
    for (id, old, has_phone) in query(FIND).fetch_all::<(i64, String, bool)>(&mut tx).await? {
        if !pii::holds_personal_number(&old) {
            continue;
        }
        let name = format!("u{id}");
        let taken: i64 = query("SELECT COUNT(*) FROM users WHERE username = $1").bind(&name).scalar(&mut tx).await?;
        let name = if taken == 0 { name } else { format!("{name}-{}", tx.next_id().await?) };
        let mut b = crate::db::Builder::new("UPDATE users SET username = ");
        b.arg(name.as_str());
        if let (false, Ok(phone)) = (has_phone, pii::normalize_phone(&old)) {
            let s = pii.seal_phone(&phone);
            b.push(", phone_enc = ").arg(s.enc).push(", phone_hash = ").arg(s.hash);
            b.push(", phone_masked = ").arg(s.masked);
        }
        b.push(", updated_at = ").arg(now_ms()).push(" WHERE id = ").arg(id);
        b.build().execute(&mut tx).await?;
        let by = By::system("user names never hold personal numbers");
        let after = serde_json::json!({ "username": name });
        audit::record(&mut tx, audit::PLATFORM, &by, Action::Update, "user", id, None, Some(&after)).await?;
        renamed += 1;
    }
    tx.commit().await?;
    Ok(renamed)
}

/// Checks a new user field by field.
pub fn validate(new: &NewUser) -> Result<Valid, Vec<FieldError>> {
    let mut errors = Vec::new();
    if let Err(e) = check_username(&new.username) {
        errors.push(e);
    }
    let name_len = new.display_name.trim().chars().count();
    if name_len == 0 {
        errors.push(FieldError::new("display_name", "validation.required"));
    } else if name_len > 40 {
        errors.push(FieldError::new("display_name", "validation.too_long").with("max", 40));
    }
    if let Err(e) = password::check_strength("password", &new.password) {
        errors.push(e);
    }
    let phone = match new.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => match pii::normalize_phone(p) {
            Ok(p) => Some(p),
            Err(key) => {
                errors.push(FieldError::new("phone", key));
                None
            }
        },
        None => None,
    };
    if new.grants.iter().any(|g| !g.is_well_formed()) {
        errors.push(FieldError::new("role", "validation.grant_place"));
    }
    let post = posts::check(new.post.as_deref(), new.post_place_id, &new.grants).unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    if errors.is_empty() { Ok(Valid { phone, post }) } else { Err(errors) }
}

/// Creates a user with their roles. `actor`, when given, must be allowed to hand out each
/// role (pages); commands run by the operator pass `None`.
pub async fn create(db: &Db, pii: &Pii, actor: Option<&Actor>, by: &By, new: NewUser) -> AppResult<i64> {
    let checked = check(actor, &new).await?;
    let mut tx = db.begin().await?;
    let id = create_in(&mut tx, pii, by, &new, checked).await?;
    tx.commit().await?;
    Ok(id)
}

/// A new user checked and with the password hashed (slow, so done before any transaction).
pub struct Checked {
    valid: Valid,
    hashed: String,
}

pub async fn check(actor: Option<&Actor>, new: &NewUser) -> AppResult<Checked> {
    let valid = validate(new).map_err(AppError::Invalid)?;
    if let Some(a) = actor
        && new.grants.iter().any(|g| !a.may_grant(g.role(), g.community_id))
    {
        return Err(AppError::Forbidden);
    }
    let hashed = password::hash(new.password.clone()).await?;
    Ok(Checked { valid, hashed })
}

/// Writes a checked new user inside the caller's transaction (so that what is made with
/// the account, such as a volunteer record, lands with it or not at all).
pub async fn create_in(tx: &mut Tx, pii: &Pii, by: &By, new: &NewUser, checked: Checked) -> AppResult<i64> {
    let home = new.grants.iter().find_map(|g| g.community_id);
    let Valid { phone, post } = checked.valid;
    if let Some((p, Some(place))) = post
        && let Some(def) = p.place()
    {
        let found: i64 = query(format!(
            "SELECT COUNT(*) FROM {} WHERE community_id = $1 AND id = $2 AND archived_at IS NULL",
            def.table
        ))
        .bind(home)
        .bind(place)
        .scalar(&mut *tx)
        .await?;
        if found == 0 {
            return Err(AppError::field("post_place_id", "validation.reference"));
        }
    }
    let id = tx.next_id().await?;
    let now = now_ms();
    let sealed = phone.as_deref().map(|p| pii.seal_phone(p));
    query(
        "INSERT INTO users (id, username, display_name, phone_enc, phone_hash, phone_masked, password_hash, community_id, resident_id, post, post_place_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(id)
    .bind(new.username.as_str())
    .bind(new.display_name.trim())
    .bind(sealed.as_ref().map(|s| s.enc.clone()))
    .bind(sealed.as_ref().map(|s| s.hash.clone()))
    .bind(sealed.as_ref().map(|s| s.masked.clone()))
    .bind(checked.hashed)
    .bind(home)
    .bind(new.resident_id)
    .bind(post.map(|(p, _)| p.as_str()))
    .bind(post.and_then(|(_, place)| place))
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    for g in &new.grants {
        insert_grant(tx, id, g).await?;
    }
    let after = serde_json::json!({
        "username": new.username, "display_name": new.display_name.trim(),
        "phone": sealed.as_ref().map(|s| s.masked.clone()),
        "roles": new.grants.iter().map(|g| g.role().as_str()).collect::<Vec<_>>(),
        "post": post.map(|(p, _)| p.as_str()), "post_place_id": post.and_then(|(_, place)| place),
    });
    audit::record(tx, audit::PLATFORM, by, Action::Create, "user", id, None, Some(&after)).await?;
    Ok(id)
}

pub async fn insert_grant(tx: &mut Tx, user_id: i64, g: &Grant) -> AppResult<()> {
    let id = tx.next_id().await?;
    query(
        "INSERT INTO grants (id, user_id, role, subdistrict_id, community_id, grid_id, household_id, partner_unit_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(user_id)
    .bind(g.role().as_str())
    .bind(g.subdistrict_id)
    .bind(g.community_id)
    .bind(g.grid_id)
    .bind(g.household_id)
    .bind(g.partner_unit_id)
    .bind(now_ms())
    .execute(tx)
    .await?;
    Ok(())
}

/// Sets a new password (operator command, or a secretary for their community's users).
pub async fn reset_password(db: &Db, by: &By, username: &str, new_password: &str) -> AppResult<()> {
    password::check_strength("password", new_password).map_err(|e| AppError::Invalid(vec![e]))?;
    let hashed = password::hash(new_password.to_string()).await?;
    let mut tx = db.begin().await?;
    let id: Option<i64> =
        query("SELECT id FROM users WHERE username = $1").bind(username).scalar_optional(&mut tx).await?;
    let id = id.ok_or(AppError::NotFound)?;
    query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(hashed)
        .bind(now_ms())
        .bind(id)
        .execute(&mut tx)
        .await?;
    query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut tx).await?;
    audit::record(&mut tx, audit::PLATFORM, by, Action::PasswordReset, "user", id, None, None).await?;
    tx.commit().await?;
    Ok(())
}

/// A password for someone who forgot theirs: eight characters, letters and digits that
/// cannot be mistaken for one another when read out (no 0/o, 1/l/i).
fn temporary_password() -> String {
    const LETTERS: &[u8] = b"abcdefghjkmnpqrstuvwxyz";
    const DIGITS: &[u8] = b"23456789";
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("system random source");
    b.iter()
        .enumerate()
        .map(|(i, x)| {
            let set = if i < 4 { LETTERS } else { DIGITS };
            char::from(set[usize::from(*x) % set.len()])
        })
        .collect()
}

/// Community staff who manage users reset the password of someone who forgot it, after
/// checking who they are: a temporary password, shown once, given in person. Only for
/// accounts whose every role is in this community (never an administrator's, nor one
/// with roles elsewhere). Answers the name and the temporary password.
pub async fn reset_by_staff(db: &Db, actor: &Actor, community_id: i64, user_id: i64) -> AppResult<(String, String)> {
    if !actor.can(community_id, Permission::ManageUsers) {
        return Err(AppError::NotFound);
    }
    let mut conn = db.read().await?;
    let places: Vec<(Option<i64>,)> =
        query("SELECT community_id FROM grants WHERE user_id = $1").bind(user_id).fetch_all(&mut conn).await?;
    if places.is_empty() || places.iter().any(|p| p.0 != Some(community_id)) {
        return Err(AppError::NotFound);
    }
    let (username, name): (String, String) = query("SELECT username, display_name FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(&mut conn)
        .await?
        .ok_or(AppError::NotFound)?;
    drop(conn);
    let temporary = temporary_password();
    reset_password(db, &By::from(actor), &username, &temporary).await?;
    Ok((name, temporary))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct UserSummary {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub phone_masked: Option<String>,
    pub role: String,
    pub grid_id: Option<i64>,
    pub household_id: Option<i64>,
    /// Shown with staff roles only: the account's post and the name of what it looks after.
    pub post: Option<String>,
    pub post_place: Option<String>,
}

/// The users holding a role in a community (for its secretary and the platform).
pub async fn list_for_community(db: &Db, actor: &Actor, community_id: i64) -> AppResult<Vec<UserSummary>> {
    if !actor.can(community_id, Permission::ManageUsers) {
        return Err(if actor.sees_community(community_id) { AppError::Forbidden } else { AppError::NotFound });
    }
    let mut conn = db.read().await?;
    Ok(query(
        "SELECT u.id, u.username, u.display_name, u.phone_masked, g.role, g.grid_id, g.household_id,
                CASE WHEN g.role IN ('community_staff', 'community_secretary') THEN u.post END AS post,
                CASE WHEN g.role IN ('community_staff', 'community_secretary') THEN COALESCE(
                    (SELECT z.name FROM zones z WHERE u.post = 'zone_secretary' AND z.community_id = $1 AND z.id = u.post_place_id),
                    (SELECT c.name FROM compounds c WHERE u.post = 'compound_secretary' AND c.community_id = $1 AND c.id = u.post_place_id)) END AS post_place
         FROM grants g JOIN users u ON u.id = g.user_id WHERE g.community_id = $1 ORDER BY g.role, COALESCE(u.post, ''), u.username",
    )
    .bind(community_id)
    .fetch_all(&mut conn)
    .await?)
}

/// The role names a manager may hand out in a community, in display order.
pub fn grantable_roles(actor: &Actor, community_id: i64) -> Vec<Role> {
    [
        Role::CommunitySecretary,
        Role::CommunityStaff,
        Role::GridWorker,
        Role::Volunteer,
        Role::PartyMember,
        Role::Resident,
        Role::PartnerUnit,
    ]
    .into_iter()
    .filter(|r| actor.may_grant(*r, Some(community_id)))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A temporary password passes the strength rule and has no look-alike characters.
    #[test]
    fn a_temporary_password_is_strong_and_easy_to_read_out() {
        for _ in 0..200 {
            let p = temporary_password();
            assert!(password::check_strength("password", &p).is_ok(), "{p}");
            assert!(!p.contains(['0', 'o', '1', 'l', 'i']), "{p}");
        }
    }

    fn new(username: &str, password: &str, phone: Option<&str>) -> NewUser {
        NewUser {
            username: username.into(),
            display_name: "王五".into(),
            password: password.into(),
            phone: phone.map(String::from),
            grants: vec![Grant::community(Role::CommunityStaff, 1)],
            ..Default::default()
        }
    }

    #[test]
    fn new_users_are_checked_field_by_field() {
        assert_eq!(
            validate(&new("wang", "demo1234", Some("13800001111"))),
            Ok(Valid { phone: Some("13800001111".into()), post: None })
        );
        let errs = validate(&new("W!", "short", Some("123"))).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["username", "password", "phone"]);
        let mut bad_grant = new("wang", "demo1234", None);
        bad_grant.grants = vec![Grant { grid_id: None, ..Grant::grid(1, 2) }];
        assert_eq!(validate(&bad_grant).unwrap_err()[0].field, "role");
        let mut zone_secretary = new("wang", "demo1234", None);
        zone_secretary.post = Some("zone_secretary".into());
        assert_eq!(validate(&zone_secretary).unwrap_err()[0].field, "post_place_id");
    }
}
