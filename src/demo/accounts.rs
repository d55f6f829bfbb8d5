//! Demo accounts: the ten sign-ins, invented accounts that sign nobody in, and the
//! actors other capabilities' demo loaders write as.

use super::Loaded;
use crate::auth::model::{Grant, Role};
use crate::capabilities::registry::people::users::{self, NewUser};
use crate::db::{Arg, Tx, insert_many, now_ms, query};
use crate::error::AppResult;
use crate::services::audit::By;
use crate::web::AppState;

pub const PASSWORD: &str = "demo1234";

/// The demo accounts (all with password `demo1234`).
pub const ACCOUNTS: [(&str, &str); 10] = [
    ("admin", "平台管理员 platform admin"),
    ("street", "洲心街道管理员 subdistrict admin"),
    ("secretary", "海盛社区书记 community secretary"),
    ("staff", "海盛社区工作者 community staff"),
    ("grid", "海盛社区第一网格网格员 grid worker"),
    ("volunteer", "海盛社区志愿者 volunteer"),
    ("resident", "海盛社区居民 resident"),
    ("unit", "共建单位久和医院 partner unit"),
    ("grid2", "回龙社区第一网格网格员 grid worker"),
    ("staff2", "回龙社区工作者 community staff"),
];

pub(super) async fn accounts(state: &AppState, loaded: &[(&str, Loaded)]) -> anyhow::Result<()> {
    let find = |code: &str| loaded.iter().find(|(c, _)| *c == code).map(|(_, l)| l).expect("seed community loaded");
    let haisheng = find("440804003001");
    let huilong = find("321111005001");
    let mut conn = state.db.read().await?;
    let zhouxin: i64 = query("SELECT id FROM subdistricts WHERE code = $1").bind("441802005").scalar(&mut conn).await?;
    let (resident_id, household): (i64, i64) = query(
        "SELECT id, household_id FROM residents WHERE community_id = $1 AND grid_id = $2 AND relation = 'head' AND phone_hash IS NOT NULL ORDER BY id LIMIT 1",
    )
    .bind(haisheng.community_id)
    .bind(haisheng.grids[0])
    .fetch_one(&mut conn)
    .await?;
    let resident_name: String = query("SELECT name FROM residents WHERE community_id = $1 AND id = $2")
        .bind(haisheng.community_id)
        .bind(resident_id)
        .scalar(&mut conn)
        .await?;
    drop(conn);
    let c = haisheng.community_id;
    let list: Vec<(&str, String, Option<&str>, Grant, Option<i64>)> = vec![
        ("admin", "平台管理员".into(), None, Grant::platform(), None),
        ("street", "洲心街道 李街道".into(), Some("13900000002"), Grant::subdistrict(zhouxin), None),
        (
            "secretary",
            "海盛社区 黄书记".into(),
            Some("13900000003"),
            Grant::community(Role::CommunitySecretary, c),
            None,
        ),
        ("staff", "海盛社区 吴社工".into(), Some("13900000004"), Grant::community(Role::CommunityStaff, c), None),
        ("grid", "第一网格 周网格员".into(), Some("13900000005"), Grant::grid(c, haisheng.grids[0]), None),
        ("volunteer", "海盛 郑志愿者".into(), Some("13900000006"), Grant::community(Role::Volunteer, c), None),
        ("resident", resident_name, None, Grant::household(c, household), Some(resident_id)),
        ("unit", "久和医院 联络员".into(), Some("13900000008"), Grant::partner_unit(c, haisheng.units[0]), None),
        (
            "grid2",
            "回龙第一网格 孙网格员".into(),
            Some("13900000009"),
            Grant::grid(huilong.community_id, huilong.grids[0]),
            None,
        ),
        (
            "staff2",
            "回龙社区 陈社工".into(),
            Some("13900000010"),
            Grant::community(Role::CommunityStaff, huilong.community_id),
            None,
        ),
    ];
    let by = By::system("demo");
    for (username, display_name, phone, grant, resident) in list {
        let grid = (grant.role() == Role::GridWorker).then_some((grant.community_id, grant.grid_id));
        let id = users::create(
            &state.db,
            &state.pii,
            None,
            &by,
            NewUser {
                username: username.into(),
                display_name,
                password: PASSWORD.into(),
                phone: phone.map(String::from),
                grants: vec![grant],
                resident_id: resident,
                ..Default::default()
            },
        )
        .await?;
        if let Some((Some(c), Some(g))) = grid {
            let mut tx = state.db.begin().await?;
            query("UPDATE grids SET worker_user_id = $1 WHERE community_id = $2 AND id = $3")
                .bind(id)
                .bind(c)
                .bind(g)
                .execute(&mut tx)
                .await?;
            tx.commit().await?;
        }
    }
    Ok(())
}

