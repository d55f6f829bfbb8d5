//! The dashboard 数据看板 and the monthly report: 洲心街道's administrator compares its 22
//! communities by 办结率 (urban and rural apart), goes from the lowest down to a grid and
//! to an overdue ticket, and downloads the month's report in Excel and PDF whose every
//! figure matches the dashboard's and the API's to the last digit. A secretary sees the
//! same for her grids, a grid worker for his own; nobody sees a community outside their
//! scope; a month to come or a figure not in the dictionary is refused by name.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use chrono::Datelike;
use linli::db::citus::Span;
use linli::db::query;
use serde_json::Value;

use crate::helpers::{TestApp, visible_text};

const HS: &str = "440804003001";

impl TestApp {
    /// 洲心街道's id.
    async fn zhouxin(&self) -> i64 {
        let mut conn = self.state.db.span(Span::Maintenance).await.unwrap();
        query("SELECT id FROM subdistricts WHERE code = '441802005'").scalar(&mut conn).await.unwrap()
    }

    /// Someone opens a page of the dashboard; answers its HTML (its links as written).
    async fn dashboard(&self, path: &str) -> String {
        let r = self.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
        r.text().replace("&#38;", "&")
    }
}

/// Last month, as the dashboard asks for it.
fn last_month() -> String {
    let first = linli::web::fmt::today().with_day(1).unwrap();
    first.checked_sub_months(chrono::Months::new(1)).unwrap().format("%Y-%m").to_string()
}

/// The cells of the table row whose first cell is `name`, as text.
fn row_of(html: &str, name: &str) -> Vec<String> {
    let cell = regex::Regex::new(r"(?s)<t[dh][^>]*>(.*?)</t[dh]>").unwrap();
    let tag = regex::Regex::new(r"<[^>]+>").unwrap();
    for row in html.split("<tr").skip(1) {
        let cells: Vec<String> =
            cell.captures_iter(row).map(|c| tag.replace_all(&c[1], "").split_whitespace().collect()).collect();
        if cells.first().is_some_and(|c| c == name) {
            return cells;
        }
    }
    panic!("no row for {name}");
}

/// Every sheet of a workbook by name, as text cells.
fn sheets(bytes: &[u8]) -> BTreeMap<String, Vec<Vec<String>>> {
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut out = BTreeMap::new();
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name).unwrap();
        out.insert(name, range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect());
    }
    out
}

/// The figures' codes in the dictionary's order.
fn codes(app: &TestApp) -> Vec<&'static str> {
    linli::web::dictionary::all(&app.state).into_iter().map(|(_, f)| f.code).collect()
}

