//! Charts drawn on the server as SVG: they need no script and no internet, and print.

use std::fmt::Write;

/// Escapes text for SVG/HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Horizontal bars, one per (label, value), scaled to the largest value.
pub fn bars(items: &[(String, f64)], value_suffix: &str) -> String {
    let row = 28.0;
    let label_w = 120.0;
    let bar_w = 260.0;
    let height = (items.len() as f64 * row).max(row);
    let max = items.iter().map(|(_, v)| *v).fold(0.0_f64, f64::max).max(1e-9);
    let mut svg = format!(r#"<svg class="chart" viewBox="0 0 {w} {height}" role="img">"#, w = label_w + bar_w + 70.0);
    for (i, (label, value)) in items.iter().enumerate() {
        let y = i as f64 * row;
        let w = (value / max * bar_w).max(if *value > 0.0 { 2.0 } else { 0.0 });
        let shown = if value.fract() == 0.0 { format!("{value:.0}") } else { format!("{value:.1}") };
        let _ = write!(
            svg,
            r#"<text x="{lx}" y="{ty}" text-anchor="end" class="chart-label">{label}</text><rect x="{label_w}" y="{ry}" width="{w:.1}" height="16" rx="3" class="chart-bar"/><text x="{vx:.1}" y="{ty}" class="chart-value">{shown}{suffix}</text>"#,
            lx = label_w - 8.0,
            ty = y + 18.0,
            ry = y + 6.0,
            vx = label_w + w + 6.0,
            label = esc(label),
            suffix = esc(value_suffix),
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_escape_labels() {
        let svg = bars(&[("<甲>".into(), 10.0), ("乙".into(), 5.0)], "人");
        assert!(svg.contains("&lt;甲&gt;"));
        assert!(svg.contains(r#"width="260.0""#));
        assert!(svg.contains(r#"width="130.0""#));
        assert!(svg.contains("10人") && svg.contains("5人"));
    }
}
