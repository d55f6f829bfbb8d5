//! Residents' requests 诉求/工单: 群众点单 submit → 平台派单 dispatch → 接单 accept →
//! 办理 progress → 办结 resolve → 群众评单 rate, with a designated owner, deadlines and
//! escalation 督办, whistles 吹哨 that call units in, follow-up visits 回访, and the 五连问.
//!
//! This module holds the rules: plain types and functions, no I/O.

pub mod api;
pub mod demo;
pub mod jobs;
pub mod open311;
pub mod pages;
pub mod stats;
pub mod store;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use futures::future::BoxFuture;

use crate::auth::model::Permission::*;
use crate::error::AppResult;
use crate::services::records::model::{EntityDef, Kind, Search, Tenancy, field};
use crate::services::settings::Setting;
use crate::web::AppState;
use crate::web::capability::{Capability, Job, NavEntry, RecordExtras, Whereabouts};

/// Ticket forms carry photos: up to nine at the photo limit.
const UPLOAD_LIMIT: usize = 9 * crate::services::media::MAX_BYTES + 64 * 1024;

pub static CAP: Capability = Capability {
    api_doc: Some(api_doc),
    records: &[&CATEGORY],
    settings: &[&REOPEN_LIMIT, &AUTOCLOSE_DAYS],
    home: Some(pages::home),
    nav: Some(nav),
    record_page: Some(record_page),
    links: &[("ticket", "/c/{code}/tickets/{id}")],
    media: &[("ticket", store::media_check)],
    on_new_community: Some(new_community),
    on_start: Some(on_start),
    jobs: &[Job { name: "tickets: escalation and closing", run: run_jobs }],
    runtime: Some(|r| {
        r.insert(std::sync::Arc::new(store::Runtime::default()));
    }),
    ..Capability::new("tickets", routes)
};

/// How often a resident may reopen a ticket by a low rating.
pub static REOPEN_LIMIT: Setting = Setting::int("tickets:reopen_limit", "ticket_reopen_limit", 0, 10, "2").on_record();
/// Days after which a resolved ticket nobody rated closes itself.
pub static AUTOCLOSE_DAYS: Setting =
    Setting::int("tickets:autoclose_days", "ticket_autoclose_days", 1, 90, "7").on_record();

/// A ticket as the subject of a notification.
pub fn subject(id: i64) -> crate::services::notify::Subject {
    crate::services::notify::Subject { kind: "ticket", id }
}

fn api_doc(paths: &mut utoipa::openapi::Paths) {
    crate::web::openapi::add_endpoints(paths, api::endpoints());
}

/// What the tickets keep while the server runs.
pub fn runtime(state: &AppState) -> &store::Runtime {
    state.runtime::<std::sync::Arc<store::Runtime>>()
}

fn nav(_: &crate::auth::model::Actor, at: &Whereabouts<'_>) -> Vec<NavEntry> {
    let href = match (at.community, at.subdistrict) {
        (Some(c), _) => format!("/c/{}/tickets", c.code),
        (None, Some(s)) => format!("/subdistricts/{s}/tickets"),
        _ => return Vec::new(),
    };
    vec![NavEntry { order: 10, href, label_key: "nav.tickets", icon: "list" }]
}

/// A household's page leads to a new request for it and its plate; a grid's to its
/// requests, their figures and its plates.
fn record_page<'a>(
    _: &'a AppState,
    ctx: &'a crate::web::PageCtx,
    _: &'a crate::auth::model::Actor,
    kind: &'a str,
    c: &'a crate::auth::guard::CommunityRef,
    id: i64,
) -> BoxFuture<'a, AppResult<RecordExtras>> {
    let code = &c.code;
    let links = match kind {
        "household" => vec![
            (format!("/c/{code}/tickets/new?household_id={id}"), ctx.t("ticket.new")),
            (format!("/c/{code}/plates/household/{id}"), ctx.t("ticket.plate")),
        ],
        "grid" => vec![
            (format!("/c/{code}/tickets?view=all&grid_id={id}"), ctx.t("ticket.title")),
            (format!("/c/{code}/tickets/stats?grid_id={id}"), ctx.t("ticket.stats")),
            (format!("/c/{code}/plates/grid/{id}"), ctx.t("ticket.plate")),
        ],
        _ => Vec::new(),
    };
    Box::pin(std::future::ready(Ok(RecordExtras { links, map: None })))
}

