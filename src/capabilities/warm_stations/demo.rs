//! Demo warm station of 振南社区 (seed 004, 红管+、暖心驿站): a station by the community's
//! service centre, open every day 8:00–22:00 holidays included, with every amenity the
//! seed names; a week of roster ahead (two shifts a day, some still needing someone) and
//! a week of visits behind, counted by kind.

use crate::db::{Arg, insert_many, now_ms, query};
use crate::demo::community_id;
use crate::services::hours::{Rule, store::add_rule};
use crate::time::{DAY_MS, HOUR_MS, MINUTE_MS, day_start_ms};
use crate::web::AppState;

const ZHENNAN: &str = "441802005002";

/// Visitors on a day, by hour: riders at meal times, sanitation workers early, drivers late.
const DAY: [(&str, i64, i64); 12] = [
    ("sanitation", 6, 3),
    ("sanitation", 9, 2),
    ("rider", 11, 6),
    ("rider", 12, 9),
    ("rider", 13, 4),
    ("driver", 14, 2),
    ("other", 15, 1),
    ("rider", 17, 5),
    ("rider", 18, 7),
    ("driver", 20, 3),
    ("driver", 21, 2),
    ("other", 19, 1),
];

pub async fn load(state: &AppState) -> anyhow::Result<()> {
    let Some(cid) = community_id(state, ZHENNAN).await? else { return Ok(()) };
    let mut conn = state.db.read().await?;
    let present: i64 =
        query("SELECT COUNT(*) FROM warm_stations WHERE community_id = $1").bind(cid).scalar(&mut conn).await?;
    let (lng, lat): (Option<f64>, Option<f64>) =
        query("SELECT center_lng, center_lat FROM communities WHERE id = $1").bind(cid).fetch_one(&mut conn).await?;
    let people: Vec<i64> =
        query("SELECT DISTINCT user_id FROM grants WHERE community_id = $1 ORDER BY user_id LIMIT 4")
            .bind(cid)
            .scalars(&mut conn)
            .await?;
    drop(conn);
    if present > 0 || people.is_empty() {
        return Ok(());
    }
    let now = now_ms();
    let today = day_start_ms(crate::web::fmt::today());
    let mut tx = state.db.begin().await?;
    let station = tx.next_id().await?;
    let amenities = "|water|charging|microwave|toilet|seats|first_aid|air_conditioning|heating|books|medicine|";
    insert_many(
        &mut tx,
        "warm_stations",
        &["community_id", "id", "name", "address", "lat", "lng", "amenities", "phone", "created_at", "updated_at"],
        vec![vec![
            cid.into(),
            station.into(),
            "振南社区暖心驿站".into(),
            "振南社区党群服务中心一楼".into(),
            lat.unwrap_or(23.11).into(),
            lng.unwrap_or(114.41).into(),
            amenities.into(),
            "0752-2288".into(),
            now.into(),
            now.into(),
        ]],
    )
    .await?;
    let rule =
        Rule { weekdays: 0x7f, opens: 8 * 60, closes: 22 * 60, valid_from: None, valid_until: None, on_holidays: true };
    add_rule(&mut tx, cid, (super::HOURS_OWNER, station), &rule).await?;
    // A week ahead: 8:00–15:00 and 15:00–22:00 each day; the mornings taken, some
    // evenings still needing someone.
    let mut shifts = Vec::new();
    let mut places = Vec::new();
    let ids = tx.next_ids(14 + 14).await?;
    for d in 0..7i64 {
        for (k, (from, to)) in [(8, 15), (15, 22)].into_iter().enumerate() {
            let i = (2 * d) as usize + k;
            let taken = i64::from(k == 0 || d % 3 == 0);
            shifts.push(vec![
                cid.into(),
                ids[i].into(),
                station.into(),
                (today + (d + 1) * DAY_MS + from * HOUR_MS).into(),
                (today + (d + 1) * DAY_MS + to * HOUR_MS).into(),
                1i64.into(),
                taken.into(),
                people[0].into(),
                now.into(),
            ]);
            if taken == 1 {
                let who = people[i % people.len()];
                places.push(vec![cid.into(), ids[14 + i].into(), ids[i].into(), who.into(), now.into()]);
            }
        }
    }
    let cols =
        ["community_id", "id", "station_id", "starts_at", "ends_at", "needed", "taken", "created_by", "created_at"];
    insert_many(&mut tx, "duty_shifts", &cols, shifts).await?;
    insert_many(&mut tx, "duty_signups", &["community_id", "id", "shift_id", "user_id", "created_at"], places).await?;
    let mut visits: Vec<Vec<Arg>> = Vec::new();
    for d in 1..=7i64 {
        for (kind, hour, n) in DAY {
            for j in 0..(n + d % 2) {
                visits.push(vec![
                    cid.into(),
                    station.into(),
                    kind.into(),
                    (today - d * DAY_MS + hour * HOUR_MS + j * 7 * MINUTE_MS).into(),
                    people[0].into(),
                ]);
            }
        }
    }
    let ids = tx.next_ids(visits.len()).await?;
    let visits = visits
        .into_iter()
        .zip(ids)
        .map(|(mut row, id)| {
            row.insert(1, id.into());
            row
        })
        .collect();
    insert_many(&mut tx, "station_visits", &["community_id", "id", "station_id", "kind", "at", "counted_by"], visits)
        .await?;
    tx.commit().await?;
    Ok(())
}
