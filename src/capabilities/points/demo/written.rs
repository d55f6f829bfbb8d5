//! Service records written straight in: a year over 洲心街道 for benchmarks, and 海盛社区's
//! paper ledger for the seed's all-time figures.

use rand::RngExt;

use super::CONTENTS;
use crate::capabilities::points::dictionary::{BY_MEMBER, PARTY_JOINS};
use crate::capabilities::points::{DAY_MS, HOUR_MS};
use crate::db::{Arg, insert_many, now_ms, query};
use crate::demo::community_id;
use crate::demo::generate;
use crate::web::AppState;

/// The columns of `approved_row`.
const APPROVED_COLUMNS: [&str; 14] = [
    "community_id",
    "id",
    "volunteer_id",
    "user_id",
    "service_type",
    "content",
    "started_at",
    "ended_at",
    "minutes",
    "source",
    "status",
    "points",
    "created_at",
    "updated_at",
];

/// An approved service record written straight in (volunteer and user, type and content,
/// start and minutes), recorded by staff when it ended.
fn approved_row(
    community_id: i64,
    id: i64,
    (volunteer, user): (i64, i64),
    (ty, content): (&str, &str),
    (start, minutes): (i64, i64),
    points: i64,
) -> Vec<Arg> {
    let end = start + minutes * 60_000;
    vec![
        community_id.into(),
        id.into(),
        volunteer.into(),
        user.into(),
        ty.into(),
        content.into(),
        start.into(),
        end.into(),
        minutes.into(),
        "staff".into(),
        "approved".into(),
        points.into(),
        end.into(),
        end.into(),
    ]
}

/// A year of approved service over 洲心街道's volunteers (for benchmarks): `total`
/// records written straight in, spread over the past 365 days.
pub async fn bulk_service(state: &AppState, total: usize) -> anyhow::Result<()> {
    let mut conn = state.db.read().await?;
    let communities: Vec<i64> = query(
        "SELECT c.id FROM communities c JOIN subdistricts s ON s.id = c.subdistrict_id WHERE s.code = '441802005' ORDER BY c.id",
    )
    .scalars(&mut conn)
    .await?;
    drop(conn);
    let per = total.div_ceil(communities.len().max(1));
    let mut r = generate::rng(365);
    let now = now_ms();
    for c in communities {
        let mut tx = state.db.begin().await?;
        let people: Vec<(i64, i64)> =
            query("SELECT id, user_id FROM volunteers WHERE community_id = $1").bind(c).fetch_all(&mut tx).await?;
        tx.commit().await?;
        if people.is_empty() {
            continue;
        }
        let mut left = per;
        while left > 0 {
            let n = left.min(5_000);
            let mut tx = state.db.begin().await?;
            let ids = tx.next_ids(n).await?;
            let rows = ids
                .into_iter()
                .map(|id| {
                    let who = *generate::pick(&mut r, &people);
                    let what = *generate::pick(&mut r, CONTENTS);
                    let start = now - r.random_range(HOUR_MS..365 * DAY_MS);
                    let minutes: i64 = r.random_range(2..9) * 30;
                    approved_row(c, id, who, what, (start, minutes), minutes / 30)
                })
                .collect();
            insert_many(&mut tx, "service_records", &APPROVED_COLUMNS, rows).await?;
            tx.commit().await?;
            left -= n;
        }
    }
    Ok(())
}

/// 海盛社区's paper ledger 台账 of 红心微聚's first year, entered after everything else so
/// that the dictionary's all-time figures give seed 000's "500余人次" and "86人次的党员干部":
/// approved check-ins 400 to 700 days back, from before service earned points (none paid),
/// by party members for what the party's part lacks and by the others for the rest.
pub async fn paper_ledger(state: &AppState) -> anyhow::Result<()> {
    const TOTAL: i64 = 512;
    const BY_MEMBERS: i64 = 86;
    let Some(hs) = community_id(state, "440804003001").await? else { return Ok(()) };
    let mut tx = state.db.begin().await?;
    let counted: Vec<(i64, i64, bool, i64)> = query(format!(
        "SELECT v.id, v.user_id, {BY_MEMBER}, COUNT(r.id) FROM volunteers v {PARTY_JOINS}
         LEFT JOIN service_records r ON r.community_id = v.community_id AND r.volunteer_id = v.id AND r.community_id = $1
             AND r.status = 'approved'
         WHERE v.community_id = $1 GROUP BY v.id, v.user_id, {BY_MEMBER} ORDER BY v.id"
    ))
    .bind(hs)
    .fetch_all(&mut tx)
    .await?;
    let (members, others): (Vec<_>, Vec<_>) = counted.iter().partition(|v| v.2);
    let done = |vs: &[&(i64, i64, bool, i64)]| vs.iter().map(|v| v.3).sum::<i64>();
    let for_members = BY_MEMBERS - done(&members);
    let for_others = TOTAL - BY_MEMBERS - done(&others);
    anyhow::ensure!(
        for_members >= 0 && for_others >= 0 && !members.is_empty() && !others.is_empty(),
        "海盛社区's service outgrew the seed's figures"
    );
    let mut r = generate::rng(512);
    let now = now_ms();
    let ids = tx.next_ids((for_members + for_others) as usize).await?;
    let who = members.iter().cycle().take(for_members as usize).chain(others.iter().cycle().take(for_others as usize));
    let rows = ids
        .into_iter()
        .zip(who)
        .map(|(id, (vol, user, _, _))| {
            let what = *generate::pick(&mut r, CONTENTS);
            let start = now - r.random_range(400..700) * DAY_MS;
            approved_row(hs, id, (*vol, *user), what, (start, r.random_range(2..7) * 30), 0)
        })
        .collect();
    insert_many(&mut tx, "service_records", &APPROVED_COLUMNS, rows).await?;
    tx.commit().await?;
    Ok(())
}