/// A new community starts with the usual categories.
fn new_community(tx: &mut crate::db::Tx, id: i64) -> BoxFuture<'_, AppResult<()>> {
    Box::pin(store::ensure_categories(tx, id))
}

/// Every community has categories (those made before tickets existed get theirs).
fn on_start<'a>(db: &'a crate::db::Db, _: &'a crate::services::pii::Pii) -> BoxFuture<'a, anyhow::Result<()>> {
    Box::pin(async move { store::ensure_all_categories(db).await.map_err(|e| anyhow::anyhow!("{e}")) })
}

fn run_jobs(state: &AppState, now: i64) -> BoxFuture<'_, anyhow::Result<()>> {
    Box::pin(async move { jobs::run_once(state, now).await.map(|_| ()).map_err(|e| anyhow::anyhow!("{e}")) })
}

fn routes() -> Router<AppState> {
    let upload = || DefaultBodyLimit::max(UPLOAD_LIMIT);
    Router::new()
        .route("/c/{code}/tickets", get(pages::list).post(pages::create).layer(upload()))
        .route("/c/{code}/tickets/new", get(pages::new_page))
        .route("/c/{code}/tickets/map", get(pages::map_page))
        .route("/c/{code}/tickets/stats", get(pages::community_stats))
        .route("/c/{code}/tickets.xlsx", get(pages::community_ledger))
        .route("/c/{code}/tickets/{id}", get(pages::show))
        .route("/c/{code}/tickets/{id}/act", post(pages::act).layer(upload()))
        .route("/c/{code}/plates/household/{id}", get(pages::household_plate))
        .route("/c/{code}/plates/grid/{id}", get(pages::grid_plates))
        .route("/subdistricts/{id}/tickets", get(pages::subdistrict_list))
        .route("/subdistricts/{id}/tickets/stats", get(pages::subdistrict_stats))
        .route("/subdistricts/{id}/tickets.xlsx", get(pages::subdistrict_ledger))
        .route("/plate/{token}", get(pages::plate_form).post(pages::plate_submit))
        .route("/api/v1/communities/{code}/tickets", get(api::list).post(api::submit))
        .route("/api/v1/communities/{code}/tickets/stats", get(api::community_stats))
        .route("/api/v1/communities/{code}/tickets/{id}", get(api::get))
        .route("/api/v1/communities/{code}/tickets/{id}/actions", post(api::act))
        .route(
            "/api/v1/communities/{code}/tickets/{id}/photos",
            post(api::add_photo).layer(DefaultBodyLimit::max(crate::services::media::MAX_BYTES + 1024)),
        )
        .route("/api/v1/subdistricts/{id}/tickets/stats", get(api::subdistrict_stats))
        .route("/open311/v2/{file}", get(open311::root).post(open311::root))
        .route("/open311/v2/services/{file}", get(open311::definition))
        .route("/open311/v2/requests/{file}", get(open311::one))
        .route("/open311/v2/request/{file}", get(open311::one))
        .route("/open311/v2/tokens/{file}", get(open311::token))
}

/// A category handled by a team, a partner unit or a person names which.
fn category_rules<'a>(
    _: &'a mut crate::db::Tx,
    _: Option<i64>,
    _: Option<i64>,
    merged: &'a serde_json::Map<String, serde_json::Value>,
) -> futures::future::BoxFuture<'a, AppResult<Vec<crate::error::FieldError>>> {
    let needed = match merged.get("handler_kind").and_then(serde_json::Value::as_str) {
        Some("team") => Some("handler_team_id"),
        Some("partner_unit") => Some("handler_unit_id"),
        Some("user") => Some("handler_user_id"),
        _ => None,
    };
    let missing = needed.filter(|f| merged.get(*f).and_then(serde_json::Value::as_i64).is_none());
    Box::pin(std::future::ready(Ok(missing
        .map(|f| crate::error::FieldError::new(f, "validation.required"))
        .into_iter()
        .collect())))
}

