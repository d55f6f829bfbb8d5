//! A ticket's life: its states, the actions that move it, who may take each, and when it
//! is due for escalation.

use serde::{Deserialize, Serialize};

use super::{DAY_MS, HOUR_MS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Submitted,
    Dispatched,
    Accepted,
    InProgress,
    Resolved,
    Closed,
    Reopened,
    Rejected,
    Duplicate,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Submitted,
        Status::Dispatched,
        Status::Accepted,
        Status::InProgress,
        Status::Resolved,
        Status::Closed,
        Status::Reopened,
        Status::Rejected,
        Status::Duplicate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::Dispatched => "dispatched",
            Status::Accepted => "accepted",
            Status::InProgress => "in_progress",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
            Status::Reopened => "reopened",
            Status::Rejected => "rejected",
            Status::Duplicate => "duplicate",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Still someone's work (counts toward deadlines and escalation).
    pub fn is_open(self) -> bool {
        !self.is_completed() && !self.is_turned_away()
    }

    /// Turned away (rejected, or the same as another): 办结率 leaves it out altogether.
    pub fn is_turned_away(self) -> bool {
        matches!(self, Status::Rejected | Status::Duplicate)
    }

    /// Done, as 办结率 counts it.
    pub fn is_completed(self) -> bool {
        matches!(self, Status::Resolved | Status::Closed)
    }

    /// Open311 knows only open and closed.
    pub fn open311(self) -> &'static str {
        if self.is_open() { "open" } else { "closed" }
    }
}

/// Where a ticket came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A resident on the phone page.
    Web,
    /// Staff taking a call on the 民情热线 for someone.
    Hotline,
    /// A grid worker on patrol 网格走访.
    Patrol,
    /// The QR code on a household's 网格服务牌.
    Plate,
    /// An Open311 client.
    Open311,
}

impl Channel {
    pub const ALL: [Channel; 5] = [Channel::Web, Channel::Hotline, Channel::Patrol, Channel::Plate, Channel::Open311];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Hotline => "hotline",
            Channel::Patrol => "patrol",
            Channel::Plate => "plate",
            Channel::Open311 => "open311",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Who a category's tickets go to when nobody dispatches them by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handler {
    /// The grid worker of the ticket's grid.
    GridWorker,
    /// A team's pool: any member may take it.
    Team(i64),
    /// A partner unit's pool.
    Unit(i64),
    /// A named person.
    User(i64),
}

impl Handler {
    pub fn kind(self) -> &'static str {
        match self {
            Handler::GridWorker => "grid_worker",
            Handler::Team(_) => "team",
            Handler::Unit(_) => "partner_unit",
            Handler::User(_) => "user",
        }
    }

    pub fn from_parts(kind: &str, team: Option<i64>, unit: Option<i64>, user: Option<i64>) -> Option<Handler> {
        match kind {
            "grid_worker" => Some(Handler::GridWorker),
            "team" => team.map(Handler::Team),
            "partner_unit" => unit.map(Handler::Unit),
            "user" => user.map(Handler::User),
            _ => None,
        }
    }
}

/// What someone does to a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Submit,
    Dispatch,
    Accept,
    Start,
    Resolve,
    Rate,
    Close,
    Reopen,
    Reject,
    Duplicate,
    Reassign,
    Note,
    Whistle,
    Respond,
    FollowUp,
    Escalate,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Dispatch => "dispatch",
            Action::Accept => "accept",
            Action::Start => "start",
            Action::Resolve => "resolve",
            Action::Rate => "rate",
            Action::Close => "close",
            Action::Reopen => "reopen",
            Action::Reject => "reject",
            Action::Duplicate => "duplicate",
            Action::Reassign => "reassign",
            Action::Note => "note",
            Action::Whistle => "whistle",
            Action::Respond => "respond",
            Action::FollowUp => "follow_up",
            Action::Escalate => "escalate",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        [
            Action::Dispatch,
            Action::Accept,
            Action::Start,
            Action::Resolve,
            Action::Rate,
            Action::Close,
            Action::Reopen,
            Action::Reject,
            Action::Duplicate,
            Action::Reassign,
            Action::Note,
            Action::Whistle,
            Action::Respond,
            Action::FollowUp,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }

    /// Whether the action needs a written reason or note.
    pub fn needs_note(self) -> bool {
        matches!(
            self,
            Action::Reopen | Action::Reject | Action::Duplicate | Action::Resolve | Action::FollowUp | Action::Respond
        )
    }
}

