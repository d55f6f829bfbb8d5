//! The 15-minute service circle 一刻钟服务圈 (seed 003: sixteen local enterprises giving
//! free medical care, legal advice, talks, pedicure and haircuts): providers 服务商 offer
//! listings (a service at a location, with who may use it, what to bring, the price) on
//! hours that follow the national holiday calendar (`services::hours`). A listing not
//! verified for 180 days leaves the public page and waits on staff's list to be checked.
//!
//! This module holds the rules: plain types and functions, no I/O.

pub mod api;
pub mod demo;
pub mod pages;
pub mod stats;
pub mod store;

use std::collections::HashMap;

use axum::Router;
use axum::routing::{get, post};
use chrono::NaiveDateTime;

use crate::auth::model::Permission;
use crate::capabilities::registry::places::map::walk_minutes;
use crate::services::hours::{Calendar, Hours};
use crate::services::records::model::{Child, EntityDef, Kind, Search, Tenancy, field};
use crate::web::AppState;
use crate::web::capability::Capability;

pub static CAP: Capability = Capability {
    records: &[&PROVIDER, &LOCATION, &LISTING],
    api: Some(api::routes),
    nav: Some(pages::nav),
    ..Capability::new("directory", routes)
};

fn routes() -> Router<AppState> {
    crate::web::figures::routes::<stats::Stats>(Router::new())
        .route("/c/{code}/directory", get(pages::staff))
        .route("/c/{code}/directory/listings/{id}", get(pages::listing))
        .route("/c/{code}/directory/listings/{id}/hours", post(pages::add_rule))
        .route("/c/{code}/directory/listings/{id}/exceptions", post(pages::add_exception))
        .route("/c/{code}/directory/listings/{id}/hours/clear", post(pages::clear_hours))
        .route("/c/{code}/directory/listings/{id}/verify", post(pages::verify))
        .route("/p/{code}/services", get(pages::public))
        .route("/p/{code}/services/{id}", get(pages::public_listing))
}

/// Who offers: a partner unit 共建单位, a merchant, the community's own service, a team.
pub const PROVIDER_KINDS: &[&str] = &["partner_unit", "merchant", "community", "volunteer_team"];

/// What a resident looks for.
pub const NEEDS: &[&str] = &[
    "medical",
    "legal",
    "talk",
    "haircut",
    "pedicure",
    "repairs",
    "elderly_care",
    "housekeeping",
    "childcare",
    "other",
];

pub const PRICES: &[&str] = &["free", "discounted", "paid"];

/// A provider 服务商; a record like any other.
pub static PROVIDER: EntityDef = EntityDef {
    kind: "provider",
    path: "providers",
    table: "providers",
    tenancy: Tenancy::Community,
    fields: &[
        field("name", Kind::Text { max: 60 }).required().listed(),
        field("kind", Kind::Choice(PROVIDER_KINDS)).required().listed(),
        field("partner_unit_id", Kind::Ref("partner_unit")),
        field("team_id", Kind::Ref("team")),
        field("phone", Kind::Text { max: 20 }).listed(),
        field("description", Kind::LongText { max: 1000 }),
    ],
    title: "name",
    search: &[Search::Contains("name")],
    filters: &[],
    children: &[Child { entity: "listing", column: "provider_id" }],
    grid_column: None,
    household_column: None,
    read: Permission::ViewPlaces,
    write: Permission::ManageServices,
    rules: None,
    after_write: None,
    holds_settings: false,
};

/// Where services are given: an address, a point on the map, its grid.
pub static LOCATION: EntityDef = EntityDef {
    kind: "service_location",
    path: "service-locations",
    table: "service_locations",
    tenancy: Tenancy::Community,
    fields: &[
        field("name", Kind::Text { max: 60 }).required().listed(),
        field("address", Kind::Text { max: 200 }).required().listed(),
        field("grid_id", Kind::Ref("grid")).listed(),
        field("lat", Kind::Float { min: -90.0, max: 90.0 }),
        field("lng", Kind::Float { min: -180.0, max: 180.0 }),
        field("notes", Kind::LongText { max: 1000 }),
    ],
    title: "name",
    search: &[Search::Contains("name")],
    filters: &[],
    children: &[Child { entity: "listing", column: "location_id" }],
    grid_column: None,
    household_column: None,
    read: Permission::ViewPlaces,
    write: Permission::ManageServices,
    rules: None,
    after_write: None,
    holds_settings: false,
};

