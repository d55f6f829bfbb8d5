//! Who may see and do what: roles bound to places, and the scope they give.
//!
//! Plain types and functions, no I/O. Stores call [`Actor::access`] with the community
//! they are about to read or write, so scope is enforced where data is touched; anything
//! outside it is answered as "not found".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Resident,
    Volunteer,
    PartyMember,
    GridWorker,
    CommunityStaff,
    CommunitySecretary,
    SubdistrictAdmin,
    PartnerUnit,
    PlatformAdmin,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::Resident,
        Role::Volunteer,
        Role::PartyMember,
        Role::GridWorker,
        Role::CommunityStaff,
        Role::CommunitySecretary,
        Role::SubdistrictAdmin,
        Role::PartnerUnit,
        Role::PlatformAdmin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Resident => "resident",
            Role::Volunteer => "volunteer",
            Role::PartyMember => "party_member",
            Role::GridWorker => "grid_worker",
            Role::CommunityStaff => "community_staff",
            Role::CommunitySecretary => "community_secretary",
            Role::SubdistrictAdmin => "subdistrict_admin",
            Role::PartnerUnit => "partner_unit",
            Role::PlatformAdmin => "platform_admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The i18n key of the role's name.
    pub fn label_key(self) -> String {
        format!("role.{}", self.as_str())
    }

    /// Which place a grant of this role must name.
    pub fn place_kind(self) -> PlaceKind {
        match self {
            Role::PlatformAdmin => PlaceKind::Platform,
            Role::SubdistrictAdmin => PlaceKind::Subdistrict,
            Role::GridWorker => PlaceKind::Grid,
            Role::Resident => PlaceKind::Household,
            Role::PartnerUnit => PlaceKind::PartnerUnit,
            Role::Volunteer | Role::PartyMember | Role::CommunityStaff | Role::CommunitySecretary => {
                PlaceKind::Community
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceKind {
    Platform,
    Subdistrict,
    Community,
    Grid,
    Household,
    PartnerUnit,
}

/// A role bound to a place. Community-level places also carry their community id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Grant {
    #[sqlx(try_from = "String")]
    pub role: RoleName,
    pub subdistrict_id: Option<i64>,
    pub community_id: Option<i64>,
    pub grid_id: Option<i64>,
    pub household_id: Option<i64>,
    pub partner_unit_id: Option<i64>,
}

/// A role as stored (text), checked on the way in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RoleName(pub Role);

impl TryFrom<String> for RoleName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Role::parse(&s).map(RoleName).ok_or_else(|| format!("unknown role {s}"))
    }
}

impl Grant {
    pub fn role(&self) -> Role {
        self.role.0
    }

    pub fn platform() -> Grant {
        Grant::at(Role::PlatformAdmin, None, None)
    }

    pub fn subdistrict(subdistrict_id: i64) -> Grant {
        Grant { subdistrict_id: Some(subdistrict_id), ..Grant::at(Role::SubdistrictAdmin, None, None) }
    }

    pub fn community(role: Role, community_id: i64) -> Grant {
        Grant::at(role, Some(community_id), None)
    }

    pub fn grid(community_id: i64, grid_id: i64) -> Grant {
        Grant { grid_id: Some(grid_id), ..Grant::at(Role::GridWorker, Some(community_id), None) }
    }

    pub fn household(community_id: i64, household_id: i64) -> Grant {
        Grant { household_id: Some(household_id), ..Grant::at(Role::Resident, Some(community_id), None) }
    }

    pub fn partner_unit(community_id: i64, unit_id: i64) -> Grant {
        Grant { partner_unit_id: Some(unit_id), ..Grant::at(Role::PartnerUnit, Some(community_id), None) }
    }

    fn at(role: Role, community_id: Option<i64>, subdistrict_id: Option<i64>) -> Grant {
        Grant {
            role: RoleName(role),
            subdistrict_id,
            community_id,
            grid_id: None,
            household_id: None,
            partner_unit_id: None,
        }
    }

