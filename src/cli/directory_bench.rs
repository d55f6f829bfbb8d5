//! Bulk directory for benchmarks (`linli directory bench --listings N`): N listings in
//! every community of a subdistrict, each with its provider, a location scattered within
//! a kilometre or so of the community's centre, weekly hours of one of a few kinds, and
//! verified now, written in one transaction per community.

use std::time::Instant;

use crate::capabilities::directory::{HOURS_OWNER, NEEDS, PRICES};
use crate::config::Config;
use crate::db::{Arg, insert_many, now_ms, query};
use crate::services::hours::{Rule, store::add_rule};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Write N listings with hours into each community of a subdistrict.
    Bench {
        /// The subdistrict's code (洲心街道 by default).
        #[arg(long, default_value = "441802005")]
        subdistrict: String,
        #[arg(long, default_value_t = 500)]
        listings: usize,
    },
}

/// Hours of a few kinds: office days with a lunch break, day and night, one morning a
/// week, evenings and weekends.
fn hours_of(i: usize) -> Vec<Rule> {
    let rule = |weekdays: u8, opens: u16, closes: u16, on_holidays: bool| Rule {
        weekdays,
        opens,
        closes,
        valid_from: None,
        valid_until: None,
        on_holidays,
    };
    match i % 4 {
        0 => vec![rule(0x1f, 8 * 60 + 30, 12 * 60, false), rule(0x1f, 14 * 60, 17 * 60 + 30, false)],
        1 => vec![rule(0x7f, 0, 24 * 60, true)],
        2 => vec![rule(1 << (i % 7), 9 * 60, 11 * 60 + 30, false)],
        _ => vec![rule(0x1f, 18 * 60, 21 * 60, false), rule(0x60, 9 * 60, 18 * 60, false)],
    }
}

pub async fn run(config: Config, cmd: Command) -> anyhow::Result<()> {
    let Command::Bench { subdistrict, listings } = cmd;
    let state = crate::app::open(config).await?;
    let communities: Vec<(i64, Option<f64>, Option<f64>)> = query(
        "SELECT c.id, c.center_lat, c.center_lng FROM communities c JOIN subdistricts s ON s.id = c.subdistrict_id WHERE s.code = $1 ORDER BY c.id",
    )
    .bind(subdistrict.clone())
    .fetch_all(&mut state.db.read().await?)
    .await?;
    anyhow::ensure!(!communities.is_empty(), "no communities in subdistrict {subdistrict}");
    let started = Instant::now();
    let now = now_ms();
    for (n, (cid, lat, lng)) in communities.iter().enumerate() {
        let (lat, lng) = (lat.unwrap_or(23.1), lng.unwrap_or(114.4));
        let mut tx = state.db.begin().await?;
        let ids = tx.next_ids(listings * 3).await?;
        let (mut providers, mut locations, mut rows) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..listings {
            let (p, l, s) = (ids[3 * i], ids[3 * i + 1], ids[3 * i + 2]);
            // A spiral of points out to about 1.5 km.
            let (r, a) = (((i as f64) / listings as f64).sqrt() * 0.013, i as f64 * 2.399);
            let at = (lat + r * a.sin(), lng + r * a.cos());
            providers.push(vec![
                (*cid).into(),
                p.into(),
                format!("服务商{n}-{i}").into(),
                "merchant".into(),
                now.into(),
                now.into(),
            ]);
            locations.push(vec![
                (*cid).into(),
                l.into(),
                format!("门店{i}").into(),
                format!("测试路{i}号").into(),
                at.0.into(),
                at.1.into(),
                now.into(),
                now.into(),
            ]);
            rows.push(vec![
                (*cid).into(),
                s.into(),
                format!("服务{i}").into(),
                p.into(),
                l.into(),
                NEEDS[i % NEEDS.len()].into(),
                PRICES[i % PRICES.len()].into(),
                Arg::from(now),
                now.into(),
                now.into(),
            ]);
        }
        insert_many(
            &mut tx,
            "providers",
            &["community_id", "id", "name", "kind", "created_at", "updated_at"],
            providers,
        )
        .await?;
        let cols = ["community_id", "id", "name", "address", "lat", "lng", "created_at", "updated_at"];
        insert_many(&mut tx, "service_locations", &cols, locations).await?;
        let cols = [
            "community_id",
            "id",
            "name",
            "provider_id",
            "location_id",
            "need",
            "price",
            "verified_at",
            "created_at",
            "updated_at",
        ];
        insert_many(&mut tx, "listings", &cols, rows).await?;
        for i in 0..listings {
            for rule in hours_of(i) {
                add_rule(&mut tx, *cid, (HOURS_OWNER, ids[3 * i + 2]), &rule)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
        }
        tx.commit().await?;
    }
    println!(
        "{} listings with hours in {} communities, {:.1} s",
        listings * communities.len(),
        communities.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
