//! Demo data from seed 002: 嘉福社区's 3 小区秘书, 4 外勤员 and 5 片区秘书, each keeping the
//! 《嘉福社区民情笔记》 "one thing, one record, a record a day" over the last week.

use crate::app::AppState;
use crate::auth::model::{Grant, Role};
use crate::db::{Arg, insert_many, now_ms, query};
use crate::demo::{community_id, generate, invented_accounts};
use crate::people::posts::Post;
use crate::points::{DAY_MS, HOUR_MS};

const JIAFU: &str = "350206004001";

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

pub async fn load(state: &AppState) -> anyhow::Result<()> {
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
    let days = 7;
    let ids = tx.next_ids(users.len() * days).await?;
    let now = now_ms();
    let mut rows = Vec::new();
    for (i, (user, (_, place))) in users.iter().zip(&posts).enumerate() {
        for d in 0..days {
            let (heard, follow_up) = HEARD[(i + d) % HEARD.len()];
            let at = now - d as i64 * DAY_MS - (1 + (i as i64 % 8)) * HOUR_MS;
            let place =
                place.as_ref().map(|p| p.1.clone()).unwrap_or_else(|| compounds[(i + d) % compounds.len()].1.clone());
            rows.push(vec![
                Arg::from(c),
                ids[i * days + d].into(),
                (*user).into(),
                at.into(),
                place.into(),
                heard.into(),
                follow_up.map(String::from).into(),
                at.into(),
            ]);
        }
    }
    insert_many(
        &mut tx,
        "field_notes",
        &["community_id", "id", "user_id", "at", "place", "heard", "follow_up", "created_at"],
        rows,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
