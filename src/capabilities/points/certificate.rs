//! The volunteer service certificate 志愿服务证明 as a PDF in Chinese: who served (ID
//! number masked), each approved service and the total hours over the period, the
//! issuing community, and a verification code (with its QR code) that anyone can check on
//! the public page. The font is a GBK subset of Noto Sans SC, compiled in; each PDF
//! carries only the glyphs it uses.

use crate::error::AppResult;
use crate::services::pdf::{self, H, LEFT, Pen, RIGHT, wrap};

/// What a certificate says.
#[derive(Debug, Clone)]
pub struct Content {
    pub community: String,
    pub subdistrict: String,
    pub name: String,
    pub number: String,
    pub id_number_masked: Option<String>,
    pub from: String,
    pub to: String,
    /// Date, what was done (and where, with which team), hours.
    pub lines: Vec<(String, String, String)>,
    pub total_hours: String,
    pub issued_on: String,
    pub code: String,
    pub verify_url: String,
}

/// The certificate as PDF bytes.
pub fn pdf(c: &Content) -> AppResult<Vec<u8>> {
    let font = pdf::font()?;
    let (mut doc, settings) = pdf::document(format!("志愿服务证明 {}", c.number))?;
    let identity = match &c.id_number_masked {
        Some(id) => format!("（志愿者编号 {}，身份证号 {}）", c.number, id),
        None => format!("（志愿者编号 {}）", c.number),
    };
    let body = format!(
        "兹证明 {}{identity}于 {} 至 {} 期间在{}参加志愿服务 {} 次，累计服务时长 {} 小时。服务明细如下：",
        c.name,
        c.from,
        c.to,
        c.community,
        c.lines.len(),
        c.total_hours
    );
    let mut lines = c.lines.iter().peekable();
    let mut first = true;
    loop {
        let mut page = doc.start_page_with(settings.clone());
        let mut surface = page.surface();
        let mut pen = Pen { surface: &mut surface, font: font.clone() };
        let mut y = 70.0;
        if first {
            pen.centred(y, 12.0, &format!("{} {}", c.subdistrict, c.community));
            y += 48.0;
            pen.centred(y, 28.0, "志愿服务证明");
            y += 20.0;
            pen.rule(y);
            y += 36.0;
            for l in wrap(&body, 13.0, RIGHT - LEFT - 26.0) {
                pen.text(LEFT + if y < 160.0 { 26.0 } else { 0.0 }, y, 13.0, &l);
                y += 22.0;
            }
            y += 10.0;
            first = false;
        }
        pen.text(LEFT, y, 11.0, "日期");
        pen.text(LEFT + 90.0, y, 11.0, "服务内容");
        pen.text(RIGHT - 40.0, y, 11.0, "时长");
        y += 6.0;
        pen.rule(y);
        y += 18.0;
        while let Some((date, what, hours)) = lines.peek() {
            let wrapped = wrap(what, 11.0, RIGHT - LEFT - 150.0);
            if y + 18.0 * wrapped.len() as f32 > H - 200.0 {
                break;
            }
            pen.text(LEFT, y, 11.0, date);
            for (i, w) in wrapped.iter().enumerate() {
                pen.text(LEFT + 90.0, y + 16.0 * i as f32, 11.0, w);
            }
            pen.text(RIGHT - 40.0, y, 11.0, hours);
            y += 16.0 * wrapped.len() as f32 + 4.0;
            lines.next();
        }
        let last = lines.peek().is_none();
        if last {
            pen.rule(y);
            y += 18.0;
            pen.text(RIGHT - 150.0, y, 11.0, &format!("合计 {} 小时", c.total_hours));
            let foot = H - 170.0;
            pen.text(LEFT, foot, 13.0, &format!("出具单位：{}", c.community));
            pen.text(LEFT, foot + 24.0, 13.0, &format!("出具日期：{}", c.issued_on));
            pen.text(LEFT, foot + 48.0, 11.0, &format!("验证码：{}", c.code));
            for (i, l) in wrap(&format!("扫码或访问 {} 核验真伪", c.verify_url), 9.0, 300.0).iter().enumerate()
            {
                pen.text(LEFT, foot + 68.0 + 14.0 * i as f32, 9.0, l);
            }
            pen.qr(RIGHT - 100.0, foot - 10.0, 100.0, &c.verify_url);
        } else {
            pen.centred(H - 40.0, 9.0, "（续下页）");
        }
        surface.finish();
        page.finish();
        if last {
            break;
        }
    }
    pdf::finish(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(n: usize) -> Content {
        Content {
            community: "海盛社区".into(),
            subdistrict: "南调街道".into(),
            name: "王小明".into(),
            number: "440804003001-00001".into(),
            id_number_masked: Some("440***********123X".into()),
            from: "2026-01-01".into(),
            to: "2026-11-30".into(),
            lines: (0..n)
                .map(|i| (format!("2026-03-{:02}", i % 28 + 1), "看望独居老人，帮助打扫卫生".into(), "2.0".into()))
                .collect(),
            total_hours: format!("{}.0", n * 2),
            issued_on: "2026-12-01".into(),
            code: "ABCD2345EFGH".into(),
            verify_url: "http://127.0.0.1:8080/p/440804003001/certificates/ABCD2345EFGH".into(),
        }
    }

    #[test]
    fn a_certificate_is_a_pdf_of_one_page_or_more() {
        let one = pdf(&content(3)).unwrap();
        assert!(one.starts_with(b"%PDF-"));
        assert!(one.len() < 200_000, "only the glyphs used are embedded: {} bytes", one.len());
        let many = pdf(&content(80)).unwrap();
        // The page tree says how many pages there are: `/Count N`.
        let pages = |b: &[u8]| -> usize {
            let text = String::from_utf8_lossy(b);
            let at = text.find("/Count ").expect("a page tree");
            text[at + 7..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().unwrap()
        };
        assert_eq!(pages(&one), 1);
        assert!(pages(&many) > 1, "long service runs onto more pages");
    }
}
