//! Events' figures (活动统计): sessions, sign-ups, attendance and no-show rates, seats given
//! from the waitlist, volunteers' hours and ratings, summed by whatever a page groups by
//! (event, station, brand, month, community). Each person is counted once per group: one
//! who came to three of a festival's stations is one participant of the festival.

use std::collections::{BTreeMap, HashSet};

/// One sign-up as the figures read it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Line {
    pub event_id: i64,
    pub title: String,
    pub brand: Option<String>,
    pub station_id: i64,
    pub station: String,
    pub session_id: i64,
    pub starts_at: i64,
    pub ends_at: i64,
    /// Who: the account, else the sign-up (people without a phone are each their own).
    pub person: String,
    pub volunteer: bool,
    /// Holds a seat (or served).
    pub seated: bool,
    pub checked_in_at: Option<i64>,
    pub checked_out_at: Option<i64>,
    pub no_show: bool,
    pub promoted: bool,
    pub rating: Option<i64>,
    /// The session was held (not called off).
    pub held: bool,
}

/// A group's sums.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    pub sessions: usize,
    /// People signed up with a seat (participants), each once.
    pub signed_up: usize,
    /// People who came, each once.
    pub attended: usize,
    pub no_shows: usize,
    /// Seats given from the waitlist.
    pub promoted: usize,
    pub volunteer_minutes: i64,
    pub ratings: usize,
    pub rating_sum: i64,
}

impl Figures {
    /// Of those expected at sessions already closed or checked, the share who came (%).
    pub fn attendance_rate(&self) -> Option<f64> {
        let expected = self.attended + self.no_shows;
        (expected > 0).then(|| self.attended as f64 * 100.0 / expected as f64)
    }

    pub fn no_show_rate(&self) -> Option<f64> {
        self.attendance_rate().map(|r| 100.0 - r)
    }

    pub fn average_rating(&self) -> Option<f64> {
        (self.ratings > 0).then(|| self.rating_sum as f64 / self.ratings as f64)
    }
}

/// Sums the lines by the key each gives (lines of no group are left out).
pub fn by<K: Ord + Clone>(lines: &[Line], key: impl Fn(&Line) -> Option<K>) -> BTreeMap<K, Figures> {
    #[derive(Default)]
    struct Acc {
        sessions: HashSet<i64>,
        signed: HashSet<String>,
        came: HashSet<String>,
        missed: HashSet<String>,
        f: Figures,
    }
    let mut groups: BTreeMap<K, Acc> = BTreeMap::new();
    for l in lines.iter().filter(|l| l.held) {
        let Some(k) = key(l) else { continue };
        let a = groups.entry(k).or_default();
        a.sessions.insert(l.session_id);
        if !l.seated {
            continue;
        }
        if l.volunteer {
            if let Some(start) = l.checked_in_at {
                let (s, e) = super::service_span((l.starts_at, l.ends_at), start, l.checked_out_at);
                a.f.volunteer_minutes += (e - s) / crate::time::MINUTE_MS;
            }
            continue;
        }
        a.signed.insert(l.person.clone());
        if l.checked_in_at.is_some() {
            a.came.insert(l.person.clone());
        } else if l.no_show {
            a.missed.insert(l.person.clone());
        }
        a.f.promoted += usize::from(l.promoted);
        if let Some(r) = l.rating {
            a.f.ratings += 1;
            a.f.rating_sum += r;
        }
    }
    groups
        .into_iter()
        .map(|(k, a)| {
            // One who came to any session of the group is not also its no-show.
            let missed = a.missed.iter().filter(|p| !a.came.contains(*p)).count();
            let f = Figures {
                sessions: a.sessions.len(),
                signed_up: a.signed.len(),
                attended: a.came.len(),
                no_shows: missed,
                ..a.f
            };
            (k, f)
        })
        .collect()
}

/// All the lines as one group.
pub fn total(lines: &[Line]) -> Figures {
    by(lines, |_| Some(())).remove(&()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn line(session: i64, station: i64, person: &str) -> Line {
        Line {
            event_id: 1,
            title: "邻聚欢享".into(),
            brand: Some("邻聚欢享".into()),
            station_id: station,
            station: format!("分站{station}"),
            session_id: session,
            starts_at: 10 * H,
            ends_at: 12 * H,
            person: person.into(),
            volunteer: false,
            seated: true,
            checked_in_at: None,
            checked_out_at: None,
            no_show: false,
            promoted: false,
            rating: None,
            held: true,
        }
    }

    #[test]
    fn one_who_came_to_two_stations_counts_once_for_the_event_and_once_at_each_station() {
        let came = |mut l: Line| {
            l.checked_in_at = Some(10 * H);
            l
        };
        let lines = vec![
            came(line(1, 1, "u1")),
            came(line(2, 2, "u1")),
            came(line(1, 1, "u2")),
            Line { no_show: true, ..line(2, 2, "u3") },
            Line { no_show: true, ..line(1, 1, "u1") },
            Line { seated: false, ..line(2, 2, "u4") },
        ];
        let all = total(&lines);
        assert_eq!((all.sessions, all.signed_up, all.attended, all.no_shows), (2, 3, 2, 1));
        assert_eq!(all.attendance_rate().map(|r| r.round()), Some(67.0));
        let stations = by(&lines, |l| Some(l.station_id));
        assert_eq!((stations[&1].attended, stations[&1].no_shows), (2, 0));
        assert_eq!((stations[&2].attended, stations[&2].no_shows, stations[&2].signed_up), (1, 1, 2));
    }

    #[test]
    fn volunteers_count_hours_not_seats_and_called_off_sessions_count_nothing() {
        let v = Line {
            volunteer: true,
            checked_in_at: Some(10 * H),
            checked_out_at: Some(11 * H + H / 2),
            ..line(1, 1, "v")
        };
        let off = Line { held: false, checked_in_at: Some(10 * H), ..line(3, 1, "u9") };
        let rated = Line { checked_in_at: Some(10 * H), rating: Some(4), promoted: true, ..line(1, 1, "u1") };
        let f = total(&[v, off, rated, Line { checked_in_at: Some(10 * H), rating: Some(5), ..line(1, 1, "u2") }]);
        assert_eq!((f.sessions, f.signed_up, f.volunteer_minutes, f.promoted), (1, 2, 90, 1));
        assert_eq!(f.average_rating(), Some(4.5));
        assert_eq!(total(&[]).attendance_rate(), None);
    }
}