#[tokio::test]
async fn the_subdistrict_compares_22_communities_goes_down_to_an_overdue_ticket_and_its_report_agrees() {
    let mut app = TestApp::demo().await;
    let sub = app.zhouxin().await;
    let month = last_month();
    app.sign_in("street").await;

    // The league by completion rate, the worst first: 22 communities, each rate no better
    // than the next.
    let api =
        app.get(&format!("/api/v1/subdistricts/{sub}/figures?month={month}&figure=completion_rate&order=worst")).await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.text());
    let api = api.json();
    let communities = api["communities"].as_array().unwrap().clone();
    assert_eq!(communities.len(), 22);
    let rates: Vec<f64> =
        communities.iter().filter_map(|c| c["figures"]["completion_rate"]["value"].as_f64()).collect();
    assert_eq!(rates.len(), 22, "every community had tickets last month");
    assert!(rates.windows(2).all(|w| w[0] <= w[1]), "the worst first: {rates:?}");
    let received: i64 = communities.iter().map(|c| c["figures"]["tickets_received"]["num"].as_i64().unwrap()).sum();
    assert_eq!(api["total"]["tickets_received"]["num"].as_i64().unwrap(), received, "the total adds them up");
    let urban = app.get(&format!("/api/v1/subdistricts/{sub}/figures?month={month}&area=urban")).await.json();
    let urban = urban["communities"].as_array().unwrap().clone();
    assert_eq!(urban.len(), 11);
    assert!(urban.iter().all(|c| c["area"] == "urban"));

    // On the page the lowest leads to its grids, a grid's overdue tickets, and the ticket.
    let page =
        app.dashboard(&format!("/subdistricts/{sub}/dashboard?month={month}&figure=completion_rate&order=worst")).await;
    let lowest = &communities[0];
    let code = lowest["code"].as_str().unwrap();
    let name = lowest["name"].as_str().unwrap();
    let down = format!("/c/{code}/dashboard?month={month}&figure=completion_rate");
    assert!(page.contains(&down), "the lowest's figure leads down to its grids");
    let grids = app.get(&format!("/api/v1/communities/{code}/figures?month={month}")).await.json();
    let grid = grids["grids"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["figures"]["overdue_tickets"]["num"].as_i64().unwrap() > 0)
        .expect("a grid with an overdue ticket")
        .clone();
    let g = grid["id"].as_i64().unwrap();
    let grid_page = app.dashboard(&format!("/c/{code}/dashboard?month={month}&figure=overdue_tickets")).await;
    let behind = format!("/c/{code}/dashboard/figures/overdue_tickets?month={month}&grid={g}");
    assert!(grid_page.contains(&behind), "the grid's overdue figure leads to the tickets");
    let list = app.dashboard(&behind).await;
    let ticket = regex::Regex::new(&format!(r#"href="/c/{code}/tickets/(\d+)""#)).unwrap();
    let ids: Vec<i64> = ticket.captures_iter(&list).map(|c| c[1].parse().unwrap()).collect();
    assert_eq!(ids.len() as i64, grid["figures"]["overdue_tickets"]["num"].as_i64().unwrap(), "each one listed");
    let c = app.community_id(code).await;
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let (due, resolved, status): (i64, Option<i64>, String) =
        query("SELECT due_at, resolved_at, status FROM tickets WHERE community_id = $1 AND id = $2")
            .bind(c)
            .bind(ids[0])
            .fetch_one(&mut conn)
            .await
            .unwrap();
    drop(conn);
    let late = resolved
        .map_or(due < linli::db::now_ms() && !["rejected", "duplicate"].contains(&status.as_str()), |r| r > due);
    assert!(late, "the ticket behind the figure is overdue");
    let opened = app.get(&format!("/c/{code}/tickets/{}", ids[0])).await;
    assert_eq!(opened.status, StatusCode::OK, "the administrator opens the ticket itself");

    // The month's report: Excel and PDF, every figure of every community as the API and
    // the dashboard have it.
    let all = app.get(&format!("/api/v1/subdistricts/{sub}/figures?month={month}")).await.json();
    let codes = codes(&app);
    let book = app.get(&format!("/subdistricts/{sub}/dashboard.xlsx?month={month}")).await;
    assert_eq!(book.status, StatusCode::OK);
    let book = sheets(&book.body);
    assert!(book.contains_key("合计") && book.contains_key("指标说明") && book.contains_key(name), "{:?}", book.keys());
    assert_eq!(book.len(), 22 + 2, "the total, a sheet per community, the definitions");
    assert_eq!(book["指标说明"].len(), codes.len() + 1, "every figure defined");
    let page = app.dashboard(&format!("/subdistricts/{sub}/dashboard?month={month}")).await;
    let ctx = linli::web::PageCtx::plain(linli::i18n::Lang::Zh);
    let asked = linli::capabilities::dashboard::Asked::read(
        &app.state,
        &linli::capabilities::dashboard::Ask { month: Some(month.clone()), ..Default::default() },
    )
    .unwrap();
    let mut cs = Vec::new();
    let mut conn = app.state.db.read().await.unwrap();
    for c in all["communities"].as_array().unwrap() {
        cs.push(linli::auth::guard::community_by_id(&mut conn, c["id"].as_i64().unwrap()).await.unwrap().unwrap());
    }
    drop(conn);
    let report = linli::capabilities::dashboard::files::read(&app.state, "洲心街道".into(), &cs, &asked).await.unwrap();
    let pdf_text = linli::capabilities::dashboard::files::laid_out(&ctx, &report).1.texts();
    let pdf = app.get(&format!("/subdistricts/{sub}/dashboard.pdf?month={month}")).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert!(pdf.body.starts_with(b"%PDF-") && pdf.body.len() > 10_000, "a PDF with its font");
    let mut in_pdf = 0;
    for c in all["communities"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let api: Vec<String> = codes.iter().map(|k| c["figures"][k]["text"].as_str().unwrap().to_string()).collect();
        let sheet = book["合计"].iter().find(|r| r[0] == name).unwrap();
        assert_eq!(sheet[1..].to_vec(), api, "{name}: Excel and API agree");
        let html = row_of(&page, name);
        assert_eq!(html[1..].to_vec(), api, "{name}: the dashboard and the API agree");
        // The PDF's tables give five figures a row, in the dictionary's order.
        let at: Vec<usize> = pdf_text.iter().enumerate().filter(|(_, t)| *t == name).map(|(i, _)| i).collect();
        for chunk in api.chunks(5) {
            let found = at.iter().any(|&i| pdf_text.get(i + 1..i + 1 + chunk.len()) == Some(chunk));
            assert!(found, "{name}: the PDF has {chunk:?}");
        }
        in_pdf += 1;
    }
    assert_eq!(in_pdf, 22);
    let total: Vec<String> = codes.iter().map(|k| all["total"][k]["text"].as_str().unwrap().to_string()).collect();
    assert_eq!(book["合计"].last().unwrap()[1..].to_vec(), total, "the totals agree");
    assert_eq!(row_of(&page, "合计")[1..].to_vec(), total);

    // The trend: twelve months of the figure, the last one the month asked, of the rural
    // communities as the filter asks.
    let rural: Vec<&str> =
        communities.iter().filter(|c| c["area"] == "rural").map(|c| c["name"].as_str().unwrap()).collect();
    let urban: Vec<&str> =
        communities.iter().filter(|c| c["area"] == "urban").map(|c| c["name"].as_str().unwrap()).collect();
    let path = format!("/subdistricts/{sub}/dashboard/trend?month={month}&figure=tickets_received&area=rural");
    let trend = visible_text(&app.dashboard(&path).await);
    assert!(trend.contains(&month) && rural.iter().all(|n| trend.contains(n)), "{trend}");
    assert!(!urban.iter().any(|n| trend.contains(&format!(" {n} "))), "only the rural ones: {trend}");
}

#[tokio::test]
async fn each_sees_only_their_own_and_bad_questions_are_refused_by_name() {
    let mut app = TestApp::demo().await;
    let sub = app.zhouxin().await;
    let month = last_month();

    // 海盛's secretary: her grids, not another subdistrict.
    app.sign_in("secretary").await;
    let hs = app.get(&format!("/api/v1/communities/{HS}/figures?month={month}")).await.json();
    let grids = hs["grids"].as_array().unwrap().len();
    assert!(grids >= 3, "{hs}");
    assert_eq!(app.get(&format!("/subdistricts/{sub}/dashboard")).await.status, StatusCode::NOT_FOUND);
    let zx = app.get(&format!("/api/v1/subdistricts/{sub}/figures")).await;
    assert_eq!(zx.status, StatusCode::NOT_FOUND);
    let page = visible_text(&app.dashboard(&format!("/c/{HS}/dashboard?month={month}")).await);
    assert!(page.contains("办结率") && page.contains("合计"), "{page}");

    // The year, as the secretary quotes it (seed 000: 76 matters resolved, 90%): the same
    // count as the tickets themselves give.
    let year = linli::web::fmt::today().format("%Y").to_string();
    let hs_id = app.community_id(HS).await;
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let (received, completed, excluded): (i64, i64, i64) = query(
        "SELECT COUNT(*), CAST(SUM(CASE WHEN status IN ('resolved', 'closed') THEN 1 ELSE 0 END) AS BIGINT),
                CAST(SUM(CASE WHEN status IN ('rejected', 'duplicate') THEN 1 ELSE 0 END) AS BIGINT)
         FROM tickets WHERE community_id = $1 AND created_at >= $2",
    )
    .bind(hs_id)
    .bind(linli::time::day_start_ms(chrono::NaiveDate::from_ymd_opt(linli::web::fmt::today().year(), 1, 1).unwrap()))
    .fetch_one(&mut conn)
    .await
    .unwrap();
    drop(conn);
    let whole = app.get(&format!("/api/v1/communities/{HS}/figures?month={year}")).await.json();
    assert_eq!(whole["month"], year.as_str());
    assert_eq!(whole["total"]["tickets_received"]["num"], received);
    let rate = format!("{:.1}", completed as f64 * 100.0 / (received - excluded) as f64);
    assert_eq!(whole["total"]["completion_rate"]["text"], rate.as_str(), "{received} received, {completed} completed");
    assert!(completed >= 76 && rate.starts_with("9"), "the seed's 76 matters and 90%: {completed}, {rate}");

    // The grid worker: his grid only, and nothing of the community as a whole.
    app.sign_in("grid").await;
    let own = app.get(&format!("/api/v1/communities/{HS}/figures?month={month}")).await.json();
    let ids: Vec<i64> = own["grids"].as_array().unwrap().iter().map(|g| g["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), 1, "{own}");
    assert!(!ids.contains(&0));
    assert_eq!(app.get(&format!("/c/{HS}/dashboard.xlsx?month={month}")).await.status, StatusCode::NOT_FOUND);
    let other = hs["grids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_i64().unwrap())
        .find(|g| !ids.contains(g) && *g != 0)
        .unwrap();
    let r = app.get(&format!("/c/{HS}/dashboard/figures/tickets_received?month={month}&grid={other}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "another grid's tickets");

    // A resident, and 洲心's administrator in 海盛: not found.
    app.sign_in("resident").await;
    assert_eq!(app.get(&format!("/c/{HS}/dashboard")).await.status, StatusCode::NOT_FOUND);
    app.sign_in("street").await;
    assert_eq!(app.get(&format!("/c/{HS}/dashboard")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/api/v1/communities/{HS}/figures")).await.status, StatusCode::NOT_FOUND);

    // A month to come, a month that is none, a figure not in the dictionary, an area.
    let next = linli::web::fmt::today().with_day(1).unwrap().checked_add_months(chrono::Months::new(1)).unwrap();
    let r = app.get(&format!("/api/v1/subdistricts/{sub}/figures?month={}", next.format("%Y-%m"))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.field_error("month"), "不能是还没到的月份");
    let r = app.get(&format!("/api/v1/subdistricts/{sub}/figures?month=13/2026&figure=happiness&area=city")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["month", "figure", "area"] {
        assert!(!r.field_error(field).is_empty(), "{field}: {}", r.text());
    }
    let page = app.get(&format!("/subdistricts/{sub}/dashboard.xlsx?month={}", next.format("%Y-%m"))).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "no report of a month to come");
    assert!(visible_text(&page.text()).contains("不能是还没到的月份"));

    // The dictionary itself: every figure named in both languages and defined.
    let dict = app.get("/api/v1/figures").await.json();
    let items = dict["items"].as_array().unwrap();
    assert_eq!(items.len(), codes(&app).len());
    let rate = items.iter().find(|f| f["code"] == "completion_rate").unwrap();
    assert_eq!((rate["name_zh"].as_str(), rate["name_en"].as_str()), (Some("办结率"), Some("Completion rate")));
    assert!(
        items.iter().all(|f| f["definition_zh"].as_str().is_some_and(|d| !d.is_empty()) && f["unit"] != Value::Null)
    );
}

#[tokio::test]
async fn last_months_reports_are_archived_once_and_listed_for_those_who_may_read_them() {
    let mut app = TestApp::demo().await;
    let sub = app.zhouxin().await;
    let month = last_month();
    // The job's run on the 1st of this month, after 01:00.
    let first = linli::web::fmt::today().with_day(1).unwrap();
    let at = linli::time::day_start_ms(first) + 9 * 3_600_000;
    let archive = |at| linli::capabilities::dashboard::archive::run_once(&app.state, at);
    let written = archive(at).await.unwrap();
    assert!(written >= 23, "洲心街道 and its 22 communities, and the rest: {written}");
    assert_eq!(archive(at).await.unwrap(), 0, "once");

    app.sign_in("street").await;
    let list = visible_text(&app.dashboard(&format!("/subdistricts/{sub}/dashboard/reports")).await);
    assert!(list.contains(&month), "{list}");
    let kept = app.get(&format!("/subdistricts/{sub}/dashboard/reports/{month}.xlsx")).await;
    assert_eq!(kept.status, StatusCode::OK);
    let live = app.get(&format!("/subdistricts/{sub}/dashboard.xlsx?month={month}")).await;
    assert_eq!(sheets(&kept.body), sheets(&live.body), "the archived report is the month's report");
    for bad in ["..%2F..%2Flinli.db", "2026-13.pdf", "secret.txt"] {
        let r = app.get(&format!("/subdistricts/{sub}/dashboard/reports/{bad}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{bad}");
    }
    assert_eq!(app.get(&format!("/c/{HS}/dashboard/reports/{month}.pdf")).await.status, StatusCode::NOT_FOUND);

    app.sign_in("secretary").await;
    let pdf = app.get(&format!("/c/{HS}/dashboard/reports/{month}.pdf")).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert!(pdf.body.starts_with(b"%PDF-"));
    assert_eq!(
        app.get(&format!("/subdistricts/{sub}/dashboard/reports/{month}.pdf")).await.status,
        StatusCode::NOT_FOUND
    );
}

/// A community's figures so far (`?month=all`) from the API, its report's Excel (the
/// community's sheet's total row) and the PDF as laid out, checked to agree; answers the
/// API's total.
async fn so_far(app: &TestApp, code: &str) -> Value {
    let api = app.get(&format!("/api/v1/communities/{code}/figures?month=all")).await.json();
    let book = app.get(&format!("/c/{code}/dashboard.xlsx?month=all")).await;
    assert_eq!(book.status, StatusCode::OK);
    let book = sheets(&book.body);
    let shown: Vec<String> = codes(app).iter().map(|k| api["total"][k]["text"].as_str().unwrap().to_string()).collect();
    assert_eq!(book["合计"].last().unwrap()[1..].to_vec(), shown, "{code}: the Excel and the API agree");
    let c = {
        let mut conn = app.state.db.read().await.unwrap();
        linli::auth::guard::community_by_code(&mut conn, code).await.unwrap().unwrap()
    };
    let ask = linli::capabilities::dashboard::Ask { month: Some("all".into()), ..Default::default() };
    let asked = linli::capabilities::dashboard::Asked::read(&app.state, &ask).unwrap();
    let report = linli::capabilities::dashboard::files::read(&app.state, c.name.clone(), &[c], &asked).await.unwrap();
    let ctx = linli::web::PageCtx::plain(linli::i18n::Lang::Zh);
    let (title, pdf) = linli::capabilities::dashboard::files::laid_out(&ctx, &report);
    assert!(title.contains("累计（截至"), "{title}");
    let texts = pdf.texts();
    for (k, v) in codes(app).iter().zip(&shown) {
        let name = linli::i18n::t(linli::i18n::Lang::Zh, &format!("figure.name.{k}"));
        let at = texts.iter().position(|t| *t == name).unwrap_or_else(|| panic!("{name} in the PDF"));
        assert_eq!(&texts[at + 1], v, "{code}: the PDF's total of {name}");
    }
    api["total"].clone()
}

/// The figures the seeds quote, counted by the dictionary from the demo's records over
/// everything so far, and the same in the API, the Excel and the PDF: 海盛社区's
/// 红心微聚 (seed 000: "500余人次", "86人次的党员干部") and 嘉福社区's dual registration
/// (seed 002: 18 units, 104 members, 134 items claimed, 3.94 million yuan, 36 projects).
#[tokio::test]
async fn the_figures_the_seeds_quote_come_out_of_the_dictionary() {
    let mut app = TestApp::demo().await;
    app.sign_in("secretary").await;
    let hs = so_far(&app, HS).await;
    let times = hs["service_person_times"]["num"].as_i64().unwrap();
    assert!((500..600).contains(&times), "500余人次: {times}");
    assert_eq!(hs["party_service_times"]["num"], 86, "86人次的党员干部");
    let page = visible_text(&app.dashboard(&format!("/c/{HS}/dashboard?month=all&figure=party_service_times")).await);
    assert!(page.contains("党员服务人次") && page.contains("86"), "{page}");
    let behind = app.dashboard(&format!("/c/{HS}/dashboard/figures/party_service_times?month=all")).await;
    assert!(visible_text(&behind).contains("累计（截至"), "the drill-down names the period");
    assert_eq!(behind.matches("/service-records/").count(), 86, "each record behind it listed");

    app.sign_in("admin").await;
    let jf = so_far(&app, "350206004001").await;
    assert_eq!(jf["units_registered"]["num"], 18);
    assert_eq!(jf["members_registered"]["num"], 104);
    assert_eq!(jf["pledges_made"]["num"], 134, "认领项目134项");
    assert_eq!(jf["funds_from_units"]["text"], "3940000.00", "共建单位筹集建设资金394万元");
    assert_eq!(jf["projects_carried"]["num"], 36, "项目36件");
    let r = app.get("/api/v1/communities/350206004001/figures?month=al").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.field_error("month").contains("all"), "the message says how to ask for everything so far");
}
