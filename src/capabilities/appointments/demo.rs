//! Demo service centre of 回龙社区 (seed 001, "1+1+N"): booked after-hours service on
//! weekday evenings, weekend extra hours, proxy and assisted errands, and a booked
//! service, each with its hours; and a week of bookings ahead, by residents, by their
//! grid worker and by staff for callers (whose reminders cannot be delivered).

use chrono::Duration;

use super::{HOURS_OWNER, Terms, slots};
use crate::db::{Arg, insert_many, now_ms, query};
use crate::demo::community_id;
use crate::services::hours::{Hours, Rule, mask_of, store::add_rule};
use crate::time::{HOUR_MS, MINUTE_MS};
use crate::web::AppState;

const HUILONG: &str = "321111005001";

struct Kind {
    name: &'static str,
    desk: &'static str,
    kind: &'static str,
    terms: Terms,
    proxy: bool,
    documents: &'static str,
    hours: &'static [(&'static [u8], u16, u16)],
}

const fn terms(duration: i64, seats: i64) -> Terms {
    Terms { duration, interval: duration, seats, min_notice_hours: 2, max_ahead_days: 14 }
}

const KINDS: [Kind; 4] = [
    Kind {
        name: "预约延时服务",
        desk: "党群服务中心便民窗口",
        kind: "after_hours",
        terms: terms(30, 2),
        proxy: true,
        documents: "身份证",
        hours: &[(&[1, 2, 3, 4, 5], 17 * 60 + 30, 20 * 60)],
    },
    Kind {
        name: "周末加时服务",
        desk: "党群服务中心便民窗口",
        kind: "weekend",
        terms: terms(30, 2),
        proxy: true,
        documents: "身份证",
        hours: &[(&[6, 7], 9 * 60, 12 * 60)],
    },
    Kind {
        name: "代办帮办（社保、医保、证件）",
        desk: "代办员",
        kind: "proxy",
        terms: terms(60, 1),
        proxy: true,
        documents: "身份证、户口簿、社保卡",
        hours: &[(&[1, 2, 3, 4, 5], 9 * 60, 11 * 60 + 30), (&[1, 2, 3, 4, 5], 14 * 60, 17 * 60)],
    },
    Kind {
        name: "老年人优待证办理",
        desk: "民政窗口",
        kind: "booked",
        terms: terms(15, 1),
        proxy: true,
        documents: "身份证、一寸照片",
        hours: &[(&[1, 2, 3, 4, 5], 9 * 60, 11 * 60 + 30)],
    },
];

const CALLERS: [(&str, &str); 3] =
    [("傅大爷", "13905110001"), ("荷花塘组王奶奶", "13905110002"), ("回龙山组李伯", "13905110003")];

/// Writes a type and its hours; answers its id and hours.
async fn write_type(tx: &mut crate::db::Tx, cid: i64, kind: &Kind, now: i64) -> anyhow::Result<(i64, Hours)> {
    let id = tx.next_id().await?;
    let cols = [
        "community_id",
        "id",
        "name",
        "desk",
        "kind",
        "duration_minutes",
        "interval_minutes",
        "seats",
        "min_notice_hours",
        "max_ahead_days",
        "proxy_allowed",
        "documents",
        "created_at",
        "updated_at",
    ];
    let t = &kind.terms;
    let row = vec![
        cid.into(),
        id.into(),
        kind.name.into(),
        kind.desk.into(),
        kind.kind.into(),
        t.duration.into(),
        t.interval.into(),
        t.seats.into(),
        t.min_notice_hours.into(),
        t.max_ahead_days.into(),
        kind.proxy.into(),
        kind.documents.into(),
        now.into(),
        now.into(),
    ];
    insert_many(tx, "appointment_types", &cols, vec![row]).await?;
    let mut hours = Hours::default();
    for (days, opens, closes) in kind.hours {
        let weekdays = mask_of(days).unwrap_or(0x1f);
        let rule =
            Rule { weekdays, opens: *opens, closes: *closes, valid_from: None, valid_until: None, on_holidays: false };
        add_rule(tx, cid, (HOURS_OWNER, id), &rule).await?;
        hours.rules.push(rule);
    }
    Ok((id, hours))
}

