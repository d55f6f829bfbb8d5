//! A test app per test: a fresh database (a SQLite file, or a new PostgreSQL database
//! when `LINLI_TEST_DATABASE_URL` is set), the real router, and one helper per kind of
//! request so that tests read like what a user does.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use linli::app::{AppState, router};
use linli::config::Config;
use linli::db::citus::Span;
use linli::db::query;
use serde_json::Value;

use crate::databases::{self, Start};
use tower::ServiceExt;

pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    /// The session cookie, once signed in.
    pub cookie: Option<String>,
    pub csrf: String,
    pub dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn location(&self) -> String {
        self.headers.get(header::LOCATION).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
    }

    /// The error a refused page shows under a field of its form.
    pub fn inline_error(&self, field: &str) -> String {
        let html = self.text();
        for part in html.split(r#"class="error-text" id="e-"#).skip(1) {
            let (id, rest) = part.split_once('"').unwrap_or(("", ""));
            if id.ends_with(&format!("-{field}")) {
                return rest.trim_start_matches('>').split('<').next().unwrap_or("").trim().to_string();
            }
        }
        String::new()
    }

    /// The error message of a field in a JSON error answer.
    pub fn field_error(&self, field: &str) -> String {
        self.json()["error"]["fields"][field].as_str().unwrap_or("").to_string()
    }
}

impl TestApp {
    /// An empty platform (migrated, no data).
    pub async fn empty() -> TestApp {
        TestApp::from_template(Start::Empty).await
    }

    /// The platform with the demo data from the seeds.
    pub async fn demo() -> TestApp {
        TestApp::from_template(Start::Demo).await
    }

    async fn from_template(start: Start) -> TestApp {
        linli::logging::init(false);
        let t = databases::template(start);
        let dir = tempfile::tempdir().unwrap();
        databases::copy_dir(t.dir.path(), dir.path());
        let (url, pg) = databases::copy(t).await;
        let config = Config::for_paths(dir.path(), url.as_deref());
        let state = linli::app::open(config).await.expect("open the app");
        TestApp { router: router(state.clone()), state, cookie: None, csrf: String::new(), dir, pg }
    }

    /// A second server process on the same database (a restart, or a second node).
    pub async fn restart(&self) -> TestApp {
        self.restart_with(|_| {}).await
    }

    /// A restart after the operator changed the configuration.
    pub async fn restart_with(&self, change: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = (*self.state.config).clone();
        change(&mut config);
        let state = linli::app::open(config).await.unwrap();
        TestApp {
            router: router(state.clone()),
            state,
            cookie: self.cookie.clone(),
            csrf: self.csrf.clone(),
            dir: tempfile::tempdir().unwrap(),
            pg: None,
        }
    }

    /// What a tamperer with the database does first: switches off the guards that keep
    /// these tables append-only (on Citus they are privileges, which the owner takes back).
    pub async fn guards_off(&self, tx: &mut linli::db::Tx, tables: &[&str]) {
        for t in tables {
            let sql = if self.state.db.is_citus() {
                format!("GRANT UPDATE ON {t} TO CURRENT_USER")
            } else if self.is_postgres() {
                format!("ALTER TABLE {t} DISABLE TRIGGER {t}_append_only")
            } else {
                format!("DROP TRIGGER {t}_append_only_u")
            };
            query(sql).execute(&mut *tx).await.unwrap();
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.state.db.kind() == linli::db::DbKind::Postgres
    }

    pub async fn send(&self, mut req: Request<Body>) -> Resp {
        if let Some(c) = &self.cookie {
            req.headers_mut().insert(header::COOKIE, c.parse().unwrap());
        }
        self.send_plain(req).await
    }

    /// Sends a request as it is, with no session.
    /// No request, however odd, is answered 500: that would be a defect, so every test
    /// fails on one.
    async fn send_plain(&self, req: Request<Body>) -> Resp {
        let what = format!("{} {}", req.method(), req.uri());
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes().to_vec();
        assert_ne!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{what} answered 500: {}",
            String::from_utf8_lossy(&body)
        );
        Resp { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Request::get(path).body(Body::empty()).unwrap()).await
    }