/// A community's ticket categories are records like any other (list, edit, archive).
pub static CATEGORY: EntityDef = EntityDef {
    kind: "ticket_category",
    path: "ticket_categories",
    table: "ticket_categories",
    tenancy: Tenancy::Community,
    fields: &[
        field("code", Kind::Text { max: 20 }).required().listed(),
        field("name", Kind::Text { max: 40 }).required().listed(),
        field("grp", Kind::Choice(&["urban", "service"])).required().listed(),
        field("description", Kind::LongText { max: 500 }),
        field("deadline_hours", Kind::Int { min: 1, max: 2000 }).required().listed(),
        field("handler_kind", Kind::Choice(&["grid_worker", "team", "partner_unit", "user"])).required().listed(),
        field("handler_team_id", Kind::Ref("team")),
        field("handler_unit_id", Kind::Ref("partner_unit")),
        field("handler_user_id", Kind::UserRef),
        field("attributes", Kind::Questions),
    ],
    title: "name",
    search: &[Search::Contains("name")],
    filters: &[],
    children: &[],
    grid_column: None,
    household_column: None,
    read: ViewPlaces,
    write: EditPlaces,
    rules: Some(category_rules),
    after_write: None,
    holds_settings: false,
};

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
        !matches!(self, Status::Resolved | Status::Closed | Status::Rejected | Status::Duplicate)
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

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 24 * HOUR_MS;

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

/// What statistics count of one ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// 0 when the ticket has no grid.
    pub grid_id: i64,
    pub category_id: i64,
    pub status: Status,
    /// Completed no later than its deadline.
    pub on_time: bool,
    /// Someone has taken it (its first response is known).
    pub responded: bool,
    pub rating: Option<i64>,
    /// From submission to the first acceptance, and to resolution.
    pub response_ms: Option<i64>,
    pub resolution_ms: Option<i64>,
}

/// How many duration buckets there are: bucket 0 holds everything under a second, bucket
/// `b ≥ 1` starts at `1000 · 2^((b−1)/8)` ms (an eighth of an octave, about 9% wide).
pub const DURATION_BUCKETS: usize = 241;

/// Where each duration bucket starts, in milliseconds (the last reaches beyond a century).
pub fn bucket_starts() -> &'static [i64] {
    static STARTS: std::sync::LazyLock<Vec<i64>> = std::sync::LazyLock::new(|| {
        std::iter::once(0)
            .chain((1..DURATION_BUCKETS).map(|b| (1000.0 * 2f64.powf((b - 1) as f64 / 8.0)).floor() as i64))
            .collect()
    });
    &STARTS
}

/// The bucket a duration falls in.
pub fn duration_bucket(ms: i64) -> i64 {
    bucket_starts().partition_point(|&start| start <= ms.max(0)) as i64 - 1
}

/// The milliseconds `[from, to)` of a bucket.
pub fn bucket_range(bucket: i64) -> (i64, i64) {
    let starts = bucket_starts();
    let b = bucket.clamp(0, starts.len() as i64 - 1) as usize;
    (starts[b], starts.get(b + 1).copied().unwrap_or(i64::MAX))
}

/// Which bucket holds the `rank`-th smallest duration (from 0), and its rank inside that
/// bucket, given how many durations each bucket holds.
pub fn locate(counts: &std::collections::BTreeMap<i64, i64>, rank: i64) -> Option<(i64, i64)> {
    let mut before = 0;
    for (&bucket, &n) in counts {
        if rank < before + n {
            return Some((bucket, rank - before));
        }
        before += n;
    }
    None
}

/// The ranks (from 0) whose mean is the median of `n` values.
pub fn median_ranks(n: i64) -> Option<(i64, i64)> {
    (n > 0).then(|| ((n - 1) / 2, n / 2))
}

/// The tallies one ticket contributes to: (grid, category, metric). Durations are tallied
/// per grid and bucket only, under category 0 (no category has id 0), as
/// `response:<bucket>` and `resolution:<bucket>`: medians start from them.
fn contributions(f: &Facts) -> Vec<(i64, i64, String)> {
    let mut out = vec![format!("status:{}", f.status.as_str())];
    if f.responded {
        out.push("responded".into());
    }
    if f.status.is_completed() {
        out.push("completed".into());
        if f.on_time {
            out.push("on_time".into());
        }
    }
    if let Some(r) = f.rating {
        out.push("rated".into());
        if r >= 4 {
            out.push("satisfied".into());
        }
    }
    let mut out: Vec<(i64, i64, String)> = out.into_iter().map(|m| (f.grid_id, f.category_id, m)).collect();
    for (name, ms) in [("response", f.response_ms), ("resolution", f.resolution_ms)] {
        if let Some(ms) = ms {
            out.push((f.grid_id, 0, format!("{name}:{}", duration_bucket(ms))));
        }
    }
    out
}

