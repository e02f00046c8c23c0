//! The rANS entropy decoder (spec clause 8.3.6.5) and the decoding tables built from
//! frequency_table() (clause 8.3.6.4).

use super::syntax::{FrequencyTable, PROB_BITS, PROB_SCALE};

/// Lower bound of the normalized state interval [2^16, 2^32).
pub const RANS_LOW: u32 = 1 << 16;

/// Why a frequency table is not valid (REQ-8.3.6-2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableError(pub String);

/// Checks a frequency table (symbols increasing and inside the alphabet, frequencies summing
/// to 2^12) and returns the cumulative frequency of each symbol, with one more entry for the
/// end: `cum[s + 1] - cum[s]` is the frequency of `s` (0 when absent). Empty for an empty table.
pub fn cumulative(table: &FrequencyTable, alphabet: usize) -> Result<Vec<u32>, TableError> {
    if table.entries.is_empty() {
        return Ok(Vec::new());
    }
    let mut freq = vec![0u32; alphabet];
    let mut previous: Option<u16> = None;
    let mut sum = 0u32;
    for &(symbol, f) in &table.entries {
        if usize::from(symbol) >= alphabet {
            return Err(TableError(format!(
                "symbol {symbol} is outside the alphabet of {alphabet}"
            )));
        }
        if previous.is_some_and(|p| symbol <= p) {
            return Err(TableError(format!("symbol {symbol} does not increase")));
        }
        previous = Some(symbol);
        freq[usize::from(symbol)] = u32::from(f);
        sum += u32::from(f);
    }
    if sum != PROB_SCALE {
        return Err(TableError(format!(
            "frequencies sum to {sum}, not {PROB_SCALE}"
        )));
    }
    let mut cum = Vec::with_capacity(alphabet + 1);
    let mut acc = 0;
    cum.push(0);
    for f in freq {
        acc += f;
        cum.push(acc);
    }
    Ok(cum)
}

/// Table of an alphabet of at most 4 symbols (`row_kind`, `element_kind`): the symbol is found
/// by comparing the slot with the cumulative frequencies, without a lookup array.
#[derive(Clone, Copy, Debug, Default)]
pub struct SmallTable {
    /// Cumulative frequencies, padded with 2^12 past the alphabet; all 0 for an empty table,
    /// which gives a zero frequency for every slot.
    cum: [u32; 5],
}

impl SmallTable {
    /// The frequency of symbol 0 (0 when absent or when the table is empty).
    pub fn first_frequency(&self) -> u32 {
        self.cum[1]
    }

    pub fn new(table: &FrequencyTable, alphabet: usize) -> Result<Self, TableError> {
        debug_assert!(alphabet <= 4);
        let cum = cumulative(table, alphabet)?;
        let mut t = SmallTable::default();
        if !cum.is_empty() {
            t.cum = [PROB_SCALE; 5];
            t.cum[..cum.len()].copy_from_slice(&cum);
        }
        Ok(t)
    }
}

/// Stride of one context in [`ExpTables::cum`]: room for an alphabet of 256 and the end.
const CUM_STRIDE: usize = 257;

/// Slots per bucket of [`ExpTables::bucket_symbol`].
const BUCKET_BITS: u32 = 4;

/// The exponent tables of all contexts, flattened: for each context, the cumulative
/// frequencies and, for each bucket of 16 slots, the symbol of its first slot. A symbol is found
/// from its bucket's first symbol by stepping over the boundaries inside the bucket, so that the
/// tables (12 KiB) stay in the first-level cache. Fixed sizes let the hot loop index without
/// bounds failures.
#[derive(Clone, Debug)]
pub struct ExpTables {
    bucket_symbol: [u8; EXP_TABLE_SLOTS << (PROB_BITS - BUCKET_BITS)],
    cum: [u16; EXP_TABLE_SLOTS * CUM_STRIDE],
}

/// Number of exponent contexts the flat tables hold (a power of two).
pub const EXP_TABLE_SLOTS: usize = 16;