    /// Sends JSON posts all at once, each as the session of its cookie, and answers each
    /// one's status and body in the order given.
    pub async fn all_at_once(&self, posts: Vec<(String, String, Value)>) -> Vec<(StatusCode, String)> {
        let tasks: Vec<_> = posts
            .into_iter()
            .map(|(cookie, path, body)| {
                let router = self.router.clone();
                tokio::spawn(async move {
                    let req = Request::post(path)
                        .header(header::COOKIE, cookie)
                        .header(header::CONTENT_TYPE, "application/json")
                        .body(Body::from(body.to_string()))
                        .unwrap();
                    let resp = router.oneshot(req).await.unwrap();
                    let status = resp.status();
                    let body = resp.into_body().collect().await.unwrap().to_bytes();
                    assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "{}", String::from_utf8_lossy(&body));
                    (status, String::from_utf8_lossy(&body).to_string())
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    }

    /// A page or answer as someone who has not signed in sees it.
    pub async fn get_public(&self, path: &str) -> Resp {
        self.send_plain(Request::get(path).body(Body::empty()).unwrap()).await
    }

    /// Posts a form as the browser would, with the session's form token.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let mut all: Vec<(&str, &str)> = vec![("_csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw_form(path, &all).await
    }

    pub async fn post_raw_form(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// Posts a multipart form (with files) as the browser would, with the form token.
    pub async fn post_multipart(&self, path: &str, fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> Resp {
        let mut all: Vec<(&str, &str)> = vec![("_csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.send(multipart(path, &all, files)).await
    }

    pub async fn post_json(&self, path: &str, body: Value) -> Resp {
        self.json_request("POST", path, body).await
    }

    pub async fn put_json(&self, path: &str, body: Value) -> Resp {
        self.json_request("PUT", path, body).await
    }

    pub async fn patch_json(&self, path: &str, body: Value) -> Resp {
        self.json_request("PATCH", path, body).await
    }

    async fn json_request(&self, method: &str, path: &str, body: Value) -> Resp {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(req).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(Request::delete(path).body(Body::empty()).unwrap()).await
    }

    /// Signs in through the page, as a person would; keeps the cookie and form token.
    pub async fn sign_in(&mut self, username: &str) {
        self.sign_in_with(username, linli::demo::PASSWORD).await;
    }

    pub async fn sign_in_with(&mut self, username: &str, password: &str) {
        self.cookie = None;
        let r = self.post_raw_form("/login", &[("username", username), ("password", password), ("next", "/")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "sign-in of {username} failed: {}", r.text());
        let set = r.headers.get(header::SET_COOKIE).expect("a session cookie").to_str().unwrap().to_string();
        self.cookie = Some(set.split(';').next().unwrap().to_string());
        let me = self.get("/api/v1/me").await;
        self.csrf = me.json()["csrf_token"].as_str().unwrap().to_string();
    }

    /// Goes on with the session a response opened (a sign-up signs the new user in).
    pub async fn keep_session_of(&mut self, r: &Resp) {
        let set = r.headers.get(header::SET_COOKIE).expect("a session cookie").to_str().unwrap().to_string();
        self.cookie = Some(set.split(';').next().unwrap().to_string());
        self.csrf = self.get("/api/v1/me").await.json()["csrf_token"].as_str().unwrap().to_string();
    }

    /// Acts as an account that has no password (the demo's invented people): a session
    /// opened for it directly.
    pub async fn act_as(&mut self, user_id: i64) {
        let mut tx = self.state.db.begin_span(Span::Maintenance).await.unwrap();
        let (token, _) = linli::auth::session::open(&mut tx, user_id).await.unwrap();
        tx.commit().await.unwrap();
        self.cookie = Some(format!("{}={token}", linli::auth::session::COOKIE));
        let me = self.get("/api/v1/me").await;
        self.csrf = me.json()["csrf_token"].as_str().unwrap().to_string();
    }

    /// The id of an account by its sign-in name.
    pub async fn user_id(&self, username: &str) -> i64 {
        let mut conn = self.state.db.span(Span::Maintenance).await.unwrap();
        query("SELECT id FROM users WHERE username = $1").bind(username).scalar(&mut conn).await.unwrap()
    }

    /// The id of a community by code.
    pub async fn community_id(&self, code: &str) -> i64 {
        let mut conn = self.state.db.span(Span::Maintenance).await.unwrap();
        query("SELECT id FROM communities WHERE code = $1").bind(code).scalar(&mut conn).await.unwrap()
    }

    /// The `linli` binary set up for this app's database and data directory (and so its key).
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        let url = secrecy::ExposeSecret::expose_secret(&self.state.config.database_url).to_string();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_linli"));
        cmd.args(args).env("LINLI_DATABASE_URL", url).env("LINLI_DATA_DIR", self.dir.path()).env_remove("LINLI_CONFIG");
        cmd
    }

    /// Runs a `linli` command to its end.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        self.command(args).output().expect("the linli binary runs")
    }

    /// People invented for a race: accounts `{username}{i}` named `{name}{i}`, with no
    /// password, acting with the grants given.
    pub async fn invented(
        &self,
        n: usize,
        username: &str,
        name: &str,
        grants: Vec<linli::auth::model::Grant>,
    ) -> Vec<linli::auth::model::Actor> {
        let mut tx = self.state.db.begin_span(Span::Maintenance).await.unwrap();
        let ids = tx.next_ids(n).await.unwrap();
        for (i, id) in ids.iter().enumerate() {
            query("INSERT INTO users (id, username, display_name, password_hash, created_at, updated_at) VALUES ($1, $2, $3, 'x', 0, 0)")
                .bind(*id)
                .bind(format!("{username}{i}"))
                .bind(format!("{name}{i}"))
                .execute(&mut tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        ids.into_iter()
            .enumerate()
            .map(|(i, id)| linli::auth::model::Actor {
                user_id: id,
                username: format!("{username}{i}"),
                display_name: format!("{name}{i}"),
                grants: grants.clone(),
                subdistrict_communities: Default::default(),
            })
            .collect()
    }

    pub async fn scalar(&self, sql: &'static str, arg: i64) -> i64 {
        let mut conn = self.state.db.span(Span::Maintenance).await.unwrap();
        query(sql).bind(arg).scalar(&mut conn).await.unwrap()
    }
}

/// A multipart form request.
pub fn multipart(path: &str, fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> Request<Body> {
    // Each file named as what it holds, as a phone names what it sends.
    let named: Vec<(&str, String, &[u8])> = files
        .iter()
        .map(|(field, bytes)| {
            let ext = match linli::services::media::sniff(bytes) {
                Some(f) => f.mime().rsplit('/').next().unwrap_or("bin").replace("jpeg", "jpg"),
                None => "bin".to_string(),
            };
            (*field, format!("upload.{ext}"), *bytes)
        })
        .collect();
    multipart_named(path, fields, &named)
}

/// A multipart form request whose files carry the names given.
pub fn multipart_named(path: &str, fields: &[(&str, &str)], files: &[(&str, String, &[u8])]) -> Request<Body> {
    let boundary = "XyZlinliBoundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    for (name, file_name, bytes) in files {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                .as_bytes(),
        );
        body.extend(*bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    Request::post(path)
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .body(Body::from(body))
        .unwrap()
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // The test's own pool is not closed from here: its connections may still be
        // returning on the test's runtime, which this blocks. FORCE ends them.
        if let Some((base, name)) = self.pg.take() {
            databases::drop_copy(base, name);
        }
    }
}

/// The `<td>`/cell texts and links of a page, stripped of tags (for assertions on pages).
pub fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first sheet of a workbook, as text cells.
pub fn calamine_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&sheet).unwrap();
    range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
}
