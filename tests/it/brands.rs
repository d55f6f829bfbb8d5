//! Brands 一社区一品牌: 海盛's staff find 红心微聚 with its teams and what its volunteers
//! served, add 家文化 with a logo and a story, tag a resident's request with it, and its
//! public page shows what it did in the dashboard's figures without the request itself;
//! a name taken, an empty story or another community's ticket is refused by name and
//! nothing is written; 洲心街道's administrator sees his communities' brands side by side,
//! and the subdistrict's own brand whose figures are theirs added up, and makes another.

use axum::http::StatusCode;
use linli::db::citus::Span;
use linli::db::query;

use crate::helpers::{Resp, TestApp, visible_text};

const HS: &str = "440804003001";
const LJ: &str = "441802005001";

/// The value of a page's figure tile labelled `label`.
fn kpi(html: &str, label: &str) -> String {
    let re = regex::Regex::new(&format!(
        r#"<span class="kpi-label">{}</span><b class="kpi-value">([^<]*)</b>"#,
        regex::escape(label)
    ))
    .unwrap();
    re.captures(html).map(|c| c[1].to_string()).unwrap_or_else(|| panic!("no {label} in {html}"))
}

impl TestApp {
    /// Staff add a brand through the page's form, with a logo.
    async fn add_brand(&self, name: &str, story: &str, logo: &[u8]) -> Resp {
        let fields = [("name", name), ("story", story), ("people", "社区妇联；家风家教宣讲团")];
        let files: Vec<(&str, &[u8])> = if logo.is_empty() { Vec::new() } else { vec![("photos", logo)] };
        self.post_multipart(&format!("/c/{HS}/brands"), &fields, &files).await
    }

    /// Staff tag something of the community with a brand.
    async fn tag_brand(&self, brand: i64, kind: &str, subject: &str) -> Resp {
        self.post_form(&format!("/c/{HS}/brands/{brand}/tags"), &[("kind", kind), ("subject", subject)]).await
    }

    /// 洲心街道's administrator makes a brand of some of its communities' brands.
    async fn add_subdistrict_brand(&self, sub: i64, name: &str, members: &[String]) -> Resp {
        self.save_subdistrict_brand(&format!("/subdistricts/{sub}/brands"), name, members, &[]).await
    }

    /// He sends a subdistrict brand's form (to make one, or to change it at its page).
    async fn save_subdistrict_brand(&self, path: &str, name: &str, members: &[String], logo: &[u8]) -> Resp {
        let mut fields = vec![("name", name), ("story", "各社区品牌联合开展红色服务"), ("people", "")];
        fields.extend(members.iter().map(|m| ("members", m.as_str())));
        let files: Vec<(&str, &[u8])> = if logo.is_empty() { Vec::new() } else { vec![("photos", logo)] };
        self.post_multipart(path, &fields, &files).await
    }

    async fn count(&self, sql: &'static str) -> i64 {
        let mut conn = self.state.db.span(Span::Maintenance).await.unwrap();
        query(sql).scalar(&mut conn).await.unwrap()
    }
}