impl ExpTables {
    /// Builds the tables of `tables.len()` (at most 16) contexts over an alphabet of at most 256.
    /// An empty table has every cumulative frequency at 2^12: symbol 0 with frequency 0 for
    /// every slot, which the decoder reports.
    pub fn new(tables: &[FrequencyTable], alphabet: usize) -> Result<Self, TableError> {
        debug_assert!(tables.len() <= EXP_TABLE_SLOTS && alphabet < CUM_STRIDE);
        let buckets = 1usize << (PROB_BITS - BUCKET_BITS);
        let mut bucket_symbol = [0u8; EXP_TABLE_SLOTS << (PROB_BITS - BUCKET_BITS)];
        let mut cum_all = [PROB_SCALE as u16; EXP_TABLE_SLOTS * CUM_STRIDE];
        for (ctx, table) in tables.iter().enumerate() {
            let cum = cumulative(table, alphabet)?;
            if cum.is_empty() {
                continue;
            }
            let base = ctx * CUM_STRIDE;
            for (to, &c) in cum_all[base..base + cum.len()].iter_mut().zip(&cum) {
                *to = c as u16;
            }
            for &(s, _) in &table.entries {
                // Buckets from the one holding the symbol's first slot start with the symbol.
                let first = (cum[usize::from(s)] as usize).div_ceil(1 << BUCKET_BITS);
                let end = (cum[usize::from(s) + 1] as usize).div_ceil(1 << BUCKET_BITS);
                bucket_symbol[ctx * buckets + first..ctx * buckets + end].fill(s as u8);
            }
        }
        Ok(ExpTables {
            bucket_symbol,
            cum: cum_all,
        })
    }
}

/// Why a slice's rANS data does not decode (REQ-8.3.6-5, REQ-8.3.6-6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RansError {
    /// A symbol was needed from a context whose table is empty.
    EmptyContext,
    /// The data ended before the state could be renormalized.
    Exhausted,
}

/// rANS decoder over one slice's `rans` bytes: a 32-bit state and 16-bit little-endian words.
/// Errors are sticky: decoding goes on with a defined state and [`RansDecoder::error`] tells the
/// first one, so that the hot loop has no early returns.
#[derive(Clone, Copy)]
pub struct RansDecoder<'a> {
    state: u32,
    words: &'a [u8],
    /// Bytes read (64 bits on every target, so that the flag below is never a position).
    pos: u64,
}

/// Set in `pos` when a zero frequency (an empty context) was used: errors are sticky and kept
/// in the read position, without a register of their own. A word needed past the end leaves
/// `pos` past the end.
const EMPTY_CONTEXT_POS: u64 = 1 << EMPTY_CONTEXT_BIT;
const EMPTY_CONTEXT_BIT: u32 = 62;

impl<'a> RansDecoder<'a> {
    /// Reads the initial state: the first 4 bytes, little-endian.
    pub fn new(words: &'a [u8]) -> Result<Self, RansError> {
        if words.len() < 4 {
            return Err(RansError::Exhausted);
        }
        let first = [words[0], words[1], words[2], words[3]];
        let state = if crate::mutant!("rans-state-big-endian") {
            u32::from_be_bytes(first)
        } else {
            u32::from_le_bytes(first)
        };
        Ok(RansDecoder {
            state,
            words,
            pos: 4,
        })
    }

    /// The error met, if any; an empty context takes precedence over running out of data.
    pub fn error(&self) -> Option<RansError> {
        if self.pos >= EMPTY_CONTEXT_POS {
            Some(RansError::EmptyContext)
        } else if self.pos > self.words.len() as u64 {
            Some(RansError::Exhausted)
        } else {
            None
        }
    }

    /// Decodes one symbol of an alphabet of at most 4 symbols.
    #[inline(always)]
    pub fn decode_small(&mut self, table: &SmallTable) -> u32 {
        let slot = self.state & (PROB_SCALE - 1);
        let c = &table.cum;
        // The interval of the symbol by selects on the loaded bounds, not by a second load
        // that would wait for the symbol.
        let (above1, above2, above3) = (slot >= c[1], slot >= c[2], slot >= c[3]);
        let start = if above3 {
            c[3]
        } else if above2 {
            c[2]
        } else if above1 {
            c[1]
        } else {
            0
        };
        let end = if above3 {
            c[4]
        } else if above2 {
            c[3]
        } else if above1 {
            c[2]
        } else {
            c[1]
        };
        self.advance(slot, start, end - start);
        u32::from(above1) + u32::from(above2) + u32::from(above3)
    }

