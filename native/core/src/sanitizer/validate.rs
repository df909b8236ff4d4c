//! Validators applied to regex matches: checksums and entropy. The TypeScript fallback mirrors
//! each one (native/fallback/sanitizer-validate.ts).

/// Shannon entropy in bits per byte.
pub fn shannon_entropy(span: &[u8]) -> f64 {
    if span.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in span {
        counts[b as usize] += 1;
    }
    let n = span.len() as f64;
    let mut h = 0.0;
    for &c in counts.iter() {
        if c > 0 {
            let p = c as f64 / n;
            h -= p * p.log2();
        }
    }
    h
}

/// Runs the named validator.
pub fn check(kind: &str, span: &[u8]) -> bool {
    match kind {
        "payment_card" => payment_card(span),
        "iban" => iban(span),
        "phone" => phone(span),
        "ipv6" => ipv6(span),
        _ => false,
    }
}

fn digits(span: &[u8]) -> Vec<u8> {
    span.iter()
        .filter(|b| b.is_ascii_digit())
        .map(|b| b - b'0')
        .collect()
}

/// Luhn checksum over 13 to 19 digits with a known issuer prefix.
pub fn payment_card(span: &[u8]) -> bool {
    let d = digits(span);
    if d.len() < 13 || d.len() > 19 {
        return false;
    }
    let issuer = matches!(
        (d[0], d[1]),
        (4, _) | (5, 1..=5) | (2, 2..=7) | (3, 4) | (3, 7) | (6, _)
    );
    if !issuer {
        return false;
    }
    let mut sum = 0u32;
    for (i, &x) in d.iter().rev().enumerate() {
        let mut v = x as u32;
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// IBAN: 15 to 34 characters, mod 97 of the rearranged number is 1.
pub fn iban(span: &[u8]) -> bool {
    let chars: Vec<u8> = span.iter().copied().filter(|b| *b != b' ').collect();
    if chars.len() < 15 || chars.len() > 34 {
        return false;
    }
    let mut rem: u32 = 0;
    for &c in chars[4..].iter().chain(chars[..4].iter()) {
        if c.is_ascii_digit() {
            rem = (rem * 10 + (c - b'0') as u32) % 97;
        } else if c.is_ascii_uppercase() {
            let v = (c - b'A') as u32 + 10;
            rem = (rem * 100 + v) % 97;
        } else {
            return false;
        }
    }
    rem == 1
}

/// Phone numbers: 9 to 15 digits in all.
pub fn phone(span: &[u8]) -> bool {
    let n = span.iter().filter(|b| b.is_ascii_digit()).count();
    (9..=15).contains(&n)
}

/// IPv6: at most eight groups, "::" at most once, and at least one digit so that `abc::def`
/// style scoped names in source code do not count.
pub fn ipv6(span: &[u8]) -> bool {
    let text = match std::str::from_utf8(span) {
        Ok(t) => t,
        Err(_) => return false,
    };
    let compressed = text.matches("::").count();
    if compressed > 1 {
        return false;
    }
    let groups = text.split(':').filter(|g| !g.is_empty()).count();
    if compressed == 0 && groups != 8 {
        return false;
    }
    if compressed == 1 && !(2..=7).contains(&groups) {
        return false;
    }
    span.iter().any(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn() {
        assert!(payment_card(b"4111 1111 1111 1111"));
        assert!(!payment_card(b"4111 1111 1111 1112"));
        assert!(!payment_card(b"1111 1111 1111 1117"));
    }

    #[test]
    fn iban_checksum() {
        assert!(iban(b"GB82 WEST 1234 5698 7654 32"));
        assert!(!iban(b"GB82 WEST 1234 5698 7654 33"));
    }

    #[test]
    fn entropy() {
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-12);
    }
}