#[tokio::test]
async fn staff_add_a_brand_tag_a_request_and_the_public_sees_what_it_did_in_the_dashboards_figures() {
    let mut app = TestApp::demo().await;
    let hs = app.community_id(HS).await;
    app.sign_in("staff").await;

    // 红心微聚 gathers its two teams and the service they gave, counted as the dictionary
    // counts volunteer hours.
    let hongxin = app.scalar("SELECT id FROM brands WHERE community_id = $1 AND name = '红心微聚'", hs).await;
    let page = visible_text(&app.get(&format!("/c/{HS}/brands/{hongxin}")).await.text());
    assert!(page.contains("红心微聚志愿服务队") && page.contains("青年志愿者队伍"), "{page}");
    assert!(!page.contains("邻聚欢享文艺队"), "another brand's team");
    let minutes = app
        .scalar(
            "SELECT CAST(COALESCE(SUM(r.minutes), 0) AS BIGINT) FROM service_records r JOIN teams t ON t.community_id = r.community_id AND t.id = r.team_id
             WHERE r.community_id = $1 AND t.community_id = r.community_id AND t.brand = '红心微聚' AND r.status = 'approved'",
            hs,
        )
        .await;
    assert!(minutes > 0);
    assert!(page.contains(&format!("志愿服务时长 {:.1} 小时", minutes as f64 / 60.0)), "{page}");

    // 家文化, with a logo; then a request of 海盛 tagged with it.
    let logo = linli::services::media::png_for_tests(96, 96);
    let r = app.add_brand("家文化", "以好家风带民风：家训上墙、最美家庭评选、家风故事会。", &logo).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let brand: i64 = r.location().split('?').next().unwrap().rsplit('/').next().unwrap().parse().unwrap();
    let ticket = app.scalar("SELECT MIN(id) FROM tickets WHERE community_id = $1", hs).await;
    assert_eq!(app.tag_brand(brand, "ticket", &ticket.to_string()).await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.tag_brand(brand, "ticket", &ticket.to_string()).await.status, StatusCode::SEE_OTHER, "again: once");
    let staff_page = visible_text(&app.get(&format!("/c/{HS}/brands/{brand}")).await.text());
    assert!(staff_page.contains("受理诉求 1"), "the tagged request counts: {staff_page}");
    let description: String = {
        let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
        query("SELECT description FROM tickets WHERE community_id = $1 AND id = $2")
            .bind(hs)
            .bind(ticket)
            .scalar(&mut conn)
            .await
            .unwrap()
    };
    let shown: String = description.chars().take(20).collect();
    assert!(staff_page.contains(&shown), "staff see the request");

    // The public page: story, people, figures; the request counted but never shown.
    let public = app.get_public(&format!("/p/{HS}/brands/{brand}")).await;
    assert_eq!(public.status, StatusCode::OK);
    let text = visible_text(&public.text());
    assert!(
        text.contains("以好家风带民风") && text.contains("家风家教宣讲团") && text.contains("受理诉求 1"),
        "{text}"
    );
    assert!(!text.contains(&shown), "a resident's request is not for the public");
    let img = app.get_public(&format!("/p/{HS}/brands/{brand}/logo")).await;
    assert_eq!((img.status, img.headers["content-type"].to_str().unwrap()), (StatusCode::OK, "image/png"));

    // Refused by name, nothing written.
    let before = app.count("SELECT COUNT(*) FROM brands").await;
    let r = app.add_brand("红心微聚", "", &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.inline_error("story"), "必填");
    let r = app.add_brand("红心微聚", "又一个", &[]).await;
    assert_eq!(r.inline_error("name"), "本社区已有同名品牌");
    assert_eq!(app.count("SELECT COUNT(*) FROM brands").await, before);
    let lj = app.community_id(LJ).await;
    let elsewhere = app.scalar("SELECT MIN(id) FROM tickets WHERE community_id = $1", lj).await;
    let tags = app.count("SELECT COUNT(*) FROM brand_tags").await;
    let r = app.tag_brand(brand, "ticket", &elsewhere.to_string()).await;
    assert_eq!(r.inline_error("subject"), "本社区没有这个编号");
    assert_eq!(app.tag_brand(brand, "pledge", "1").await.inline_error("kind"), "不是可选的值");
    assert_eq!(app.count("SELECT COUNT(*) FROM brand_tags").await, tags);

    // A resident reads the brand but adds none.
    app.sign_in("resident").await;
    assert_eq!(app.get(&format!("/c/{HS}/brands/{brand}")).await.status, StatusCode::OK);
    assert_ne!(app.add_brand("我的品牌", "故事", &[]).await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT COUNT(*) FROM brands").await, before);
}

#[tokio::test]
async fn the_subdistrict_shows_its_communities_brands_side_by_side() {
    let mut app = TestApp::demo().await;
    let lj = app.community_id(LJ).await;
    let sub = app.scalar("SELECT subdistrict_id FROM communities WHERE id = $1", lj).await;
    app.sign_in("street").await;
    let r = app.get(&format!("/subdistricts/{sub}/brands")).await;
    assert_eq!(r.status, StatusCode::OK);
    let text = visible_text(&r.text());
    for (brand, community) in [("连江营造计划", "连江社区"), ("红管+", "振南社区"), ("益家人", "凤翔社区")]
    {
        assert!(text.contains(&format!("{brand} {community}")), "{brand}: {text}");
    }
    assert!(!text.contains("红心微聚"), "another subdistrict's brand");
    // 红管+'s five teams are its own.
    let zn = app.community_id("441802005002").await;
    let brand = app.scalar("SELECT id FROM brands WHERE community_id = $1", zn).await;
    let public = visible_text(&app.get_public(&format!("/p/441802005002/brands/{brand}")).await.text());
    for team in ["党员志愿服务队", "科普志愿服务队", "党团突击队", "义剪志愿队", "环境整治志愿队"]
    {
        assert!(public.contains(team), "{team}: {public}");
    }

    // The subdistrict's own brand brings the three together: its figures are theirs added up.
    assert!(text.contains("一社区一品牌"), "{text}");
    let own = app.scalar("SELECT id FROM subdistrict_brands WHERE subdistrict_id = $1", sub).await;
    let page = app.get_public(&format!("/p/subdistricts/{sub}/brands/{own}")).await.text();
    let mut times = 0;
    for code in [LJ, "441802005002", "441802005006"] {
        let c = app.community_id(code).await;
        let b = app.scalar("SELECT id FROM brands WHERE community_id = $1", c).await;
        let member = app.get_public(&format!("/p/{code}/brands/{b}")).await.text();
        assert!(page.contains(&format!("/p/{code}/brands/{b}")), "{code}'s brand is a member");
        times += kpi(&member, "志愿服务人次").parse::<i64>().unwrap();
    }
    assert!(times > 0);
    assert_eq!(kpi(&page, "志愿服务人次"), times.to_string(), "the members' person-times added up");

    // He makes another of two of them; a name taken, none chosen, or a brand of another
    // subdistrict is refused by name and nothing is written.
    let key = |code: &'static str| {
        let app = &app;
        async move {
            let c = app.community_id(code).await;
            format!("{c}:{}", app.scalar("SELECT id FROM brands WHERE community_id = $1", c).await)
        }
    };
    let (lj, zn, hs) = (key(LJ).await, key("441802005002").await, key(HS).await);
    let before = app.count("SELECT COUNT(*) FROM subdistrict_brands").await;
    let r = app.add_subdistrict_brand(sub, "一社区一品牌", std::slice::from_ref(&lj)).await;
    assert!(!r.inline_error("name").is_empty(), "{}", r.text());
    let r = app.add_subdistrict_brand(sub, "洲心红色服务", &[]).await;
    assert!(!r.inline_error("members").is_empty(), "{}", r.text());
    let r = app.add_subdistrict_brand(sub, "洲心红色服务", &[lj.clone(), hs]).await;
    assert_eq!(r.inline_error("members"), "只能选择本街道各社区的品牌");
    assert_eq!(app.count("SELECT COUNT(*) FROM subdistrict_brands").await, before);
    let r = app.add_subdistrict_brand(sub, "洲心红色服务", &[lj.clone(), zn.clone()]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let at = r.location().split('?').next().unwrap().to_string();
    let made: i64 = at.rsplit('/').next().unwrap().parse().unwrap();
    let public = format!("/p/subdistricts/{sub}/brands/{made}");
    let shown = visible_text(&app.get_public(&public).await.text());
    assert!(shown.contains("洲心红色服务") && shown.contains("连江营造计划") && shown.contains("红管+"), "{shown}");
    assert!(!shown.contains("益家人"), "only the two chosen");

    // He changes it: 连江 leaves, 益家人 joins, and it gets a logo. A name another of the
    // subdistrict's brands has, or a file that is no picture, is refused by name and the
    // brand stays as it was.
    let fx = key("441802005006").await;
    let page = app.get(&at).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains(&format!(r#"value="{zn}" checked"#)), "its members are ticked");
    let r = app.save_subdistrict_brand(&at, "一社区一品牌", std::slice::from_ref(&zn), &[]).await;
    assert_eq!(r.inline_error("name"), "本街道已有同名品牌");
    let r = app.save_subdistrict_brand(&at, "洲心红色服务", std::slice::from_ref(&zn), b"not a picture").await;
    assert!(!r.inline_error("photos").is_empty(), "{}", r.text());
    assert!(visible_text(&app.get_public(&public).await.text()).contains("连江营造计划"), "nothing changed");
    let logo = linli::services::media::png_for_tests(64, 64);
    let r = app.save_subdistrict_brand(&at, "洲心红色服务", &[zn, fx], &logo).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let html = app.get_public(&public).await.text();
    let shown = visible_text(&html);
    assert!(shown.contains("红管+") && shown.contains("益家人") && !shown.contains("连江营造计划"), "{shown}");
    let src = regex::Regex::new(r#"src="(/p/subdistricts/[^"]+/logo\?v=\d+)""#).unwrap();
    let logo_at = src.captures(&html).unwrap_or_else(|| panic!("a logo: {html}"))[1].to_string();
    let img = app.get_public(&logo_at).await;
    assert_eq!((img.status, img.headers["content-type"].to_str().unwrap()), (StatusCode::OK, "image/jpeg"));
    assert_eq!(linli::services::media::sniff(&img.body), Some(linli::services::media::Format::Jpeg));

    app.sign_in("secretary").await;
    assert_eq!(app.get(&format!("/subdistricts/{sub}/brands")).await.status, StatusCode::NOT_FOUND);
    let r = app.add_subdistrict_brand(sub, "海盛的", &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "only the subdistrict's administrators make one");
    assert_eq!(app.get(&at).await.status, StatusCode::NOT_FOUND);
    let r = app.save_subdistrict_brand(&at, "海盛的", &[], &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "or change one");
}
