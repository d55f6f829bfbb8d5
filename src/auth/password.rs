//! Password hashing with argon2id (the crate's defaults: 19 MiB, 2 passes), run off the
//! async threads because it is deliberately slow.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::error::FieldError;

pub const MIN_LENGTH: usize = 8;

/// Rules a new password must follow.
pub fn check_strength(field: &str, password: &str) -> Result<(), FieldError> {
    let n = password.chars().count();
    if n < MIN_LENGTH {
        return Err(FieldError::new(field, "validation.password_short").with("min", MIN_LENGTH));
    }
    if n > 128 {
        return Err(FieldError::new(field, "validation.too_long").with("max", 128));
    }
    let has_letter = password.chars().any(char::is_alphabetic);
    let has_digit = password.chars().any(|c| c.is_ascii_digit());
    if !(has_letter && has_digit) {
        return Err(FieldError::new(field, "validation.password_mix"));
    }
    Ok(())
}

pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_now(&password)).await?
}

pub fn hash_now(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

/// Whether `password` matches `stored` (a PHC string). With no stored hash, a dummy
/// verification still runs so that unknown users take as long as known ones.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let target = stored.unwrap_or_else(|| DUMMY.with(|d| d.clone()));
        let Ok(parsed) = PasswordHash::new(&target) else { return false };
        Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
    })
    .await
    .unwrap_or(false)
}

thread_local! {
    static DUMMY: String = hash_now("not a real password 0").expect("hashing works");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_strangers_fail() {
        let h = hash("demo1234".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("demo1234".into(), Some(h.clone())).await);
        assert!(!verify("demo12345".into(), Some(h)).await);
        assert!(!verify("demo1234".into(), None).await);
    }

    #[test]
    fn weak_passwords_are_refused_with_a_reason() {
        assert_eq!(check_strength("p", "abc1").unwrap_err().key, "validation.password_short");
        assert_eq!(check_strength("p", "abcdefgh").unwrap_err().key, "validation.password_mix");
        assert!(check_strength("p", "demo1234").is_ok());
    }
}
