//! A resident's own registration 居民注册: they sign up with their name, mobile and the
//! address they live at, and may sign in at once; staff (or the grid worker of the
//! household) check them and bind the account to a household, which makes them the
//! household's resident, or decline with a reason they see.

use serde::Serialize;
use serde_json::json;

use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Grant, Permission, Role};
use crate::capabilities::registry::people::users::{self, NewUser};
use crate::db::{Db, Exec, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::audit::{self, Action, By};
use crate::services::notify::{self, Audience, Note, Subject};
use crate::web::AppState;

crate::text_enum! {
    /// Where a registration stands.
    pub enum RequestStatus {
        Pending = "pending",
        Approved = "approved",
        Declined = "declined",
    }
}

/// What a newcomer types.
#[derive(Debug, Clone, Default)]
pub struct SignUp {
    pub name: String,
    pub phone: String,
    pub address: String,
    pub note: Option<String>,
    pub password: String,
}

/// The checks made before anything is written: each field's own error, in Chinese keys.
/// Answers the mobile number normalised.
pub fn check(s: &SignUp) -> Result<String, Vec<FieldError>> {
    let mut errors = Vec::new();
    crate::input::check_text(&mut errors, "name", &s.name, 40, true);
    crate::input::check_text(&mut errors, "address", &s.address, 100, true);
    if let Some(n) = &s.note {
        crate::input::check_text(&mut errors, "note", n, 200, false);
    }
    let phone = match crate::services::pii::normalize_phone(&s.phone) {
        Ok(p) => Some(p),
        Err(key) => {
            errors.push(FieldError::new("phone", key));
            None
        }
    };
    if let Err(e) = crate::auth::password::check_strength("password", &s.password) {
        errors.push(e);
    }
    match phone {
        Some(p) if errors.is_empty() => Ok(p),
        _ => Err(errors),
    }
}

/// A household whose address holds what the newcomer typed (spaces aside), to be offered
/// first: 海盛花园3栋2单元301 for "3栋2单元301".
pub fn likely_household(typed: &str, households: &[(i64, String)]) -> Option<i64> {
    let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let typed = squeeze(typed);
    let matches: Vec<i64> = households
        .iter()
        .filter(|(_, a)| {
            let a = squeeze(a);
            !a.is_empty() && (a.contains(&typed) || typed.contains(&a))
        })
        .map(|(id, _)| *id)
        .collect();
    match matches.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct ResidentRequest {
    pub community_id: i64,
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub address: String,
    pub note: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: RequestStatus,
    pub household_id: Option<i64>,
    pub reason: Option<String>,
    pub decided_at: Option<i64>,
    pub created_at: i64,
    /// The account's mobile, masked.
    pub phone_masked: Option<String>,
}

const SELECT: &str =
    "SELECT r.community_id, r.id, r.user_id, r.name, r.address, r.note, r.status, r.household_id, r.reason,
       r.decided_at, r.created_at, u.phone_masked
  FROM resident_requests r JOIN users u ON u.id = r.user_id";

/// Signs a newcomer up: the account (its mobile signs them in) and the request, together
/// or not at all. The staff who check requests hear of it. Answers the account's id.
pub async fn sign_up(state: &AppState, c: &CommunityRef, s: SignUp) -> AppResult<i64> {
    let phone = check(&s).map_err(AppError::Invalid)?;
    let mut new = NewUser {
        username: "resident".into(),
        display_name: s.name.trim().to_string(),
        password: s.password.clone(),
        phone: Some(phone),
        ..Default::default()
    };
    let checked = users::check(None, &new).await?;
    let by = By::system("resident sign-up");
    let mut tx = state.db.begin().await?;
    let id = tx.next_id().await?;
    new.username = format!("r{id}");
    let user_id = users::create_in(&mut tx, &state.pii, &by, &new, checked).await.map_err(|e| match e {
        AppError::Invalid(f) if f.iter().any(|f| f.field == "phone") => {
            AppError::Invalid(vec![FieldError::new("phone", "joining.phone_taken")])
        }
        other => other,
    })?;
    // Their home community, though they hold no role there yet: where their request is.
    query("UPDATE users SET community_id = $1 WHERE id = $2").bind(c.id).bind(user_id).execute(&mut tx).await?;
    let note = s.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    query(
        "INSERT INTO resident_requests (community_id, id, user_id, name, address, note, status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7)",
    )
    .bind(c.id)
    .bind(id)
    .bind(user_id)
    .bind(s.name.trim())
    .bind(s.address.trim())
    .bind(note)
    .bind(now_ms())
    .execute(&mut tx)
    .await?;
    let after = json!({"name": s.name.trim(), "address": s.address.trim(), "status": "pending"});
    audit::record(&mut tx, c.id, &by, Action::Create, "resident_request", id, None, Some(&after)).await?;
    let text = format!("新的居民注册待审核：{}（{}）", s.name.trim(), s.address.trim());
    let subject = Some(Subject { kind: "resident_request", id });
    for role in [Role::CommunityStaff, Role::CommunitySecretary] {
        notify::send(&mut tx, &state.bus, Note::new(c.id, subject, "new", text.clone()), Audience::Role(role)).await?;
    }
    tx.commit().await?;
    Ok(user_id)
}

/// The requests waiting in a community, oldest first, for those who may check them.
pub async fn waiting(ex: &mut impl Exec, actor: &Actor, community_id: i64) -> AppResult<Vec<ResidentRequest>> {
    if !actor.can(community_id, Permission::EditRegistry) {
        return Err(AppError::NotFound);
    }
    Ok(query(format!(
        "{SELECT} WHERE r.community_id = $1 AND r.status = 'pending' ORDER BY r.created_at, r.id LIMIT 200"
    ))
    .bind(community_id)
    .fetch_all(ex)
    .await?)
}

/// How many wait (for the office's home page).
pub async fn waiting_count(ex: &mut impl Exec, community_id: i64) -> AppResult<i64> {
    Ok(query("SELECT COUNT(*) FROM resident_requests WHERE community_id = $1 AND status = 'pending'")
        .bind(community_id)
        .scalar(ex)
        .await?)
}

/// The signed-in user's latest request, with its community, when they have one in their
/// home community.
pub async fn mine(db: &Db, actor: &Actor) -> AppResult<Option<(CommunityRef, ResidentRequest)>> {
    let mut conn = db.read().await?;
    let home: Option<Option<i64>> =
        query("SELECT community_id FROM users WHERE id = $1").bind(actor.user_id).scalar_optional(&mut conn).await?;
    let Some(c) = home.flatten() else { return Ok(None) };
    let Some(c) = crate::auth::guard::community_by_id(&mut conn, c).await? else { return Ok(None) };
    let r: Option<ResidentRequest> = query(format!(
        "{SELECT} WHERE r.community_id = $1 AND r.user_id = $2 ORDER BY r.created_at DESC, r.id DESC LIMIT 1"
    ))
    .bind(c.id)
    .bind(actor.user_id)
    .fetch_optional(&mut conn)
    .await?;
    Ok(r.map(|r| (c, r)))
}

/// What the checker decides.
pub enum Decision<'a> {
    /// Bind the account to this household, as its resident.
    Approve {
        household_id: Option<i64>,
    },
    Decline {
        reason: &'a str,
    },
}

/// Approves (binding the account to a household the checker covers) or declines (with a
/// reason) a waiting request; a request already decided is a conflict, so two checkers
/// never both act.
pub async fn decide(state: &AppState, actor: &Actor, community_id: i64, id: i64, d: Decision<'_>) -> AppResult<()> {
    let reach = actor.access(community_id, Permission::EditRegistry);
    if !actor.can(community_id, Permission::EditRegistry) {
        return Err(AppError::NotFound);
    }
    let mut tx = state.db.begin().await?;
    let r: ResidentRequest = query(format!("{SELECT} WHERE r.community_id = $1 AND r.id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(&mut tx)
        .await?
        .ok_or(AppError::NotFound)?;
    let (status, household, reason, text) = match d {
        Decision::Approve { household_id } => {
            let Some(h) = household_id else { return Err(AppError::field("household_id", "validation.required")) };
            let found: Option<(Option<i64>, String)> = query(
                "SELECT grid_id, address FROM households WHERE community_id = $1 AND id = $2 AND archived_at IS NULL",
            )
            .bind(community_id)
            .bind(h)
            .fetch_optional(&mut tx)
            .await?;
            let Some((_, address)) = found.filter(|(grid, _)| reach.covers(*grid, Some(h))) else {
                return Err(AppError::field("household_id", "validation.reference"));
            };
            (RequestStatus::Approved, Some(h), None, format!("您的居民注册已通过审核，已绑定住址：{address}"))
        }
        Decision::Decline { reason } => {
            let mut errors = Vec::new();
            crate::input::check_text(&mut errors, "reason", reason, 200, true);
            if !errors.is_empty() {
                return Err(AppError::Invalid(errors));
            }
            (RequestStatus::Declined, None, Some(reason.trim().to_string()), String::new())
        }
    };
    let now = now_ms();
    let changed = query(
        "UPDATE resident_requests SET status = $1, household_id = $2, reason = $3, decided_by = $4, decided_at = $5
         WHERE community_id = $6 AND id = $7 AND status = 'pending'",
    )
    .bind(status.as_str())
    .bind(household)
    .bind(reason.as_deref())
    .bind(actor.user_id)
    .bind(now)
    .bind(community_id)
    .bind(id)
    .execute(&mut tx)
    .await?;
    if changed == 0 {
        return Err(AppError::Conflict("joining.already_decided"));
    }
    if let Some(h) = household {
        let g = Grant { household_id: Some(h), ..Grant::community(Role::Resident, community_id) };
        users::insert_grant(&mut tx, r.user_id, &g).await?;
        let note = Note::new(community_id, Some(Subject { kind: "resident_request", id }), "approved", text);
        notify::send(&mut tx, &state.bus, note, Audience::Users(vec![r.user_id])).await?;
    }
    let before = json!({"status": r.status.as_str()});
    let after = json!({"status": status.as_str(), "household_id": household, "reason": reason});
    let by = By::from(actor);
    audit::record(&mut tx, community_id, &by, Action::Update, "resident_request", id, Some(&before), Some(&after))
        .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signup() -> SignUp {
        SignUp {
            name: "李桂英".into(),
            phone: "139 1234 5678".into(),
            address: "3栋2单元301".into(),
            note: None,
            password: "linli2026".into(),
        }
    }

    #[test]
    fn a_sign_up_names_each_field_it_refuses() {
        assert_eq!(check(&signup()), Ok("13912345678".into()));
        let bad = SignUp { name: " ".into(), phone: "12345".into(), address: "x\u{7}".into(), ..signup() };
        let errors = check(&bad).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "address", "phone"]);
        let weak = SignUp { password: "123".into(), ..signup() };
        assert_eq!(check(&weak).unwrap_err()[0].field, "password");
    }

    #[test]
    fn the_household_typed_is_offered_first_only_when_one_matches() {
        let hs = vec![
            (1, "海盛花园3栋2单元301".to_string()),
            (2, "海盛花园3栋2单元302".into()),
            (3, "海盛花园13栋2单元301".into()),
        ];
        assert_eq!(likely_household("3栋2单元302", &hs), Some(2));
        assert_eq!(likely_household("海盛花园 3栋 2单元 302", &hs), Some(2));
        assert_eq!(likely_household("3栋2单元301", &hs), None, "13栋 too: let the checker choose");
        assert_eq!(likely_household("9栋", &hs), None);
    }
}