/// The state an action leads to from `from`, or why it cannot be taken.
pub fn next_status(from: Status, action: Action) -> Result<Status, &'static str> {
    use Action as A;
    use Status as S;
    let to = match (action, from) {
        (A::Dispatch, S::Submitted | S::Dispatched | S::Reopened | S::Accepted) => S::Dispatched,
        (A::Accept, S::Dispatched) => S::Accepted,
        (A::Start, S::Accepted) => S::InProgress,
        (A::Resolve, S::Accepted | S::InProgress) => S::Resolved,
        (A::Close, S::Resolved) => S::Closed,
        (A::Reopen, S::Resolved | S::Closed) => S::Reopened,
        (A::Reject, S::Submitted | S::Dispatched | S::Reopened) => S::Rejected,
        (A::Duplicate, s) if s.is_open() => S::Duplicate,
        // These leave the state as it is.
        (A::Reassign, s) if s.is_open() => s,
        (A::Note | A::Whistle | A::Respond, s) if s.is_open() || s == S::Resolved => s,
        (A::FollowUp, S::Resolved | S::Closed) => from,
        (A::Rate, S::Resolved) => S::Closed,
        (A::Escalate, s) if s.is_open() => s,
        _ => return Err("ticket.not_now"),
    };
    Ok(to)
}

/// How the actor stands to one ticket, worked out by the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Standing {
    /// Community staff or secretary of the ticket's community.
    pub staff: bool,
    /// The designated owner.
    pub owner: bool,
    /// Who submitted it (a signed-in resident).
    pub submitter: bool,
    /// A member of the team or unit whose pool holds it.
    pub pool_member: bool,
    /// The grid worker of the ticket's grid.
    pub grid_worker: bool,
    /// A member of a unit called in by a whistle not yet answered.
    pub called_in: bool,
    /// Sees it as subdistrict or platform administrator (reading only).
    pub overseer: bool,
}

impl Standing {
    pub fn may_see(self) -> bool {
        self.staff
            || self.owner
            || self.submitter
            || self.pool_member
            || self.grid_worker
            || self.called_in
            || self.overseer
    }

    /// Whether this actor may take this action (the state is checked separately).
    pub fn may(self, action: Action) -> bool {
        match action {
            Action::Submit => true,
            Action::Dispatch
            | Action::Reject
            | Action::Duplicate
            | Action::Whistle
            | Action::FollowUp
            | Action::Close => self.staff,
            Action::Reassign => self.staff || self.owner,
            Action::Reopen => self.staff,
            Action::Accept => self.pool_member || self.owner || self.grid_worker,
            Action::Start | Action::Resolve => self.owner || self.staff,
            Action::Note => self.owner || self.staff || self.grid_worker,
            Action::Rate => self.submitter,
            Action::Respond => self.called_in,
            Action::Escalate => false,
        }
    }
}

/// What a rating does: 1–2 reopen the ticket (while the community's limit allows), 3–5
/// close it.
pub fn after_rating(rating: i64, reopen_count: i64, reopen_limit: i64) -> Status {
    if rating <= 2 && reopen_count < reopen_limit { Status::Reopened } else { Status::Closed }
}