    /// Whether the grant names the place its role needs.
    pub fn is_well_formed(&self) -> bool {
        match self.role().place_kind() {
            PlaceKind::Platform => true,
            PlaceKind::Subdistrict => self.subdistrict_id.is_some(),
            PlaceKind::Community => self.community_id.is_some(),
            PlaceKind::Grid => self.community_id.is_some() && self.grid_id.is_some(),
            PlaceKind::Household => self.community_id.is_some() && self.household_id.is_some(),
            PlaceKind::PartnerUnit => self.community_id.is_some() && self.partner_unit_id.is_some(),
        }
    }
}

/// What someone may do, asked of a community (and sometimes of a grid or household in it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read places and organisation: zones, grids, compounds, buildings, party
    /// organisations, teams, partner units, the community record.
    ViewPlaces,
    EditPlaces,
    /// Read households and residents (masked).
    ViewRegistry,
    EditRegistry,
    /// Show a masked personal value in full (each reveal is logged).
    RevealPii,
    /// Read the log of reveals.
    ViewAccessLog,
    /// Edit the community record itself.
    ManageCommunity,
    /// Create users and grant them roles in the community.
    ManageUsers,
    /// Read the audit history of records.
    ViewAudit,
    /// Run the volunteer service and points: approve service records, keep the rules,
    /// adjust points, stock the shop, hand rewards over, commend, issue certificates.
    ManagePoints,
    /// Patrol and keep field notes 民情笔记.
    FieldWork,
    /// Read everyone's field notes in the community.
    ReadFieldNotes,
    /// Run participation: accept registrations, publish needs, confirm pledges, pair
    /// households, screen proposals and run the council's meetings and votes.
    ManageParticipation,
    /// Run events: stations, events and their sessions, publishing and calling off.
    ManageEvents,
    /// Help at events: check people in at the door, sign up someone without a phone.
    HelpAtEvents,
    /// Keep the money: funds, donations, projects, expenses asked for and disclosure.
    /// Approving an expense is by role, step by step (`capabilities::money`).
    ManageMoney,
    /// Run the services on the doorstep: the directory's providers, locations and
    /// listings with their hours and verification.
    ManageServices,
    /// Run emergencies: prepare, activate, stand down and close incidents; see every
    /// household's welfare check and the command page.
    ManageEmergency,
    /// Check households in an emergency (a grid worker: those of their grid).
    CheckWelfare,
    /// Publish notices 公告 (a grid worker: to their grids and the buildings in them) and
    /// see who has read and acknowledged them.
    PublishNotices,
    /// Read the dictionary's figures: the dashboard and its reports (a grid worker: of
    /// their grids; a subdistrict's administrator: of its communities).
    ViewFigures,
}

/// How far a permission reaches inside one community.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    pub all: bool,
    pub grids: Vec<i64>,
    pub households: Vec<i64>,
}

impl Access {
    pub fn all() -> Access {
        Access { all: true, ..Access::default() }
    }

    pub fn is_none(&self) -> bool {
        !self.all && self.grids.is_empty() && self.households.is_empty()
    }

    /// Whether a row with this grid and household is inside.
    pub fn covers(&self, grid_id: Option<i64>, household_id: Option<i64>) -> bool {
        self.all
            || grid_id.is_some_and(|g| self.grids.contains(&g))
            || household_id.is_some_and(|h| self.households.contains(&h))
    }

    fn merge(&mut self, other: Access) {
        self.all |= other.all;
        for g in other.grids {
            if !self.grids.contains(&g) {
                self.grids.push(g);
            }
        }
        for h in other.households {
            if !self.households.contains(&h) {
                self.households.push(h);
            }
        }
    }
}

/// The reach of one role for one permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    No,
    /// The whole community.
    Community,
    /// The grid of the grant.
    Grid,
    /// The household of the grant.
    Household,
}

fn reach(role: Role, perm: Permission) -> Reach {
    use Permission::*;
    use Reach::*;
    match role {
        Role::CommunitySecretary => Community,
        Role::CommunityStaff => match perm {
            ViewAccessLog | ManageUsers => No,
            _ => Community,
        },
        Role::GridWorker => match perm {
            ViewPlaces | FieldWork | HelpAtEvents => Community,
            ViewRegistry | EditRegistry | RevealPii | ViewAudit | CheckWelfare | PublishNotices | ViewFigures => Grid,
            _ => No,
        },
        // Platform administrators install and configure; they read the registry masked and
        // may not reveal personal values (least privilege).
        Role::PlatformAdmin => match perm {
            RevealPii | ViewAccessLog | ManagePoints | FieldWork | ReadFieldNotes | ManageParticipation
            | ManageEvents | HelpAtEvents | ManageMoney | ManageServices | ManageEmergency | CheckWelfare
            | PublishNotices => No,
            _ => Community,
        },
        Role::SubdistrictAdmin => match perm {
            // The subdistrict commands emergencies over its communities.
            ViewPlaces | ViewRegistry | ManageCommunity | ViewAudit | ManageEmergency | ViewFigures => Community,
            _ => No,
        },
        Role::Resident => match perm {
            ViewRegistry => Household,
            _ => No,
        },
        Role::Volunteer | Role::PartyMember | Role::PartnerUnit => No,
    }
}

