//! The council: a resident raises a proposal, staff screen it, two rounds are held with
//! comments in between, 300 households vote at once under a secret ballot and the tally is
//! exact, the decision becomes a project, and anyone follows it on the public page. Every
//! vote out of turn is refused and changes nothing.

use axum::http::StatusCode;
use linli::auth::model::Grant;
use linli::db::citus::Span;
use linli::db::query;
use serde_json::json;

use crate::helpers::{Resp, TestApp, visible_text};

impl TestApp {
    /// A resident raises a proposal for the council of the community, through the page.
    pub async fn raise_council_proposal(&self, title: &str, body: &str) -> Resp {
        self.post_form(&format!("/c/{HS}/council"), &[("title", title), ("body", body), ("scope", "community")]).await
    }

    /// Someone raises a proposal through the API.
    pub async fn raise_council_proposal_api(&self, title: &str, body: &str) -> Resp {
        self.post_json(&format!("/api/v1/communities/{HS}/proposals"), json!({"title": title, "body": body})).await
    }

    /// Staff screen a proposal (`accept` puts it on the agenda), through the page.
    pub async fn screen_council_proposal(&self, id: i64, action: &str) -> Resp {
        self.post_form(&format!("/c/{HS}/council/{id}/screen?a={action}"), &[("action", action)]).await
    }

    /// Staff screen a proposal through the API.
    pub async fn screen_council_proposal_api(&self, id: i64, action: &str) -> Resp {
        self.post_json(&format!("/api/v1/communities/{HS}/proposals/{id}/screening"), json!({"action": action})).await
    }

    /// Staff name someone (by sign-in name) to the council, with a title or none.
    pub async fn add_council_member(&self, user: &str, title: Option<&str>) -> Resp {
        let mut fields = vec![("user", user)];
        fields.extend(title.map(|t| ("title", t)));
        self.post_form(&format!("/c/{HS}/council/members"), &fields).await
    }

    /// Staff set the council's voting rules: who votes, the quorum and the majority.
    pub async fn set_council_vote_rules(&self, voters: &str, quorum_pct: &str, majority_pct: &str) -> Resp {
        let fields = [("voters", voters), ("quorum_pct", quorum_pct), ("majority_pct", majority_pct)];
        self.post_form(&format!("/c/{HS}/council/settings"), &fields).await
    }

    /// Staff record a council meeting (a round of consultation) on a proposal, with the members present.
    pub async fn hold_council_meeting(
        &self,
        id: i64,
        held_at: &str,
        place: &str,
        minutes: &str,
        present: &[i64],
    ) -> Resp {
        let present: Vec<String> = present.iter().map(|u| u.to_string()).collect();
        let mut fields = vec![("held_at", held_at), ("place", place), ("minutes", minutes)];
        fields.extend(present.iter().map(|p| ("present", p.as_str())));
        self.post_form(&format!("/c/{HS}/council/{id}/rounds"), &fields).await
    }

    /// A resident comments on a proposal between meetings.
    pub async fn comment_on_council_proposal(&self, id: i64, body: &str) -> Resp {
        self.post_form(&format!("/c/{HS}/council/{id}/comments"), &[("body", body)]).await
    }

    /// Staff open the vote on a proposal until a local time, through the page.
    pub async fn open_council_vote(&self, id: i64, closes_at: &str) -> Resp {
        self.post_form(&format!("/c/{HS}/council/{id}/vote"), &[("closes_at", closes_at)]).await
    }

    /// Staff open the vote on a proposal until an RFC 3339 time, through the API.
    pub async fn open_council_vote_api(&self, id: i64, closes_at: &str) -> Resp {
        self.post_json(&format!("/api/v1/communities/{HS}/proposals/{id}/vote"), json!({"closes_at": closes_at})).await
    }

    /// A voter casts a ballot on a proposal (`for`, `against`, `abstain`), through the page.
    pub async fn cast_council_vote(&self, id: i64, choice: &str) -> Resp {
        self.post_form(&format!("/c/{HS}/council/{id}/ballot"), &[("choice", choice)]).await
    }

