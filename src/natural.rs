//! The order people expect of names with numbers in them: 第二网格 before 第十网格,
//! 2栋 before 10栋, 302室 before 1101室. Numbers are compared by value, whether written
//! in digits or in Chinese numerals (一 二 … 十 百 千, 两, 零 and 〇); the rest by
//! character.

use std::cmp::Ordering;

/// A run of a name: a number, or one other character.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Number(u64),
    Char(char),
}

fn digit(c: char) -> Option<u64> {
    match c {
        '0'..='9' => Some(u64::from(c as u32 - '0' as u32)),
        '零' | '〇' => Some(0),
        '一' => Some(1),
        '二' | '两' => Some(2),
        '三' => Some(3),
        '四' => Some(4),
        '五' => Some(5),
        '六' => Some(6),
        '七' => Some(7),
        '八' => Some(8),
        '九' => Some(9),
        _ => None,
    }
}

fn unit(c: char) -> Option<u64> {
    match c {
        '十' => Some(10),
        '百' => Some(100),
        '千' => Some(1000),
        _ => None,
    }
}

/// The value of Chinese numerals: 十一 = 11, 二十 = 20, 一百零五 = 105, and without units
/// digit by digit (二〇二六 = 2026).
fn chinese_value(run: &[char]) -> u64 {
    if !run.iter().any(|c| unit(*c).is_some()) {
        return run.iter().filter_map(|c| digit(*c)).fold(0, |v, d| v.saturating_mul(10).saturating_add(d));
    }
    let (mut total, mut pending) = (0u64, None::<u64>);
    for c in run {
        if let Some(u) = unit(*c) {
            // 十 alone (十一) is one ten.
            total = total.saturating_add(pending.take().unwrap_or(1).saturating_mul(u));
        } else if let Some(d) = digit(*c) {
            pending = Some(d);
        }
    }
    total.saturating_add(pending.unwrap_or(0))
}

fn parts(name: &str) -> Vec<Part> {
    let chars: Vec<char> = name.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let ascii = c.is_ascii_digit();
        let chinese = !ascii && (digit(c).is_some() || unit(c).is_some());
        if !ascii && !chinese {
            out.push(Part::Char(c));
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && {
            let n = chars[i];
            if ascii { n.is_ascii_digit() } else { !n.is_ascii_digit() && (digit(n).is_some() || unit(n).is_some()) }
        } {
            i += 1;
        }
        let run = &chars[start..i];
        let value = if ascii {
            run.iter().fold(0u64, |v, c| v.saturating_mul(10).saturating_add(digit(*c).unwrap_or(0)))
        } else {
            chinese_value(run)
        };
        out.push(Part::Number(value));
    }
    out
}

/// Compares two names in natural order; names equal by it fall back to their text, so the
/// order is total and stable.
pub fn cmp(a: &str, b: &str) -> Ordering {
    parts(a).cmp(&parts(b)).then_with(|| a.cmp(b))
}

/// Sorts rows by a name of theirs in natural order.
pub fn sort_by_name<T>(rows: &mut [T], name: impl Fn(&T) -> &str) {
    rows.sort_by(|a, b| cmp(name(a), name(b)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(names: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        sort_by_name(&mut v, |s| s.as_str());
        v
    }

    #[test]
    fn chinese_ordinals_go_by_their_value() {
        assert_eq!(
            sorted(&["第十一网格", "第三网格", "第一网格", "第十网格", "第二网格", "第二十网格", "第四网格"]),
            ["第一网格", "第二网格", "第三网格", "第四网格", "第十网格", "第十一网格", "第二十网格"]
        );
        assert_eq!(chinese_value(&"一百零五".chars().collect::<Vec<_>>()), 105);
        assert_eq!(chinese_value(&"两千三百".chars().collect::<Vec<_>>()), 2300);
        assert_eq!(chinese_value(&"二〇二六".chars().collect::<Vec<_>>()), 2026);
    }

    #[test]
    fn buildings_units_and_rooms_go_by_their_numbers() {
        assert_eq!(sorted(&["10栋", "2栋", "1栋", "11栋"]), ["1栋", "2栋", "10栋", "11栋"]);
        assert_eq!(
            sorted(&["3栋2单元1101", "3栋2单元302", "3栋1单元501", "12栋1单元101"]),
            ["3栋1单元501", "3栋2单元302", "3栋2单元1101", "12栋1单元101"]
        );
        assert_eq!(
            sorted(&["海盛花园 2栋", "海盛花园 10栋", "东湖苑 1栋"]),
            ["东湖苑 1栋", "海盛花园 2栋", "海盛花园 10栋"]
        );
    }

    #[test]
    fn equal_values_still_have_one_order() {
        assert_eq!(sorted(&["第2网格", "第二网格", "第02网格"]), ["第02网格", "第2网格", "第二网格"]);
        assert_eq!(cmp("", "a"), Ordering::Less);
        assert_eq!(sorted(&["99999999999999999999999栋", "1栋"]), ["1栋", "99999999999999999999999栋"]);
    }
}
