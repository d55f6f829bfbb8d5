//! Money and projects: a partner unit pledges 认捐 to a need and pays; the money lands in
//! the co-building fund; a project funded from it spends with receipts through approvals;
//! the public page shows every yuan from the donor to the receipt; a resident objects
//! during disclosure and sees the answer; a changed amount makes verification fail. And
//! exactly right when expenses race for a fund's last yuan.

use axum::http::StatusCode;
use linli::auth::model::{Grant, Role};
use linli::db::citus::Span;
use linli::db::query;
use serde_json::json;

use crate::helpers::{Resp, TestApp, visible_text};

const HS: &str = "440804003001";

impl TestApp {
    /// Staff make a fund from the desk's form.
    pub(crate) async fn make_fund(&self, fields: &[(&str, &str)]) -> Resp {
        self.post_form(&format!("/c/{HS}/funds"), fields).await
    }

    /// Staff record a gift to a fund.
    pub(crate) async fn record_gift(&self, fund: i64, fields: &[(&str, &str)]) -> Resp {
        self.post_form(&format!("/c/{HS}/funds/{fund}/donations"), fields).await
    }

    pub(crate) async fn make_project(&self, fields: &[(&str, &str)]) -> Resp {
        self.post_form(&format!("/c/{HS}/projects"), fields).await
    }

    /// Staff set how much of a project a fund pays for.
    pub(crate) async fn fund_project(&self, project: i64, fund: i64, yuan: &str) -> Resp {
        self.post_form(
            &format!("/c/{HS}/projects/{project}/funding"),
            &[("fund_id", &fund.to_string()), ("amount", yuan)],
        )
        .await
    }

    pub(crate) async fn plan_milestone(&self, project: i64, title: &str, weight: &str) -> Resp {
        let due = linli::web::fmt::today().to_string();
        self.post_form(
            &format!("/c/{HS}/projects/{project}/milestones"),
            &[("title", title), ("due_on", &due), ("weight", weight)],
        )
        .await
    }

    pub(crate) async fn move_project(&self, project: i64, status: &str, note: &str) -> Resp {
        self.post_form(&format!("/c/{HS}/projects/{project}/status"), &[("status", status), ("note", note)]).await
    }

    /// Staff ask for an expense of a project with the receipt's photo (or a file).
    pub(crate) async fn ask_expense(&self, project: i64, fields: &[(&str, &str)], receipt: Option<&[u8]>) -> Resp {
        let files: Vec<(&str, &[u8])> = receipt.map(|r| vec![("receipt", r)]).unwrap_or_default();
        self.post_multipart(&format!("/c/{HS}/projects/{project}/expenses"), fields, &files).await
    }

    /// The next approver decides an expense (`approved` or `refused`).
    pub(crate) async fn decide_expense(&self, expense: i64, decision: &str, note: &str) -> Resp {
        self.post_form(&format!("/c/{HS}/expenses/{expense}/decide"), &[("decision", decision), ("note", note)]).await
    }

    /// Staff reverse a gift recorded by mistake, saying why.
    pub(crate) async fn reverse_gift(&self, gift: i64, reason: &str) -> Resp {
        self.post_form(&format!("/c/{HS}/donations/{gift}/reverse"), &[("reason", reason)]).await
    }

    pub(crate) async fn publish_accounts(&self, days: &str) -> Resp {
        let today = linli::web::fmt::today().to_string();
        self.post_form(
            &format!("/c/{HS}/disclosures"),
            &[("period_from", "2026-01-01"), ("period_to", &today), ("days", days)],
        )
        .await
    }
}

fn id_after(location: &str, part: &str) -> i64 {
    location.split(part).nth(1).unwrap().split(['?', '/']).next().unwrap().parse().unwrap()
}

