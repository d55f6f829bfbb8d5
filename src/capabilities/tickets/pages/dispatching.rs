//! Dispatching many at once: staff at a desk pick lines of the ticket table and send them
//! all to one person (派给所选). Each goes through the same step as on its own page, so a
//! ticket that may no longer be dispatched is left as it is and counted.

use axum::extract::{Path, State};

use crate::auth::model::{Actor, Role};
use crate::capabilities::tickets::Action;
use crate::capabilities::tickets::store::{self, ActionInput};
use crate::error::{AppError, FieldError};
use crate::web::form::{CsrfForm, Fields};
use crate::web::{AppState, Notice, PageResult, SignedPage, done};

/// The picking form under the desktop table: where it posts and whom it may send to.
pub struct Dispatch {
    pub action: String,
    pub people: Vec<(String, String)>,
}

/// Those who run the community's desk (staff, the secretary) dispatch from the list.
pub fn dispatches(actor: &Actor, community_id: i64) -> bool {
    actor.grants.iter().any(|g| {
        matches!(g.role(), Role::CommunityStaff | Role::CommunitySecretary) && g.community_id == Some(community_id)
    })
}

/// What was picked and to whom, each field refused by name.
fn picked(f: &mut Fields) -> Result<(Vec<i64>, i64), AppError> {
    let ids = f.ids("ids");
    let owner = f.id("owner_user_id");
    f.checked()?;
    let mut errors = Vec::new();
    if ids.is_empty() {
        errors.push(FieldError::new("ids", "ticket.pick_some"));
    }
    if ids.len() > 100 {
        errors.push(FieldError::new("ids", "validation.too_many").with("max", 100));
    }
    match owner {
        Some(o) if errors.is_empty() => Ok((ids, o)),
        None => {
            errors.push(FieldError::new("owner_user_id", "validation.required"));
            Err(AppError::Invalid(errors))
        }
        Some(_) => Err(AppError::Invalid(errors)),
    }
}

pub async fn dispatch_picked(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = crate::auth::guard::visible_community(&state.db, &actor, &code).await?;
    if !dispatches(&actor, c.id) {
        return Err(AppError::Forbidden.into());
    }
    // A refused pick is shown on the error page, each field named: the list's filters
    // and page are in the address the browser goes back to.
    let (ids, owner) = picked(&mut Fields::new(&m))?;
    let (mut sent, mut left) = (0, 0);
    for id in ids {
        let input = ActionInput { owner_user_id: Some(owner), ..ActionInput::default() };
        match store::act(&state, &actor, c.id, id, Action::Dispatch, input, Vec::new()).await {
            Ok(_) => sent += 1,
            Err(AppError::Conflict(_) | AppError::Forbidden | AppError::NotFound | AppError::Invalid(_)) => left += 1,
            Err(e) => return Err(e.into()),
        }
    }
    let notice = if left == 0 { Notice::DispatchedPicked } else { Notice::DispatchedSome };
    Ok(done(&format!("/c/{code}/tickets?view=all&n={sent}"), notice))
}
