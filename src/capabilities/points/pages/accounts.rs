//! The ledger for staff: the rules and their versions, points given or taken by hand,
//! the group accounts, the journal, and corrections by reversal.

use askama::Template;
use axum::extract::{Path, State};
use serde_json::{Map, Value};

use super::{community, type_label, type_options};
use crate::auth::guard;
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Permission};
use crate::capabilities::points::store::{self, NewRule};
use crate::capabilities::points::{Rule, RuleKind, ledger};
use crate::error::{AppError, AppResult};
use crate::services::ledger::Movement;
use crate::web::AppState;
use crate::web::form::{CsrfForm, Fields, text};
use crate::web::ui::{self, Cell, Form, Input, InputKind, Item, Refusal, Table};
use crate::web::{Notice, PageCtx, PageResult, SignedPage, done, fmt, render};

// ---------- the ledger (staff) ----------

/// What the ledger page shows, as read from the database.
pub struct LedgerData {
    /// Every version of every rule, oldest first.
    pub rules: Vec<Rule>,
    /// Movements with the names of their two accounts, newest first.
    pub journal: Vec<(Movement, String, String)>,
    /// Teams and partner units: (kind, id, name, balance).
    pub groups: Vec<(String, i64, String, i64)>,
    /// The moment the rules in force are judged at.
    pub now: i64,
}

#[derive(Template)]
#[template(path = "points/ledger.html")]
pub struct LedgerPage {
    pub ctx: PageCtx,
    pub title: String,
    pub alert: Option<String>,
    pub community: String,
    pub links: Vec<(String, String)>,
    pub rules: Table,
    pub add_rule: Form,
    pub give: Form,
    pub groups: Vec<Item>,
    pub journal: Table,
    pub reverse: Form,
}

async fn load_ledger(state: &AppState, actor: &Actor, c: &CommunityRef) -> AppResult<LedgerData> {
    guard::require(actor, c.id, Permission::ManagePoints)?;
    let mut conn = state.db.read().await?;
    let rules = store::all_rules(&mut conn, c.id).await?;
    let journal = ledger::journal(&mut conn, c.id, 50).await?;
    let groups = ledger::group_balances(&mut conn, c.id).await?;
    Ok(LedgerData { rules, journal, groups, now: crate::db::now_ms() })
}

