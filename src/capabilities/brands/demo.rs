//! Demo brands from the seeds: 海盛社区's 红心微聚 and 邻聚欢享 (seed 000), and 洲心街道's
//! 连江营造计划 (连江社区), 红管+ (振南社区) and 益家人 (凤翔社区) (seed 004). Their teams
//! already carry their names; 红心微聚 is also tagged with 海盛's first need and project.
//! 洲心街道's own brand, 一社区一品牌, brings its three communities' brands together.

use crate::db::{Tx, now_ms, query};
use crate::web::AppState;

/// (community code, name, story, people)
const BRANDS: &[(&str, &str, &str, &str)] = &[
    (
        "440804003001",
        "红心微聚",
        "社区书记陈洁首创的基层治理积分方案：居民的每一次志愿服务都记录下来、积成分数，可以兑换实用的服务或纪念品，让热心奉献成为看得见的荣誉。",
        "陈洁（社区书记，发起人）；红心微聚志愿服务队；青年志愿者队伍",
    ),
    (
        "440804003001",
        "邻聚欢享",
        "从与久和医院合办的“久和杯”广场舞大赛开始，在辖区企业支持下办成的邻里节：活动“化整为零”，在多个小站点同时进行。",
        "邻聚欢享文艺队；久和医院；海盛物业服务中心",
    ),
    (
        "441802005001",
        "连江营造计划",
        "2021年12月正式运营：老旧小区基础设施升级改造、“享连江”社区服务项目，培育出文化体验计划、1小时义举计划、“一米花园”改造计划等特色文化品牌。",
        "连江社区党委；清远市老干部大学；地方媒体单位",
    ),
    (
        "441802005002",
        "红管+",
        "“党建+”社区服务项目：孵化服务团队、孵化服务项目、孵化社会资源的“三孵化”模式，以“暖心驿站”为纽带服务户外劳动者和社区居民。",
        "党员志愿服务队、科普志愿服务队、党团突击队、义剪志愿队、环境整治志愿队",
    ),
    (
        "441802005006",
        "益家人",
        "凤翔社区“益家人”志愿服务：把邻里当家人，志愿者就近服务老人、儿童和有需要的家庭。",
        "“益家人”社区志愿服务队",
    ),
];

async fn tag(tx: &mut Tx, c: i64, brand: i64, kind: &str, table: &str) -> anyhow::Result<()> {
    let first: Option<i64> =
        query(format!("SELECT MIN(id) FROM {table} WHERE community_id = $1")).bind(c).scalar(&mut *tx).await?;
    if let Some(subject) = first {
        query(
            "INSERT INTO brand_tags (community_id, brand_id, kind, subject_id, tagged_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(c)
        .bind(brand)
        .bind(kind)
        .bind(subject)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// The seeds' brands, once per community.
pub async fn load(state: &AppState) -> anyhow::Result<()> {
    let year_ago = now_ms() - 365 * 86_400_000;
    for (code, name, story, people) in BRANDS {
        let Some(c) = crate::demo::community_id(state, code).await? else { continue };
        let mut tx = state.db.begin().await?;
        let there: Option<i64> = query("SELECT id FROM brands WHERE community_id = $1 AND name = $2")
            .bind(c)
            .bind(*name)
            .scalar_optional(&mut tx)
            .await?;
        if there.is_some() {
            continue;
        }
        let id = tx.next_id().await?;
        query(
            "INSERT INTO brands (community_id, id, name, story, people, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(c)
        .bind(id)
        .bind(*name)
        .bind(*story)
        .bind(*people)
        .bind(year_ago)
        .execute(&mut tx)
        .await?;
        if *name == "红心微聚" {
            tag(&mut tx, c, id, "need", "needs").await?;
            tag(&mut tx, c, id, "project", "council_projects").await?;
        }
        tx.commit().await?;
    }
    zhouxin(state).await
}

/// 洲心街道's 一社区一品牌 over 连江营造计划, 红管+ and 益家人, once.
async fn zhouxin(state: &AppState) -> anyhow::Result<()> {
    let mut members = Vec::new();
    for (code, name) in BRANDS.iter().filter(|b| b.0.starts_with("441802005")).map(|b| (b.0, b.1)) {
        let Some(c) = crate::demo::community_id(state, code).await? else { continue };
        let b: Option<i64> = query("SELECT id FROM brands WHERE community_id = $1 AND name = $2")
            .bind(c)
            .bind(name)
            .scalar_optional(&mut state.db.read().await?)
            .await?;
        members.extend(b.map(|b| (c, b)));
    }
    let mut tx = state.db.begin().await?;
    let Some(sub): Option<i64> =
        query("SELECT id FROM subdistricts WHERE code = '441802005'").scalar_optional(&mut tx).await?
    else {
        return Ok(());
    };
    if !super::joint::list(&mut tx, sub).await?.is_empty() {
        return Ok(());
    }
    let d = super::Draft {
        name: "一社区一品牌".into(),
        story: "洲心街道11个城市社区、11个农村社区结合各自的资源和基础，打造各具特色的社区品牌，形成“一社区一品牌”的基层治理格局，在全街道展示、孵化可复制的案例。".into(),
        people: "洲心街道党工委；各社区党组织".into(),
    };
    super::joint::insert(&mut tx, sub, &d, &members, None).await?;
    tx.commit().await?;
    Ok(())
}
