//! Who the actor is to a ticket: their teams, units and grids, who sits in a pool, and the
//! standing that decides what they may see and do.

use super::Ticket;
use crate::auth::model::{Actor, Permission, Role};
use crate::capabilities::tickets::{Standing, Status};
use crate::db::{Builder, Exec, query};
use crate::error::AppResult;

/// The teams (in this community) the actor is a member of.
pub async fn my_teams(ex: &mut impl Exec, community_id: i64, user_id: i64) -> AppResult<Vec<i64>> {
    Ok(query("SELECT team_id FROM team_members WHERE community_id = $1 AND user_id = $2")
        .bind(community_id)
        .bind(user_id)
        .scalars(ex)
        .await?)
}

pub(super) fn my_units(actor: &Actor, community_id: i64) -> Vec<i64> {
    actor
        .grants
        .iter()
        .filter(|g| g.role() == Role::PartnerUnit && g.community_id == Some(community_id))
        .filter_map(|g| g.partner_unit_id)
        .collect()
}

pub(super) fn my_grids(actor: &Actor, community_id: i64) -> Vec<i64> {
    actor
        .grants
        .iter()
        .filter(|g| g.role() == Role::GridWorker && g.community_id == Some(community_id))
        .filter_map(|g| g.grid_id)
        .collect()
}

pub(super) fn is_staff(actor: &Actor, community_id: i64) -> bool {
    actor.grants.iter().any(|g| {
        matches!(g.role(), Role::CommunityStaff | Role::CommunitySecretary) && g.community_id == Some(community_id)
    })
}

pub(super) fn is_overseer(actor: &Actor, community_id: i64) -> bool {
    actor.is_platform_admin()
        || (actor.has_role(Role::SubdistrictAdmin) && actor.can(community_id, Permission::ViewPlaces))
}

/// How the actor stands to a ticket.
pub async fn standing(ex: &mut impl Exec, actor: &Actor, t: &Ticket) -> AppResult<Standing> {
    let c = t.community_id;
    let units = my_units(actor, c);
    let in_pool_team = match t.pool_team_id {
        Some(team) if t.status() == Status::Dispatched => my_teams(ex, c, actor.user_id).await?.contains(&team),
        _ => false,
    };
    let in_pool_unit = t.status() == Status::Dispatched && t.pool_unit_id.is_some_and(|u| units.contains(&u));
    let called_in = if units.is_empty() {
        false
    } else {
        let mut b = Builder::new("SELECT COUNT(*) FROM ticket_whistles WHERE community_id = ");
        b.arg(c)
            .push(" AND ticket_id = ")
            .arg(t.id)
            .push(" AND responded_at IS NULL AND unit_id IN ")
            .list(units.iter().copied());
        b.build().scalar::<i64>(ex).await? > 0
    };
    Ok(Standing {
        staff: is_staff(actor, c),
        owner: t.owner_user_id == Some(actor.user_id),
        submitter: t.submitter_user_id == Some(actor.user_id),
        pool_member: in_pool_team || in_pool_unit,
        grid_worker: t.grid_id.is_some_and(|g| my_grids(actor, c).contains(&g)),
        called_in,
        overseer: is_overseer(actor, c),
    })
}

/// The users of a team's or unit's pool.
pub async fn pool_members(
    ex: &mut impl Exec,
    community_id: i64,
    team: Option<i64>,
    unit: Option<i64>,
) -> AppResult<Vec<i64>> {
    let mut out = Vec::new();
    if let Some(t) = team {
        out.extend(
            query("SELECT user_id FROM team_members WHERE community_id = $1 AND team_id = $2")
                .bind(community_id)
                .bind(t)
                .scalars::<i64>(ex)
                .await?,
        );
    }
    if let Some(u) = unit {
        out.extend(
            query(
                "SELECT user_id FROM grants WHERE role = 'partner_unit' AND community_id = $1 AND partner_unit_id = $2",
            )
            .bind(community_id)
            .bind(u)
            .scalars::<i64>(ex)
            .await?,
        );
    }
    Ok(out)
}