fn rule_table(ctx: &PageCtx, rules: &[Rule], now: i64) -> Table {
    let rows = rules
        .iter()
        .rev()
        .map(|r| {
            let what = match r.kind {
                RuleKind::PerHour => ctx.tr("points.per_hour_n", "n", r.points),
                RuleKind::Deduction => format!("−{}", r.points),
                RuleKind::PerActivity | RuleKind::Bonus => format!("+{}", r.points),
            };
            let caps = [
                r.daily_cap.map(|d| ctx.tr("points.daily_cap_n", "n", d)),
                r.monthly_cap.map(|m| ctx.tr("points.monthly_cap_n", "n", m)),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
            let until = r.effective_to.map(fmt::datetime).unwrap_or_else(|| ctx.t("points.until_changed"));
            let service = r
                .service_type
                .as_deref()
                .map(|t| if t == "*" { ctx.t("points.any_service") } else { type_label(ctx, t) })
                .unwrap_or_default();
            vec![
                Cell::text(format!("{} v{}", r.name, r.version)),
                Cell::text(ctx.t(&format!("points.kind.{}", r.kind.as_str()))),
                Cell::text(service),
                Cell::text(what),
                Cell::text(caps),
                Cell::text(format!("{} — {until}", fmt::datetime(r.effective_from))),
                Cell::text(if r.in_force(now) { ctx.t("points.in_force") } else { String::new() }),
            ]
        })
        .collect();
    Table {
        head: [
            "points.rule_name",
            "points.rule_kind",
            "points.service_type",
            "points.points",
            "points.caps",
            "points.effective",
            "",
        ]
        .iter()
        .map(|k| if k.is_empty() { String::new() } else { ctx.t(k) })
        .collect(),
        rows,
        empty: ctx.t("list.empty"),
        sort: Vec::new(),
    }
}

/// A new rule, or a new version of one (picked by its code).
fn rule_form(ctx: &PageCtx, code: &str, rules: &[Rule]) -> Form {
    let kinds: Vec<(String, String)> = RuleKind::ALL
        .into_iter()
        .map(|k| (k.as_str().to_string(), ctx.t(&format!("points.kind.{}", k.as_str()))))
        .collect();
    let mut types = vec![("*".to_string(), ctx.t("points.any_service"))];
    types.extend(type_options(ctx));
    let mut codes = vec![(String::new(), ctx.t("points.new_rule"))];
    let mut seen = std::collections::BTreeSet::new();
    for r in rules.iter().rev() {
        if seen.insert(r.code.clone()) {
            codes.push((r.code.clone(), format!("{}（{}）", r.name, ctx.t("points.new_version"))));
        }
    }
    Form::new(ctx.t("points.add_rule"), format!("/c/{code}/points/rules"), ctx.t("common.save"))
        .input(Input::new("code", ctx.t("points.rule_code"), InputKind::Select(codes)))
        .input(Input::new("name", ctx.t("points.rule_name"), InputKind::Text).required())
        .input(Input::new("kind", ctx.t("points.rule_kind"), InputKind::Select(kinds)).value("per_hour"))
        .input(Input::new("service_type", ctx.t("points.service_type"), InputKind::Select(types)))
        .input(Input::new("points", ctx.t("points.points"), InputKind::Number).required())
        .input(Input::new("daily_cap", ctx.t("points.daily_cap"), InputKind::Number))
        .input(Input::new("monthly_cap", ctx.t("points.monthly_cap"), InputKind::Number))
        .input(
            Input::new("effective_from", ctx.t("points.effective_from"), InputKind::DateTime)
                .hint(ctx.t("points.effective_from_hint")),
        )
        .folded()
}

/// What may be given by hand: an amount, or a bonus or deduction rule in force.
fn manual_rules(ctx: &PageCtx, rules: &[Rule], now: i64) -> Vec<(String, String)> {
    std::iter::once((String::new(), ctx.t("points.by_amount")))
        .chain(
            rules.iter().filter(|r| r.kind.is_manual() && r.in_force(now)).map(|r| (r.id.to_string(), r.name.clone())),
        )
        .collect()
}

fn journal_table(ctx: &PageCtx, journal: &[(Movement, String, String)]) -> Table {
    Table {
        head: ["points.at", "points.accounts", "points.amount", "points.cause", "points.reason", "points.movement"]
            .iter()
            .map(|k| ctx.t(k))
            .collect(),
        rows: journal
            .iter()
            .map(|(m, from, to)| {
                vec![
                    Cell::text(fmt::datetime(m.at)),
                    Cell::text(format!("{from} → {to}")),
                    Cell::text(m.amount.to_string()),
                    Cell::text(ctx.t(&format!("points.cause.{}", m.cause))),
                    Cell::text(m.reason.clone().unwrap_or_default()),
                    Cell::text(m.id.to_string()),
                ]
            })
            .collect(),
        empty: ctx.t("list.empty"),
        sort: Vec::new(),
    }
}

/// The ledger page from what was read; `r` fills in a refused form.
fn ledger_view(ctx: PageCtx, c: &CommunityRef, d: &LedgerData, r: &Refusal) -> LedgerPage {
    let code = &c.code;
    let holders: Vec<(String, String)> = d
        .groups
        .iter()
        .map(|(kind, id, name, _)| {
            (format!("{kind}:{id}"), format!("{} · {name}", ctx.t(&format!("points.holder_{kind}"))))
        })
        .collect();
    let groups: Vec<Item> = d
        .groups
        .iter()
        .filter(|g| g.3 != 0)
        .map(|(kind, _, name, balance)| Item {
            title: name.clone(),
            sub: format!("{} · {}", ctx.t(&format!("points.holder_{kind}")), ctx.tr("points.n_points", "n", balance)),
            ..Item::default()
        })
        .collect();
    let links = vec![
        (format!("/c/{code}/service-records"), ctx.t("points.review")),
        (format!("/c/{code}/volunteers"), ctx.t("points.volunteers")),
        (format!("/c/{code}/rewards"), ctx.t("points.rewards")),
        (format!("/c/{code}/handover"), ctx.t("points.handover")),
        (format!("/c/{code}/commendations"), ctx.t("points.commendations")),
        (format!("/c/{code}/points/stats"), ctx.t("points.stats")),
    ];
    let add_rule = rule_form(&ctx, code, &d.rules).refused(r);
    let give = give_form(&ctx, code, None, manual_rules(&ctx, &d.rules, d.now), holders).folded().refused(r);
    let reverse = Form::new(ctx.t("points.reverse"), format!("/c/{code}/points/reverse"), ctx.t("points.reverse"))
        .input(Input::new("movement_id", ctx.t("points.movement"), InputKind::Number).required())
        .input(Input::new("reason", ctx.t("points.reason"), InputKind::TextArea).required())
        .danger(ctx.t("points.reverse_confirm"))
        .folded()
        .refused(r);
    LedgerPage {
        title: ctx.t("points.ledger"),
        alert: r.alert_for(&[&add_rule, &give, &reverse]),
        community: c.name.clone(),
        links,
        rules: rule_table(&ctx, &d.rules, d.now),
        add_rule,
        give,
        groups,
        journal: journal_table(&ctx, &d.journal),
        reverse,
        ctx,
    }
}

async fn show_ledger(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef, r: &Refusal) -> PageResult {
    let d = load_ledger(state, actor, c).await?;
    render(&ledger_view(ctx, c, &d, r))
}

/// A form of the ledger page refused: the page again, that form filled in.
async fn refused_on_ledger(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    e: AppError,
    m: &Map<String, Value>,
    action: &str,
) -> PageResult {
    ui::refused(e, ctx, m, action, |ctx, r| async move { show_ledger(state, ctx, actor, c, &r).await }).await
}

pub async fn ledger_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    show_ledger(&state, ctx, &actor, &c, &Refusal::none()).await
}