    /// Decodes symbol 0 of a table in which it has the frequency `first` (its cumulative
    /// frequency is 0), if that is the symbol the state holds, and returns whether it did; the
    /// decoder is unchanged otherwise. The same state transition as [`Self::decode_small`].
    #[inline(always)]
    pub fn take_first_symbol(&mut self, first: u32) -> bool {
        let slot = self.state & (PROB_SCALE - 1);
        if slot >= first {
            return false;
        }
        // `first` exceeds the slot, so it is not 0: no empty context to note.
        self.transition(slot, 0, first);
        true
    }

    /// Decodes symbol 3, the last of a small table, if that is the symbol the state holds, and
    /// returns whether it did; the decoder is unchanged otherwise. The same state transition
    /// as [`Self::decode_small`].
    #[inline(always)]
    pub fn take_last_symbol(&mut self, table: &SmallTable) -> bool {
        let slot = self.state & (PROB_SCALE - 1);
        let (start, end) = (table.cum[3], table.cum[4]);
        if slot < start {
            return false;
        }
        self.advance(slot, start, end - start);
        true
    }

    /// Decodes one exponent symbol in context `ctx` (below 16).
    #[inline(always)]
    pub fn decode_exponent(&mut self, tables: &ExpTables, ctx: usize) -> u32 {
        let ctx = ctx & (EXP_TABLE_SLOTS - 1);
        let slot = self.state & (PROB_SCALE - 1);
        let bucket = ctx << (PROB_BITS - BUCKET_BITS) | (slot >> BUCKET_BITS) as usize;
        let mut symbol = usize::from(tables.bucket_symbol[bucket]);
        let cum = &tables.cum[ctx * CUM_STRIDE..ctx * CUM_STRIDE + CUM_STRIDE];
        // The cumulative frequencies end at 2^12, above every slot, so the search stops at
        // the alphabet's end.
        while slot >= u32::from(cum[symbol + 1]) {
            symbol = (symbol + 1) & 255;
        }
        let (start, end) = (u32::from(cum[symbol]), u32::from(cum[symbol + 1]));
        self.advance(slot, start, end.wrapping_sub(start));
        symbol as u32
    }

    /// The state transition and renormalization of clause 8.3.6.5. A zero frequency means the
    /// context's table is empty (REQ-8.3.6-5).
    #[inline(always)]
    fn advance(&mut self, slot: u32, start: u32, freq: u32) {
        self.pos |= u64::from(freq == 0) << EMPTY_CONTEXT_BIT;
        self.transition(slot, start, freq);
    }

    /// [`Self::advance`] for a frequency known not to be 0.
    #[inline(always)]
    fn transition(&mut self, slot: u32, start: u32, freq: u32) {
        self.state = freq
            .wrapping_mul(self.state >> PROB_BITS)
            .wrapping_add(slot.wrapping_sub(start));
        if self.state < RANS_LOW {
            // A missing word reads as 0 and leaves `pos` past the end (REQ-8.3.6-6).
            let word = if self.pos + 1 < self.words.len() as u64 {
                let pos = self.pos as usize;
                let bytes = [self.words[pos], self.words[pos + 1]];
                if crate::mutant!("rans-word-big-endian") {
                    u32::from(u16::from_be_bytes(bytes))
                } else {
                    u32::from(u16::from_le_bytes(bytes))
                }
            } else {
                0
            };
            self.state = self.state << 16 | word;
            self.pos += 2;
        }
    }

    /// Whether the slice ended correctly: state back at 2^16 and every byte read (REQ-8.3.6-6).
    pub fn finished_cleanly(&self) -> bool {
        self.error().is_none()
            && (self.state == RANS_LOW || crate::mutant!("rans-final-state-unchecked"))
            && (self.pos == self.words.len() as u64
                || (self.pos < self.words.len() as u64
                    && crate::mutant!("rans-unread-bytes-allowed")))
    }
}

/// Reads raw bits most significant first (clause 8.3.6.6). Bits past the end read as zero;
/// whether a read went past the end is known from the number of bits read. Each read takes
/// the 8 bytes from the current byte and shifts: no refill, whose timing the processor could
/// not guess.
#[derive(Clone, Copy)]
pub struct RawBits<'a> {
    bytes: &'a [u8],
    /// Bits read so far.
    bit: u64,
}

