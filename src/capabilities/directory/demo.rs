//! Demo directory of 怡馨家园第一社区 (seed 003, "一刻钟服务圈联百家"): sixteen local
//! enterprises giving free medical care, legal advice, talks, pedicure and haircuts (and
//! repairs, housekeeping, elderly care and childcare), each at its shop or station around
//! the compounds, with weekly hours; one listing left unverified for over 180 days, as
//! staff's list to check shows.

use chrono::NaiveDate;

use super::HOURS_OWNER;
use crate::db::{Arg, Tx, insert_many, now_ms, query};
use crate::demo::community_id;
use crate::services::hours::{Rule, mask_of, store::add_rule};
use crate::time::DAY_MS;
use crate::web::AppState;

const YIXIN: &str = "110113003001";

/// Weekdays 1–5, every day, or some days.
const WEEKDAYS: &[u8] = &[1, 2, 3, 4, 5];
const EVERY_DAY: &[u8] = &[1, 2, 3, 4, 5, 6, 7];

struct Enterprise {
    provider: &'static str,
    kind: &'static str,
    /// The partner unit it is, by name, when it is one.
    unit: Option<&'static str>,
    phone: &'static str,
    address: &'static str,
    /// Metres east and north of the community's centre.
    at: (f64, f64),
    listing: &'static str,
    need: &'static str,
    price: &'static str,
    eligibility: &'static str,
    bring: &'static str,
    /// (days, opens, closes) in minutes, and whether kept on holidays.
    hours: &'static [(&'static [u8], u16, u16)],
    on_holidays: bool,
}

const fn e(
    provider: &'static str,
    kind: &'static str,
    address: &'static str,
    at: (f64, f64),
    listing: (&'static str, &'static str, &'static str),
    hours: &'static [(&'static [u8], u16, u16)],
) -> Enterprise {
    Enterprise {
        provider,
        kind,
        unit: None,
        phone: "010-8945",
        address,
        at,
        listing: listing.0,
        need: listing.1,
        price: listing.2,
        eligibility: "",
        bring: "",
        hours,
        on_holidays: false,
    }
}

const H: u16 = 60;

