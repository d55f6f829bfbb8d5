//! Finding people's accounts by the mobile numbers someone typed, one a line (those
//! invited to an event, a fund's managers): each number normalised, all found or nothing.

use crate::db::{Exec, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::pii::{Pii, mask_phone, normalize_phone};

/// The mobile numbers typed in `field`, one a line (blank lines aside), each normalised
/// once; refused naming `field` with the first that is not a number, or when there are
/// none or too many.
pub fn phone_lines(field: &str, text: &str) -> Result<Vec<String>, FieldError> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match normalize_phone(line) {
            Ok(p) if !out.contains(&p) => out.push(p),
            Ok(_) => {}
            Err(_) => {
                return Err(FieldError::new(field, "account.phone_invalid")
                    .with("line", line.chars().take(20).collect::<String>()));
            }
        }
    }
    match out.len() {
        0 => Err(FieldError::new(field, "validation.required")),
        n if n > crate::input::limits::LIST_ITEMS => {
            Err(FieldError::new(field, "validation.too_many").with("max", crate::input::limits::LIST_ITEMS))
        }
        _ => Ok(out),
    }
}

/// The accounts holding these numbers, in order; refused naming `field` with the first
/// number no account holds (shown masked).
pub async fn by_phones(ex: &mut impl Exec, pii: &Pii, field: &str, numbers: &[String]) -> AppResult<Vec<i64>> {
    let mut users = Vec::new();
    for n in numbers {
        let found: Option<i64> = query("SELECT id FROM users WHERE phone_hash = $1 AND disabled_at IS NULL")
            .bind(pii.blind_index("phone", n))
            .scalar_optional(&mut *ex)
            .await?;
        match found {
            Some(u) => users.push(u),
            None => {
                return Err(AppError::Invalid(vec![
                    FieldError::new(field, "account.phone_unknown").with("phone", mask_phone(n)),
                ]));
            }
        }
    }
    Ok(users)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_one_a_line_normalised_once_and_a_name_is_refused() {
        assert_eq!(
            phone_lines("phones", "139 0000 0006\n\n+8613900000003\n13900000006").unwrap(),
            ["13900000006", "13900000003"]
        );
        let e = phone_lines("managers", "13900000006\n王阿姨").unwrap_err();
        assert_eq!((e.field.as_str(), e.key), ("managers", "account.phone_invalid"));
        assert_eq!(phone_lines("phones", " \n").unwrap_err().key, "validation.required");
    }
}