/// A booking's row (its id filled in later), for a resident, by their grid worker, or
/// for a caller by phone, in turn.
fn booking(
    state: &AppState,
    cid: i64,
    type_id: i64,
    start: i64,
    duration: i64,
    n: usize,
    people: &[(i64, String)],
    now: i64,
) -> Vec<Arg> {
    let (user, name, phone, proxy) = match n % 3 {
        2 => {
            let (name, phone) = CALLERS[n % CALLERS.len()];
            (None, name.to_string(), Some(state.pii.seal_phone(phone)), true)
        }
        r => {
            let (u, name) = &people[n % people.len()];
            (Some(*u), name.clone(), None, r == 1)
        }
    };
    let by = if proxy { people[0].0 } else { user.unwrap_or(people[0].0) };
    vec![
        cid.into(),
        Arg::I64(None),
        type_id.into(),
        start.into(),
        (start + duration * MINUTE_MS).into(),
        user.into(),
        name.into(),
        Arg::Bytes(phone.as_ref().map(|p| p.enc.clone())),
        Arg::Text(phone.map(|p| p.masked)),
        by.into(),
        proxy.into(),
        "booked".into(),
        (now - HOUR_MS).into(),
        by.into(),
        (now - HOUR_MS).into(),
    ]
}

pub async fn load(state: &AppState) -> anyhow::Result<()> {
    let Some(cid) = community_id(state, HUILONG).await? else { return Ok(()) };
    let mut conn = state.db.read().await?;
    let present: i64 =
        query("SELECT COUNT(*) FROM appointment_types WHERE community_id = $1").bind(cid).scalar(&mut conn).await?;
    let people: Vec<(i64, String)> = query(
        "SELECT DISTINCT u.id, u.display_name FROM grants g JOIN users u ON u.id = g.user_id WHERE g.community_id = $1 ORDER BY u.id LIMIT 6",
    )
    .bind(cid)
    .fetch_all(&mut conn)
    .await?;
    drop(conn);
    if present > 0 || people.is_empty() {
        return Ok(());
    }
    let calendar = state.holidays.calendar(&state.db).await?;
    let now = now_ms();
    let today = crate::web::fmt::today();
    let mut tx = state.db.begin().await?;
    let (mut bookings, mut seats): (Vec<Vec<Arg>>, Vec<Vec<Arg>>) = (Vec::new(), Vec::new());
    for (k, kind) in KINDS.iter().enumerate() {
        let (id, hours) = write_type(&mut tx, cid, kind, now).await?;
        // A week ahead: every other slot taken.
        for d in 1..=7 {
            let day = today + Duration::days(d);
            let day_slots = slots(&hours, &calendar, day, &kind.terms);
            for (a, _) in day_slots.into_iter().enumerate().filter(|(i, _)| i % 2 == k % 2).map(|(_, s)| s) {
                let start = crate::time::day_start_ms(day) + i64::from(a) * MINUTE_MS;
                bookings.push(booking(state, cid, id, start, kind.terms.duration, bookings.len(), &people, now));
                seats.push(vec![cid.into(), id.into(), start.into(), 1i64.into()]);
            }
        }
    }
    let ids = tx.next_ids(bookings.len()).await?;
    for (row, id) in bookings.iter_mut().zip(ids) {
        row[1] = id.into();
    }
    let cols = [
        "community_id",
        "id",
        "type_id",
        "starts_at",
        "ends_at",
        "user_id",
        "name",
        "phone_enc",
        "phone_masked",
        "booked_by",
        "proxy",
        "status",
        "status_at",
        "status_by",
        "created_at",
    ];
    insert_many(&mut tx, "appointments", &cols, bookings).await?;
    insert_many(&mut tx, "appointment_slots", &["community_id", "type_id", "starts_at", "taken"], seats).await?;
    tx.commit().await?;
    Ok(())
}