/// The sixteen, as the circle's list has them.
const ENTERPRISES: &[Enterprise] = &[
    Enterprise {
        unit: Some("一刻钟服务圈医疗保健站"),
        eligibility: "辖区居民",
        bring: "医保卡",
        ..e(
            "一刻钟服务圈医疗保健站",
            "partner_unit",
            "怡馨家园一区3号楼底商",
            (120.0, 80.0),
            ("免费量血压测血糖", "medical", "free"),
            &[(WEEKDAYS, 8 * H, 11 * H + 30), (WEEKDAYS, 14 * H, 17 * H)],
        )
    },
    Enterprise {
        eligibility: "60岁以上老人",
        bring: "身份证、既往病历",
        ..e(
            "胜利社区卫生服务站",
            "merchant",
            "怡馨家园二区社区服务中心一层",
            (-200.0, 150.0),
            ("家庭医生签约与义诊", "medical", "free"),
            &[(WEEKDAYS, 8 * H, 17 * H), (&[6], 8 * H, 12 * H)],
        )
    },
    Enterprise {
        on_holidays: true,
        ..e(
            "仁和大药房怡馨店",
            "merchant",
            "怡馨路12号",
            (300.0, -100.0),
            ("用药咨询", "medical", "free"),
            &[(EVERY_DAY, 8 * H, 21 * H)],
        )
    },
    Enterprise {
        unit: Some("怡馨法律服务所"),
        bring: "相关合同、票据",
        ..e(
            "怡馨法律服务所",
            "partner_unit",
            "社区服务中心二层调解室",
            (-190.0, 160.0),
            ("免费法律咨询", "legal", "free"),
            &[(&[2, 4], 9 * H, 11 * H + 30)],
        )
    },
    e(
        "京顺律师事务所",
        "merchant",
        "顺义区府前街8号",
        (900.0, 400.0),
        ("法律援助咨询", "legal", "free"),
        &[(&[3], 14 * H, 17 * H)],
    ),
    e(
        "顺义老年大学怡馨教学点",
        "merchant",
        "社区服务中心三层",
        (-190.0, 170.0),
        ("健康养生讲座", "talk", "free"),
        &[(&[1], 9 * H, 11 * H)],
    ),
    e(
        "平安消防科普站",
        "merchant",
        "怡馨家园三区东门",
        (250.0, 300.0),
        ("防火防诈讲座", "talk", "free"),
        &[(&[5], 15 * H, 16 * H + 30)],
    ),
    Enterprise {
        eligibility: "80岁以上老人、残疾人可上门",
        ..e(
            "足康修脚店",
            "merchant",
            "怡馨路20号",
            (420.0, -60.0),
            ("老人免费修脚", "pedicure", "free"),
            &[(&[2], 9 * H, 12 * H)],
        )
    },
    e(
        "老手艺修脚堂",
        "merchant",
        "双兴南区商业街5号",
        (-600.0, -350.0),
        ("修脚", "pedicure", "discounted"),
        &[(EVERY_DAY, 9 * H, 20 * H)],
    ),
    Enterprise {
        eligibility: "70岁以上老人",
        ..e(
            "丝艺理发店",
            "merchant",
            "怡馨路6号",
            (180.0, -40.0),
            ("老人义剪", "haircut", "free"),
            &[(&[3], 9 * H, 11 * H + 30)],
        )
    },
    e(
        "名匠美发工作室",
        "merchant",
        "怡馨家园一区商业街2号",
        (90.0, 60.0),
        ("理发", "haircut", "discounted"),
        &[(EVERY_DAY, 9 * H, 21 * H)],
    ),
    e(
        "便民家电维修部",
        "merchant",
        "怡馨家园二区车棚旁",
        (-150.0, 40.0),
        ("小家电维修", "repairs", "discounted"),
        &[(&[1, 2, 3, 4, 5, 6], 9 * H, 18 * H)],
    ),
    e(
        "邻家修补铺",
        "merchant",
        "怡馨路18号",
        (380.0, -20.0),
        ("磨刀、修鞋、配钥匙", "repairs", "paid"),
        &[(EVERY_DAY, 8 * H, 18 * H)],
    ),
    e(
        "怡馨家政服务公司",
        "merchant",
        "怡馨家园三区1号楼底商",
        (260.0, 280.0),
        ("保洁家政", "housekeeping", "paid"),
        &[(&[1, 2, 3, 4, 5, 6], 8 * H, 18 * H)],
    ),
    Enterprise {
        on_holidays: true,
        eligibility: "独居、空巢老人",
        ..e(
            "安康居家养老服务中心",
            "merchant",
            "怡馨家园二区5号楼一层",
            (-120.0, 220.0),
            ("助餐助浴", "elderly_care", "discounted"),
            &[(EVERY_DAY, 10 * H + 30, 13 * H), (EVERY_DAY, 16 * H + 30, 18 * H + 30)],
        )
    },
    e(
        "小太阳托育园",
        "merchant",
        "怡馨家园一区幼儿园旁",
        (30.0, -160.0),
        ("临时托管", "childcare", "paid"),
        &[(WEEKDAYS, 7 * H + 30, 18 * H)],
    ),
];