/// The signed-in user with their grants resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub grants: Vec<Grant>,
    /// For subdistrict administrators: the communities of each of their subdistricts.
    pub subdistrict_communities: BTreeMap<i64, Vec<i64>>,
}

impl Actor {
    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role() == role)
    }

    pub fn is_platform_admin(&self) -> bool {
        self.has_role(Role::PlatformAdmin)
    }

    /// Roles held, most powerful first, without repeats.
    pub fn roles(&self) -> Vec<Role> {
        let mut roles: Vec<Role> = self.grants.iter().map(Grant::role).collect();
        roles.sort_by_key(|r| std::cmp::Reverse(*r as u8));
        roles.dedup();
        roles
    }

    fn grant_covers_community(&self, g: &Grant, community_id: i64) -> bool {
        match g.role().place_kind() {
            PlaceKind::Platform => true,
            PlaceKind::Subdistrict => g
                .subdistrict_id
                .and_then(|s| self.subdistrict_communities.get(&s))
                .is_some_and(|cs| cs.contains(&community_id)),
            _ => g.community_id == Some(community_id),
        }
    }

    /// How far `perm` reaches in `community_id`.
    pub fn access(&self, community_id: i64, perm: Permission) -> Access {
        let mut out = Access::default();
        for g in &self.grants {
            if !self.grant_covers_community(g, community_id) {
                continue;
            }
            let part = match reach(g.role(), perm) {
                Reach::No => Access::default(),
                Reach::Community => Access::all(),
                Reach::Grid => Access { grids: g.grid_id.into_iter().collect(), ..Access::default() },
                Reach::Household => Access { households: g.household_id.into_iter().collect(), ..Access::default() },
            };
            out.merge(part);
        }
        out
    }

    pub fn can(&self, community_id: i64, perm: Permission) -> bool {
        !self.access(community_id, perm).is_none()
    }

    /// The household the user is a resident of in the community, by their resident role.
    pub fn household_in(&self, community_id: i64) -> Option<i64> {
        self.grants
            .iter()
            .find(|g| g.role() == Role::Resident && g.community_id == Some(community_id))
            .and_then(|g| g.household_id)
    }

    /// Whether the user has any role in the community (to see that it exists at all).
    pub fn sees_community(&self, community_id: i64) -> bool {
        self.grants.iter().any(|g| self.grant_covers_community(g, community_id))
    }

    /// The communities the user has a role in; `None` means every community.
    pub fn community_ids(&self) -> Option<Vec<i64>> {
        if self.is_platform_admin() {
            return None;
        }
        let mut ids: Vec<i64> = Vec::new();
        for g in &self.grants {
            match g.role().place_kind() {
                PlaceKind::Subdistrict => {
                    if let Some(cs) = g.subdistrict_id.and_then(|s| self.subdistrict_communities.get(&s)) {
                        ids.extend(cs);
                    }
                }
                _ => ids.extend(g.community_id),
            }
        }
        ids.sort_unstable();
        ids.dedup();
        Some(ids)
    }

    /// Whether the user administers this subdistrict (or everything).
    pub fn manages_subdistrict(&self, subdistrict_id: i64) -> bool {
        self.is_platform_admin()
            || self
                .grants
                .iter()
                .any(|g| g.role() == Role::SubdistrictAdmin && g.subdistrict_id == Some(subdistrict_id))
    }

    /// Whether this user may hand out `role` in `community_id`.
    pub fn may_grant(&self, role: Role, community_id: Option<i64>) -> bool {
        if self.is_platform_admin() {
            return true;
        }
        match (role.place_kind(), community_id) {
            (PlaceKind::Platform | PlaceKind::Subdistrict, _) | (_, None) => false,
            (_, Some(c)) => role != Role::CommunitySecretary && self.can(c, Permission::ManageUsers),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(grants: Vec<Grant>) -> Actor {
        Actor {
            user_id: 1,
            username: "u".into(),
            display_name: "U".into(),
            grants,
            subdistrict_communities: BTreeMap::from([(100, vec![1, 2])]),
        }
    }

    #[test]
    fn grid_worker_reaches_only_their_grid_in_the_registry() {
        let a = actor(vec![Grant::grid(1, 11)]);
        let reg = a.access(1, Permission::ViewRegistry);
        assert!(!reg.all);
        assert!(reg.covers(Some(11), None));
        assert!(!reg.covers(Some(12), None));
        assert!(a.access(1, Permission::ViewPlaces).all);
        assert!(a.access(2, Permission::ViewRegistry).is_none());
        assert!(!a.can(1, Permission::EditPlaces));
    }

    #[test]
    fn staff_see_their_community_and_only_the_secretary_reads_the_access_log() {
        let staff = actor(vec![Grant::community(Role::CommunityStaff, 1)]);
        let sec = actor(vec![Grant::community(Role::CommunitySecretary, 1)]);
        assert!(staff.access(1, Permission::ViewRegistry).all);
        assert!(staff.can(1, Permission::RevealPii));
        assert!(!staff.can(1, Permission::ViewAccessLog));
        assert!(sec.can(1, Permission::ViewAccessLog));
        assert!(!sec.can(2, Permission::ViewRegistry));
    }

    #[test]
    fn subdistrict_admin_sees_every_community_under_it_masked() {
        let a = actor(vec![Grant::subdistrict(100)]);
        assert!(a.can(1, Permission::ViewRegistry) && a.can(2, Permission::ViewRegistry));
        assert!(!a.can(3, Permission::ViewRegistry));
        assert!(!a.can(1, Permission::RevealPii));
        assert!(!a.can(1, Permission::EditRegistry));
        assert_eq!(a.community_ids(), Some(vec![1, 2]));
        assert!(a.manages_subdistrict(100) && !a.manages_subdistrict(101));
    }

    #[test]
    fn residents_see_their_household_only_and_platform_admins_never_reveal() {
        let r = actor(vec![Grant::household(1, 55)]);
        let acc = r.access(1, Permission::ViewRegistry);
        assert!(acc.covers(None, Some(55)) && !acc.covers(None, Some(56)));
        assert!(!r.can(1, Permission::ViewPlaces));
        let admin = actor(vec![Grant::platform()]);
        assert!(admin.can(42, Permission::ViewRegistry));
        assert!(!admin.can(42, Permission::RevealPii));
        assert_eq!(admin.community_ids(), None);
    }

    #[test]
    fn several_roles_add_up() {
        let a = actor(vec![Grant::grid(1, 11), Grant::grid(1, 12), Grant::household(1, 55)]);
        let acc = a.access(1, Permission::ViewRegistry);
        assert_eq!(acc.grids, vec![11, 12]);
        assert_eq!(acc.households, vec![55]);
        assert_eq!(a.roles(), vec![Role::GridWorker, Role::Resident]);
    }

    #[test]
    fn only_managers_grant_and_secretaries_are_made_by_the_platform() {
        let sec = actor(vec![Grant::community(Role::CommunitySecretary, 1)]);
        assert!(sec.may_grant(Role::CommunityStaff, Some(1)));
        assert!(!sec.may_grant(Role::CommunityStaff, Some(2)));
        assert!(!sec.may_grant(Role::CommunitySecretary, Some(1)));
        assert!(!sec.may_grant(Role::SubdistrictAdmin, Some(1)));
        assert!(actor(vec![Grant::platform()]).may_grant(Role::CommunitySecretary, Some(1)));
    }

    #[test]
    fn grants_must_name_their_place() {
        assert!(Grant::grid(1, 2).is_well_formed());
        let mut g = Grant::grid(1, 2);
        g.grid_id = None;
        assert!(!g.is_well_formed());
        assert_eq!(Role::parse("grid_worker"), Some(Role::GridWorker));
        assert_eq!(Role::parse("boss"), None);
    }
}
