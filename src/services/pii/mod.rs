//! Personal information under PIPL: validation, masking, encryption at rest and keyed
//! hashes for lookup, and the log of every reveal.
//!
//! ID numbers and phone numbers are stored three ways: AES-256-GCM ciphertext (only
//! decrypted to reveal), an HMAC-SHA256 "blind index" (to find a record by the full
//! value without decrypting), and the masked form (what lists and exports show).

pub mod store;

use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::Mac;
use secrecy::ExposeSecret;
use sha2::Sha256;

use crate::config::Config;

const SEALED_VERSION: u8 = 1;

/// Encryption and blind-index keys, derived from one 32-byte master key.
pub struct Pii {
    cipher: Aes256Gcm,
    index_key: [u8; 32],
}

impl std::fmt::Debug for Pii {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pii(..)")
    }
}

/// A personal value as stored: ciphertext, blind index, masked form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub enc: Vec<u8>,
    pub hash: Vec<u8>,
    pub masked: String,
}

impl Pii {
    /// The key from configuration, else from `<data dir>/pii.key`, created (mode 0600)
    /// when absent.
    pub fn load(cfg: &Config) -> anyhow::Result<Pii> {
        let encoded = match &cfg.pii_key {
            Some(k) => k.expose_secret().trim().to_string(),
            None => read_or_create_key_file(&cfg.data_dir.join("pii.key"))?,
        };
        let raw = B64.decode(encoded.as_bytes()).context("pii_key is not base64")?;
        let key: [u8; 32] = raw.try_into().ok().context("pii_key must be 32 bytes (base64)")?;
        Ok(Pii::from_master_key(&key))
    }

    pub fn from_master_key(master: &[u8; 32]) -> Pii {
        let hk = hkdf::Hkdf::<Sha256>::new(Some(b"linli"), master);
        let mut enc_key = [0u8; 32];
        let mut index_key = [0u8; 32];
        hk.expand(b"pii encryption v1", &mut enc_key).expect("32 bytes is a valid length");
        hk.expand(b"pii blind index v1", &mut index_key).expect("32 bytes is a valid length");
        let cipher = Aes256Gcm::new_from_slice(&enc_key).expect("32-byte key");
        Pii { cipher, index_key }
    }

    pub fn encrypt(&self, plain: &str) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).expect("system random source");
        let ct = self
            .cipher
            .encrypt(&Nonce::from(nonce), plain.as_bytes())
            .expect("AES-GCM encryption of a short value cannot fail");
        let mut out = Vec::with_capacity(1 + 12 + ct.len());
        out.push(SEALED_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    pub fn decrypt(&self, sealed: &[u8]) -> anyhow::Result<String> {
        if sealed.len() < 13 || sealed[0] != SEALED_VERSION {
            bail!("not a sealed value");
        }
        let nonce: [u8; 12] = sealed[1..13].try_into().expect("length checked");
        let plain = self
            .cipher
            .decrypt(&Nonce::from(nonce), &sealed[13..])
            .map_err(|_| anyhow::anyhow!("cannot decrypt: wrong key or damaged value"))?;
        Ok(String::from_utf8(plain)?)
    }

    /// A keyed hash of a normalised value, to find records by it.
    pub fn blind_index(&self, kind: &str, normalized: &str) -> Vec<u8> {
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(&self.index_key).expect("any key length");
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(normalized.as_bytes());
        mac.finalize().into_bytes()[..16].to_vec()
    }

    pub fn seal_phone(&self, phone: &str) -> Sealed {
        Sealed { enc: self.encrypt(phone), hash: self.blind_index("phone", phone), masked: mask_phone(phone) }
    }

    pub fn seal_id_number(&self, id: &str) -> Sealed {
        Sealed { enc: self.encrypt(id), hash: self.blind_index("id_number", id), masked: mask_id_number(id) }
    }

    /// A person's ID number and phone as a resident row keeps them.
    pub fn seal_person(&self, id_number: Option<&str>, phone: Option<&str>) -> PersonSeal {
        PersonSeal {
            id_number: id_number.map(|x| self.seal_id_number(x)),
            phone: phone.map(|x| self.seal_phone(x)),
            // Normalised numbers are ASCII digits (and a landline's dash).
            phone_tail: phone.map(|x| x[x.len().saturating_sub(4)..].to_string()),
        }
    }
}

