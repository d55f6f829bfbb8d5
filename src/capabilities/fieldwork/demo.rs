//! Demo field notes: 海盛社区's grid worker's week, and seed 002's 嘉福社区 with its
//! 3 小区秘书, 4 外勤员 and 5 片区秘书, each keeping the 《嘉福社区民情笔记》 "one thing, one
//! record, a record a day" over the last week.

use crate::auth::model::{Grant, Role};
use crate::capabilities::registry::people::posts::Post;
use crate::db::{Arg, Tx, insert_many, now_ms, query};
use crate::demo::{actor_named, community_id, generate, invented_accounts};
use crate::time::MINUTE_MS;
use crate::web::AppState;

const HAISHENG: &str = "440804003001";
const JIAFU: &str = "350206004001";

/// What 海盛's grid worker heard this week, a note a day.
const HAISHENG_WEEK: [(&str, &str, Option<&str>); 5] = [
    ("海盛花园1栋3单元", "独居老人王阿姨反映楼道灯不亮，晚上出门不便", Some("已报修，明日回访")),
    ("南调新村", "居民希望增设电动车集中充电点", Some("收集意见后提交议事会")),
    ("海油小区", "两户居民因漏水发生纠纷", Some("约物业和双方周五调解")),
    ("海景苑", "租户更换，新住户尚未登记", Some("上门登记")),
    ("社区广场", "晚间广场舞音量过大，有居民投诉", None),
];

/// What was heard, and what is to follow (seed 002 names the kind: 小区治理难题).
const HEARD: [(&str, Option<&str>); 8] = [
    ("楼道堆放杂物，居民担心消防安全", Some("联系物业本周清理")),
    ("小区门口路灯坏了两盏", Some("已报市政维修")),
    ("独居老人希望有人陪同就医", Some("对接志愿者服务队")),
    ("电动车在楼道充电，邻居反映", Some("宣传集中充电点")),
    ("垃圾分类点傍晚满溢", Some("与环卫协调加一次清运")),
    ("居民询问老旧小区加装电梯政策", Some("下周议事会答复")),
    ("楼上漏水影响楼下，双方有矛盾", Some("约双方调解")),
    ("租户更换，新住户尚未登记", None),
];

/// A field note as the demo writes it: who, when, where, what was heard, what follows.
type Note = (i64, i64, String, &'static str, Option<&'static str>);

/// A time `days_ago` days back at `minutes` past midnight, but never later than now: each
/// day's notes fall on that day (in China's time), whatever the hour the demo is loaded.
fn on_day(now: i64, days_ago: i64, minutes: i64) -> i64 {
    let day = crate::time::day_of(now) - chrono::Duration::days(days_ago);
    (crate::time::day_start_ms(day) + minutes * MINUTE_MS).min(now)
}

async fn write_notes(tx: &mut Tx, community_id: i64, notes: Vec<Note>) -> anyhow::Result<()> {
    let ids = tx.next_ids(notes.len()).await?;
    let rows = notes
        .into_iter()
        .zip(ids)
        .map(|((user, at, place, heard, follow_up), id)| {
            vec![
                Arg::from(community_id),
                id.into(),
                user.into(),
                at.into(),
                place.into(),
                heard.into(),
                follow_up.map(String::from).into(),
                at.into(),
            ]
        })
        .collect();
    insert_many(
        tx,
        "field_notes",
        &["community_id", "id", "user_id", "at", "place", "heard", "follow_up", "created_at"],
        rows,
    )
    .await?;
    Ok(())
}

pub async fn load(state: &AppState) -> anyhow::Result<()> {
    let now = now_ms();
    if let (Some(hs), Some(grid)) = (community_id(state, HAISHENG).await?, actor_named(state, "grid").await?) {
        let notes = HAISHENG_WEEK
            .iter()
            .enumerate()
            .map(|(d, (place, heard, follow_up))| {
                (grid.user_id, on_day(now, d as i64, 10 * 60), place.to_string(), *heard, *follow_up)
            })
            .collect();
        let mut tx = state.db.begin().await?;
        write_notes(&mut tx, hs, notes).await?;
        tx.commit().await?;
    }
    jiafu(state, now).await
}

async fn jiafu(state: &AppState, now: i64) -> anyhow::Result<()> {
    let Some(c) = community_id(state, JIAFU).await? else { return Ok(()) };
    let mut tx = state.db.begin().await?;
    let names = |table: &str| {
        query(format!("SELECT id, name FROM {table} WHERE community_id = $1 AND archived_at IS NULL ORDER BY id"))
            .bind(c)
    };
    let compounds: Vec<(i64, String)> = names("compounds").fetch_all(&mut tx).await?;
    let zones: Vec<(i64, String)> = names("zones").fetch_all(&mut tx).await?;
    let mut posts: Vec<(Post, Option<(i64, String)>)> = Vec::new();
    posts.extend(compounds.iter().take(3).cloned().map(|p| (Post::CompoundSecretary, Some(p))));
    posts.extend((0..4).map(|_| (Post::FieldWorker, None)));
    posts.extend(zones.iter().take(5).cloned().map(|p| (Post::ZoneSecretary, Some(p))));
    let mut r = generate::rng(2002);
    let people = (1..=posts.len())
        .map(|i| {
            let name = generate::person(&mut r, "350206", (1975, 1998), None).name;
            (format!("jf-post-{i:02}"), name, None, Grant::community(Role::CommunityStaff, c))
        })
        .collect();
    let users = invented_accounts(&mut tx, c, people).await?;
    for (user, (post, place)) in users.iter().zip(&posts) {
        query("UPDATE users SET post = $1, post_place_id = $2 WHERE id = $3")
            .bind(post.as_str())
            .bind(place.as_ref().map(|p| p.0))
            .bind(*user)
            .execute(&mut tx)
            .await?;
    }
    // A record a day for the last seven days, each in the place the post looks after.
    let mut notes = Vec::new();
    for (i, (user, (_, place))) in users.iter().zip(&posts).enumerate() {
        for d in 0..7 {
            let (heard, follow_up) = HEARD[(i + d) % HEARD.len()];
            let at = on_day(now, d as i64, 9 * 60 + 20 * i as i64);
            let place =
                place.as_ref().map(|p| p.1.clone()).unwrap_or_else(|| compounds[(i + d) % compounds.len()].1.clone());
            notes.push((*user, at, place, heard, follow_up));
        }
    }
    write_notes(&mut tx, c, notes).await?;
    tx.commit().await?;
    Ok(())
}