/// A listing: one service of a provider at a location, shown in the directory.
pub static LISTING: EntityDef = EntityDef {
    kind: "listing",
    path: "listings",
    table: "listings",
    tenancy: Tenancy::Community,
    fields: &[
        field("name", Kind::Text { max: 60 }).required().listed(),
        field("provider_id", Kind::Ref("provider")).required().listed(),
        field("location_id", Kind::Ref("service_location")).required().listed(),
        field("need", Kind::Choice(NEEDS)).required().listed(),
        field("price", Kind::Choice(PRICES)).required().listed(),
        field("price_note", Kind::Text { max: 60 }),
        field("eligibility", Kind::Text { max: 100 }),
        field("bring", Kind::Text { max: 100 }),
        field("languages", Kind::Text { max: 60 }),
        field("description", Kind::LongText { max: 1000 }),
        field("appointment_type_id", Kind::Ref("appointment_type")),
        field("reward_id", Kind::Ref("reward")),
    ],
    title: "name",
    search: &[Search::Contains("name")],
    filters: &[],
    children: &[],
    grid_column: None,
    household_column: None,
    read: Permission::ViewPlaces,
    write: Permission::ManageServices,
    rules: Some(store::listing_rules),
    after_write: None,
    holds_settings: false,
};

/// The owner kind of a listing's hours in `services::hours`.
pub const HOURS_OWNER: &str = "listing";

/// A listing not verified for this long is hidden from the public.
pub const STALE_AFTER_DAYS: i64 = 180;

/// Whether a listing is fresh: verified (or, never verified, entered) within 180 days.
pub fn is_fresh(verified_at: Option<i64>, created_at: i64, now: i64) -> bool {
    now - verified_at.unwrap_or(created_at) < STALE_AFTER_DAYS * crate::time::DAY_MS
}

/// A listing as the directory shows it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Listing {
    pub id: i64,
    pub name: String,
    pub need: String,
    pub price: String,
    pub price_note: Option<String>,
    pub eligibility: Option<String>,
    pub bring: Option<String>,
    pub languages: Option<String>,
    pub description: Option<String>,
    pub provider_id: i64,
    pub provider: String,
    pub provider_kind: String,
    pub phone: Option<String>,
    pub location_id: i64,
    pub location: String,
    pub address: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// Answered as a time (`verified_at` in China time) by the API, not as a number.
    #[serde(skip)]
    pub verified_at: Option<i64>,
    /// Staff's name: the public reads that the community verified it.
    #[serde(skip)]
    pub verified_by: Option<String>,
    #[serde(skip)]
    pub created_at: i64,
    /// The appointment type that books it, when it is bookable.
    pub appointment_type_id: Option<i64>,
    /// The points shop's reward that is this service, when it may be had for points.
    pub reward_id: Option<i64>,
}

/// What a resident asks the directory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ask {
    pub need: Option<String>,
    /// Words in the listing's or provider's name.
    pub words: String,
    pub open_now: bool,
    /// Where they are (latitude, longitude).
    pub from: Option<(f64, f64)>,
    /// At most this many minutes' walk (needs `from`).
    pub walk: Option<u32>,
}

/// A listing found, with whether it is open and how far it is.
#[derive(Debug, Clone)]
pub struct Found<'a> {
    pub listing: &'a Listing,
    pub open: bool,
    /// When it opens next (now, if open); none within a year.
    pub next_open: Option<NaiveDateTime>,
    /// When the open span it is in ends.
    pub closes: Option<NaiveDateTime>,
    pub minutes: Option<f64>,
}

/// The listings that answer an ask at `now` (China time): nearest first when the asker
/// says where they are, else open first and by name. A listing with no hours is never
/// open now.
pub fn find<'a>(
    listings: &'a [Listing],
    hours: &HashMap<i64, Hours>,
    calendar: &Calendar,
    now: NaiveDateTime,
    ask: &Ask,
) -> Vec<Found<'a>> {
    let words = ask.words.trim();
    let none = Hours::default();
    let mut out: Vec<Found<'a>> = listings
        .iter()
        .filter(|l| ask.need.as_deref().is_none_or(|n| l.need == n))
        .filter(|l| words.is_empty() || l.name.contains(words) || l.provider.contains(words))
        .filter_map(|l| {
            let h = hours.get(&l.id).unwrap_or(&none);
            let open = h.open_at(calendar, now);
            let minutes = ask.from.zip(l.lat.zip(l.lng)).map(|(a, b)| walk_minutes(a, b));
            if (ask.open_now && !open) || ask.walk.is_some_and(|w| minutes.is_none_or(|m| m > f64::from(w))) {
                return None;
            }
            let closes = open.then(|| closes_after(h, calendar, now)).flatten();
            Some(Found { listing: l, open, next_open: h.next_open(calendar, now), closes, minutes })
        })
        .collect();
    let far = |f: &Found<'_>| f.minutes.unwrap_or(f64::INFINITY);
    out.sort_by(|a, b| {
        far(a)
            .total_cmp(&far(b))
            .then(b.open.cmp(&a.open))
            .then_with(|| crate::natural::cmp(&a.listing.name, &b.listing.name))
    });
    out
}

