//! Invented people and places for the demo: deterministic (seeded), plausible, and
//! valid in form (ID numbers carry a correct check digit). No real person is described.

use chrono::NaiveDate;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::services::pii;

pub type Rand = ChaCha8Rng;

pub fn rng(seed: u64) -> Rand {
    ChaCha8Rng::seed_from_u64(seed)
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗",
    "高", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "潘", "袁", "蔡",
    "蒋", "余", "于", "杜", "叶", "程", "魏", "苏", "吕", "丁", "任", "卢", "姚", "沈", "钟", "姜", "崔", "谭", "陆",
    "范", "汪", "廖", "石", "金", "韦", "贾", "夏", "付", "方", "邹", "熊", "白", "孟", "秦", "邱", "侯", "江", "尹",
    "薛", "闫",
];
const GIVEN_MALE: &[&str] = &[
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞", "鑫", "波", "宇",
    "浩", "凯", "健", "俊", "帆", "帅", "旭", "宁", "龙", "林", "阳", "建国", "建华", "国强", "志强", "志明", "海涛",
    "晓东", "文博", "子轩", "浩然", "宇航", "俊杰", "振华", "德明", "永福", "长青",
];
const GIVEN_FEMALE: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "燕", "玲", "婷", "雪", "琳", "洁", "慧", "颖", "倩", "萍", "红",
    "梅", "兰", "英", "秀英", "桂英", "玉兰", "秀兰", "丽华", "晓燕", "雅琪", "欣怡", "梓涵", "诗涵", "佳怡", "雨桐",
    "思彤", "婉清", "美玲", "春花", "淑珍", "凤霞",
];

pub struct Person {
    pub name: String,
    pub male: bool,
    pub birth: NaiveDate,
    pub id_number: String,
    pub phone: Option<String>,
}

/// A person born between the given years, registered in `region` (6 digits).
pub fn person(r: &mut Rand, region: &str, years: (i32, i32), surname: Option<&str>) -> Person {
    let male = r.random_bool(0.5);
    let surname =
        surname.map(str::to_string).unwrap_or_else(|| SURNAMES[r.random_range(0..SURNAMES.len())].to_string());
    let given = if male {
        GIVEN_MALE[r.random_range(0..GIVEN_MALE.len())]
    } else {
        GIVEN_FEMALE[r.random_range(0..GIVEN_FEMALE.len())]
    };
    let birth =
        NaiveDate::from_ymd_opt(r.random_range(years.0..=years.1), r.random_range(1..=12), r.random_range(1..=28))
            .expect("valid date");
    let id_number = pii::make_id_number(region, birth, r.random_range(0..1000), male);
    let phone = (chrono::Datelike::year(&birth) < 2012).then(|| phone(r));
    Person { name: format!("{surname}{given}"), male, birth, id_number, phone }
}

pub fn phone(r: &mut Rand) -> String {
    const PREFIXES: &[&str] = &[
        "130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152", "158", "159", "176", "177", "180",
        "186", "187", "188", "189",
    ];
    format!("{}{:08}", PREFIXES[r.random_range(0..PREFIXES.len())], r.random_range(0..100_000_000u32))
}

/// A community's area split into `n` grids: a row of slightly irregular quadrilaterals
/// around `(lng, lat)`. Answers each grid's GeoJSON polygon and its bounding box.
pub fn grid_polygons(r: &mut Rand, lng: f64, lat: f64, n: usize) -> Vec<(Value, [f64; 4])> {
    let cols = (n as f64).sqrt().ceil() as usize;
    let rows = n.div_ceil(cols);
    let (w, h) = (0.004, 0.003);
    let x0 = lng - w * cols as f64 / 2.0;
    let y0 = lat + h * rows as f64 / 2.0;
    // Shared corners jitter together so that neighbouring grids meet without gaps.
    let mut corner = vec![vec![(0.0, 0.0); cols + 1]; rows + 1];
    for (i, row) in corner.iter_mut().enumerate() {
        for (j, c) in row.iter_mut().enumerate() {
            let edge = i == 0 || j == 0 || i == rows || j == cols;
            let jitter = if edge { 0.0 } else { 0.0006 };
            *c = (
                x0 + j as f64 * w + r.random_range(-jitter..=jitter),
                y0 - i as f64 * h + r.random_range(-jitter..=jitter),
            );
        }
    }
    (0..n)
        .map(|k| {
            let (i, j) = (k / cols, k % cols);
            let ring = [corner[i][j], corner[i][j + 1], corner[i + 1][j + 1], corner[i + 1][j], corner[i][j]];
            let coords: Vec<Value> = ring.iter().map(|(x, y)| json!([round6(*x), round6(*y)])).collect();
            let bbox = [
                ring.iter().map(|p| p.0).fold(f64::MAX, f64::min),
                ring.iter().map(|p| p.1).fold(f64::MAX, f64::min),
                ring.iter().map(|p| p.0).fold(f64::MIN, f64::max),
                ring.iter().map(|p| p.1).fold(f64::MIN, f64::max),
            ];
            (json!({"type": "Polygon", "coordinates": [coords]}), bbox)
        })
        .collect()
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// A point well inside a bounding box.
pub fn point_in(r: &mut Rand, bbox: [f64; 4]) -> (f64, f64) {
    let (dx, dy) = ((bbox[2] - bbox[0]) * 0.25, (bbox[3] - bbox[1]) * 0.25);
    (round6(r.random_range(bbox[0] + dx..bbox[2] - dx)), round6(r.random_range(bbox[1] + dy..bbox[3] - dy)))
}

/// Care tags drawn with their rough frequencies (elderly living alone only for the old).
pub fn care_tags(r: &mut Rand, age: i32) -> Vec<&'static str> {
    let mut tags = Vec::new();
    if age >= 70 && r.random_bool(0.12) {
        tags.push("独居老人");
    }
    if age >= 60 && r.random_bool(0.01) {
        tags.push("五保户");
    }
    if r.random_bool(0.015) {
        tags.push("残疾人");
    }
    if r.random_bool(0.02) {
        tags.push("低保");
    }
    tags
}

pub fn pick<'a, T>(r: &mut Rand, items: &'a [T]) -> &'a T {
    &items[r.random_range(0..items.len())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_are_valid_and_the_same_for_the_same_seed() {
        let a = person(&mut rng(7), "440804", (1940, 2000), None);
        let b = person(&mut rng(7), "440804", (1940, 2000), None);
        assert_eq!(a.id_number, b.id_number);
        assert!(pii::normalize_id_number(&a.id_number).is_ok());
        assert_eq!(pii::gender_of(&a.id_number), Some(if a.male { "male" } else { "female" }));
        assert!(pii::normalize_phone(&phone(&mut rng(1))).is_ok());
    }

    #[test]
    fn grid_polygons_are_valid_geojson() {
        let grids = grid_polygons(&mut rng(3), 110.4, 21.2, 7);
        assert_eq!(grids.len(), 7);
        for (g, bbox) in grids {
            assert!(crate::services::records::model::check_polygon(&g).is_ok());
            assert!(bbox[0] < bbox[2] && bbox[1] < bbox[3]);
        }
    }
}