/// Accounts for invented people, which sign nobody in (no password): a user and one grant
/// each, written in bulk. `people` are (username, name, resident, grant); answers their ids.
pub async fn invented_accounts(
    tx: &mut Tx,
    community_id: i64,
    people: Vec<(String, String, Option<i64>, Grant)>,
) -> AppResult<Vec<i64>> {
    let ids = tx.next_ids(people.len() * 2).await?;
    let now = now_ms();
    let (mut users, mut grants) = (Vec::new(), Vec::new());
    for (i, (username, name, resident, g)) in people.into_iter().enumerate() {
        let (user, grant) = (ids[i * 2], ids[i * 2 + 1]);
        users.push(vec![
            Arg::from(user),
            username.into(),
            name.into(),
            "!".into(),
            community_id.into(),
            resident.into(),
            now.into(),
            now.into(),
        ]);
        grants.push(vec![
            Arg::from(grant),
            user.into(),
            g.role().as_str().to_string().into(),
            g.subdistrict_id.into(),
            g.community_id.into(),
            g.grid_id.into(),
            g.household_id.into(),
            g.partner_unit_id.into(),
            now.into(),
        ]);
    }
    insert_many(
        tx,
        "users",
        &["id", "username", "display_name", "password_hash", "community_id", "resident_id", "created_at", "updated_at"],
        users,
    )
    .await?;
    insert_many(
        tx,
        "grants",
        &[
            "id",
            "user_id",
            "role",
            "subdistrict_id",
            "community_id",
            "grid_id",
            "household_id",
            "partner_unit_id",
            "created_at",
        ],
        grants,
    )
    .await?;
    Ok(ids.into_iter().step_by(2).collect())
}

/// The actor behind a demo account, by its sign-in name, if it exists.
pub async fn actor_named(state: &AppState, username: &str) -> anyhow::Result<Option<crate::auth::model::Actor>> {
    let id: Option<i64> = query("SELECT id FROM users WHERE username = $1")
        .bind(username)
        .scalar_optional(&mut state.db.read().await?)
        .await?;
    Ok(match id {
        Some(id) => Some(actor_of(state, id).await?),
        None => None,
    })
}

/// The actor behind an account, as the store functions want it.
pub async fn actor_of(state: &AppState, user_id: i64) -> AppResult<crate::auth::model::Actor> {
    let mut conn = state.db.read().await?;
    let (username, name): (String, String) =
        query("SELECT username, display_name FROM users WHERE id = $1").bind(user_id).fetch_one(&mut conn).await?;
    crate::auth::session::load_actor(&mut conn, user_id, username, name).await
}

/// A staff member of a seed community with no demo sign-in of its own, for writing its
/// demo data through the store functions; made once, found again by its name.
pub async fn invented_staff(
    state: &AppState,
    community_id: i64,
    username: &str,
    name: &str,
) -> AppResult<crate::auth::model::Actor> {
    let made: Option<i64> = query("SELECT id FROM users WHERE username = $1")
        .bind(username)
        .scalar_optional(&mut state.db.read().await?)
        .await?;
    if let Some(id) = made {
        return actor_of(state, id).await;
    }
    let mut tx = state.db.begin().await?;
    let id = invented_accounts(
        &mut tx,
        community_id,
        vec![(username.into(), name.into(), None, Grant::community(Role::CommunityStaff, community_id))],
    )
    .await?[0];
    tx.commit().await?;
    actor_of(state, id).await
}
