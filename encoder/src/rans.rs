//! The rANS encoder shared by the native and quantized methods (spec clause 8.3.6.5, run in
//! reverse), with the normalization of symbol counts to frequency tables (Annex C).

use dfc_decoder::native::rans::RANS_LOW;
use dfc_decoder::native::syntax::{FrequencyTable, PROB_BITS, PROB_SCALE};

/// One coded symbol: its table and value.
#[derive(Clone, Copy)]
pub struct Symbol {
    pub table: u8,
    pub value: u8,
}

/// Scales symbol counts to frequencies that sum to 2^12, every present symbol at least 1.
/// Deterministic integer arithmetic (Annex C).
pub fn normalize(counts: &[u64]) -> Vec<u32> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return vec![0; counts.len()];
    }
    let scale = u64::from(PROB_SCALE);
    let mut freqs: Vec<u32> = counts
        .iter()
        .map(|&c| {
            if c == 0 {
                0
            } else {
                ((c * scale / total) as u32).max(1)
            }
        })
        .collect();
    let mut sum: i64 = freqs.iter().map(|&f| i64::from(f)).sum();
    // Give or take the difference from the largest frequencies, one at a time.
    while sum != i64::from(PROB_SCALE) {
        let largest = (0..freqs.len())
            .max_by_key(|&i| (freqs[i], std::cmp::Reverse(i)))
            .expect("non-empty");
        if sum < i64::from(PROB_SCALE) {
            let add = i64::from(PROB_SCALE) - sum;
            freqs[largest] += add as u32;
            sum += add;
        } else {
            let take = (sum - i64::from(PROB_SCALE)).min(i64::from(freqs[largest]) - 1);
            freqs[largest] -= take as u32;
            sum -= take;
        }
    }
    freqs
}

/// Codes `symbols` with rANS; returns the bytes the decoder reads: the final state, then the
/// renormalization words in reverse order of emission.
pub fn rans_encode(symbols: &[Symbol], freq: &[Vec<u32>], cum: &[Vec<u32>]) -> Vec<u8> {
    let mut words: Vec<u16> = Vec::with_capacity(symbols.len() / 2);
    let mut x: u32 = RANS_LOW;
    for s in symbols.iter().rev() {
        let f = freq[s.table as usize][s.value as usize];
        let c = cum[s.table as usize][s.value as usize];
        let x_max = (u64::from(RANS_LOW >> PROB_BITS) << 16) * u64::from(f);
        if u64::from(x) >= x_max {
            words.push(x as u16);
            x >>= 16;
        }
        x = ((x / f) << PROB_BITS) + (x % f) + c;
    }
    let mut out = Vec::with_capacity(4 + 2 * words.len());
    out.extend_from_slice(&x.to_le_bytes());
    for w in words.iter().rev() {
        out.extend_from_slice(&w.to_le_bytes());
    }
    out
}

/// Cumulative frequencies of each table, for [`rans_encode`].
pub fn cumulative(freq: &[Vec<u32>]) -> Vec<Vec<u32>> {
    freq.iter()
        .map(|f| {
            f.iter()
                .scan(0u32, |acc, &x| {
                    let c = *acc;
                    *acc += x;
                    Some(c)
                })
                .collect()
        })
        .collect()
}

/// The frequency_table() structures of normalized frequencies: the present symbols only.
pub fn frequency_tables(freq: &[Vec<u32>]) -> Vec<FrequencyTable> {
    freq.iter()
        .map(|f| FrequencyTable {
            entries: f
                .iter()
                .enumerate()
                .filter(|(_, &x)| x > 0)
                .map(|(s, &x)| (s as u16, x as u16))
                .collect(),
        })
        .collect()
}

/// Maps `items` on up to `threads` scoped threads, keeping the order.
pub fn parallel_map<T: Sync, U: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> U + Sync,
) -> Vec<U> {
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                let f = &f;
                s.spawn(move || part.iter().map(f).collect::<Vec<U>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("encoding a slice does not panic"))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization_sums_to_scale_and_keeps_every_symbol() {
        for counts in [
            vec![1u64, 0, 0, 0],
            vec![1, 1_000_000, 0, 3],
            vec![5; 300],
            vec![0, 7, 0, 7, 0, 7],
        ] {
            let f = normalize(&counts);
            assert_eq!(f.iter().sum::<u32>(), PROB_SCALE, "{counts:?}");
            for (c, f) in counts.iter().zip(&f) {
                assert_eq!(*c > 0, *f > 0);
            }
        }
        assert!(normalize(&[0, 0]).iter().all(|&f| f == 0));
    }
}