/// The escalation a ticket is due for now, if any: to the community secretary once it is
/// overdue, to the subdistrict one deadline-length later (at least a day).
pub fn escalation_due(now: i64, status: Status, due_at: i64, level: i64, deadline_hours: i64) -> Option<i64> {
    if !status.is_open() {
        return None;
    }
    let step = (deadline_hours * HOUR_MS).max(DAY_MS);
    match level {
        0 if now > due_at => Some(1),
        1 if now > due_at + step => Some(2),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lifecycle_runs_from_submit_to_close() {
        let mut s = Status::Submitted;
        for (a, to) in [
            (Action::Dispatch, Status::Dispatched),
            (Action::Accept, Status::Accepted),
            (Action::Start, Status::InProgress),
            (Action::Resolve, Status::Resolved),
            (Action::Rate, Status::Closed),
            (Action::Reopen, Status::Reopened),
            (Action::Dispatch, Status::Dispatched),
        ] {
            s = next_status(s, a).unwrap();
            assert_eq!(s, to);
        }
    }

    #[test]
    fn steps_out_of_order_are_refused() {
        assert!(next_status(Status::Submitted, Action::Resolve).is_err());
        assert!(next_status(Status::Closed, Action::Accept).is_err());
        assert!(next_status(Status::Rejected, Action::Dispatch).is_err());
        assert!(next_status(Status::Duplicate, Action::Reassign).is_err());
        assert!(next_status(Status::Accepted, Action::Accept).is_err(), "a taken order cannot be taken twice");
        assert_eq!(next_status(Status::Resolved, Action::FollowUp), Ok(Status::Resolved));
    }

    #[test]
    fn each_action_belongs_to_its_roles() {
        let resident = Standing { submitter: true, ..Standing::default() };
        assert!(resident.may(Action::Rate) && !resident.may(Action::Dispatch) && !resident.may(Action::Accept));
        let member = Standing { pool_member: true, ..Standing::default() };
        assert!(member.may(Action::Accept) && !member.may(Action::Resolve));
        let owner = Standing { owner: true, ..Standing::default() };
        assert!(owner.may(Action::Resolve) && owner.may(Action::Reassign) && !owner.may(Action::Reject));
        let staff = Standing { staff: true, ..Standing::default() };
        assert!(staff.may(Action::Dispatch) && staff.may(Action::Whistle) && !staff.may(Action::Rate));
        let unit = Standing { called_in: true, ..Standing::default() };
        assert!(unit.may(Action::Respond) && !unit.may(Action::Resolve));
        let overseer = Standing { overseer: true, ..Standing::default() };
        assert!(overseer.may_see() && !overseer.may(Action::Dispatch) && !Standing::default().may_see());
    }

    #[test]
    fn low_ratings_reopen_up_to_the_limit() {
        assert_eq!(after_rating(1, 0, 2), Status::Reopened);
        assert_eq!(after_rating(2, 1, 2), Status::Reopened);
        assert_eq!(after_rating(2, 2, 2), Status::Closed);
        assert_eq!(after_rating(3, 0, 2), Status::Closed);
    }

    #[test]
    fn escalation_goes_to_the_secretary_then_the_subdistrict() {
        let due = 10 * DAY_MS;
        assert_eq!(escalation_due(due - 1, Status::Dispatched, due, 0, 48), None);
        assert_eq!(escalation_due(due + 1, Status::Dispatched, due, 0, 48), Some(1));
        assert_eq!(escalation_due(due + DAY_MS, Status::Accepted, due, 1, 48), None);
        assert_eq!(escalation_due(due + 2 * DAY_MS + 1, Status::Accepted, due, 1, 48), Some(2));
        assert_eq!(escalation_due(due + 9 * DAY_MS, Status::Accepted, due, 2, 48), None);
        assert_eq!(escalation_due(due + 9 * DAY_MS, Status::Resolved, due, 0, 48), None);
        // Short deadlines still wait a day before going up again.
        assert_eq!(escalation_due(due + HOUR_MS * 5, Status::Accepted, due, 1, 2), None);
    }
}
