//! Counter-based randomness. Every draw is keyed by the world's seed, what it is
//! for, and counters such as the tick index, never by a generator carried from
//! step to step: two processes that step the same world in different batches make
//! exactly the same draws.

use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;

/// What a draw is for, so that two uses of the same counters never correlate.
#[derive(Clone, Copy, Debug)]
#[repr(u64)]
pub enum Purpose {
    Traffic = 1,
    Wander,
    Service,
    Fleet,
    Names,
    Deploy,
    Logs,
    Backups,
    Database,
    Chaos,
    History,
}

/// SplitMix64's finalizer: a fixed, well-mixed 64-bit hash step that does not
/// change between Rust releases (unlike `std`'s `DefaultHasher`).
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub fn key(seed: u64, purpose: Purpose, a: i64, b: u64) -> u64 {
    let h = mix(seed ^ 0x6E6A_7475_692D_7369);
    let h = mix(h ^ purpose as u64);
    let h = mix(h ^ a as u64);
    mix(h ^ b)
}

/// A generator for one keyed use.
pub fn rng(seed: u64, purpose: Purpose, a: i64, b: u64) -> Pcg64Mcg {
    Pcg64Mcg::seed_from_u64(key(seed, purpose, a, b))
}

/// One uniform draw in [0, 1) without building a generator.
pub fn unit(seed: u64, purpose: Purpose, a: i64, b: u64) -> f64 {
    (key(seed, purpose, a, b) >> 11) as f64 / (1u64 << 53) as f64
}

/// `n` lowercase hex digits, for AWS-looking ids.
pub fn hex(seed: u64, purpose: Purpose, a: i64, b: u64, n: usize) -> String {
    let mut out = String::with_capacity(n);
    let mut i = 0u64;
    while out.len() < n {
        let word = key(
            seed,
            purpose,
            a,
            b.wrapping_add(i.wrapping_mul(0x1_0000_0001)),
        );
        out.push_str(&format!("{word:016x}"));
        i += 1;
    }
    out.truncate(n);
    out
}

/// `n` characters of `alphabet`, for ids such as CodeDeploy's `d-XXXXXXXXX`.
pub fn chars(seed: u64, purpose: Purpose, a: i64, b: u64, n: usize, alphabet: &[u8]) -> String {
    use rand::RngExt;
    let mut r = rng(seed, purpose, a, b);
    (0..n)
        .map(|_| alphabet[r.random_range(0..alphabet.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_depend_on_every_key_part_and_nothing_else() {
        let base = key(42, Purpose::Traffic, 7, 1);
        assert_eq!(base, key(42, Purpose::Traffic, 7, 1));
        assert_ne!(base, key(43, Purpose::Traffic, 7, 1));
        assert_ne!(base, key(42, Purpose::Service, 7, 1));
        assert_ne!(base, key(42, Purpose::Traffic, 8, 1));
        assert_ne!(base, key(42, Purpose::Traffic, 7, 2));
        let u = unit(42, Purpose::Traffic, 7, 1);
        assert!((0.0..1.0).contains(&u));
    }

    #[test]
    fn ids_have_the_asked_length_and_alphabet() {
        let h = hex(1, Purpose::Names, 3, 4, 17);
        assert_eq!(h.len(), 17);
        assert!(h.bytes().all(|b| b.is_ascii_hexdigit()));
        let c = chars(1, Purpose::Names, 3, 4, 9, b"ABC");
        assert_eq!(c.len(), 9);
        assert!(c.bytes().all(|b| b"ABC".contains(&b)));
    }
}