/// Loads 怡馨家园第一社区's directory, once.
pub async fn load(state: &AppState) -> anyhow::Result<()> {
    let Some(cid) = community_id(state, YIXIN).await? else { return Ok(()) };
    let mut conn = state.db.read().await?;
    let present: i64 =
        query("SELECT COUNT(*) FROM providers WHERE community_id = $1").bind(cid).scalar(&mut conn).await?;
    let (lng, lat): (Option<f64>, Option<f64>) =
        query("SELECT center_lng, center_lat FROM communities WHERE id = $1").bind(cid).fetch_one(&mut conn).await?;
    let (lng, lat) = (lng.unwrap_or(116.654), lat.unwrap_or(40.128));
    let grids: Vec<i64> =
        query("SELECT id FROM grids WHERE community_id = $1 ORDER BY id").bind(cid).scalars(&mut conn).await?;
    let units: Vec<(i64, String)> =
        query("SELECT id, name FROM partner_units WHERE community_id = $1").bind(cid).fetch_all(&mut conn).await?;
    drop(conn);
    if present > 0 {
        return Ok(());
    }
    let mut tx = state.db.begin().await?;
    write(&mut tx, cid, (lat, lng), &grids, &units).await?;
    tx.commit().await?;
    Ok(())
}

async fn write(
    tx: &mut Tx,
    cid: i64,
    centre: (f64, f64),
    grids: &[i64],
    units: &[(i64, String)],
) -> anyhow::Result<()> {
    let now = now_ms();
    let list = ENTERPRISES;
    let ids = tx.next_ids(list.len() * 3).await?;
    let (mut providers, mut locations, mut listings) = (Vec::new(), Vec::new(), Vec::new());
    for (i, x) in list.iter().enumerate() {
        let (p, l, s) = (ids[3 * i], ids[3 * i + 1], ids[3 * i + 2]);
        let unit = x.unit.and_then(|u| units.iter().find(|(_, n)| n == u)).map(|(id, _)| *id);
        let opt = |v: &str| if v.is_empty() { Arg::Text(None) } else { Arg::from(v) };
        providers.push(vec![
            cid.into(),
            p.into(),
            x.provider.into(),
            x.kind.into(),
            unit.into(),
            opt(x.phone),
            now.into(),
            now.into(),
        ]);
        // About 111 km to a degree of latitude; less of longitude at 40° north.
        let (lat, lng) = (centre.0 + x.at.1 / 111_000.0, centre.1 + x.at.0 / 85_000.0);
        let grid = grids.get(i % grids.len().max(1)).copied();
        locations.push(vec![
            cid.into(),
            l.into(),
            x.provider.into(),
            x.address.into(),
            grid.into(),
            lat.into(),
            lng.into(),
            now.into(),
            now.into(),
        ]);
        // The last was entered long ago and never checked since: staff's list shows it.
        let created = if i + 1 == list.len() { now - 200 * DAY_MS } else { now - 30 * DAY_MS };
        let verified: Option<i64> = (i + 1 != list.len()).then_some(now - (i as i64 % 20) * DAY_MS);
        listings.push(vec![
            cid.into(),
            s.into(),
            x.listing.into(),
            p.into(),
            l.into(),
            x.need.into(),
            x.price.into(),
            opt(x.eligibility),
            opt(x.bring),
            "普通话".into(),
            verified.into(),
            created.into(),
            now.into(),
        ]);
    }
    let cols = ["community_id", "id", "name", "kind", "partner_unit_id", "phone", "created_at", "updated_at"];
    insert_many(tx, "providers", &cols, providers).await?;
    let cols = ["community_id", "id", "name", "address", "grid_id", "lat", "lng", "created_at", "updated_at"];
    insert_many(tx, "service_locations", &cols, locations).await?;
    let cols = [
        "community_id",
        "id",
        "name",
        "provider_id",
        "location_id",
        "need",
        "price",
        "eligibility",
        "bring",
        "languages",
        "verified_at",
        "created_at",
        "updated_at",
    ];
    insert_many(tx, "listings", &cols, listings).await?;
    for (i, x) in list.iter().enumerate() {
        for (days, opens, closes) in x.hours {
            let rule = Rule {
                weekdays: mask_of(days).unwrap_or(0x1f),
                opens: *opens,
                closes: *closes,
                valid_from: NaiveDate::from_ymd_opt(2026, 1, 1),
                valid_until: None,
                on_holidays: x.on_holidays,
            };
            add_rule(tx, cid, (HOURS_OWNER, ids[3 * i + 2]), &rule).await?;
        }
    }
    Ok(())
}
