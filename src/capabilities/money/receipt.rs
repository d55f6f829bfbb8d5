//! A donor's receipt 捐赠收据 as a PDF in Chinese: its number, who gave, the amount in
//! figures and in capitals 大写 (as Chinese receipts write it, so that no one adds a digit),
//! the fund and what it is for, the date and channel, the issuing community, and a QR code
//! to the fund's public page where the gift is listed.

use super::yuan;
use crate::error::AppResult;
use crate::services::pdf::{self, H, LEFT, Pen, RIGHT, wrap};

/// What a receipt says.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub community: String,
    pub subdistrict: String,
    pub number: String,
    pub donor: String,
    pub amount_fen: i64,
    pub fund: String,
    pub purpose: String,
    pub given_on: String,
    pub channel: String,
    pub issued_on: String,
    /// The fund's public page.
    pub url: String,
}

const DIGITS: [char; 10] = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];

/// A number below 10,000 in capitals, with a 零 for each gap inside it (壹仟零伍).
fn section(n: i64) -> String {
    let mut out = String::new();
    let mut gap = false;
    for (place, unit) in [(1000, "仟"), (100, "佰"), (10, "拾"), (1, "")] {
        let d = (n / place) % 10;
        if d == 0 {
            gap = !out.is_empty();
            continue;
        }
        if gap {
            out.push('零');
            gap = false;
        }
        out.push(DIGITS[d as usize]);
        out.push_str(unit);
    }
    out
}

/// An amount in capitals as receipts write it: 59,100.00 → 伍万玖仟壹佰元整,
/// 1.05 → 壹元零伍分.
pub fn capitals(fen: i64) -> String {
    let (whole, jiao, fen_) = (fen / 100, (fen / 10) % 10, fen % 10);
    let mut out = String::new();
    let mut rest = whole;
    let mut sections = Vec::new();
    while rest > 0 {
        sections.push(rest % 10_000);
        rest /= 10_000;
    }
    for (i, s) in sections.iter().enumerate().rev() {
        if *s == 0 {
            continue;
        }
        // A gap before this section (a zero section, or fewer than four digits after a
        // higher one) reads as one 零.
        let higher = sections[i + 1..].iter().any(|x| *x != 0);
        if higher && (*s < 1000 || sections.get(i + 1) == Some(&0)) && !out.ends_with('零') {
            out.push('零');
        }
        out.push_str(&section(*s));
        out.push_str(["", "万", "亿"][i.min(2)]);
    }
    if whole > 0 {
        out.push('元');
    }
    if jiao == 0 && fen_ == 0 {
        if whole == 0 {
            out.push_str("零元");
        }
        out.push('整');
        return out;
    }
    if jiao > 0 {
        out.push(DIGITS[jiao as usize]);
        out.push('角');
    } else if whole > 0 {
        out.push('零');
    }
    if fen_ > 0 {
        out.push(DIGITS[fen_ as usize]);
        out.push('分');
    } else {
        out.push('整');
    }
    out
}

/// The receipt as PDF bytes: one page.
pub fn pdf(r: &Receipt) -> AppResult<Vec<u8>> {
    let font = pdf::font()?;
    let (mut doc, settings) = pdf::document(format!("捐赠收据 {}", r.number))?;
    let mut page = doc.start_page_with(settings);
    let mut surface = page.surface();
    let mut pen = Pen { surface: &mut surface, font };
    let mut y = 70.0;
    pen.centred(y, 12.0, &format!("{} {}", r.subdistrict, r.community));
    y += 48.0;
    pen.centred(y, 28.0, "捐赠收据");
    y += 20.0;
    pen.rule(y);
    y += 30.0;
    pen.text(RIGHT - 170.0, y, 11.0, &format!("编号：{}", r.number));
    y += 30.0;
    let lines = [
        ("捐赠方", r.donor.clone()),
        ("金额（小写）", format!("¥{}", yuan(r.amount_fen))),
        ("金额（大写）", format!("人民币{}", capitals(r.amount_fen))),
        ("捐入资金", r.fund.clone()),
        ("用途", r.purpose.clone()),
        ("捐赠日期", r.given_on.clone()),
        ("捐赠方式", r.channel.clone()),
    ];
    for (label, value) in lines {
        pen.text(LEFT, y, 13.0, label);
        for (i, l) in wrap(&value, 13.0, RIGHT - LEFT - 120.0).iter().enumerate() {
            pen.text(LEFT + 120.0, y + 20.0 * i as f32, 13.0, l);
        }
        y += 20.0 * wrap(&value, 13.0, RIGHT - LEFT - 120.0).len().max(1) as f32 + 12.0;
    }
    pen.rule(y);
    y += 30.0;
    for l in
        wrap("感谢您对社区公益事业的支持！每一笔捐赠和支出都在社区资金公示中公开，可扫码查看。", 12.0, RIGHT - LEFT)
    {
        pen.text(LEFT, y, 12.0, &l);
        y += 20.0;
    }
    let foot = H - 200.0;
    pen.text(LEFT, foot, 13.0, &format!("出具单位：{}", r.community));
    pen.text(LEFT, foot + 24.0, 13.0, &format!("出具日期：{}", r.issued_on));
    for (i, l) in wrap(&r.url, 9.0, 300.0).iter().enumerate() {
        pen.text(LEFT, foot + 50.0 + 14.0 * i as f32, 9.0, l);
    }
    pen.qr(RIGHT - 100.0, foot - 10.0, 100.0, &r.url);
    surface.finish();
    page.finish();
    pdf::finish(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_capitals_read_as_receipts_write_them() {
        for (fen, says) in [
            (5_910_000, "伍万玖仟壹佰元整"),
            (394_000_000, "叁佰玖拾肆万元整"),
            (300_000, "叁仟元整"),
            (1_000, "壹拾元整"),
            (10_000_500, "壹拾万零伍元整"),
            (10_050_000, "壹拾万零伍佰元整"),
            (100_000_000_000 / 10, "壹亿元整"),
            (105, "壹元零伍分"),
            (150, "壹元伍角整"),
            (5, "伍分"),
            (0, "零元整"),
            (1_002_003, "壹万零贰拾元零叁分"),
        ] {
            assert_eq!(capitals(fen), says, "{fen}");
        }
    }

    #[test]
    fn a_receipt_is_a_one_page_pdf() {
        let r = Receipt {
            community: "嘉福社区".into(),
            subdistrict: "殿前街道".into(),
            number: "JZ2026-000001".into(),
            donor: "久和医院".into(),
            amount_fen: 800_000,
            fund: "共建资金".into(),
            purpose: "共建单位筹集，解决小区老大难问题".into(),
            given_on: "2026-12-04".into(),
            channel: "转账".into(),
            issued_on: "2026-12-04".into(),
            url: "http://127.0.0.1:8080/p/350206004001/money/funds/1".into(),
        };
        let bytes = pdf(&r).unwrap();
        assert!(bytes.starts_with(b"%PDF-") && bytes.len() < 200_000, "{}", bytes.len());
    }
}