/// A person's ID number and phone sealed, and the phone's last four digits (which staff
/// search by): what every writer of resident rows stores, in `PersonSeal::COLUMNS`.
pub struct PersonSeal {
    pub id_number: Option<Sealed>,
    pub phone: Option<Sealed>,
    pub phone_tail: Option<String>,
}

impl PersonSeal {
    pub const COLUMNS: [&'static str; 7] = [
        "id_number_enc",
        "id_number_hash",
        "id_number_masked",
        "phone_enc",
        "phone_hash",
        "phone_masked",
        "phone_tail",
    ];

    /// The values of `COLUMNS`, in order.
    pub fn args(&self) -> [crate::db::Arg; 7] {
        let (idn, phone) = (self.id_number.as_ref(), self.phone.as_ref());
        [
            idn.map(|s| s.enc.clone()).into(),
            idn.map(|s| s.hash.clone()).into(),
            idn.map(|s| s.masked.clone()).into(),
            phone.map(|s| s.enc.clone()).into(),
            phone.map(|s| s.hash.clone()).into(),
            phone.map(|s| s.masked.clone()).into(),
            self.phone_tail.clone().into(),
        ]
    }
}

fn read_or_create_key_file(path: &Path) -> anyhow::Result<String> {
    if path.exists() {
        return std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("random source: {e}"))?;
    let encoded = B64.encode(key);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).with_context(|| format!("creating {}", path.display()))?;
    f.write_all(encoded.as_bytes())?;
    tracing::warn!(path = %path.display(), "generated a new key for personal data: back it up with the database");
    Ok(encoded)
}

/// A mainland mobile number, normalised to 11 digits (spaces, dashes and +86 dropped).
pub fn normalize_phone(input: &str) -> Result<String, &'static str> {
    let digits: String = input.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
    let digits = digits.strip_prefix("+86").or_else(|| digits.strip_prefix("0086")).unwrap_or(&digits);
    let ok = digits.len() == 11
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.starts_with('1')
        && matches!(digits.as_bytes()[1], b'3'..=b'9');
    if ok { Ok(digits.to_string()) } else { Err("validation.phone") }
}

/// A contact number: a mainland mobile (as `normalize_phone`), or a landline with its
/// area code (`0759-3381678`, `010 6512 3456`), kept as area code, dash, number. Many
/// elderly residents have only a landline.
pub fn normalize_contact_number(input: &str) -> Result<String, &'static str> {
    if let Ok(mobile) = normalize_phone(input) {
        return Ok(mobile);
    }
    let digits: String = input.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
    // 010 and 02x are three digits long, the other area codes four.
    let area_len = if digits.starts_with("01") || digits.starts_with("02") { 3 } else { 4 };
    let ok = digits.bytes().all(|b| b.is_ascii_digit())
        && digits.starts_with('0')
        && !digits[1..].starts_with('0')
        && matches!(digits.len() - area_len.min(digits.len()), 7 | 8)
        && !digits[area_len.min(digits.len())..].starts_with(['0', '1']);
    if ok { Ok(format!("{}-{}", &digits[..area_len], &digits[area_len..])) } else { Err("validation.contact_number") }
}

/// Whether a text holds a mainland mobile number or an ID number, whole or inside it (a
/// run of 11 or 18 characters that reads as one, separators `-._ ` ignored). Such a text
/// must not become a user name, which is shown to anyone who lists users.
pub fn holds_personal_number(s: &str) -> bool {
    let squeezed: String = s.chars().filter(|c| !matches!(c, '-' | '.' | '_' | ' ')).collect();
    let chars: Vec<char> = squeezed.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && (chars[i].is_ascii_digit() || (chars[i] == 'X' || chars[i] == 'x') && i - start == 17)
        {
            i += 1;
        }
        let run: String = chars[start..i].iter().collect();
        if normalize_phone(&run).is_ok() || normalize_id_number(&run).is_ok() {
            return true;
        }
    }
    false
}

