//! What residents, grid workers, volunteers, staff and the subdistrict do: one folder per
//! capability.

pub mod appointments;
pub mod brands;
pub mod council;
pub mod dashboard;
pub mod directory;
pub mod emergency;
pub mod events;
pub mod fieldwork;
pub mod money;
pub mod notices;
pub mod participation;
pub mod points;
pub mod registry;
pub mod tickets;
pub mod warm_stations;

use crate::web::capability::Capability;

/// The capabilities this server runs, in the order their parts appear on a home page.
/// Adding one: a folder, a line here, a migration and a locale file.
pub static ALL: &[&Capability] = &[
    &notices::CAP,
    &tickets::CAP,
    &points::CAP,
    &participation::CAP,
    &council::CAP,
    &events::CAP,
    &money::CAP,
    &directory::CAP,
    &warm_stations::CAP,
    &appointments::CAP,
    &emergency::CAP,
    &fieldwork::CAP,
    &brands::CAP,
    &dashboard::CAP,
    &registry::CAP,
];

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    fn files(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files(&p));
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
        out
    }

    /// The code of a file without its tests.
    fn code(p: &Path) -> String {
        let text = std::fs::read_to_string(p).unwrap();
        text.split("#[cfg(test)]").next().unwrap_or("").to_string()
    }

    /// Capabilities use each other one way only, as docs/design.md draws it; the shared
    /// services and the house below them never name a capability (only the composition
    /// roots do: `app`, the command line, the demo).
    #[test]
    fn capabilities_depend_on_each_other_one_way_and_nothing_below_knows_them() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let names: Vec<String> = super::ALL.iter().map(|c| c.name.to_string()).collect();
        let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let pattern = regex::Regex::new(r"crate::capabilities::([a-z_]+)").unwrap();
        for name in &names {
            for f in files(&src.join("capabilities").join(name)) {
                for c in pattern.captures_iter(&code(&f)) {
                    if c[1] != *name && names.contains(&c[1].to_string()) {
                        uses.entry(name.clone()).or_default().insert(c[1].to_string());
                    }
                }
            }
        }
        let drawn = drawn_in_design();
        for name in &names {
            let found: Vec<String> = uses.get(name).map(|s| s.iter().cloned().collect()).unwrap_or_default();
            let drawn_uses = drawn.get(name).unwrap_or_else(|| panic!("{name} is not in docs/design.md's table"));
            assert_eq!(&found, drawn_uses, "what {name} uses, against docs/design.md");
        }
        // One way: no capability reaches back to one that uses it.
        for (a, bs) in &drawn {
            for b in bs {
                assert!(!drawn.get(b).is_some_and(|c| c.contains(a)), "{a} and {b} use each other");
            }
        }
        for f in files(&src) {
            let rel = f.strip_prefix(&src).unwrap().to_string_lossy().to_string();
            let root =
                ["capabilities/", "cli/", "demo/", "app.rs", "lib.rs", "main.rs"].iter().any(|r| rel.starts_with(r));
            if !root {
                assert!(!code(&f).contains("crate::capabilities"), "{rel} names a capability");
            }
        }
    }

    /// The table of which capability uses which, as docs/design.md draws it.
    fn drawn_in_design() -> BTreeMap<String, Vec<String>> {
        let design = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/design.md")).unwrap();
        let section = design.split("## The house").nth(1).unwrap().split("\n## ").next().unwrap();
        let mut drawn = BTreeMap::new();
        for line in section.lines().filter(|l| l.starts_with("| ")).skip(1) {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let uses: Vec<String> =
                cells[2].split(", ").filter(|u| !u.is_empty() && *u != "—").map(String::from).collect();
            for name in cells[1].split(", ") {
                drawn.insert(name.to_string(), uses.clone());
            }
        }
        drawn
    }

    /// Lines of a function from its `fn` line to its closing brace (braces inside string
    /// and character literals are not counted).
    fn length(lines: &[&str], start: usize) -> usize {
        let literal = regex::Regex::new(r#"'.'|'\\.'|"(\\.|[^"\\])*""#).unwrap();
        let (mut depth, mut opened) = (0i64, false);
        for (i, line) in lines[start..].iter().enumerate() {
            for ch in literal.replace_all(line, "").chars() {
                match ch {
                    '{' => (depth, opened) = (depth + 1, true),
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if (opened && depth <= 0) || (!opened && line.trim_end().ends_with(';')) {
                return i + 1;
            }
        }
        lines.len() - start
    }

    /// Small rooms: no file in `src/` over 800 lines, no function over 120.
    #[test]
    fn no_file_is_over_800_lines_and_no_function_over_120() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let fn_line = regex::Regex::new(r"^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?fn\s+(\w+)").unwrap();
        let mut big = Vec::new();
        for f in files(&src) {
            let text = std::fs::read_to_string(&f).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            let rel = f.strip_prefix(&src).unwrap().display().to_string();
            if lines.len() > 800 {
                big.push(format!("{rel}: {} lines", lines.len()));
            }
            for (i, line) in lines.iter().enumerate() {
                if let Some(c) = fn_line.captures(line) {
                    let n = length(&lines, i);
                    if n > 120 {
                        big.push(format!("{rel}: fn {} is {n} lines", &c[5]));
                    }
                }
            }
        }
        assert!(big.is_empty(), "too big:\n{}", big.join("\n"));
    }
}