/// How the tallies change when a ticket goes from `before` (none when new) to `after`.
pub fn tally_delta(before: Option<&Facts>, after: &Facts) -> Vec<(i64, i64, String, i64)> {
    let mut out: Vec<(i64, i64, String, i64)> = Vec::new();
    let mut add =
        |key: (i64, i64, String), d: i64| match out.iter_mut().find(|x| (x.0, x.1, &x.2) == (key.0, key.1, &key.2)) {
            Some(x) => x.3 += d,
            None => out.push((key.0, key.1, key.2, d)),
        };
    for k in before.map(contributions).unwrap_or_default() {
        add(k, -1);
    }
    for k in contributions(after) {
        add(k, 1);
    }
    out.retain(|x| x.3 != 0);
    out
}

/// Hides phone and ID numbers inside free text before it is shown publicly.
pub fn mask_numbers(text: &str) -> String {
    static RE: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"\d{17}[\dXx]|1[3-9]\d{9}").expect("valid pattern"));
    RE.replace_all(text, |c: &regex::Captures| {
        let m = &c[0];
        if m.len() == 11 { crate::services::pii::mask_phone(m) } else { crate::services::pii::mask_id_number(m) }
    })
    .into_owned()
}

/// A category every community starts with: code, name, group, deadline in hours.
pub struct DefaultCategory {
    pub code: &'static str,
    pub name: &'static str,
    pub group: &'static str,
    pub hours: i64,
    pub description: &'static str,
}