/// A resident ID number (GB 11643-1999): 17 digits and an ISO 7064 MOD 11-2 check
/// character, with a real birth date. Answers it upper-cased.
pub fn normalize_id_number(input: &str) -> Result<String, &'static str> {
    let id = input.trim().to_ascii_uppercase();
    let b = id.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
        return Err("validation.id_number_format");
    }
    if check_char(&b[..17]) != b[17] {
        return Err("validation.id_number_check");
    }
    if birth_date_of(&id).is_none() {
        return Err("validation.id_number_birth");
    }
    Ok(id)
}

/// The ISO 7064 MOD 11-2 check character for 17 digits.
pub fn check_char(first17: &[u8]) -> u8 {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = first17.iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    CHECK[(sum % 11) as usize]
}

/// The birth date written in an 18-character ID number, if it is a real date.
pub fn birth_date_of(id: &str) -> Option<chrono::NaiveDate> {
    let d = chrono::NaiveDate::parse_from_str(id.get(6..14)?, "%Y%m%d").ok()?;
    let year = chrono::Datelike::year(&d);
    (1900..=2100).contains(&year).then_some(d)
}

/// "male" or "female" from the 17th character of an ID number (odd = male).
pub fn gender_of(id: &str) -> Option<&'static str> {
    let d = id.as_bytes().get(16)?;
    d.is_ascii_digit().then(|| if (d - b'0') % 2 == 1 { "male" } else { "female" })
}

/// 138****1234
pub fn mask_phone(phone: &str) -> String {
    mask_middle(phone, 3, 4)
}

/// 110***********002X
pub fn mask_id_number(id: &str) -> String {
    mask_middle(id, 3, 4)
}

/// A name as a public board shows it: in full only for those who agreed.
pub fn public_name(name: &str, agreed: bool) -> String {
    if agreed { name.to_string() } else { mask_name(name) }
}

/// 张*, 欧阳**: the first character kept.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

fn mask_middle(s: &str, keep_start: usize, keep_end: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= keep_start + keep_end {
        return "*".repeat(chars.len());
    }
    let n = chars.len();
    chars.iter().enumerate().map(|(i, c)| if i < keep_start || i >= n - keep_end { *c } else { '*' }).collect()
}