/// The end of the span open at `now`.
fn closes_after(h: &Hours, calendar: &Calendar, now: NaiveDateTime) -> Option<NaiveDateTime> {
    let m = crate::services::hours::minute_of(now.time());
    h.spans(calendar, now.date())
        .into_iter()
        .find(|&(a, b)| a <= m && m < b)
        .map(|(_, b)| crate::services::hours::at_minute(now.date(), b))
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::services::hours::{HolidayDay, Rule, Special};

    fn listing(id: i64, name: &str, need: &str, at: (f64, f64)) -> Listing {
        Listing {
            id,
            name: name.into(),
            need: need.into(),
            price: "free".into(),
            price_note: None,
            eligibility: None,
            bring: None,
            languages: None,
            description: None,
            provider_id: 1,
            provider: "怡馨理发店".into(),
            provider_kind: "merchant".into(),
            phone: None,
            location_id: 1,
            location: "店面".into(),
            address: "怡馨路1号".into(),
            lat: Some(at.0),
            lng: Some(at.1),
            verified_at: None,
            verified_by: None,
            created_at: 0,
            appointment_type_id: None,
            reward_id: None,
        }
    }

    fn weekdays(opens: u16, closes: u16) -> Hours {
        let rule = Rule { weekdays: 0x1f, opens, closes, valid_from: None, valid_until: None, on_holidays: false };
        Hours { rules: vec![rule], exceptions: vec![] }
    }

    #[test]
    fn an_open_haircut_within_fifteen_minutes_and_nothing_on_a_holiday() {
        let home = (21.2700, 110.3600);
        let list = vec![
            listing(1, "义剪", "haircut", (21.2720, 110.3600)),
            listing(2, "远处义剪", "haircut", (21.3000, 110.3600)),
            listing(3, "法律咨询", "legal", (21.2701, 110.3600)),
            listing(4, "周末理发", "haircut", (21.2701, 110.3601)),
        ];
        let mut hours = HashMap::new();
        hours.insert(1, weekdays(8 * 60, 17 * 60));
        hours.insert(2, weekdays(8 * 60, 17 * 60));
        hours.insert(3, weekdays(8 * 60, 17 * 60));
        let ask =
            Ask { need: Some("haircut".into()), open_now: true, from: Some(home), walk: Some(15), ..Ask::default() };
        let tuesday = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap().and_hms_opt(10, 0, 0).unwrap();
        let found = find(&list, &hours, &Calendar::default(), tuesday, &ask);
        assert_eq!(found.iter().map(|f| f.listing.id).collect::<Vec<_>>(), [1]);
        assert_eq!(found[0].closes, Some(tuesday.date().and_hms_opt(17, 0, 0).unwrap()));
        let national_day = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
        let calendar = Calendar::new([HolidayDay {
            day: national_day,
            special: Special::Off,
            name: "国庆节".into(),
            provisional: false,
        }]);
        assert!(find(&list, &hours, &calendar, national_day.and_hms_opt(10, 0, 0).unwrap(), &ask).is_empty());
        let any = Ask { from: Some(home), ..Ask::default() };
        let all = find(&list, &hours, &calendar, tuesday, &any);
        assert_eq!(all.iter().map(|f| f.listing.id).collect::<Vec<_>>(), [3, 4, 1, 2], "nearest first");
        assert!(!all[1].open && all[1].next_open.is_none(), "no hours: never open");
    }

    #[test]
    fn a_listing_goes_stale_180_days_after_it_was_last_verified() {
        let day = crate::time::DAY_MS;
        assert!(is_fresh(None, 0, 179 * day));
        assert!(!is_fresh(None, 0, 180 * day));
        assert!(is_fresh(Some(100 * day), 0, 250 * day));
    }
}
