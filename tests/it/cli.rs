//! An operator at the command line: the `linli` binary run against the test's database and
//! data directory, as it would be on the office machine.

use axum::http::StatusCode;
use linli::db::citus::Span;

use crate::helpers::TestApp;

const HS: &str = "440804003001";

fn out(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[tokio::test]
async fn migrate_reports_the_schema_the_database_is_at() {
    let app = TestApp::empty().await;
    let o = app.cli(&["migrate"]);
    assert!(o.status.success(), "{}", out(&o));
    let last = linli::db::migrate::migrations(app.state.db.kind()).unwrap().last().unwrap().version;
    assert!(String::from_utf8_lossy(&o.stdout).contains(&format!("database at migration {last}")), "{}", out(&o));
}

#[tokio::test]
async fn an_operator_creates_a_staff_account_who_signs_in_and_later_gets_a_new_password() {
    let mut app = TestApp::demo().await;
    let users_before = app.scalar("SELECT COUNT(*) FROM users WHERE id > $1", 0).await;
    let create = |extra: &[&'static str]| {
        let mut args = vec!["user", "create", "lihua", "--name", "李华", "--password", "first-pass-1"];
        args.extend_from_slice(extra);
        app.cli(&args)
    };

    // Mistakes are named and change nothing.
    let o = create(&["--role", "janitor", "--community", HS]);
    assert!(!o.status.success() && out(&o).contains("unknown role janitor"), "{}", out(&o));
    let o = create(&["--role", "community_staff", "--community", HS, "--phone", "1381234"]);
    assert!(!o.status.success() && out(&o).contains("phone:"), "{}", out(&o));
    let o = create(&["--role", "community_staff", "--community", "000000000000"]);
    assert!(!o.status.success() && out(&o).contains("no community 000000000000"), "{}", out(&o));
    let o = create(&["--role", "grid_worker", "--community", HS]);
    assert!(!o.status.success() && out(&o).contains("--grid is needed"), "{}", out(&o));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM users WHERE id > $1", 0).await, users_before);

    let o = create(&["--role", "community_staff", "--community", HS, "--phone", "13812345678"]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("created user lihua"));
    let again = create(&["--role", "community_staff", "--community", HS]);
    assert!(!again.status.success(), "the same username twice: {}", out(&again));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM users WHERE id > $1", 0).await, users_before + 1);

    // The new account signs in by its mobile number and works in its community.
    app.sign_in_with("13812345678", "first-pass-1").await;
    assert_eq!(app.get(&format!("/api/v1/communities/{HS}/households")).await.status, StatusCode::OK);
    assert_eq!(app.get("/api/v1/communities/440804003002/households").await.status, StatusCode::NOT_FOUND);

    // A forgotten password: the operator sets a new one, and the old session ends.
    let weak = app.cli(&["user", "reset-password", "lihua", "--password", "1"]);
    assert!(!weak.status.success() && out(&weak).contains("password:"), "{}", out(&weak));
    let o = app.cli(&["user", "reset-password", "lihua", "--password", "second-pass-2"]);
    assert!(o.status.success(), "{}", out(&o));
    assert_eq!(app.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    let old = app.post_raw_form("/login", &[("username", "lihua"), ("password", "first-pass-1"), ("next", "/")]).await;
    assert_ne!(old.status, StatusCode::SEE_OTHER);
    app.sign_in_with("lihua", "second-pass-2").await;
    let o = app.cli(&["user", "reset-password", "nobody", "--password", "second-pass-2"]);
    assert!(!o.status.success() && out(&o).contains("no such user"), "{}", out(&o));

    // A zone secretary for 嘉福, the zone given by its name.
    let zone = |post: &'static str, place: &'static str| {
        app.cli(&[
            "user",
            "create",
            "jf-lin",
            "--name",
            "林秘书",
            "--password",
            "first-pass-1",
            "--role",
            "community_staff",
            "--community",
            "350206004001",
            "--post",
            post,
            "--post-place",
            place,
        ])
    };
    let o = zone("mayor", "第二片区");
    assert!(!o.status.success() && out(&o).contains("post: 不是可选的值"), "{}", out(&o));
    let o = zone("zone_secretary", "第九片区");
    assert!(!o.status.success() && out(&o).contains("no zone named 第九片区"), "{}", out(&o));
    let o = zone("zone_secretary", "第二片区");
    assert!(o.status.success(), "{}", out(&o));
    let post: (String, i64) = {
        let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
        linli::db::query("SELECT u.post, u.post_place_id FROM users u WHERE u.username = 'jf-lin'")
            .fetch_one(&mut conn)
            .await
            .unwrap()
    };
    let zone_id = app.scalar("SELECT id FROM zones WHERE name = '第二片区' AND id = $1", post.1).await;
    assert_eq!((post.0.as_str(), zone_id), ("zone_secretary", post.1));
}

#[tokio::test]
async fn community_list_gives_every_code_and_name() {
    let app = TestApp::demo().await;
    let o = app.cli(&["community", "list"]);
    assert!(o.status.success(), "{}", out(&o));
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(text.lines().any(|l| l == format!("{HS}\t海盛社区\t南调街道")), "{text}");
    let live = app.scalar("SELECT COUNT(*) FROM communities WHERE archived_at IS NULL AND id > $1", 0).await;
    assert_eq!(text.lines().count() as i64, live);
}

#[tokio::test]
async fn config_shows_which_source_won_and_hides_secrets() {
    let app = TestApp::empty().await;
    let file = app.dir.path().join("office.toml");
    std::fs::write(
        &file,
        "listen = \"0.0.0.0:9000\"\ndb_max_connections = 3\npii_key = \"c2VjcmV0LWtleS1ub2JvZHktc2hvdWxkLXNlZS0xMjM0\"\n",
    )
    .unwrap();
    let run = |extra: &[&str], listen_env: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_linli"));
        cmd.args(["config", "--config"]).arg(&file).args(extra);
        cmd.env("LINLI_DATABASE_URL", "postgres://linli:hunter2@db.example/linli").env_remove("LINLI_LISTEN");
        if let Some(l) = listen_env {
            cmd.env("LINLI_LISTEN", l);
        }
        cmd.output().unwrap()
    };
    let from_file = run(&[], None);
    let text = String::from_utf8_lossy(&from_file.stdout).to_string();
    assert!(from_file.status.success(), "{}", out(&from_file));
    assert!(text.contains("listen = \"0.0.0.0:9000\"") && text.contains("db_max_connections = 3"), "{text}");
    assert!(text.contains("postgres://linli:***@db.example/linli"), "{text}");
    assert!(!text.contains("hunter2") && !text.contains("c2VjcmV0"), "secrets shown: {text}");
    let env = String::from_utf8_lossy(&run(&[], Some("127.0.0.1:7000")).stdout).to_string();
    assert!(env.contains("listen = \"127.0.0.1:7000\""), "{env}");
    let flag =
        String::from_utf8_lossy(&run(&["--listen", "127.0.0.1:7001"], Some("127.0.0.1:7000")).stdout).to_string();
    assert!(flag.contains("listen = \"127.0.0.1:7001\""), "{flag}");

    // Every setting from the environment and as a flag; the key from the environment only.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_linli"))
        .args(["config", "--config"])
        .arg(&file)
        .args(["--log-json", "--public-url", "https://linli.example"])
        .env("LINLI_DB_MAX_CONNECTIONS", "4")
        .env("LINLI_MAX_BODY_BYTES", "1000")
        .env("LINLI_PII_KEY", "ZW52LWtleS1ub2JvZHktc2hvdWxkLXNlZS0xMjM0NTY3OA==")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    for line in [
        "log_json = true",
        "public_url = \"https://linli.example\"",
        "db_max_connections = 4",
        "max_body_bytes = 1000",
        "pii_key = \"(set, hidden)\"",
    ] {
        assert!(text.contains(line), "{line} in {text}");
    }
    assert!(!text.contains("ZW52"), "{text}");
    let o = app.cli(&["config", "--db-max-connections", "2", "--log-json=false"]);
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(text.contains("db_max_connections = 2") && text.contains("log_json = false"), "{text}");
    let engine = app.state.db.engine();
    assert!(text.contains(&format!("# database engine: {engine}\n")), "the engine it runs on: {text}");
    assert!(
        String::from_utf8_lossy(&from_file.stdout).contains("# database engine: unreachable"),
        "a server that cannot be reached is said to be"
    );

    // JSON logs are JSON lines.
    let fresh = app.dir.path().join("fresh");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_linli"))
        .args(["--log-json", "migrate", "--data-dir"])
        .arg(&fresh)
        .env_remove("LINLI_DATABASE_URL")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let logs = String::from_utf8_lossy(&o.stderr).to_string();
    let first = logs.lines().next().unwrap_or_else(|| panic!("no log lines: {}", out(&o)));
    let line: serde_json::Value = serde_json::from_str(first).unwrap_or_else(|e| panic!("{e}: {first}"));
    assert!(line["level"].is_string() && line["fields"].is_object(), "{line}");

    std::fs::write(&file, "lisen = \"0.0.0.0:9000\"\n").unwrap();
    let typo = run(&[], None);
    assert!(!typo.status.success() && out(&typo).contains("lisen"), "{}", out(&typo));
}

#[tokio::test]
async fn an_office_imports_a_csv_from_the_command_line_and_exports_the_registry() {
    let app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    let before = app.scalar("SELECT COUNT(*) FROM residents WHERE community_id = $1", c).await;
    let id = |seq, male| {
        linli::services::pii::make_id_number("440804", chrono::NaiveDate::from_ymd_opt(1980, 6, 1).unwrap(), seq, male)
    };
    let csv = format!(
        "姓名,性别,身份证号,联系电话,小区,楼栋,单元,门牌,网格,人员类别\n\
         周一,男,{},13700002222,新港花园,2,1,201,第一网格,户籍\n\
         周二,女,{},,新港花园,2,1,201,第一网格,户籍\n\
         周三,男,123,99,新港花园,2,1,202,第一网格,户籍\n",
        id(11, true),
        id(12, false)
    );
    let file = app.dir.path().join("registry.csv");
    std::fs::write(&file, csv).unwrap();
    let path = file.to_str().unwrap();

    let dry = app.cli(&["import", path, "--community", HS, "--dry-run"]);
    assert!(!dry.status.success(), "{}", out(&dry));
    let report = out(&dry);
    assert!(report.contains("第 4 行 [身份证号]") && report.contains("第 4 行 [联系电话]"), "{report}");
    let refused = app.cli(&["import", path, "--community", HS]);
    assert!(!refused.status.success() && out(&refused).contains("--skip-invalid"), "{}", out(&refused));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM residents WHERE community_id = $1", c).await, before);

    let some = app.cli(&["import", path, "--community", HS, "--skip-invalid"]);
    assert!(some.status.success(), "{}", out(&some));
    assert!(out(&some).contains("已导入: 2 名居民"), "{}", out(&some));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM residents WHERE community_id = $1", c).await, before + 2);

    let xlsx = app.dir.path().join("registry.xlsx");
    let o = app.cli(&["export", "--community", HS, xlsx.to_str().unwrap()]);
    assert!(o.status.success(), "{}", out(&o));
    use calamine::Reader;
    let mut book = calamine::open_workbook_auto(&xlsx).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let rows: Vec<Vec<String>> = sheet.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert_eq!(rows.len() as i64, before + 3, "a header and every resident");
    let zhou = rows.iter().find(|r| r.iter().any(|c| c == "周*")).expect("周一, masked");
    assert!(zhou.iter().any(|c| c == "137****2222"), "{zhou:?}");
    assert!(!rows.iter().flatten().any(|c| c == "13700002222" || *c == id(11, true)), "nothing unmasked");
}

#[tokio::test]
async fn linli_demo_loads_once_and_prints_its_accounts() {
    let app = TestApp::empty().await;
    let o = app.cli(&["demo", "--no-serve"]);
    assert!(o.status.success(), "{}", out(&o));
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    for account in ["admin", "street", "secretary", "staff", "grid", "volunteer", "resident", "unit", "grid2"] {
        assert!(text.lines().any(|l| l.trim_start().starts_with(&format!("{account} "))), "{account} in {text}");
    }
    assert!(text.contains("demo1234"), "{text}");
    let residents = app.scalar("SELECT COUNT(*) FROM residents WHERE id > $1", 0).await;
    assert!(residents > 1000);
    let again = app.cli(&["demo", "--no-serve"]);
    assert!(again.status.success(), "{}", out(&again));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM residents WHERE id > $1", 0).await, residents);
}