    /// A voter casts a ballot on a proposal through the API.
    pub async fn cast_council_vote_api(&self, id: i64, choice: &str) -> Resp {
        self.post_json(&proposal_ballots_api(id), json!({"choice": choice})).await
    }

    /// Staff close the vote with the council's decision, through the page.
    pub async fn decide_council_proposal(&self, id: i64, decision: &str) -> Resp {
        self.post_form(&format!("/c/{HS}/council/{id}/close"), &[("decision", decision)]).await
    }

    /// Staff close the vote with the council's decision, through the API.
    pub async fn decide_council_proposal_api(&self, id: i64, decision: &str) -> Resp {
        let path = format!("/api/v1/communities/{HS}/proposals/{id}/decision");
        self.post_json(&path, json!({"decision": decision})).await
    }

    /// Staff turn a passed proposal into a project (title, owner, budget, milestones), through the page.
    pub async fn make_council_project(&self, id: i64, fields: &[(&str, &str)]) -> Resp {
        self.post_form(&format!("/c/{HS}/council/{id}/project"), fields).await
    }

    /// Staff turn a proposal into a project through the API.
    pub async fn make_council_project_api(&self, id: i64, title: &str, owner_name: &str) -> Resp {
        let path = format!("/api/v1/communities/{HS}/proposals/{id}/project");
        self.post_json(&path, json!({"title": title, "owner_name": owner_name})).await
    }

    /// Staff mark a milestone of a proposal's project done on a day, with a note or none.
    pub async fn complete_council_milestone(&self, id: i64, milestone: i64, done_on: &str, note: Option<&str>) -> Resp {
        let milestone = milestone.to_string();
        let mut fields = vec![("milestone_id", milestone.as_str()), ("done_on", done_on)];
        fields.extend(note.map(|n| ("note", n)));
        self.post_form(&format!("/c/{HS}/council/{id}/milestones"), &fields).await
    }
}

const HS: &str = "440804003001";

/// The API path of a proposal's ballots.
fn proposal_ballots_api(id: i64) -> String {
    format!("/api/v1/communities/{HS}/proposals/{id}/ballots")
}

/// The community's households still in use, by id.
async fn households_of(app: &TestApp, c: i64) -> Vec<i64> {
    query("SELECT id FROM households WHERE community_id = $1 AND archived_at IS NULL ORDER BY id")
        .bind(c)
        .scalars(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap()
}

fn id_after(location: &str, part: &str) -> i64 {
    location.split(part).nth(1).unwrap().split(['?', '/']).next().unwrap().parse().unwrap()
}

/// Accounts for `n` households of the community, each signed in (the community gets new
/// households when it has fewer).
async fn households_signed_in(app: &TestApp, c: i64, n: usize) -> Vec<String> {
    let mut households = households_of(app, c).await;
    let mut tx = app.state.db.begin_span(Span::Maintenance).await.unwrap();
    let now = linli::db::now_ms();
    while households.len() < n {
        let id = tx.next_id().await.unwrap();
        query("INSERT INTO households (community_id, id, address, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)")
            .bind(c)
            .bind(id)
            .bind(format!("海盛新村 {} 号", households.len()))
            .bind(now)
            .execute(&mut tx)
            .await
            .unwrap();
        households.push(id);
    }
    let people = households
        .iter()
        .take(n)
        .enumerate()
        .map(|(i, h)| (format!("home{i:03}"), format!("户代表{i}"), None, Grant::household(c, *h)))
        .collect();
    let users = linli::demo::invented_accounts(&mut tx, c, people).await.unwrap();
    let mut cookies = Vec::new();
    for u in users {
        let (token, _) = linli::auth::session::open(&mut tx, u).await.unwrap();
        cookies.push(format!("{}={token}", linli::auth::session::COOKIE));
    }
    tx.commit().await.unwrap();
    cookies
}

fn choice(i: usize) -> &'static str {
    match i % 10 {
        0 | 1 => "against",
        2 => "abstain",
        _ => "for",
    }
}

