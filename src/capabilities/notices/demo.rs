//! Demo notices in every seed community: a safety notice that asks each reader to
//! acknowledge it (in 海盛社区, to the two buildings of the demo resident's compound, which
//! the resident has acknowledged), the party-affairs and finance disclosures of the
//! boards, 怡馨家园第一社区's honour list 最美怡馨人 and residents' code 居规民约, one
//! scheduled for tomorrow and one expired in the archive.

use super::Draft;
use super::store;
use crate::auth::guard::community_by_id;
use crate::db::{now_ms, query};
use crate::demo::{actor_named, community_id};
use crate::time::DAY_MS;
use crate::web::AppState;

const HAISHENG: &str = "440804003001";
/// The seed communities: 海盛, 回龙, 嘉福, 怡馨家园第一, 连江, 振南.
const SEEDS: [&str; 6] = [HAISHENG, "321111005001", "350206004001", "110113003001", "441802005001", "441802005002"];

fn draft(category: &str, title: &str, body: &str, (audience, targets): (&str, Vec<i64>)) -> Draft {
    Draft {
        category: category.into(),
        title: title.into(),
        body: body.into(),
        audience: audience.into(),
        targets,
        publish_at: None,
        expires_at: None,
        pinned: false,
        asks_ack: false,
    }
}

/// The notices every seed community has; `buildings` are those the safety notice goes to
/// (none: the whole community).
fn notices_of(name: &str, buildings: Vec<i64>) -> Vec<Draft> {
    let now = now_ms();
    let to = if buildings.is_empty() { ("community", Vec::new()) } else { ("buildings", buildings) };
    let safety = Draft {
        pinned: true,
        asks_ack: true,
        expires_at: Some(now + 14 * DAY_MS),
        ..draft(
            "safety",
            "冬季燃气安全入户检查通知",
            "本周六上午9:00至12:00，社区联合燃气公司上门检查燃气管道和热水器。请家中留人，检查不收取任何费用。看到通知请点击“已知悉”。",
            to,
        )
    };
    let party = draft(
        "party_affairs",
        "2026年第四季度党员大会召开通知",
        "定于本月25日下午3点在党群服务中心召开党员大会，议程：学习传达上级精神、通报党费收缴情况、民主评议党员。",
        ("party_members", Vec::new()),
    );
    let dues = draft(
        "party_affairs",
        "2026年第三季度党费收缴情况公示",
        "本季度应缴党费党员全部按时足额缴纳，收缴情况已报街道党工委，接受全体居民监督。",
        ("community", Vec::new()),
    );
    let finance = draft(
        "finance",
        &format!("{name}2026年11月公益金收支公示"),
        "本月收入：居民捐赠及共建单位资金；支出：长者饭堂补贴、楼道照明维修。明细见社区公开栏和“资金公开”页面，如有疑问请联系社区居委会。",
        ("community", Vec::new()),
    );
    let scheduled = Draft {
        publish_at: Some(now + DAY_MS),
        ..draft(
            "daily_life",
            "冬季供暖开栓时间通知",
            "本小区供暖将于下周一起开栓，请各户检查暖气阀门。",
            ("community", Vec::new()),
        )
    };
    let expired = Draft {
        publish_at: Some(now - 30 * DAY_MS),
        expires_at: Some(now - 20 * DAY_MS),
        ..draft(
            "services",
            "国庆假期社区办公时间安排",
            "国庆期间社区居委会值班电话保持畅通。",
            ("community", Vec::new()),
        )
    };
    vec![safety, party, dues, finance, scheduled, expired]
}

/// 怡馨家园第一社区's honour list and residents' code (seed 003).
fn yixin_boards() -> Vec<Draft> {
    vec![
        Draft {
            pinned: true,
            ..draft(
                "honours",
                "2026年度“最美怡馨人”公示榜",
                "经居民推荐、居民议事会评议，以下居民当选2026年度“最美怡馨人”：热心助老的王秀兰、义务理发十年的李建国、守护绿色巡护队队长张德明。公示期7天。",
                ("community", Vec::new()),
            )
        },
        draft(
            "residents_code",
            "怡馨家园居规民约",
            "一、爱党爱国，遵纪守法；二、邻里和睦，互帮互助；三、垃圾分类，爱护环境；四、文明养犬，不扰邻里；五、移风易俗，婚事新办、丧事简办。",
            ("community", Vec::new()),
        ),
    ]
}

/// Loads the notices of the seed communities, once.
pub async fn load(state: &AppState) -> anyhow::Result<()> {
    let Some(hs) = community_id(state, HAISHENG).await? else { return Ok(()) };
    let present: i64 = query("SELECT COUNT(*) FROM notices WHERE community_id = $1")
        .bind(hs)
        .scalar(&mut state.db.read().await?)
        .await?;
    if present > 0 {
        return Ok(());
    }
    for code in SEEDS {
        let Some(cid) = community_id(state, code).await? else { continue };
        let mut conn = state.db.read().await?;
        let Some(c) = community_by_id(&mut conn, cid).await? else { continue };
        let staff: Option<String> = query(
            "SELECT u.username FROM grants g JOIN users u ON u.id = g.user_id WHERE g.community_id = $1 \
             AND g.role IN ('community_secretary', 'community_staff') ORDER BY g.role, u.id LIMIT 1",
        )
        .bind(cid)
        .scalar_optional(&mut conn)
        .await?;
        // The demo resident's compound, in 海盛.
        let buildings: Vec<i64> = query(
            "SELECT b.id FROM users u JOIN grants g ON g.user_id = u.id AND g.community_id = $1 \
             JOIN households h ON h.community_id = $1 AND h.id = g.household_id \
             JOIN buildings o ON o.community_id = $1 AND o.id = h.building_id \
             JOIN buildings b ON b.community_id = $1 AND b.compound_id = o.compound_id \
             WHERE u.username = 'resident' ORDER BY CASE WHEN b.id = o.id THEN 0 ELSE 1 END, b.id LIMIT 2",
        )
        .bind(cid)
        .scalars(&mut conn)
        .await?;
        drop(conn);
        let Some(staff) = staff else { continue };
        let Some(author) = actor_named(state, &staff).await? else { continue };
        let mut drafts = notices_of(&c.name, if code == HAISHENG { buildings } else { Vec::new() });
        if code == "110113003001" {
            drafts.extend(yixin_boards());
        }
        for d in drafts {
            store::create(state, &author, &c, d, &[]).await?;
        }
    }
    // The demo resident has acknowledged 海盛's safety notice.
    if let Some(resident) = actor_named(state, "resident").await? {
        let safety: Option<i64> = query("SELECT MIN(id) FROM notices WHERE community_id = $1 AND category = 'safety'")
            .bind(hs)
            .scalar(&mut state.db.read().await?)
            .await?;
        if let Some(id) = safety {
            store::ack(state, &resident, hs, id).await?;
        }
    }
    Ok(())
}