impl<'a> RawBits<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        RawBits { bytes, bit: 0 }
    }

    /// Reads `n` bits (0 to 32).
    #[inline(always)]
    pub fn read(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        if crate::mutant!("raw-bits-lsb-first") {
            let mut bits = 0;
            for k in 0..u64::from(n) {
                let at = self.bit + k;
                let byte = self.bytes.get((at >> 3) as usize).copied().unwrap_or(0);
                bits = bits << 1 | u32::from(byte >> (at & 7) & 1);
            }
            self.bit += u64::from(n);
            return bits;
        }
        let byte = (self.bit >> 3) as usize;
        let window = match self.bytes.get(byte..byte.saturating_add(8)) {
            Some(&[b0, b1, b2, b3, b4, b5, b6, b7]) => {
                u64::from_be_bytes([b0, b1, b2, b3, b4, b5, b6, b7])
            }
            _ => self.tail_window(byte),
        };
        let bits = ((window << (self.bit & 7)) >> (64 - n)) as u32;
        self.bit += u64::from(n);
        bits
    }

    /// The 8 bytes from `byte` near the end of the data, zero past it.
    #[cold]
    fn tail_window(&self, byte: usize) -> u64 {
        let mut window = [0u8; 8];
        if let Some(rest) = self.bytes.get(byte..) {
            window[..rest.len().min(8)].copy_from_slice(&rest[..rest.len().min(8)]);
        }
        u64::from_be_bytes(window)
    }

    /// Whether a read went past the end of the data.
    pub fn overrun(&self) -> bool {
        self.bit > 8 * self.bytes.len() as u64
    }

    /// Whether every byte was read, fewer than 8 bits are left unread, and they are zero.
    pub fn finished_cleanly(&self) -> bool {
        let total = 8 * self.bytes.len() as u64;
        if self.bit <= total && crate::mutant!("raw-padding-unchecked") {
            return true;
        }
        if self.bit > total || total - self.bit >= 8 {
            return false;
        }
        let unread = (total - self.bit) as u32;
        unread == 0 || self.bytes[self.bytes.len() - 1] & ((1u8 << unread) - 1) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(entries: &[(u16, u16)]) -> SmallTable {
        SmallTable::new(
            &FrequencyTable {
                entries: entries.to_vec(),
            },
            4,
        )
        .unwrap()
    }

    fn state_of(d: &RansDecoder<'_>) -> (u32, u64, Option<RansError>) {
        (d.state, d.pos, d.error())
    }

    /// The short tests for the first and the last symbol decode exactly what `decode_small`
    /// decodes when they take the symbol, and leave the decoder unchanged when they do not.
    #[test]
    fn short_tests_agree_with_decode_small() {
        let words = [0x34, 0x12, 0x00, 0x00, 0xcd, 0xab, 0x01, 0x00];
        let tables = [
            table(&[(0, 1000), (1, 96), (2, 1000), (3, 2000)]),
            table(&[(0, 4000), (3, 96)]),
            table(&[(1, 4096)]),
            table(&[(3, 4096)]),
            table(&[(0, 2048), (2, 2048)]),
            SmallTable::default(),
        ];
        for t in &tables {
            for slot in (0..PROB_SCALE).step_by(7).chain([PROB_SCALE - 1]) {
                for high in [1u32, 5, 0xffff] {
                    let mut start = RansDecoder::new(&words).unwrap();
                    start.state = high << PROB_BITS | slot;
                    let mut reference = start;
                    let symbol = reference.decode_small(t);

                    let mut first = start;
                    if first.take_first_symbol(t.first_frequency()) {
                        assert_eq!(symbol, 0);
                        assert_eq!(state_of(&first), state_of(&reference));
                    } else {
                        assert!(symbol != 0 || t.first_frequency() == 0);
                        assert_eq!(state_of(&first), state_of(&start));
                    }

                    let mut last = start;
                    if last.take_last_symbol(t) {
                        assert_eq!(symbol, 3, "{t:?} slot {slot}");
                        assert_eq!(state_of(&last), state_of(&reference));
                    } else {
                        assert_ne!(symbol, 3, "{t:?} slot {slot}");
                        assert_eq!(state_of(&last), state_of(&start));
                    }
                }
            }
        }
    }
}
