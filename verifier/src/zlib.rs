//! The zlib layer (RFC 1950), with a hard cap on the decompressed size.

use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};

/// Decompresses exactly one zlib stream that must span all of `data` and inflate to at most
/// `limit` bytes. Never allocates more than `limit` bytes of output (zlib bombs stop at the cap).
///
/// This drives the inflate core of flate2's pure-Rust backend (miniz_oxide) directly, with the
/// whole output as one non-wrapping buffer: no 32 KiB window to allocate, clear and copy through,
/// which matters when the stream is a few hundred bytes and the rest of verification takes
/// microseconds.
pub(crate) fn inflate_bounded(data: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    let flags = inflate_flags::TINFL_FLAG_PARSE_ZLIB_HEADER
        | inflate_flags::TINFL_FLAG_COMPUTE_ADLER32
        | inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    // RP1 payloads compress little: 4x the input (at least 1 KiB) usually fits at once.
    let out = vec![0u8; limit.min(data.len().saturating_mul(4).max(1024))];
    INFLATER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut inflater) => {
            inflater.init();
            inflate_with(&mut inflater, data, limit, flags, out)
        }
        // Only reachable on re-entry, which nothing here does; stay correct anyway.
        Err(_) => inflate_with(&mut DecompressorOxide::new(), data, limit, flags, out),
    })
}

thread_local! {
    /// One inflater per thread, reset for each stream: creating one clears ~11 KiB of tables,
    /// which costs more than inflating a credential and evicts the signature check's tables
    /// from the L1 cache.
    static INFLATER: std::cell::RefCell<DecompressorOxide> =
        std::cell::RefCell::new(DecompressorOxide::new());
}

fn inflate_with(
    inflater: &mut DecompressorOxide,
    data: &[u8],
    limit: usize,
    flags: u32,
    mut out: Vec<u8>,
) -> Result<Vec<u8>, String> {
    let (mut in_pos, mut out_pos) = (0usize, 0usize);
    loop {
        let input = data.get(in_pos..).unwrap_or(&[]);
        let (status, consumed, written) = decompress(inflater, input, &mut out, out_pos, flags);
        in_pos = in_pos.saturating_add(consumed);
        out_pos = out_pos.saturating_add(written);
        match status {
            TINFLStatus::Done => break,
            TINFLStatus::HasMoreOutput => {
                if out.len() >= limit {
                    return Err(format!("decompresses to more than {limit} bytes"));
                }
                let grown = out.len().saturating_mul(2).min(limit);
                out.resize(grown, 0);
            }
            TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => {
                return Err("truncated zlib stream".into());
            }
            TINFLStatus::Adler32Mismatch => return Err("zlib checksum mismatch".into()),
            _ => {
                return Err("invalid zlib data".into());
            }
        }
    }
    if in_pos != data.len() {
        return Err("trailing bytes after the zlib stream".into());
    }
    out.truncate(out_pos);
    Ok(out)
}

/// Compresses with zlib at the best compression level.
#[cfg(feature = "issue")]
pub(crate) fn deflate(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

#[cfg(all(test, feature = "issue"))]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_caps() {
        let data = vec![7u8; 100_000];
        let packed = deflate(&data);
        assert_eq!(inflate_bounded(&packed, 100_000).as_deref(), Ok(&data[..]));
        assert!(inflate_bounded(&packed, 99_999).is_err());
        assert!(inflate_bounded(&packed[..packed.len() - 1], 200_000).is_err());
        let mut trailing = packed.clone();
        trailing.push(0);
        assert!(inflate_bounded(&trailing, 200_000).is_err());
    }
}
