//! The list for door-to-door rounds 入户排查表, printed: grid by grid, the households to
//! check with their tier and care tags, the first tier first, where each stands now, and
//! room to write when and what was found.

use super::store::Check;
use crate::error::AppResult;
use crate::services::pdf::Report;

/// The rounds of an incident as PDF; `status` names a check's status.
pub fn pdf(community: &str, title: &str, checks: &[Check], status: impl Fn(&Check) -> String) -> AppResult<Vec<u8>> {
    let mut r = Report::new();
    let heading = format!("{community} · {title} · 入户排查表");
    r.title(&heading);
    r.paragraph(&format!(
        "共 {} 户，其中一级关注 {} 户须优先到访。到访后请填写时间与情况，回到有网络处录入系统。",
        checks.len(),
        checks.iter().filter(|w| w.tier == 1).count()
    ));
    let head: Vec<String> =
        ["序号", "地址", "关注", "标签", "现状", "到访时间", "情况"].iter().map(|s| s.to_string()).collect();
    let mut grids: Vec<(i64, &str)> = checks.iter().map(|w| (w.grid_id, w.grid.as_str())).collect();
    grids.dedup();
    grids.sort_unstable();
    grids.dedup();
    for (grid, name) in grids {
        r.heading(name);
        let rows: Vec<Vec<String>> = checks
            .iter()
            .filter(|w| w.grid_id == grid)
            .enumerate()
            .map(|(i, w)| {
                let tags = crate::services::records::model::tags_from_column(&w.tags).join("、");
                vec![
                    (i + 1).to_string(),
                    w.address.clone(),
                    format!("{}级", w.tier),
                    tags,
                    status(w),
                    String::new(),
                    String::new(),
                ]
            })
            .collect();
        r.table(&[0.0, 0.06, 0.36, 0.44, 0.62, 0.74, 0.86], &head, &rows);
    }
    r.finish(heading)
}
