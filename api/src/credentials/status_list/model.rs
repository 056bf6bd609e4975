//! The status list's bit array, its pages and how its capacity grows: plain rules, no I/O.

/// Bytes in one stored page of the bit array.
pub const PAGE_BYTES: usize = 1024;

/// Status indexes (bits) in one page.
pub const PAGE_BITS: u64 = PAGE_BYTES as u64 * 8;

/// The largest list any verifier reads (`permit_verifier::MAX_STATUS_BITS_LEN` bytes): 134
/// million indexes.
pub const MAX_CAPACITY: u64 = permit_verifier::MAX_STATUS_BITS_LEN as u64 * 8;

/// Random draws of an index per permit before issuing gives up (each collides with the chance
/// that the list is full, at most 3/4 here: 0.75^32 = 1e-4).
pub const MAX_DRAWS: u32 = 32;

/// The whole bit array and the version it was read at (one snapshot): bit `i % 8` of byte
/// `i / 8` is index `i`, 1 = revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusBits {
    /// Moves on with every change of a bit or of the capacity, in the same transaction.
    pub version: u64,
    /// The list's capacity, a multiple of 8.
    pub len_bits: u64,
    pub bits: Vec<u8>,
}

impl StatusBits {
    /// An all-clear array of `len_bits` (a multiple of 8) at `version`.
    pub fn clear(version: u64, len_bits: u64) -> StatusBits {
        StatusBits {
            version,
            len_bits,
            bits: vec![0; usize::try_from(len_bits / 8).unwrap_or(0)],
        }
    }

    /// Copies a stored page in; a page beyond the capacity (there is none) or a short one only
    /// fills what fits.
    pub fn put_page(&mut self, page: u64, bytes: &[u8]) {
        let Some(start) = usize::try_from(page)
            .ok()
            .and_then(|p| p.checked_mul(PAGE_BYTES))
        else {
            return;
        };
        if let Some(room) = self.bits.get_mut(start..) {
            let n = room.len().min(bytes.len());
            if let (Some(to), Some(from)) = (room.get_mut(..n), bytes.get(..n)) {
                to.copy_from_slice(from);
            }
        }
    }
}

/// Where index `index`'s bit is: its page, the byte in the page and the mask in the byte.
pub fn bit_of(index: u64) -> (u64, usize, u8) {
    let page = index / PAGE_BITS;
    let in_page = index % PAGE_BITS;
    (page, (in_page / 8) as usize, 1u8 << (in_page % 8))
}

/// Sets (revoked) or clears index `index`'s bit in its page.
pub fn set_in_page(page: &mut [u8], index: u64, revoked: bool) {
    let (_, byte, mask) = bit_of(index);
    if let Some(b) = page.get_mut(byte) {
        if revoked {
            *b |= mask;
        } else {
            *b &= !mask;
        }
    }
}

/// How full the list may be before a new index is refused, at [`MAX_CAPACITY`].
const FULL_NUMERATOR: u64 = 3;
const FULL_DENOMINATOR: u64 = 4;

/// The capacity to draw the `assigned`-th index from (counting it): the current capacity,
/// doubled (up to [`MAX_CAPACITY`]) while the list would be more than half full, so a random
/// draw collides less than half the time; `None` when even the largest list would be more than
/// 3/4 full, and issuing is refused.
pub fn capacity_for(capacity: u64, assigned: u64) -> Option<u64> {
    let mut capacity = capacity.max(8);
    while assigned.saturating_mul(2) > capacity && capacity < MAX_CAPACITY {
        capacity = capacity.saturating_mul(2).min(MAX_CAPACITY);
    }
    let full = assigned.saturating_mul(FULL_DENOMINATOR) > capacity.saturating_mul(FULL_NUMERATOR);
    (!full).then_some(capacity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_capacity_doubles_past_half_full_and_refuses_past_three_quarters_of_the_largest() {
        let c = 1u64 << 24;
        assert_eq!(capacity_for(c, 1), Some(c));
        assert_eq!(capacity_for(c, c / 2), Some(c), "exactly half full stays");
        assert_eq!(capacity_for(c, c / 2 + 1), Some(2 * c));
        assert_eq!(capacity_for(c, 10_000_000), Some(2 * c), "10 million: 2^25");
        assert_eq!(
            capacity_for(c, 3 * c),
            Some(8 * c),
            "several doublings at once"
        );
        assert_eq!(MAX_CAPACITY, 1 << 27);
        assert_eq!(capacity_for(c, MAX_CAPACITY / 2 + 1), Some(MAX_CAPACITY));
        assert_eq!(
            capacity_for(MAX_CAPACITY, MAX_CAPACITY / 4 * 3),
            Some(MAX_CAPACITY)
        );
        assert_eq!(capacity_for(MAX_CAPACITY, MAX_CAPACITY / 4 * 3 + 1), None);
        assert_eq!(capacity_for(c, u64::MAX), None);
    }

    #[test]
    fn bits_land_in_their_page_least_significant_first() {
        assert_eq!(bit_of(0), (0, 0, 1));
        assert_eq!(bit_of(9), (0, 1, 2));
        assert_eq!(bit_of(PAGE_BITS - 1), (0, PAGE_BYTES - 1, 0x80));
        assert_eq!(bit_of(PAGE_BITS + 3), (1, 0, 8));
        let mut page = vec![0u8; PAGE_BYTES];
        set_in_page(&mut page, PAGE_BITS + 3, true);
        set_in_page(&mut page, PAGE_BITS + 12, true);
        set_in_page(&mut page, PAGE_BITS + 12, false);
        assert_eq!(page[..2], [8, 0]);

        let mut all = StatusBits::clear(4, 2 * PAGE_BITS);
        all.put_page(1, &page);
        all.put_page(7, &page);
        assert_eq!(all.bits.len(), 2 * PAGE_BYTES);
        assert_eq!(all.bits[PAGE_BYTES], 8);
        assert_eq!(all.bits.iter().filter(|b| **b != 0).count(), 1);
    }
}
