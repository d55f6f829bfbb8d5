//! The grid map: polygons fitted to a view on the server and drawn as SVG by `ui::map`, so
//! it works offline with no tiles and no script. Points (households, tickets) can be laid
//! over it.

use std::fmt::Write;

use serde_json::Value;

use crate::db::{Db, query};
use crate::error::AppResult;
use crate::web::ui::{MapMarker, MapShape, MapView};
use geo::{Distance, Haversine, Point};

/// A point to draw over the grids.
#[derive(Debug, Clone)]
pub struct Marker {
    pub lat: f64,
    pub lng: f64,
    pub title: String,
    pub href: String,
    pub class: &'static str,
}

#[derive(Debug, Clone)]
pub struct Shape {
    /// The grid's id.
    pub id: i64,
    pub title: String,
    pub href: String,
    /// Outer rings, in (lng, lat).
    pub rings: Vec<Vec<(f64, f64)>>,
    pub highlight: bool,
    /// A shade of five (0 lightest), when the map colours places by a figure.
    pub tone: Option<u8>,
}

/// The classes of the five shades a map colours places by.
const TONES: [&str; 5] = ["grid tone-0", "grid tone-1", "grid tone-2", "grid tone-3", "grid tone-4"];

/// The rings of a GeoJSON Polygon or MultiPolygon (outer rings only; holes are rare in
/// grid maps and do not change what is clicked).
pub fn outer_rings(geometry: &Value) -> Vec<Vec<(f64, f64)>> {
    let ring = |r: &Value| -> Vec<(f64, f64)> {
        r.as_array()
            .map(|pts| pts.iter().filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?))).collect())
            .unwrap_or_default()
    };
    let coords = geometry.get("coordinates");
    match geometry.get("type").and_then(Value::as_str) {
        Some("Polygon") => coords.and_then(|c| c.get(0)).map(ring).into_iter().collect(),
        Some("MultiPolygon") => coords
            .and_then(Value::as_array)
            .map(|polys| polys.iter().filter_map(|p| p.get(0)).map(ring).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The shapes and markers fitted to a 640-wide view, keeping the true proportions (an
/// empty view when there is nothing to draw); `ui::map` draws it.
pub fn draw(title: &str, shapes_in: &[Shape], markers_in: &[Marker]) -> MapView {
    let (shapes, markers) = (shapes_in, markers_in);
    let points =
        shapes.iter().flat_map(|s| s.rings.iter().flatten().copied()).chain(markers.iter().map(|m| (m.lng, m.lat)));
    let (mut min_x, mut min_y, mut max_x, mut max_y) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for (x, y) in points {
        min_x = min_x.min(x);
        max_x = max_x.max(x);
        min_y = min_y.min(y);
        max_y = max_y.max(y);
    }
    if min_x > max_x {
        return MapView { title: title.into(), ..MapView::default() };
    }
    // Longitude degrees shrink with latitude.
    let k = ((min_y + max_y) / 2.0).to_radians().cos().max(0.01);
    let (w_deg, h_deg) = (((max_x - min_x) * k).max(1e-6), (max_y - min_y).max(1e-6));
    let width = 640.0;
    let pad = 12.0;
    let scale = (width - 2.0 * pad) / w_deg;
    let height = (h_deg * scale + 2.0 * pad).clamp(120.0, 900.0);
    let scale = scale.min((height - 2.0 * pad) / h_deg);
    let px = |(x, y): (f64, f64)| (pad + (x - min_x) * k * scale, pad + (max_y - y) * scale);
    let shapes = shapes
        .iter()
        .map(|s| {
            let mut d = String::new();
            for ring in &s.rings {
                for (i, p) in ring.iter().enumerate() {
                    let (x, y) = px(*p);
                    let _ = write!(d, "{}{x:.1},{y:.1}", if i == 0 { "M" } else { "L" });
                }
                d.push('Z');
            }
            let (cx, cy) = s.rings.first().map(|r| centre(r)).map(px).unwrap_or((0.0, 0.0));
            MapShape {
                d,
                class: match s.tone {
                    Some(t) => TONES[usize::from(t.min(4))],
                    None if s.highlight => "grid grid-on",
                    None => "grid",
                },
                // A shape without a page (on a public map) is drawn, not linked.
                href: (!s.href.is_empty()).then(|| s.href.clone()),
                label: s.title.clone(),
                label_x: format!("{cx:.1}"),
                label_y: format!("{cy:.1}"),
            }
        })
        .collect();
    let markers = markers
        .iter()
        .map(|m| {
            let (x, y) = px((m.lng, m.lat));
            MapMarker {
                x: format!("{x:.1}"),
                y: format!("{y:.1}"),
                class: m.class,
                title: m.title.clone(),
                href: Some(m.href.clone()),
            }
        })
        .collect();
    MapView {
        title: title.into(),
        width,
        height: format!("{height:.0}"),
        shapes,
        markers,
        geo: geo(shapes_in, markers_in),
    }
}

/// The shapes and markers in degrees, as `assets/basemap.js` draws them over tiles: rings
/// of `[lat, lng]`, the label, where each leads, and whether it is the one marked.
fn geo(shapes: &[Shape], markers: &[Marker]) -> String {
    let shapes: Vec<Value> = shapes
        .iter()
        .map(|s| {
            let rings: Vec<Vec<[f64; 2]>> = s.rings.iter().map(|r| r.iter().map(|(x, y)| [*y, *x]).collect()).collect();
            serde_json::json!({"label": s.title, "href": s.href, "on": s.highlight, "rings": rings})
        })
        .collect();
    let markers: Vec<Value> = markers
        .iter()
        .map(|m| serde_json::json!({"lat": m.lat, "lng": m.lng, "title": m.title, "href": m.href, "cls": m.class}))
        .collect();
    serde_json::json!({"shapes": shapes, "markers": markers}).to_string()
}

fn centre(ring: &[(f64, f64)]) -> (f64, f64) {
    let pts = if ring.len() > 1 && ring.first() == ring.last() { &ring[..ring.len() - 1] } else { ring };
    let n = pts.len().max(1) as f64;
    (pts.iter().map(|p| p.0).sum::<f64>() / n, pts.iter().map(|p| p.1).sum::<f64>() / n)
}

/// The grids of a community that have a polygon.
pub async fn grid_shapes(db: &Db, community_id: i64, highlight: Option<i64>) -> AppResult<Vec<Shape>> {
    let mut conn = db.read().await?;
    let mut rows: Vec<(i64, String, sqlx::types::Json<Value>, String)> = query(
        "SELECT g.id, g.name, g.polygon, c.code FROM grids g JOIN communities c ON c.id = g.community_id
         WHERE g.community_id = $1 AND g.polygon IS NOT NULL AND g.archived_at IS NULL",
    )
    .bind(community_id)
    .fetch_all(&mut conn)
    .await?;
    crate::natural::sort_by_name(&mut rows, |r| r.1.as_str());
    Ok(rows
        .into_iter()
        .map(|(id, name, polygon, code)| Shape {
            id,
            title: name,
            href: format!("/c/{code}/grids/{id}"),
            rings: outer_rings(&polygon.0),
            highlight: highlight == Some(id),
            tone: None,
        })
        .collect())
}

/// The map of a community's grids (one of them marked).
pub async fn community_map(db: &Db, title: &str, community_id: i64, highlight: Option<i64>) -> AppResult<MapView> {
    Ok(draw(title, &grid_shapes(db, community_id, highlight).await?, &[]))
}

/// Walking, for "within 15 minutes": an older person's pace (4.2 km/h), and streets
/// being longer than the straight line.
const WALK_METRES_PER_MINUTE: f64 = 70.0;
const DETOUR: f64 = 1.3;

/// A point as a page's query or form sends it (`lat`, `lng`, each possibly empty): none
/// when not both are given, else each coordinate in range or named.
pub fn point_of(lat: Option<&str>, lng: Option<&str>) -> Result<Option<(f64, f64)>, Vec<crate::error::FieldError>> {
    let mut errors = Vec::new();
    let mut coordinate = |name: &str, v: Option<&str>, max: f64| {
        let v = v.map(str::trim).filter(|v| !v.is_empty())?;
        let x = v.parse::<f64>().ok().filter(|x| x.is_finite() && x.abs() <= max);
        if x.is_none() {
            errors.push(crate::error::FieldError::new(name, "validation.range").with("min", -max).with("max", max));
        }
        x
    };
    let point = coordinate("lat", lat, 90.0).zip(coordinate("lng", lng, 180.0));
    if errors.is_empty() { Ok(point) } else { Err(errors) }
}

/// Minutes on foot between two points (latitude, longitude).
pub fn walk_minutes(from: (f64, f64), to: (f64, f64)) -> f64 {
    let metres = Haversine.distance(Point::new(from.1, from.0), Point::new(to.1, to.0));
    metres * DETOUR / WALK_METRES_PER_MINUTE
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fifteen_minutes_walk_is_about_eight_hundred_metres_straight() {
        let home = (21.2700, 110.3600);
        // 0.007° of latitude is about 778 m.
        let near = walk_minutes(home, (21.2770, 110.3600));
        assert!((14.0..15.0).contains(&near), "{near}");
        assert!(walk_minutes(home, (21.2800, 110.3600)) > 15.0);
    }

    #[test]
    fn polygons_become_paths_with_labels_and_links() {
        let g = json!({"type": "Polygon", "coordinates": [[[110.0, 21.0], [110.01, 21.0], [110.01, 21.01], [110.0, 21.0]]]});
        let shapes = vec![Shape {
            id: 2,
            title: "一<网格>".into(),
            href: "/c/1/grids/2".into(),
            rings: outer_rings(&g),
            highlight: true,
            tone: None,
        }];
        let map = draw(
            "地图",
            &shapes,
            &[Marker { lat: 21.005, lng: 110.005, title: "t".into(), href: "/x".into(), class: "open" }],
        );
        assert_eq!(map.shapes.len(), 1);
        assert_eq!(map.shapes[0].class, "grid grid-on");
        assert_eq!(map.shapes[0].label, "一<网格>", "text stays as it is; the template escapes it");
        assert_eq!(map.shapes[0].d.matches('M').count(), 1);
        assert!(map.shapes[0].d.bytes().all(|b| b.is_ascii_digit() || b".,MLZ-".contains(&b)), "path data only");
        assert_eq!(map.markers.len(), 1);
        let geo: Value = serde_json::from_str(&map.geo).unwrap();
        assert_eq!(geo["shapes"][0]["rings"][0][1], json!([21.0, 110.01]), "[lat, lng] for the base map");
        assert_eq!(geo["shapes"][0]["href"], "/c/1/grids/2");
        assert_eq!(geo["markers"][0]["cls"], "open");
    }

    #[test]
    fn nothing_to_draw_is_empty() {
        assert!(draw("", &[], &[]).shapes.is_empty());
        let multi = json!({"type": "MultiPolygon", "coordinates": [[[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]], [[[2.0, 2.0], [3.0, 2.0], [3.0, 3.0], [2.0, 2.0]]]]});
        assert_eq!(outer_rings(&multi).len(), 2);
    }
}