/// The urban-management event classes and the community services.
pub const DEFAULT_CATEGORIES: [DefaultCategory; 11] = [
    DefaultCategory {
        code: "01",
        name: "市容环境",
        group: "urban",
        hours: 48,
        description: "暴露垃圾、积存垃圾渣土、道路不洁、乱堆物料等",
    },
    DefaultCategory {
        code: "02",
        name: "宣传广告",
        group: "urban",
        hours: 72,
        description: "非法小广告、违规户外广告、占道宣传等",
    },
    DefaultCategory {
        code: "03",
        name: "施工管理",
        group: "urban",
        hours: 48,
        description: "施工扰民、施工占道、工地渣土等",
    },
    DefaultCategory {
        code: "04",
        name: "街面秩序",
        group: "urban",
        hours: 24,
        description: "无照经营、占道经营、乱停车等",
    },
    DefaultCategory {
        code: "05",
        name: "突发事件",
        group: "urban",
        hours: 2,
        description: "路面塌陷、水管爆裂、火情、树木倒伏等",
    },
    DefaultCategory {
        code: "11",
        name: "设施报修",
        group: "service",
        hours: 72,
        description: "路灯、楼道灯、门禁、健身器材等公共设施损坏",
    },
    DefaultCategory {
        code: "12",
        name: "矛盾调解",
        group: "service",
        hours: 120,
        description: "邻里纠纷、物业纠纷、家庭矛盾",
    },
    DefaultCategory {
        code: "13",
        name: "帮办代办",
        group: "service",
        hours: 72,
        description: "证件代办、政策申请、为老助残代办",
    },
    DefaultCategory {
        code: "14",
        name: "环境卫生",
        group: "service",
        hours: 48,
        description: "楼道卫生、蚊虫消杀、积水清理",
    },
    DefaultCategory {
        code: "15",
        name: "治安隐患",
        group: "service",
        hours: 24,
        description: "消防通道堵塞、电动车楼道充电、可疑情况",
    },
    DefaultCategory {
        code: "16",
        name: "政策咨询",
        group: "service",
        hours: 48,
        description: "社保、医保、低保、养老等政策咨询",
    },
];

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

    #[test]
    fn tallies_follow_a_ticket_through_its_life() {
        let new = Facts {
            grid_id: 3,
            category_id: 7,
            status: Status::Dispatched,
            on_time: false,
            responded: false,
            rating: None,
            response_ms: None,
            resolution_ms: None,
        };
        assert_eq!(tally_delta(None, &new), vec![(3, 7, "status:dispatched".to_string(), 1)]);
        let done = Facts { status: Status::Resolved, on_time: true, responded: true, ..new };
        let mut d = tally_delta(Some(&new), &done);
        d.sort();
        assert_eq!(
            d,
            vec![
                (3, 7, "completed".to_string(), 1),
                (3, 7, "on_time".to_string(), 1),
                (3, 7, "responded".to_string(), 1),
                (3, 7, "status:dispatched".to_string(), -1),
                (3, 7, "status:resolved".to_string(), 1),
            ]
        );
        let rated = Facts { status: Status::Closed, rating: Some(5), ..done };
        let mut d = tally_delta(Some(&done), &rated);
        d.sort();
        assert_eq!(
            d,
            vec![
                (3, 7, "rated".to_string(), 1),
                (3, 7, "satisfied".to_string(), 1),
                (3, 7, "status:closed".to_string(), 1),
                (3, 7, "status:resolved".to_string(), -1),
            ]
        );
        // Moving to another grid moves every tally.
        let moved = Facts { grid_id: 4, ..rated };
        assert_eq!(tally_delta(Some(&rated), &moved).len(), 12);
    }

    #[test]
    fn durations_are_tallied_by_bucket_and_move_with_the_ticket() {
        let open = Facts {
            grid_id: 3,
            category_id: 7,
            status: Status::Accepted,
            on_time: false,
            responded: true,
            rating: None,
            response_ms: Some(90_000),
            resolution_ms: None,
        };
        let b = duration_bucket(90_000);
        let delta = tally_delta(None, &open);
        assert!(delta.contains(&(3, 0, format!("response:{b}"), 1)));
        let resolved = Facts { status: Status::Resolved, resolution_ms: Some(5 * HOUR_MS), ..open };
        let d = tally_delta(Some(&open), &resolved);
        assert!(d.contains(&(3, 0, format!("resolution:{}", duration_bucket(5 * HOUR_MS)), 1)));
        assert!(!d.iter().any(|x| x.2.starts_with("response:")), "an unchanged response time stays put");
    }

    #[test]
    fn buckets_cover_every_duration_without_gaps() {
        let starts = bucket_starts();
        assert_eq!(starts.len(), DURATION_BUCKETS);
        assert!(starts.windows(2).all(|w| w[0] < w[1]));
        assert_eq!((starts[1], starts[9]), (1000, 2000), "an octave is eight buckets");
        for ms in [0, 999, 1000, 1090, 1091, 59_999, 86_400_000, 40 * DAY_MS, i64::MAX / 2] {
            let (from, to) = bucket_range(duration_bucket(ms));
            assert!(from <= ms && ms < to, "{ms} in [{from}, {to})");
        }
        assert_eq!(duration_bucket(-5), 0);
    }

    #[test]
    fn the_median_is_found_from_bucket_counts() {
        let counts = std::collections::BTreeMap::from([(2, 3), (5, 0), (7, 4)]);
        assert_eq!(locate(&counts, 0), Some((2, 0)));
        assert_eq!(locate(&counts, 2), Some((2, 2)));
        assert_eq!(locate(&counts, 3), Some((7, 0)));
        assert_eq!(locate(&counts, 6), Some((7, 3)));
        assert_eq!(locate(&counts, 7), None);
        assert_eq!(median_ranks(7), Some((3, 3)));
        assert_eq!(median_ranks(4), Some((1, 2)));
        assert_eq!(median_ranks(0), None);
    }

    #[test]
    fn the_migration_knows_the_same_buckets() {
        let sql = include_str!("../../../migrations/0004_ticket_figures.sql");
        let re = regex::Regex::new(r"\((\d+), (\d+), (\d+)\)").unwrap();
        let rows: Vec<(i64, i64, i64)> = re
            .captures_iter(sql)
            .map(|c| (c[1].parse().unwrap(), c[2].parse().unwrap(), c[3].parse().unwrap()))
            .collect();
        assert_eq!(rows.len(), DURATION_BUCKETS);
        for (b, from, to) in rows {
            assert_eq!(bucket_range(b), (from, to), "bucket {b}");
        }
    }

    #[test]
    fn numbers_in_public_text_are_masked() {
        let text = "我是13812345678，身份证11010519491231002X，楼道灯坏了3天";
        assert_eq!(mask_numbers(text), "我是138****5678，身份证110***********002X，楼道灯坏了3天");
    }
}