#[tokio::test]
async fn a_proposal_goes_through_two_rounds_and_three_hundred_households_vote_at_once() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    let cookies = households_signed_in(&app, c, 300).await;
    let households =
        app.scalar("SELECT COUNT(*) FROM households WHERE community_id = $1 AND archived_at IS NULL", c).await;

    // A resident raises it; a blank title is named.
    app.sign_in("resident").await;
    let blank = app.raise_council_proposal(" ", "x").await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!blank.inline_error("title").is_empty());
    let raised = app.raise_council_proposal("小区荷花池改造", "池塘淤积发臭，建议清淤并加装护栏").await;
    assert_eq!(raised.status, StatusCode::SEE_OTHER, "{}", raised.text());
    let id = id_after(&raised.location(), "/council/");
    assert_eq!(
        app.get_public(&format!("/p/{HS}/council/{id}")).await.status,
        StatusCode::NOT_FOUND,
        "not public before screening"
    );
    let early = app.cast_council_vote_api(id, "for").await;
    assert_eq!(early.status, StatusCode::CONFLICT, "no vote before the voting stage");
    assert!(early.text().contains("不在表决阶段"));

    // Staff screen it onto the agenda and name the council.
    app.sign_in("staff").await;
    let r = app.screen_council_proposal(id, "accept").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    for (who, title) in [("secretary", "主任"), ("grid", "网格员代表"), ("unit", "共建单位代表")] {
        let r = app.add_council_member(who, Some(title)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    }
    let nobody = app.add_council_member("nobody", None).await;
    assert_eq!(nobody.status, StatusCode::UNPROCESSABLE_ENTITY);
    let roster: Vec<i64> = query("SELECT user_id FROM council_members WHERE community_id = $1 ORDER BY user_id")
        .bind(c)
        .scalars(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap();
    assert_eq!(roster.len(), 3);
    let staff_id = app.user_id("staff").await;
    let outsider = app.hold_council_meeting(id, "2026-11-20T19:00", "社区会议室", "x", &[staff_id]).await;
    assert_eq!(outsider.status, StatusCode::UNPROCESSABLE_ENTITY, "those present come from the roster");
    let early_vote = app.cast_council_vote(id, "for").await;
    assert_eq!(early_vote.status, StatusCode::CONFLICT);
    for (n, minutes) in [(1, "第一轮：听取意见，请物业出方案"), (2, "第二轮：确定方案二，预算 12 万元，提交表决")]
    {
        let held_at = if n == 1 { "2026-11-10T19:00" } else { "2026-11-20T19:00" };
        let r = app.hold_council_meeting(id, held_at, "社区会议室", minutes, &roster).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    }

    // Between meetings a resident comments.
    app.sign_in("resident").await;
    let r = app.comment_on_council_proposal(id, "希望池边加装照明").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let page = visible_text(&app.get(&format!("/c/{HS}/council/{id}")).await.text());
    for shown in ["第 1 轮协商", "第 2 轮协商", "希望池边加装照明", "海盛社区 黄书记"] {
        assert!(page.contains(shown), "{shown}: {page}");
    }

    // The vote opens under the community's rules: one vote per household, secret.
    app.sign_in("staff").await;
    let bad_rules = app.set_council_vote_rules("everyone", "150", "50").await;
    assert_eq!(bad_rules.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!bad_rules.inline_error("voters").is_empty() && !bad_rules.inline_error("quorum_pct").is_empty());
    let closes = linli::web::fmt::local_input(linli::db::now_ms() + 3 * 86_400_000);
    let opened = app.open_council_vote(id, &closes).await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.text());
    let not_a_voter = app.cast_council_vote(id, "for").await;
    assert_eq!(not_a_voter.status, StatusCode::CONFLICT, "staff have no household here");
    assert!(visible_text(&not_a_voter.text()).contains("不在这项表决的投票范围内"));

    // 300 households vote at once.
    let path = proposal_ballots_api(id);
    let ballots = cookies
        .iter()
        .enumerate()
        .map(|(i, cookie)| (cookie.clone(), path.clone(), json!({"choice": choice(i)})))
        .collect();
    for (status, body) in app.all_at_once(ballots).await {
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    // A second vote from a household is refused; so is a household's second member.
    let mut again = app.restart().await;
    again.cookie = Some(cookies[7].clone());
    let twice = again.cast_council_vote_api(id, "against").await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert!(twice.text().contains("已经投过票"));
    app.sign_in("resident").await;
    let resident_household = app
        .scalar(
            "SELECT household_id FROM grants WHERE user_id = $1 AND role = 'resident'",
            app.user_id("resident").await,
        )
        .await;
    let first_300: Vec<i64> = households_of(&app, c).await.into_iter().take(300).collect();
    let resident_vote = app.cast_council_vote(id, "for").await;
    let resident_voted = if first_300.contains(&resident_household) {
        assert_eq!(resident_vote.status, StatusCode::CONFLICT, "their household has voted already");
        false
    } else {
        assert_eq!(resident_vote.status, StatusCode::SEE_OTHER, "{}", resident_vote.text());
        true
    };
    let bad_choice = app.cast_council_vote_api(id, "maybe").await;
    assert_eq!(bad_choice.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Secret: no ballot says whose it is, and nothing the app shows pairs a voter with a choice.
    let named: i64 = app.scalar("SELECT COUNT(*) FROM ballots WHERE community_id = $1 AND (voter_key IS NOT NULL OR voter_name IS NOT NULL)", c).await;
    assert_eq!(named, 0);
    let during = app.get(&format!("/api/v1/communities/{HS}/proposals/{id}")).await.json();
    assert!(during["tally"].is_null(), "no running tally while the vote is open");
    assert_eq!(during["open_ballots"], json!([]));

    // Staff close it: the tally is counted from the ballots, with turnout.
    app.sign_in("staff").await;
    let no_decision = app.decide_council_proposal(id, "").await;
    assert_eq!(no_decision.status, StatusCode::UNPROCESSABLE_ENTITY);
    let closed = app.decide_council_proposal_api(id, "按方案二实施荷花池改造").await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.text());
    let p = closed.json();
    let expect = |c: &str| (0..300).filter(|i| choice(*i) == c).count() as i64;
    let for_ = expect("for") + i64::from(resident_voted);
    assert_eq!(p["tally"]["for"].as_i64(), Some(for_));
    assert_eq!(p["tally"]["against"].as_i64(), Some(expect("against")));
    assert_eq!(p["tally"]["abstain"].as_i64(), Some(expect("abstain")));
    let cast = 300 + i64::from(resident_voted);
    assert_eq!(p["tally"]["cast"].as_i64(), Some(cast));
    assert_eq!(p["eligible"].as_i64(), Some(households));
    assert!((p["tally"]["turnout"].as_f64().unwrap() - cast as f64 / households as f64).abs() < 1e-9);
    assert_eq!(p["stage"], "passed");
    assert_eq!(p["tally"]["passed"], true);
    let late = again.cast_council_vote_api(id, "for").await;
    assert_eq!(late.status, StatusCode::CONFLICT, "no votes after the decision");

    // The decision becomes a project with milestones and a budget line.
    let made = app
        .make_council_project(
            id,
            &[
                ("title", "荷花池改造工程"),
                ("owner_name", "黄书记"),
                ("budget_yuan", "120000"),
                ("budget_line", "社区公益金"),
                ("milestones", "清淤 | 2026-12-20\n加装护栏 | 2027-01-20\n池边照明\n验收"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.text());
    let twice = app.make_council_project(id, &[("title", "again"), ("owner_name", "x"), ("milestones", "x")]).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    let first: i64 = app.scalar("SELECT MIN(id) FROM project_milestones WHERE community_id = $1", c).await;
    let future = (linli::web::fmt::today() + chrono::Duration::days(3)).to_string();
    let not_yet = app.complete_council_milestone(id, first, &future, None).await;
    assert_eq!(not_yet.status, StatusCode::UNPROCESSABLE_ENTITY, "a milestone is not done in the future");
    let today = linli::web::fmt::today().to_string();
    let done = app.complete_council_milestone(id, first, &today, Some("清出淤泥 200 方")).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());

    // A resident follows it on the public page, without signing in.
    let list = visible_text(&app.get_public(&format!("/p/{HS}/council")).await.text());
    assert!(list.contains("小区荷花池改造") && list.contains("进度 25%"), "{list}");
    let public = visible_text(&app.get_public(&format!("/p/{HS}/council/{id}")).await.text());
    for shown in
        ["已通过", "按方案二实施荷花池改造", &format!("赞成{for_}"), "清出淤泥 200 方", "社区公益金", "第 2 轮协商"]
    {
        assert!(public.replace(' ', "").contains(&shown.replace(' ', "")), "{shown}: {public}");
    }
    let api = app.get_public(&format!("/api/v1/public/{HS}/proposals")).await.json();
    let item = api["items"].as_array().unwrap().iter().find(|p| p["id"].as_i64() == Some(id)).unwrap().clone();
    assert_eq!(item["project"]["milestones"].as_array().unwrap().len(), 4);
    assert!(item.get("comments").is_none(), "comments are for the community, not the public answer");
}

#[tokio::test]
async fn council_only_votes_open_ballots_and_the_voting_window() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    app.sign_in("staff").await;
    for who in ["secretary", "grid", "volunteer"] {
        assert_eq!(app.add_council_member(who, None).await.status, StatusCode::SEE_OTHER);
    }
    let r = app.set_council_vote_rules("council", "60", "50").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let p = app.raise_council_proposal_api("议事会经费使用", "年度经费分配").await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.text());
    let id = p.json()["id"].as_i64().unwrap();
    assert_eq!(app.screen_council_proposal_api(id, "accept").await.status, StatusCode::OK);
    let bad_window = app.open_council_vote_api(id, "2020-01-01T00:00:00+08:00").await;
    assert_eq!(bad_window.status, StatusCode::UNPROCESSABLE_ENTITY);
    let open = app.open_council_vote_api(id, &linli::web::fmt::rfc3339(linli::db::now_ms() + 86_400_000)).await;
    assert_eq!(open.status, StatusCode::OK, "{}", open.text());
    assert_eq!((open.json()["eligible"].as_i64(), open.json()["secret"].as_bool()), (Some(3), Some(false)));

    app.sign_in("resident").await;
    let outside = app.cast_council_vote_api(id, "for").await;
    assert_eq!(outside.status, StatusCode::CONFLICT, "only council members vote on this one");
    for (who, how) in [("secretary", "for"), ("grid", "against")] {
        app.sign_in(who).await;
        assert_eq!(app.cast_council_vote_api(id, how).await.status, StatusCode::CREATED);
    }
    // The window closes before the third member votes.
    let mut tx = app.state.db.begin_span(Span::Maintenance).await.unwrap();
    query("UPDATE proposals SET closes_at = $1 WHERE community_id = $2 AND id = $3")
        .bind(linli::db::now_ms() - 1)
        .bind(c)
        .bind(id)
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    app.sign_in("volunteer").await;
    let late = app.cast_council_vote_api(id, "for").await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    assert!(late.text().contains("不在投票时间内"));

    app.sign_in("staff").await;
    let closed = app.decide_council_proposal_api(id, "维持原分配").await.json();
    // 2 of 3 voted (67% ≥ 60%), but a tie is no majority.
    assert_eq!((closed["tally"]["quorum_met"].as_bool(), closed["stage"].as_str()), (Some(true), Some("rejected")));
    let full = app.get(&format!("/api/v1/communities/{HS}/proposals/{id}")).await.json();
    let ballots = full["open_ballots"].as_array().unwrap();
    assert_eq!(ballots.len(), 2, "open ballots show who voted how: {ballots:?}");
    let project = app.make_council_project_api(id, "x", "y").await;
    assert_eq!(project.status, StatusCode::CONFLICT, "only a decision passed becomes a project");
}