/// A rule from its form; refused naming each field that does not parse (the points are
/// required, the caps and the start not).
fn new_rule(m: &Map<String, Value>) -> AppResult<NewRule> {
    let mut f = Fields::new(m);
    let points = f.int("points");
    let input = NewRule {
        code: f.opt("code"),
        name: f.text("name"),
        kind: f.text("kind"),
        service_type: f.opt("service_type"),
        points: points.unwrap_or(0),
        daily_cap: f.int("daily_cap"),
        monthly_cap: f.int("monthly_cap"),
        effective_from: f.when("effective_from"),
    };
    f.checked()?;
    match points {
        Some(_) => Ok(input),
        None => Err(AppError::field("points", "validation.required")),
    }
}

pub async fn add_rule(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let result = match new_rule(&m) {
        Ok(input) => store::add_rule(&state, &actor, c.id, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(done(&format!("/c/{code}/points"), Notice::Saved)),
        Err(e) => refused_on_ledger(&state, ctx, &actor, &c, e, &m, &format!("/c/{code}/points/rules")).await,
    }
}

pub async fn give(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let holder = text(&m, "holder");
    let (team, unit) = match holder.split_once(':') {
        Some(("team", id)) => (id.parse().ok(), None),
        Some(("unit", id)) => (None, id.parse().ok()),
        _ => (None, None),
    };
    let mut f = Fields::new(&m);
    // The person's number counts only when no team or unit is chosen.
    let user = if team.is_none() && unit.is_none() { f.id("user_id") } else { None };
    let g = store::ByHand {
        user_id: user,
        team_id: team,
        partner_unit_id: unit,
        rule_id: f.id("rule_id"),
        amount: f.int("amount"),
        reason: f.text("reason"),
        key: format!("hand:{}", f.text("key")),
    };
    let result = if f.text("key").is_empty() {
        Err(AppError::BadRequest("key".into()))
    } else {
        match f.checked() {
            Ok(()) => store::give(&state, &actor, c.id, g).await,
            Err(e) => Err(e),
        }
    };
    match result {
        Ok(_) => Ok(done(&format!("/c/{code}/points"), Notice::Saved)),
        Err(e) => refused_on_ledger(&state, ctx, &actor, &c, e, &m, &format!("/c/{code}/points/give")).await,
    }
}

pub async fn reverse(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let mut f = Fields::new(&m);
    let movement = f.id("movement_id");
    let result = match (f.checked(), movement) {
        (Err(e), _) => Err(e),
        (Ok(()), Some(id)) => store::correct(&state, &actor, c.id, id, &f.text("reason")).await,
        (Ok(()), None) => Err(AppError::field("movement_id", "validation.required")),
    };
    match result {
        Ok(_) => Ok(done(&format!("/c/{code}/points"), Notice::Saved)),
        // A movement not found is a wrong number typed: said on its field.
        Err(e) => {
            let e = match e {
                AppError::NotFound => AppError::field("movement_id", "validation.reference"),
                other => other,
            };
            refused_on_ledger(&state, ctx, &actor, &c, e, &m, &format!("/c/{code}/points/reverse")).await
        }
    }
}

/// Giving by hand: to a volunteer (on their page), or on the ledger page to a user by
/// number or to a team's or partner unit's account (`holders`).
pub(super) fn give_form(
    ctx: &PageCtx,
    code: &str,
    user: Option<i64>,
    rules: Vec<(String, String)>,
    holders: Vec<(String, String)>,
) -> Form {
    let mut f = Form::new(ctx.t("points.give"), format!("/c/{code}/points/give"), ctx.t("points.give_submit"));
    f = match user {
        Some(u) => f.input(Input::hidden("user_id", u)),
        None => {
            let mut options = vec![(String::new(), ctx.t("points.holder_person"))];
            options.extend(holders);
            f.input(Input::new("holder", ctx.t("points.give_to"), InputKind::Select(options))).input(Input::new(
                "user_id",
                ctx.t("points.user_id"),
                InputKind::Number,
            ))
        }
    };
    let mut key = [0u8; 8];
    getrandom::fill(&mut key).expect("system random source");
    f.input(Input::new("rule_id", ctx.t("points.rule"), InputKind::Select(rules)))
        .input(Input::new("amount", ctx.t("points.amount"), InputKind::Number).hint(ctx.t("points.amount_hint")))
        .input(Input::new("reason", ctx.t("points.reason"), InputKind::TextArea).required())
        // One submission, one movement: a double tap posts once.
        .input(Input::hidden("key", hex::encode(key)))
}

#[cfg(test)]
mod tests {
    use askama::Template;

    use super::*;

    fn place() -> CommunityRef {
        CommunityRef {
            id: 1,
            code: "c1".into(),
            name: "<script>x</script>社区".into(),
            subdistrict_id: 1,
            kind: String::new(),
        }
    }

    fn data() -> LedgerData {
        let rule = Rule {
            id: 5,
            code: "care".into(),
            version: 2,
            name: "<script>x</script>关爱".into(),
            kind: RuleKind::Bonus,
            service_type: Some("*".into()),
            points: 20,
            daily_cap: Some(40),
            monthly_cap: None,
            effective_from: 0,
            effective_to: None,
        };
        let movement = Movement {
            community_id: 1,
            id: 77,
            unit: "points".into(),
            at: 0,
            from_account: 1,
            to_account: 2,
            amount: 30,
            cause: "bonus".into(),
            cause_id: None,
            rule_id: Some(5),
            reason: Some("<script>x</script>例会".into()),
            author_id: None,
            idempotency_key: "k".into(),
            reverses: None,
        };
        LedgerData {
            rules: vec![rule],
            journal: vec![(movement, "发放".into(), "张三".into())],
            groups: vec![("team".into(), 3, "<script>x</script>队".into(), 650)],
            now: 1,
        }
    }

    /// The ledger from plain data: every name and reason stays text.
    #[test]
    fn the_ledger_shows_rules_groups_and_journal_as_text() {
        let html = ledger_view(crate::web::tests::ctx(), &place(), &data(), &Refusal::none()).render().unwrap();
        assert!(!html.contains("<script>x"), "{html}");
        assert!(html.contains("&lt;script&gt;") || html.contains("&#60;script&#62;"), "{html}");
        assert!(html.contains("action=\"/c/c1/points/give\"") && html.contains("value=\"team:3\""));
        assert!(html.contains("<details class=\"card action\">"), "secondary forms start folded");
    }

    /// A refused rule opens its form again with the error on its field.
    #[test]
    fn a_refused_rule_shows_its_error_on_its_field() {
        let r = Refusal {
            form_id: Form::id_for("/c/c1/points/rules"),
            typed: [("points".to_string(), Value::String("abc".into()))].into_iter().collect(),
            errors: [("points".to_string(), "请填写整数".to_string())].into(),
            alert: Some("有几项需要修改".into()),
        };
        let page = ledger_view(crate::web::tests::ctx(), &place(), &data(), &r);
        assert!(!page.add_rule.folded && page.give.folded, "only the refused form opens");
        let html = page.render().unwrap();
        assert!(html.contains(r#"id="e-c-c1-points-rules-points""#), "{html}");
        assert!(html.contains("请填写整数") && html.contains("value=\"abc\""));
        assert!(html.contains("有几项需要修改"));
    }
}