/// Makes an ID number with a valid check character (demo data and tests).
pub fn make_id_number(region: &str, birth: chrono::NaiveDate, seq: u32, male: bool) -> String {
    let seq = (seq % 500) * 2 + u32::from(male);
    let body = format!("{region:0>6.6}{}{seq:03}", birth.format("%Y%m%d"));
    let check = check_char(body.as_bytes()) as char;
    format!("{body}{check}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resident_row_keeps_the_phone_sealed_masked_and_its_last_four_digits() {
        let pii = Pii::from_master_key(&[7u8; 32]);
        let sealed = pii.seal_person(Some("440804195003150021"), Some("13912345678"));
        assert_eq!(sealed.phone_tail.as_deref(), Some("5678"));
        assert_eq!(pii.decrypt(&sealed.phone.as_ref().unwrap().enc).unwrap(), "13912345678");
        let args = sealed.args();
        assert_eq!(args.len(), PersonSeal::COLUMNS.len());
        assert!(matches!(&args[5], crate::db::Arg::Text(Some(m)) if m.contains('*') && !m.contains("1234")));
        let none = pii.seal_person(None, None);
        assert!(none.args().iter().all(|a| matches!(a, crate::db::Arg::Bytes(None) | crate::db::Arg::Text(None))));
    }

    #[test]
    fn public_boards_show_names_in_full_only_for_those_who_agreed() {
        assert_eq!(public_name("张小明", false), "张**");
        assert_eq!(public_name("张小明", true), "张小明");
    }

    #[test]
    fn user_names_holding_a_phone_or_id_number_are_seen() {
        for personal in ["13800138000", "138-0013-8000", "u13800138000", "11010519491231002x", "id.11010519491231002X"]
        {
            assert!(holds_personal_number(personal), "{personal}");
        }
        for fine in ["wang", "grid2", "v440804003001-00042", "v4408040030010001", "12345678901", "staff_138"] {
            assert!(!holds_personal_number(fine), "{fine}");
        }
    }

    #[test]
    fn id_numbers_are_checked_by_gb_11643() {
        // The well-known example from the standard.
        assert_eq!(normalize_id_number("11010519491231002x"), Ok("11010519491231002X".into()));
        assert_eq!(normalize_id_number("110105194912310021"), Err("validation.id_number_check"));
        assert_eq!(normalize_id_number("11010519491231002"), Err("validation.id_number_format"));
        let bad_date = make_id_number("110105", chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap(), 1, true)
            .replacen("19900101", "19901301", 1);
        let fixed = format!("{}{}", &bad_date[..17], check_char(&bad_date.as_bytes()[..17]) as char);
        assert_eq!(normalize_id_number(&fixed), Err("validation.id_number_birth"));
    }

    #[test]
    fn generated_id_numbers_validate_and_carry_birth_and_gender() {
        let birth = chrono::NaiveDate::from_ymd_opt(1956, 3, 7).unwrap();
        let id = make_id_number("440804", birth, 17, false);
        assert_eq!(normalize_id_number(&id).unwrap(), id);
        assert_eq!(birth_date_of(&id), Some(birth));
        assert_eq!(gender_of(&id), Some("female"));
        assert_eq!(gender_of(&make_id_number("440804", birth, 17, true)), Some("male"));
    }

    #[test]
    fn phones_are_mainland_mobiles() {
        assert_eq!(normalize_phone("+86 138-0013-1234"), Ok("13800131234".into()));
        assert_eq!(normalize_phone("12800131234"), Err("validation.phone"));
        assert_eq!(normalize_phone("1380013123"), Err("validation.phone"));
        assert_eq!(normalize_phone("0756-1234567"), Err("validation.phone"));
    }

    #[test]
    fn a_contact_number_may_be_a_landline_with_its_area_code() {
        assert_eq!(normalize_contact_number("138 0013 1234"), Ok("13800131234".into()));
        assert_eq!(normalize_contact_number("0759-3381678"), Ok("0759-3381678".into()));
        assert_eq!(normalize_contact_number("(0759) 3381678"), Ok("0759-3381678".into()));
        assert_eq!(normalize_contact_number("07593381678"), Ok("0759-3381678".into()));
        assert_eq!(normalize_contact_number("010 6512 3456"), Ok("010-65123456".into()));
        assert_eq!(normalize_contact_number("020-8888-1234"), Ok("020-88881234".into()));
        assert_eq!(normalize_contact_number("(0759) 338-1678"), Ok("0759-3381678".into()));
        for wrong in ["3381678", "0759-123", "0759-0381678", "00759-3381678", "0759-338167890", "1380013123", "电话"]
        {
            assert_eq!(normalize_contact_number(wrong), Err("validation.contact_number"), "{wrong}");
        }
        let landline = normalize_contact_number("0759-3381678").unwrap();
        assert_eq!(mask_phone(&landline), "075*****1678", "shown masked, like a mobile");
    }

    #[test]
    fn masks_look_like_the_familiar_ones() {
        assert_eq!(mask_phone("13800131234"), "138****1234");
        assert_eq!(mask_id_number("11010519491231002X"), "110***********002X");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
    }

    #[test]
    fn encryption_round_trips_and_hashes_are_keyed() {
        let a = Pii::from_master_key(&[7u8; 32]);
        let b = Pii::from_master_key(&[8u8; 32]);
        let sealed = a.encrypt("13800131234");
        assert_ne!(a.encrypt("13800131234"), sealed, "a fresh nonce each time");
        assert_eq!(a.decrypt(&sealed).unwrap(), "13800131234");
        assert!(b.decrypt(&sealed).is_err());
        assert_eq!(a.blind_index("phone", "1"), a.blind_index("phone", "1"));
        assert_ne!(a.blind_index("phone", "1"), b.blind_index("phone", "1"));
        assert_ne!(a.blind_index("phone", "1"), a.blind_index("id_number", "1"));
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config::for_paths(dir.path(), None);
        let first = Pii::load(&cfg).unwrap();
        let sealed = first.encrypt("x");
        let again = Pii::load(&cfg).unwrap();
        assert_eq!(again.decrypt(&sealed).unwrap(), "x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("pii.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
