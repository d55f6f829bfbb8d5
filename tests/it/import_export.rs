//! The registry in and out of Excel and CSV, as a community office keeps it.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use linli::db::citus::Span;

use crate::helpers::{Resp, TestApp, visible_text};

const HS: &str = "440804003001";

impl TestApp {
    /// How many residents a community's registry holds.
    pub(crate) async fn resident_count(&self, code: &str) -> i64 {
        self.scalar("SELECT COUNT(*) FROM residents WHERE community_id = $1", self.community_id(code).await).await
    }

    /// Staff send a CSV sheet to 海盛's import API, with its options (`?dry_run=true`...) as a query.
    async fn import_sheet(&self, body: Vec<u8>, query: &str) -> Resp {
        let req = Request::post(format!("/api/v1/communities/{HS}/import{query}"))
            .header(header::CONTENT_TYPE, "text/csv")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// An office uploads a sheet on 海盛's import page to have it checked.
    async fn upload_import_sheet(&self, file: &[u8]) -> Resp {
        self.post_multipart(&format!("/c/{HS}/import"), &[], &[("file", file)]).await
    }

    /// An office confirms the import of a checked sheet, kept as `pending`.
    async fn confirm_import_sheet(&self, pending: &str) -> Resp {
        self.post_multipart(&format!("/c/{HS}/import"), &[("pending", pending)], &[]).await
    }

    /// Someone downloads 海盛's registry as an Excel sheet.
    async fn export_resident_sheet(&self) -> Resp {
        self.get(&format!("/c/{HS}/export/residents.xlsx")).await
    }
}

fn id(seq: u32) -> String {
    linli::services::pii::make_id_number("440804", chrono::NaiveDate::from_ymd_opt(1975, 3, 4).unwrap(), seq, true)
}

fn sheet(rows: &[[&str; 10]]) -> String {
    let mut out = String::from("姓名,性别,身份证号,联系电话,小区,楼栋,单元,门牌,网格,人员类别\n");
    for r in rows {
        out.push_str(&r.join(","));
        out.push('\n');
    }
    out
}

#[tokio::test]
async fn a_dry_run_lists_every_bad_row_and_nothing_is_imported_while_the_file_has_errors() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let before = app.resident_count(HS).await;
    let (good1, good2) = (id(1), id(2));
    let csv = sheet(&[
        ["陈大明", "男", &good1, "13700001111", "新港花园", "1", "1", "101", "第一网格", "户籍"],
        ["陈小红", "", &good2, "", "新港花园", "1", "1", "101", "第一网格", "流动"],
        ["", "男", "12345", "99", "新港花园", "1", "1", "102", "第九网格", "外国"],
    ]);
    // GBK, as Excel on a Chinese Windows saves CSV.
    let (gbk, _, _) = encoding_rs::GBK.encode(&csv);
    let dry = app.import_sheet(gbk.to_vec(), "?dry_run=true").await;
    assert_eq!(dry.status, StatusCode::OK);
    let report = dry.json();
    assert_eq!(report["rows"], 3);
    assert_eq!(report["applied"], false);
    let errors = report["errors"].as_array().unwrap();
    let columns: Vec<&str> = errors.iter().map(|e| e["column"].as_str().unwrap()).collect();
    assert_eq!(columns, ["姓名", "身份证号", "联系电话", "网格", "人员类别"]);
    assert!(errors.iter().all(|e| e["row"] == 4));
    assert!(errors[3]["reason"].as_str().unwrap().contains("第九网格"));

    let refused = app.import_sheet(gbk.to_vec(), "").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.resident_count(HS).await, before, "nothing imported");

    let partial = app.import_sheet(gbk.to_vec(), "?skip_invalid=true").await.json();
    assert_eq!(partial["applied"], true);
    assert_eq!(partial["residents"], 2);
    assert_eq!(partial["households"], 1, "the two share a household");
    assert_eq!(partial["compounds"], 1);
    assert_eq!(app.resident_count(HS).await, before + 2);

    // The same people again are refused: their ID numbers are registered now.
    let again = app.import_sheet(csv.into_bytes(), "?dry_run=true").await.json();
    assert!(
        again["errors"].as_array().unwrap().iter().any(|e| e["reason"].as_str().unwrap().contains("已在本社区登记"))
    );
}

#[tokio::test]
async fn an_office_uploads_an_xlsx_checks_it_and_confirms_on_the_page() {
    let mut app = TestApp::demo().await;
    app.sign_in("secretary").await;
    let rows = vec![
        vec![
            "赵一".to_string(),
            "男".into(),
            id(11),
            "13811112222".into(),
            "海盛花园".into(),
            "9".into(),
            "1".into(),
            "201".into(),
            "第二网格".into(),
            "常住".into(),
        ],
        vec![
            "赵二".to_string(),
            "".into(),
            "".into(),
            "".into(),
            "海盛花园".into(),
            "9".into(),
            "1".into(),
            "202".into(),
            "第二网格".into(),
            "".into(),
        ],
    ];
    let headers = linli::capabilities::registry::transfer::COLUMNS;
    let xlsx = linli::services::sheets::xlsx_table("Sheet1", &headers, &rows).unwrap();

    let checked = app.upload_import_sheet(&xlsx).await;
    assert_eq!(checked.status, StatusCode::OK, "{}", checked.text());
    let html = checked.text();
    assert!(visible_text(&html).contains("确认导入"));
    let pending = html.split("name=\"pending\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();

    let done = app.confirm_import_sheet(&pending).await;
    assert!(visible_text(&done.text()).contains("导入完成"), "{}", done.text());
    let found = app.get(&format!("/api/v1/communities/{HS}/residents?q=%E8%B5%B5%E4%B8%80")).await.json();
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["phone"], "138****2222");
    assert_eq!(found["items"][0]["category"], "permanent");
}

#[tokio::test]
async fn the_registry_exports_to_xlsx_masked_and_within_scope() {
    let mut app = TestApp::demo().await;
    app.sign_in("grid").await;
    let r = app.export_resident_sheet().await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers.get(header::CONTENT_TYPE).unwrap().to_str().unwrap().contains("spreadsheetml"));
    let table = linli::capabilities::registry::transfer::read_table(&r.body).unwrap();
    assert_eq!(table[0][0], "姓名");
    let c = app.community_id(HS).await;
    let grid0 = app.first_grid_id(HS).await;
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let in_grid: i64 = linli::db::query("SELECT COUNT(*) FROM residents WHERE community_id = $1 AND grid_id = $2")
        .bind(c)
        .bind(grid0)
        .scalar(&mut conn)
        .await
        .unwrap();
    assert_eq!(table.len() as i64 - 1, in_grid, "a grid worker exports their grid");
    for row in &table[1..] {
        assert!(row[0].chars().skip(1).all(|ch| ch == '*'), "names masked: {}", row[0]);
        assert!(row[2].is_empty() || row[2].contains("***********"), "ID masked: {}", row[2]);
        assert!(row[3].is_empty() || row[3].contains("****"), "phone masked: {}", row[3]);
    }
}
