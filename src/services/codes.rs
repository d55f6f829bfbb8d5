//! Short codes a person shows or reads out at a desk: eight random digits (a reward's
//! handover code, an event sign-up's check-in code). Callers keep them unique where they
//! must be, drawing again on a clash.

/// Eight random digits, leading zeros kept.
pub fn eight_digits() -> String {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).expect("system random source");
    format!("{:08}", u32::from_le_bytes(b) % 100_000_000)
}

/// A secret for an address (a private calendar feed): 160 random bits in hex, safe in a URL.
pub fn url_secret() -> String {
    let mut b = [0u8; 20];
    getrandom::fill(&mut b).expect("system random source");
    hex::encode(b)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_code_is_eight_digits() {
        for _ in 0..100 {
            let c = super::eight_digits();
            assert_eq!(c.len(), 8);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
    }
}