/// A second staff member, so that one asks and another approves.
async fn second_staff(app: &TestApp) -> i64 {
    let c = app.community_id(HS).await;
    linli::capabilities::registry::people::users::create(
        &app.state.db,
        &app.state.pii,
        None,
        &linli::services::audit::By::system("test"),
        linli::capabilities::registry::people::users::NewUser {
            username: "staff_b".into(),
            display_name: "海盛社区 陈社工".into(),
            password: linli::demo::PASSWORD.into(),
            phone: None,
            grants: vec![Grant::community(Role::CommunityStaff, c)],
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

/// A co-building fund for construction and repairs, made by staff; answers its id.
async fn co_building_fund(app: &TestApp) -> i64 {
    let r = app
        .make_fund(&[
            ("name", "共建资金·老旧小区改造"),
            ("kind", "co_building"),
            ("purpose", "共建单位筹集，用于解决小区的老大难问题"),
            ("restriction", "construction"),
            ("restriction", "repairs"),
            ("target", "3940000"),
        ])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    id_after(&r.location(), "/funds/")
}

async fn fund_balance(app: &TestApp, fund: i64) -> i64 {
    let c = app.community_id(HS).await;
    query("SELECT COALESCE(MAX(balance), 0) FROM ledger_accounts WHERE community_id = $1 AND unit = 'fen' AND kind = 'fund' AND owner_id = $2")
        .bind(c)
        .bind(fund)
        .scalar(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap()
}

/// A project of `budget` yuan funded whole by the fund, planned, approved and under way.
async fn project_under_way(app: &TestApp, fund: i64, budget: &str, need: Option<i64>) -> i64 {
    let need = need.map(|n| n.to_string()).unwrap_or_default();
    let r = app
        .make_project(&[("title", "小区路灯更新"), ("place", "海盛花园"), ("budget", budget), ("need_id", &need)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let project = id_after(&r.location(), "/projects/");
    assert_eq!(app.fund_project(project, fund, budget).await.status, StatusCode::SEE_OTHER);
    for (title, weight) in [("采购灯具", "40"), ("安装调试", "60")] {
        assert_eq!(app.plan_milestone(project, title, weight).await.status, StatusCode::SEE_OTHER);
    }
    for s in ["approved", "in_progress"] {
        let r = app.move_project(project, s, "").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{s}: {}", r.text());
    }
    project
}

/// The method of docs/disclosure.md, written apart from the server's code: the head the
/// published movements hash to, or the first movement that does not.
fn recompute(file: &[u8]) -> Result<String, String> {
    use sha2::{Digest, Sha256};
    const NUMBERS: [&str; 8] =
        ["at", "from_account", "to_account", "amount", "cause_id", "rule_id", "author_id", "reverses"];
    const COLUMNS: [&str; 12] = [
        "unit",
        "at",
        "from_account",
        "to_account",
        "amount",
        "cause",
        "cause_id",
        "rule_id",
        "reason",
        "author_id",
        "idempotency_key",
        "reverses",
    ];
    let mut rows = csv::Reader::from_reader(file);
    let headers = rows.headers().unwrap().clone();
    let mut prev: Vec<u8> = Vec::new();
    for row in rows.records() {
        let row = row.unwrap();
        let cell = |name: &str| row.get(headers.iter().position(|h| h == name).unwrap()).unwrap().to_string();
        if hex_bytes(&cell("prev_hash")) != prev {
            return Err(format!("the chain breaks before seq {}", cell("seq")));
        }
        if cell("unit") == "fen" {
            let mut content = Vec::new();
            content.extend(cell("community_id").parse::<i64>().unwrap().to_be_bytes());
            content.extend(cell("id").parse::<i64>().unwrap().to_be_bytes());
            for c in COLUMNS {
                let v = cell(c);
                if v.is_empty() {
                    content.push(0);
                } else if NUMBERS.contains(&c) {
                    content.push(1);
                    content.extend(v.parse::<i64>().unwrap().to_be_bytes());
                } else {
                    content.push(2);
                    content.extend((v.len() as u64).to_be_bytes());
                    content.extend(v.as_bytes());
                }
            }
            let hash: Vec<u8> = Sha256::new().chain_update(&prev).chain_update(&content).finalize().to_vec();
            if hash != hex_bytes(&cell("hash")) {
                return Err(format!("movement {} was changed", cell("id")));
            }
        }
        prev = hex_bytes(&cell("hash"));
    }
    Ok(prev.iter().map(|b| format!("{b:02x}")).collect())
}

fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn receipt() -> Vec<u8> {
    linli::services::media::png_for_tests(80, 60)
}

#[tokio::test]
async fn a_unit_pays_its_pledge_a_project_spends_it_through_approvals_and_anyone_follows_the_yuan() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    second_staff(&app).await;
    app.sign_in("staff").await;
    let fund = co_building_fund(&app).await;

    // 1. A need for money on the public list; the hospital pledges 认捐 all of it.
    let need = app
        .post_need_api(
            HS,
            json!({"title": "小区路灯更新", "description": "老小区路灯不亮", "kind": "money", "quantity": 8000}),
        )
        .await;
    assert_eq!(need.status, StatusCode::CREATED, "{}", need.text());
    let need = need.json()["id"].as_i64().unwrap();
    app.sign_in("unit").await;
    let pledge = app.pledge_to_need_api(HS, need, "sponsor", 8000).await;
    assert_eq!(pledge.status, StatusCode::CREATED, "{}", pledge.text());
    let pledge = pledge.json()["id"].as_i64().unwrap().to_string();

    // 2. It pays: staff record the gift against the pledge. The wrong amount is named.
    app.sign_in("staff").await;
    let today = linli::web::fmt::today().to_string();
    let gift = |amount: &'static str| {
        vec![
            ("donor_kind", "unit"),
            ("amount", amount),
            ("given_on", today.as_str()),
            ("channel", "transfer"),
            ("pledge_id", pledge.as_str()),
        ]
    };
    let wrong = app.record_gift(fund, &gift("5000")).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.inline_error("amount").contains("8,000.00"), "{}", wrong.inline_error("amount"));
    let paid = app.record_gift(fund, &gift("8000")).await;
    assert_eq!(paid.status, StatusCode::SEE_OTHER, "{}", paid.text());
    let receipt_page = visible_text(&app.get(&paid.location()).await.text());
    // Numbered in the community's one series of receipts (the demo's gifts in kind came first).
    let year = chrono::Datelike::year(&linli::web::fmt::today());
    let number: String = query("SELECT number FROM donations WHERE id = $1")
        .bind(id_after(&paid.location(), "/donations/"))
        .scalar(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap();
    assert!(number.starts_with(&format!("JZ{year}-0000")), "{number}");
    assert!(receipt_page.contains(&format!("收据编号 {number}")), "numbered for its receipt: {receipt_page}");
    assert!(receipt_page.contains("¥8,000.00") && receipt_page.contains("久和医院"), "{receipt_page}");
    let receipt_pdf = format!("/c/{HS}/donations/{}/receipt.pdf", id_after(&paid.location(), "/donations/"));
    let pdf = app.get(&receipt_pdf).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert!(pdf.body.starts_with(b"%PDF-"), "the donor's receipt in PDF");
    assert_eq!(fund_balance(&app, fund).await, 800_000, "in fen");
    let (status, fulfilled): (String, i64) =
        query("SELECT status, fulfilled FROM needs WHERE community_id = $1 AND id = $2")
            .bind(c)
            .bind(need)
            .fetch_one(&mut app.state.db.span(Span::Maintenance).await.unwrap())
            .await
            .unwrap();
    assert_eq!((status.as_str(), fulfilled), ("fulfilled", 8000), "the pledge paid fulfils the need");
    assert_eq!(app.record_gift(fund, &gift("8000")).await.status, StatusCode::UNPROCESSABLE_ENTITY, "paid once");

    // 3. A project funded from it, planned and under way; an expense with its receipt.
    let project = project_under_way(&app, fund, "8000", Some(need)).await;
    let need_page = visible_text(&app.get(&format!("/c/{HS}/needs/{need}")).await.text());
    assert!(need_page.contains("项目 · 小区路灯更新"), "the need leads to its project: {need_page}");
    let lamps = [
        ("fund_id", fund.to_string()),
        ("category", "repairs".into()),
        ("payee", "鹤山市照明工程公司".into()),
        ("amount", "3000".into()),
        ("purpose", "LED路灯20盏".into()),
    ];
    let lamps: Vec<(&str, &str)> = lamps.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let asked = app.ask_expense(project, &lamps, Some(&receipt())).await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER, "{}", asked.text());
    let expense = id_after(&asked.location(), "/expenses/");

    // 4. Not by whoever asked; staff2 then the secretary approve, and it is paid once.
    let own = app.decide_expense(expense, "approved", "").await;
    assert_eq!(own.status, StatusCode::CONFLICT);
    assert!(visible_text(&own.text()).contains("不能审批自己申请的支出"));
    app.sign_in("staff_b").await;
    assert_eq!(app.decide_expense(expense, "approved", "").await.status, StatusCode::SEE_OTHER);
    assert_eq!(fund_balance(&app, fund).await, 800_000, "not paid before the last step");
    app.sign_in("secretary").await;
    assert_eq!(app.decide_expense(expense, "approved", "同意").await.status, StatusCode::SEE_OTHER);
    assert_eq!(fund_balance(&app, fund).await, 500_000);
    assert_eq!(app.decide_expense(expense, "approved", "").await.status, StatusCode::CONFLICT, "decided");
    let page = visible_text(&app.get(&format!("/c/{HS}/expenses/{expense}")).await.text());
    assert!(page.contains("已支付") && page.contains("书记审批"), "{page}");

    // 5. The receipt's copy with personal data covered is published (a photo: a PDF's
    // covered text would still be under the boxes); milestones make progress.
    app.sign_in("staff").await;
    let pdf: &[u8] = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n";
    let as_pdf =
        app.post_multipart(&format!("/c/{HS}/expenses/{expense}/public-copy"), &[], &[("public_copy", pdf)]).await;
    assert_eq!(as_pdf.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", as_pdf.text());
    let copy = app
        .post_multipart(&format!("/c/{HS}/expenses/{expense}/public-copy"), &[], &[("public_copy", &receipt())])
        .await;
    assert_eq!(copy.status, StatusCode::SEE_OTHER, "{}", copy.text());
    let first: i64 =
        query("SELECT id FROM milestones WHERE community_id = $1 AND project_id = $2 AND title = '采购灯具'")
            .bind(c)
            .bind(project)
            .scalar(&mut app.state.db.span(Span::Maintenance).await.unwrap())
            .await
            .unwrap();
    assert_eq!(
        app.post_form(&format!("/c/{HS}/projects/{project}/milestones/{first}/done"), &[]).await.status,
        StatusCode::SEE_OTHER
    );
    let early = app.move_project(project, "completed", "").await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY, "not every milestone is done");

    // 6. Anyone, signed in or not, follows the yuan: gift → fund → expense → receipt.
    let public = visible_text(&app.get_public(&format!("/p/{HS}/money")).await.text());
    assert!(public.contains("久和医院 · ¥8,000.00") && public.contains("共建资金·老旧小区改造"), "{public}");
    assert!(public.contains("进度 40%"), "progress from the milestones done: {public}");
    let fund_page = app.get_public(&format!("/p/{HS}/money/funds/{fund}")).await;
    let fund_text = visible_text(&fund_page.text());
    assert!(fund_text.contains("¥3,000.00 · LED路灯20盏") && fund_text.contains("¥5,000.00"), "{fund_text}");
    let expense_page = app.get_public(&format!("/p/{HS}/money/expenses/{expense}")).await;
    assert_eq!(expense_page.status, StatusCode::OK);
    let html = expense_page.text();
    assert!(visible_text(&html).contains("鹤山市照明工程公司"), "{html}");
    let photo = html.split(&format!("/p/{HS}/money/media/")).nth(1).unwrap().split(['"', '?']).next().unwrap();
    assert_eq!(app.get_public(&format!("/p/{HS}/money/media/{photo}")).await.status, StatusCode::OK, "the public copy");
    let taken: i64 = query("SELECT id FROM media WHERE community_id = $1 AND owner_kind = 'expense' AND owner_id = $2")
        .bind(c)
        .bind(expense)
        .scalar(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap();
    assert_eq!(
        app.get_public(&format!("/p/{HS}/money/media/{taken}")).await.status,
        StatusCode::NOT_FOUND,
        "never the receipt as taken"
    );

    // 7. Disclosure: published; a resident objects and sees the answer in public.
    assert_eq!(app.publish_accounts("7").await.status, StatusCode::SEE_OTHER);
    let disclosure = app.scalar("SELECT MAX(id) FROM disclosures WHERE community_id = $1", c).await;
    app.sign_in("resident").await;
    assert_eq!(app.get(&receipt_pdf).await.status, StatusCode::NOT_FOUND, "not the resident's gift");
    let home = app.get("/").await.text();
    assert!(home.contains(&format!("href=\"/p/{HS}/money\"")), "a resident finds the disclosure from home");
    let told: i64 = query(
        "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND subject_kind = 'disclosure' AND subject_id = $2",
    )
    .bind(app.user_id("resident").await)
    .bind(disclosure)
    .scalar(&mut app.state.db.span(Span::Maintenance).await.unwrap())
    .await
    .unwrap();
    assert_eq!(told, 1, "told of the disclosure, with a way to it");
    let said =
        app.post_form(&format!("/p/{HS}/money/projects/{project}/comments"), &[("body", "路灯亮了，谢谢！")]).await;
    assert_eq!(said.status, StatusCode::SEE_OTHER, "{}", said.text());
    let followed = visible_text(&app.get_public(&format!("/p/{HS}/money/projects/{project}")).await.text());
    assert!(followed.contains("路灯亮了，谢谢！") && followed.contains("进度 40%"), "{followed}");
    let objected = app
        .post_form(&format!("/c/{HS}/disclosures/{disclosure}/objections"), &[("body", "路灯为什么要3000元？")])
        .await;
    assert_eq!(objected.status, StatusCode::SEE_OTHER, "{}", objected.text());
    app.sign_in("staff").await;
    let objection = app.scalar("SELECT MAX(id) FROM objections WHERE community_id = $1", c).await;
    let answered = app
        .post_form(&format!("/c/{HS}/objections/{objection}/answer"), &[("answer", "20盏LED路灯，每盏150元，见票据")])
        .await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.text());
    app.sign_in("resident").await;
    let public = visible_text(&app.get_public(&format!("/p/{HS}/money")).await.text());
    assert!(public.contains("路灯为什么要3000元？") && public.contains("每盏150元"), "{public}");

    // 8. A resident recomputes the chain from the file, as docs/disclosure.md says, and
    // reaches the head the page shows; the server's check agrees. Then one amount is
    // changed behind the application: both name it.
    let file = app.get_public(&format!("/p/{HS}/money/movements.csv")).await;
    let head = app.get_public(&format!("/api/v1/communities/{HS}/chains")).await.json()["ledger"]["head"].clone();
    assert_eq!(recompute(&file.body), Ok(head.as_str().unwrap().to_string()));
    let out = app.cli(&["ledger", "verify", "--community", HS]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let moved = app.scalar("SELECT movement_id FROM expenses WHERE id = $1", expense).await;
    let mut tx = app.state.db.begin_span(Span::Maintenance).await.unwrap();
    app.guards_off(&mut tx, &["ledger_movements"]).await;
    query("UPDATE ledger_movements SET amount = 30000 WHERE community_id = $1 AND id = $2")
        .bind(c)
        .bind(moved)
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let file = app.get_public(&format!("/p/{HS}/money/movements.csv")).await;
    assert_eq!(recompute(&file.body), Err(format!("movement {moved} was changed")));
    let out = app.cli(&["ledger", "verify", "--community", HS]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains(&format!("ledger_movements row {moved} ")), "the chain names it: {said}");
    assert!(said.contains(&format!("expense {expense} says 300000 fen")), "the book names it: {said}");
}

#[tokio::test]
async fn bad_money_is_refused_naming_its_field_and_nothing_is_written() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    app.sign_in("staff").await;
    let fund = co_building_fund(&app).await;
    let today = linli::web::fmt::today().to_string();
    for (amount, says) in [("0", "大于零"), ("-5", "大于零"), ("1.005", "精确到分"), ("一百", "请输入金额")]
    {
        let r = app
            .record_gift(
                fund,
                &[
                    ("donor_kind", "person"),
                    ("donor_name", "张三"),
                    ("amount", amount),
                    ("given_on", &today),
                    ("channel", "cash"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{amount}");
        assert!(r.inline_error("amount").contains(says), "{amount}: {}", r.inline_error("amount"));
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM donations WHERE community_id = $1", c).await, 0);
    let ok = app
        .record_gift(
            fund,
            &[
                ("donor_kind", "person"),
                ("donor_name", "张三"),
                ("amount", "1000"),
                ("given_on", &today),
                ("channel", "cash"),
                ("key", "form-1"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
    let again = app
        .record_gift(
            fund,
            &[
                ("donor_kind", "person"),
                ("donor_name", "张三"),
                ("amount", "1000"),
                ("given_on", &today),
                ("channel", "cash"),
                ("key", "form-1"),
            ],
        )
        .await;
    assert_eq!(again.location(), ok.location(), "the form sent twice records one gift");
    let elsewhere =
        app.make_fund(&[("name", "一日捐"), ("kind", "drive"), ("purpose", "困难家庭过冬"), ("target", "1000")]).await;
    let elsewhere = id_after(&elsewhere.location(), "/funds/");
    let reused = app
        .record_gift(
            elsewhere,
            &[
                ("donor_kind", "anonymous"),
                ("amount", "1"),
                ("given_on", &today),
                ("channel", "cash"),
                ("key", "form-1"),
            ],
        )
        .await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY, "another fund's key is no retry");
    let stranger = app
        .post_json(
            &format!("/api/v1/communities/{HS}/funds/{fund}/donations"),
            json!({"donor_kind": "person", "donor_name": "李四", "donor_user_id": 987654321, "amount": "10",
                   "given_on": today, "channel": "cash"}),
        )
        .await;
    assert_eq!(stranger.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", stranger.text());
    assert!(stranger.text().contains("donor_user_id"), "{}", stranger.text());
    assert_eq!(app.scalar("SELECT COUNT(*) FROM donations WHERE community_id = $1", c).await, 1);
    let project = project_under_way(&app, fund, "1000", None).await;
    let ask = |amount: &'static str, category: &'static str| {
        vec![
            ("fund_id", fund.to_string()),
            ("category", category.to_string()),
            ("payee", "五金店".to_string()),
            ("amount", amount.to_string()),
            ("purpose", "扶手".to_string()),
        ]
    };
    let fields = |v: &Vec<(&'static str, String)>| v.iter().map(|(k, x)| (*k, x.clone())).collect::<Vec<_>>();
    let send = |v: Vec<(&'static str, String)>, file: Option<Vec<u8>>| {
        let app = &app;
        async move {
            let f = fields(&v);
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, x)| (*k, x.as_str())).collect();
            app.ask_expense(project, &pairs, file.as_deref()).await
        }
    };
    let none = send(ask("100", "repairs"), None).await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(none.inline_error("receipt").contains("发票或收据"), "{}", none.text());
    let text = send(ask("100", "repairs"), Some(b"not a picture".to_vec())).await;
    assert_eq!(text.status, StatusCode::UNPROCESSABLE_ENTITY, "a receipt that is no image");
    assert!(text.inline_error("receipt").contains("图片或 PDF"), "{}", text.inline_error("receipt"));
    let restricted = send(ask("100", "activities"), Some(receipt())).await;
    assert_eq!(restricted.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(restricted.inline_error("category").contains("限定用途"), "{}", restricted.text());
    let beyond = send(ask("1000.01", "repairs"), Some(receipt())).await;
    assert_eq!(beyond.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(beyond.inline_error("amount").contains("1,000.00"), "{}", beyond.inline_error("amount"));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM expenses WHERE project_id = $1", project).await, 0);
    let receipts = "SELECT COUNT(*) FROM media WHERE owner_kind = 'expense' AND owner_id IN (SELECT id FROM expenses WHERE project_id = $1)";
    assert_eq!(app.scalar(receipts, project).await, 0);

    // An e-invoice 电子发票 is a PDF: taken, and downloaded (never shown under the site).
    let pdf = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n".to_vec();
    let taken = send(ask("100", "repairs"), Some(pdf.clone())).await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER, "{}", taken.text());
    let expense = id_after(&taken.location(), "/expenses/");
    let media = app.scalar("SELECT MIN(id) FROM media WHERE owner_kind = 'expense' AND owner_id = $1", expense).await;
    let file = app.get(&format!("/c/{HS}/media/{media}")).await;
    assert_eq!(file.headers["content-type"], "application/pdf");
    assert!(file.headers["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert_eq!(file.body, pdf);
    let thumb = app.get(&format!("/c/{HS}/media/{media}/thumb")).await;
    assert_eq!(thumb.headers["content-type"], "image/jpeg");

    // A closed fund takes no more.
    let closed = app.post_form(&format!("/c/{HS}/funds/{fund}/close"), &[]).await;
    assert_eq!(closed.status, StatusCode::SEE_OTHER);
    let late = app
        .record_gift(fund, &[("donor_kind", "anonymous"), ("amount", "10"), ("given_on", &today), ("channel", "box")])
        .await;
    assert_eq!(late.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(visible_text(&late.text()).contains("已关闭"), "{}", late.text());
    assert_eq!(app.scalar("SELECT COUNT(*) FROM donations WHERE community_id = $1", c).await, 1);
}

/// Sets the community's approval chain to one step of staff.
async fn one_step_chain(app: &TestApp) {
    let c = app.community_id(HS).await;
    let mut tx = app.state.db.begin_span(Span::Maintenance).await.unwrap();
    query("INSERT INTO settings (community_id, key, value, updated_at) VALUES ($1, 'money:chain', 'staff', 0)")
        .bind(c)
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn twenty_expenses_race_for_the_last_ten_thousand_yuan_and_the_fund_never_goes_below_zero() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    one_step_chain(&app).await;
    second_staff(&app).await;
    app.sign_in("staff").await;
    let fund = co_building_fund(&app).await;
    let today = linli::web::fmt::today().to_string();
    let gift = [("donor_kind", "anonymous"), ("amount", "10000"), ("given_on", today.as_str()), ("channel", "box")];
    assert_eq!(app.record_gift(fund, &gift).await.status, StatusCode::SEE_OTHER);
    let project = project_under_way(&app, fund, "10000", None).await;
    let mut asked = Vec::new();
    for i in 0..20 {
        let purpose = format!("楼道扶手第{i}批");
        let f = [
            ("fund_id", fund.to_string()),
            ("category", "repairs".into()),
            ("payee", "五金店".into()),
            ("amount", "1000".into()),
            ("purpose", purpose),
        ];
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = app.ask_expense(project, &f, Some(&receipt())).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        asked.push(id_after(&r.location(), "/expenses/"));
    }
    app.sign_in("staff_b").await;
    let cookie = app.cookie.clone().unwrap();
    let posts = asked
        .iter()
        .map(|e| (cookie.clone(), format!("/api/v1/communities/{HS}/expenses/{e}/decision"), json!({"approve": true})))
        .collect();
    let answers = app.all_at_once(posts).await;
    let paid = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    let refused: Vec<&String> = answers.iter().filter(|(s, _)| *s == StatusCode::CONFLICT).map(|(_, b)| b).collect();
    assert_eq!((paid, refused.len()), (10, 10), "{answers:?}");
    assert!(refused.iter().all(|b| b.contains("资金余额不足") || b.contains("额度已用完")), "{refused:?}");
    assert_eq!(fund_balance(&app, fund).await, 0);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM expenses WHERE project_id = $1 AND status = 'paid'", project).await,
        10
    );

    // Two approvers on the same expense at once: approved and paid once.
    app.sign_in("staff").await;
    let f = [("donor_kind", "anonymous"), ("amount", "500"), ("given_on", today.as_str()), ("channel", "box")];
    assert_eq!(app.record_gift(fund, &f).await.status, StatusCode::SEE_OTHER);
    let r = app.make_project(&[("title", "楼道粉刷"), ("place", "3栋"), ("budget", "500")]).await;
    let second = id_after(&r.location(), "/projects/");
    assert_eq!(app.fund_project(second, fund, "500").await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.move_project(second, "approved", "").await.status, StatusCode::SEE_OTHER);
    let f = [
        ("fund_id", fund.to_string()),
        ("category", "repairs".into()),
        ("payee", "油漆店".into()),
        ("amount", "500".into()),
        ("purpose", "涂料".into()),
    ];
    let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let expense = id_after(&app.ask_expense(second, &f, Some(&receipt())).await.location(), "/expenses/");
    app.sign_in("secretary").await;
    let secretary = app.cookie.clone().unwrap();
    let path = format!("/api/v1/communities/{HS}/expenses/{expense}/decision");
    let answers = app
        .all_at_once(vec![
            (cookie, path.clone(), json!({"approve": true})),
            (secretary, path, json!({"approve": true})),
        ])
        .await;
    let statuses: Vec<StatusCode> = answers.iter().map(|(s, _)| *s).collect();
    assert!(statuses.contains(&StatusCode::OK) && statuses.contains(&StatusCode::CONFLICT), "{answers:?}");
    let moved: i64 = query("SELECT COUNT(*) FROM ledger_movements WHERE community_id = $1 AND unit = 'fen' AND cause = 'expense' AND cause_id = $2")
        .bind(c)
        .bind(expense)
        .scalar(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap();
    assert_eq!(moved, 1, "paid once");
    // Money spent is not given back: the first gift cannot be reversed any more.
    app.sign_in("staff").await;
    let first = app.scalar("SELECT MIN(id) FROM donations WHERE fund_id = $1", fund).await;
    let late = app.reverse_gift(first, "录错了").await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.text());
    assert!(visible_text(&late.text()).contains("资金余额不足"), "{}", late.text());
    let out = app.cli(&["ledger", "verify", "--community", HS]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

/// The seeds' figures come back from the demo's books: 嘉福社区's drive of 59,100 yuan and
/// its 3.94 million from 18 units fixing 36 problems; 怡馨家园's 18 projects; 回龙社区's
/// lotus pond from its council decision; 海盛社区's year of income, reinvested.
#[tokio::test]
async fn the_demo_reproduces_the_seeds_figures() {
    let app = TestApp::demo().await;
    let jf = app.community_id("350206004001").await;
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let lines = linli::capabilities::money::store::funds::list(&mut conn, jf).await.unwrap();
    let drive = lines.iter().find(|f| f.name == "义聚爱嘉").unwrap();
    assert_eq!(drive.totals.received, 5_910_000, "59,100 yuan in fen");
    let co = lines.iter().find(|f| f.name == "共建资金").unwrap();
    assert_eq!(co.totals.received, 394_000_000, "3.94 million yuan");
    let givers: i64 =
        query("SELECT COUNT(DISTINCT partner_unit_id) FROM donations WHERE community_id = $1 AND fund_id = $2")
            .bind(jf)
            .bind(co.id)
            .scalar(&mut conn)
            .await
            .unwrap();
    assert_eq!(givers, 18);
    let projects = linli::capabilities::money::store::projects::list(&mut conn, jf).await.unwrap();
    assert_eq!(projects.len(), 36);
    assert_eq!(co.totals.paid, 350_000_000, "35 problems fixed, paid; the 36th under way");
    assert_eq!(co.totals.balance, 44_000_000, "what the 36th has still to spend");
    let yx = app.community_id("110113003001").await;
    assert_eq!(linli::capabilities::money::store::projects::list(&mut conn, yx).await.unwrap().len(), 18);
    let hl = app.community_id("321111005001").await;
    let pond = linli::capabilities::money::store::projects::list(&mut conn, hl).await.unwrap();
    let from = pond.iter().find(|p| p.title == "荷花塘改造工程").and_then(|p| p.proposal_id).expect("from the council");
    let decision = visible_text(&app.get_public(&format!("/p/321111005001/council/{from}")).await.text());
    assert!(decision.contains("实施项目与资金") && decision.contains("项目 · 荷花塘改造工程"), "both ways: {decision}");
    drop(conn);
    let hs = visible_text(
        &app.get_public(&format!("/p/{HS}/money/funds/{}", {
            let hs_id = app.community_id(HS).await;
            app.scalar("SELECT MIN(id) FROM funds WHERE community_id = $1 AND kind = 'service_income'", hs_id).await
        }))
        .await
        .text(),
    );
    assert!(hs.contains("长者食堂") && hs.contains("长者食堂助餐补贴"), "earned and given back: {hs}");
    let out = app.cli(&["ledger", "verify"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

/// Gifts in kind: the secretary's coats recorded with a value and where they are kept;
/// handed out to households by their address, never more than are left.
#[tokio::test]
async fn coats_given_in_kind_are_handed_out_and_the_stock_never_goes_below_zero() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    app.sign_in("staff").await;
    let today = linli::web::fmt::today().to_string();
    let coats = [
        ("donor_kind", "party_member"),
        ("donor_name", "黄书记"),
        ("named", "true"),
        ("item", "棉衣"),
        ("quantity", "40"),
        ("unit", "件"),
        ("value", "4000"),
        ("stored_at", "社区服务站仓库"),
        ("given_on", today.as_str()),
    ];
    let r = app.post_form(&format!("/c/{HS}/goods"), &coats).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let goods = id_after(&r.location(), "/goods/");
    let address: String = query("SELECT address FROM households WHERE community_id = $1 ORDER BY id LIMIT 1")
        .bind(c)
        .scalar(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap();
    let hand = |n: &'static str, to: String| {
        let app = &app;
        async move {
            let path = format!("/c/{HS}/goods/{goods}/hand-out");
            app.post_form(&path, &[("quantity", n), ("address", to.as_str()), ("received_by", "户主")]).await
        }
    };
    let too_many = hand("41", address.clone()).await;
    assert_eq!(too_many.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_many.inline_error("quantity").contains("库存只剩 40"), "{}", too_many.inline_error("quantity"));
    let nowhere = hand("1", "火星1栋".into()).await;
    assert_eq!(nowhere.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(nowhere.inline_error("address").contains("没有这个门牌"), "{}", nowhere.text());
    assert_eq!(hand("39", address.clone()).await.status, StatusCode::SEE_OTHER);
    assert_eq!(hand("1", address.clone()).await.status, StatusCode::SEE_OTHER);
    let empty = hand("1", address.clone()).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY, "none left");
    let page = visible_text(&app.get(&format!("/c/{HS}/goods/{goods}")).await.text());
    assert!(page.contains(&format!("{address} 39件")) && page.contains("库存") && page.contains("0件"), "{page}");
    let public = visible_text(&app.get_public(&format!("/p/{HS}/money")).await.text());
    assert!(public.contains("黄书记 · 棉衣 40件"), "named as agreed: {public}");
    assert!(!public.contains(&address), "no household's address in public");
}

/// A milestone planned for a day gone by and not done: its project is late.
async fn overdue_milestone(app: &TestApp, project: i64) {
    let r = app
        .post_form(
            &format!("/c/{HS}/projects/{project}/milestones"),
            &[("title", "验收资料归档"), ("due_on", "2026-01-15"), ("weight", "10")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
}

/// The secretary quotes the seeds' figures from the money statistics (by who gave, each
/// fund, each project on time or late), downloads the ledger 台账 in Excel and the report
/// in PDF; the subdistrict sees its communities side by side; others see none of it.
#[tokio::test]
async fn the_seeds_figures_come_out_of_the_statistics_the_ledger_and_the_report() {
    const JF: &str = "350206004001";
    let mut app = TestApp::demo().await;
    let secretary = app.user_id("jf-money-secretary").await;
    app.act_as(secretary).await;
    let page = app.get(&format!("/c/{JF}/money/stats")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let text = visible_text(&page.text());
    assert!(text.contains("党员 104 ¥59,100.00"), "the drive's 104 gifts: {text}");
    assert!(text.contains("共建单位 18 ¥3,940,000.00"), "the units' 3.94 million: {text}");
    assert!(text.contains("已验收 35") && text.contains("实施中 1"), "36 problems, 35 fixed: {text}");
    assert!(text.contains("捐款 122 笔 ¥3,999,100.00"), "{text}");

    let book = app.get(&format!("/c/{JF}/money/stats/ledger.xlsx")).await;
    assert_eq!(book.status, StatusCode::OK);
    let gifts = crate::helpers::calamine_rows(&book.body);
    assert_eq!(gifts[0][0], "社区");
    assert_eq!(gifts.len(), 1 + 104 + 18, "a line per gift");
    let fen: i64 = gifts[1..].iter().map(|r| linli::capabilities::money::fen("amount", &r[7]).unwrap()).sum();
    assert_eq!(fen, 399_910_000, "the ledger adds up to the figures");
    let masked: Vec<_> = gifts[1..].iter().filter(|r| r[3].contains('*')).collect();
    assert!(masked.is_empty(), "its keepers see donors' names in full: {masked:?}");

    let pdf = app.get(&format!("/c/{JF}/money/stats/report.pdf")).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(pdf.headers["content-type"], "application/pdf");
    assert!(pdf.body.starts_with(b"%PDF-") && pdf.body.len() > 10_000, "the report, with its font");

    // The platform's admin sees the subdistrict's communities side by side, donors as the
    // public sees them.
    app.sign_in("admin").await;
    let sub = app.scalar("SELECT subdistrict_id FROM communities WHERE id = $1", app.community_id(JF).await).await;
    let book = app.get(&format!("/subdistricts/{sub}/money/stats/ledger.xlsx")).await;
    let rows = crate::helpers::calamine_rows(&book.body);
    assert!(rows.iter().any(|r| r[3].ends_with('*')), "unnamed donors masked for the subdistrict");
    let text = visible_text(&app.get(&format!("/subdistricts/{sub}/money/stats")).await.text());
    assert!(text.contains("嘉福社区 ¥3,999,100.00"), "each community's line: {text}");
    let api = app.get(&format!("/api/v1/subdistricts/{sub}/money/stats")).await.json();
    let jf = api["communities"].as_array().unwrap().iter().find(|c| c["code"] == JF).unwrap().clone();
    assert_eq!(jf["by_donor"][1], json!(["party_member", {"count": 104, "fen": 5_910_000}]));
    assert_eq!(jf["projects"].as_array().unwrap().len(), 36);
    assert!(api["total"]["by_donor"][2][1]["fen"].as_i64().unwrap() >= 394_000_000);

    // In 海盛, staff plan a project whose milestone has passed undone: it counts as late.
    app.sign_in("staff").await;
    let fund = co_building_fund(&app).await;
    let today = linli::web::fmt::today().to_string();
    let gift = [("donor_kind", "anonymous"), ("amount", "20000"), ("given_on", today.as_str()), ("channel", "box")];
    assert_eq!(app.record_gift(fund, &gift).await.status, StatusCode::SEE_OTHER);
    let project = project_under_way(&app, fund, "20000", None).await;
    let before = visible_text(&app.get(&format!("/c/{HS}/money/stats")).await.text());
    assert!(before.contains("小区路灯更新 实施中 ¥20,000.00 ¥0.00 0% 0% 按计划"), "{before}");
    overdue_milestone(&app, project).await;
    let after = visible_text(&app.get(&format!("/c/{HS}/money/stats")).await.text());
    assert!(after.contains("小区路灯更新 实施中 ¥20,000.00 ¥0.00 0% 0% 滞后"), "{after}");
    let public = visible_text(&app.get_public(&format!("/p/{HS}/money")).await.text());
    assert!(public.contains("小区路灯更新") && public.contains("滞后"), "the public sees it late too: {public}");

    for (who, path) in [("resident", format!("/c/{HS}/money/stats")), ("street", format!("/c/{JF}/money/stats"))] {
        app.sign_in(who).await;
        assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND, "{who} at {path}");
        assert_eq!(app.get(&format!("{path}/ledger.xlsx")).await.status, StatusCode::NOT_FOUND, "{who}");
    }
    app.sign_in("admin").await;
    let fund = app
        .scalar("SELECT MIN(id) FROM funds WHERE community_id = $1 AND kind = 'drive'", app.community_id(JF).await)
        .await;
    let page = visible_text(&app.get(&format!("/c/{JF}/funds/{fund}")).await.text());
    assert!(page.contains("*") && page.contains("¥500.00"), "the overseer sees donors as the public does: {page}");
    app.sign_in("street").await;
    let own = app.scalar("SELECT id FROM subdistricts WHERE code = '441802005' OR id = $1", -1).await;
    assert_eq!(app.get(&format!("/subdistricts/{own}/money/stats")).await.status, StatusCode::OK);
    assert_eq!(app.get(&format!("/subdistricts/{sub}/money/stats")).await.status, StatusCode::NOT_FOUND);
}

/// A volunteer runs the 一日捐 drive: named its manager, they find it on their home, record
/// its gifts and print their receipts, and keep nothing else of the money.
#[tokio::test]
async fn a_drives_manager_records_its_gifts_and_nothing_else() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let desk = app.get(&format!("/c/{HS}/money")).await.text();
    assert!(desk.contains(r#"name="managers""#), "the fund's form asks for its managers");
    let drive_with = |managers: &'static str| {
        [
            ("name", "一日捐"),
            ("kind", "drive"),
            ("purpose", "为困难家庭过冬募捐"),
            ("target", "10000"),
            ("managers", managers),
        ]
    };
    for (typed, says) in [("王阿姨", "不是手机号"), ("13700000000", "还没有注册账号"), ("13900000009", "须是本社区")]
    {
        let refused = app.make_fund(&drive_with(typed)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{typed}");
        assert!(refused.inline_error("managers").contains(says), "{typed}: {}", refused.inline_error("managers"));
    }
    let c = app.community_id(HS).await;
    assert_eq!(app.scalar("SELECT COUNT(*) FROM funds WHERE community_id = $1 AND name = '一日捐'", c).await, 0);
    // The volunteer's mobile number, as staff know it.
    let r = app.make_fund(&drive_with("139 0000 0006")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let drive = id_after(&r.location(), "/funds/");
    let other = co_building_fund(&app).await;

    app.sign_in("volunteer").await;
    let home = app.get("/").await.text();
    assert!(home.contains(&format!("/c/{HS}/funds/{drive}")), "their drive is on their home");
    let page = app.get(&format!("/c/{HS}/funds/{drive}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains(&format!("/c/{HS}/funds/{drive}/donations")), "the gift form");
    assert!(!page.text().contains(&format!("/c/{HS}/funds/{drive}/close")), "closing it is staff's");
    let today = linli::web::fmt::today().to_string();
    let gift = [
        ("donor_kind", "person"),
        ("donor_name", "王秀英"),
        ("amount", "200"),
        ("given_on", today.as_str()),
        ("channel", "cash"),
    ];
    let given = app.record_gift(drive, &gift).await;
    assert_eq!(given.status, StatusCode::SEE_OTHER, "{}", given.text());
    let gift_id = id_after(&given.location(), "/donations/");
    let receipt = app.get(&format!("/c/{HS}/donations/{gift_id}/receipt.pdf")).await;
    assert_eq!(receipt.status, StatusCode::OK);
    assert!(receipt.body.starts_with(b"%PDF-"));
    assert_eq!(fund_balance(&app, drive).await, 20_000);

    assert_eq!(app.record_gift(other, &gift).await.status, StatusCode::FORBIDDEN, "another fund");
    assert_eq!(fund_balance(&app, other).await, 0);
    assert_eq!(app.get(&format!("/c/{HS}/funds/{other}")).await.location(), format!("/p/{HS}/money/funds/{other}"));
    assert_eq!(app.get(&format!("/c/{HS}/money")).await.location(), format!("/p/{HS}/money"), "not the desk");
    let close = app.post_form(&format!("/c/{HS}/funds/{drive}/close"), &[]).await;
    assert_eq!(close.status, StatusCode::FORBIDDEN);
    let own = app.post_form(&format!("/c/{HS}/funds/{other}/managers"), &[("managers", "13900000006")]).await;
    assert_eq!(own.status, StatusCode::FORBIDDEN, "naming managers is staff's");

    // Staff hand the co-building fund to the volunteer too, and take the drive back.
    app.sign_in("staff").await;
    let page = app.get(&format!("/c/{HS}/funds/{other}")).await.text();
    assert!(page.contains(&format!("/c/{HS}/funds/{other}/managers")), "the form that names them");
    let bad = app.post_form(&format!("/c/{HS}/funds/{other}/managers"), &[("managers", "王阿姨")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.inline_error("managers").contains("不是手机号"), "{}", bad.text());
    let set = app.post_form(&format!("/c/{HS}/funds/{other}/managers"), &[("managers", "13900000006")]).await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.text());
    let cleared = app.post_form(&format!("/c/{HS}/funds/{drive}/managers"), &[("managers", "")]).await;
    assert_eq!(cleared.status, StatusCode::SEE_OTHER, "{}", cleared.text());
    app.sign_in("volunteer").await;
    assert_eq!(app.record_gift(other, &gift).await.status, StatusCode::SEE_OTHER, "now theirs");
    assert_eq!(fund_balance(&app, other).await, 20_000);
    assert_eq!(app.record_gift(drive, &gift).await.status, StatusCode::FORBIDDEN, "no longer theirs");
}

/// Staff typed 5,000 yuan for a gift of 500: they reverse it with the reason, the fund no
/// longer counts it, the public sees it marked with the reason, and the books still verify.
#[tokio::test]
async fn a_gift_recorded_by_mistake_is_reversed_with_its_reason_and_the_books_say_so() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let fund = co_building_fund(&app).await;
    let today = linli::web::fmt::today().to_string();
    let wrong = [("donor_kind", "anonymous"), ("amount", "5000"), ("given_on", today.as_str()), ("channel", "box")];
    let r = app.record_gift(fund, &wrong).await;
    let mistaken = id_after(&r.location(), "/donations/");
    let right = [("donor_kind", "anonymous"), ("amount", "500"), ("given_on", today.as_str()), ("channel", "box")];
    assert_eq!(app.record_gift(fund, &right).await.status, StatusCode::SEE_OTHER);
    assert_eq!(fund_balance(&app, fund).await, 550_000);

    let page = app.get(&format!("/c/{HS}/donations/{mistaken}")).await.text();
    assert!(page.contains(&format!("/c/{HS}/donations/{mistaken}/reverse")), "the form to reverse it");
    let bare = app.reverse_gift(mistaken, " ").await;
    assert_eq!(bare.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!bare.inline_error("reason").is_empty(), "the reason is asked for: {}", bare.text());
    assert_eq!(fund_balance(&app, fund).await, 550_000, "nothing moved");

    let done = app.reverse_gift(mistaken, "金额录错，应为500元").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    assert_eq!(fund_balance(&app, fund).await, 50_000);
    let page = visible_text(&app.get(&format!("/c/{HS}/donations/{mistaken}")).await.text());
    assert!(page.contains("已冲正") && page.contains("金额录错，应为500元"), "{page}");
    let again = app.reverse_gift(mistaken, "再冲一次").await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(visible_text(&again.text()).contains("这笔捐赠已冲正"));
    assert_eq!(fund_balance(&app, fund).await, 50_000, "reversed once");
    let receipt = app.get(&format!("/c/{HS}/donations/{mistaken}/receipt.pdf")).await;
    assert_eq!(receipt.status, StatusCode::CONFLICT, "no receipt for a gift that no longer counts");

    let public = visible_text(&app.get_public(&format!("/p/{HS}/money/funds/{fund}")).await.text());
    assert!(public.contains("已冲正") && public.contains("金额录错，应为500元"), "{public}");
    assert!(public.contains("¥500.00"), "{public}");
    let api = app.get(&format!("/api/v1/communities/{HS}/funds")).await.json();
    let line = api["items"].as_array().unwrap().iter().find(|f| f["id"] == fund).unwrap().clone();
    assert_eq!(line["totals"], json!({"received": 50_000, "paid": 0, "balance": 50_000}), "in − out = balance");
    let stats = visible_text(&app.get(&format!("/c/{HS}/money/stats")).await.text());
    assert!(stats.contains("匿名 1 ¥500.00"), "the figures count it no more: {stats}");

    // The API reverses too; others may not.
    let id = app.scalar("SELECT MAX(id) FROM donations WHERE fund_id = $1", fund).await;
    app.sign_in("volunteer").await;
    let path = format!("/api/v1/communities/{HS}/donations/{id}/reversal");
    assert_eq!(app.post_json(&path, json!({"reason": "试试"})).await.status, StatusCode::FORBIDDEN);
    app.sign_in("staff").await;
    let r = app.post_json(&path, json!({"reason": "重复录入"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.json()["reversed_at"].is_i64());
    assert_eq!(fund_balance(&app, fund).await, 0);
    let book = app.get_public(&format!("/p/{HS}/money/ledger.xlsx")).await;
    let rows = crate::helpers::calamine_rows(&book.body);
    let ours: Vec<&Vec<String>> = rows[1..].iter().filter(|r| r[3] == "共建资金·老旧小区改造").collect();
    assert_eq!(ours.len(), 2, "every gift keeps its line");
    assert!(ours.iter().all(|r| r[4] == "0.00" && r[5].starts_with("已冲正")), "and counts nothing: {ours:?}");
    let out = app.cli(&["ledger", "verify", "--community", HS]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));

    // A gift un-marked in the database while its money went back is found.
    let c = app.community_id(HS).await;
    let mut tx = app.state.db.begin_span(Span::Maintenance).await.unwrap();
    query("UPDATE donations SET reversed_at = NULL WHERE community_id = $1 AND id = $2")
        .bind(c)
        .bind(mistaken)
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let out = app.cli(&["ledger", "verify", "--community", HS]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success() && said.contains(&format!("reverses donation {mistaken}")), "{said}");
}
