//! The zlib layer (RFC 1950), with a hard cap on the decompressed size.

use flate2::{Decompress, FlushDecompress, Status};

/// Decompresses exactly one zlib stream that must span all of `data` and inflate to at most
/// `limit` bytes. Never allocates more than `limit` bytes of output (zlib bombs stop at the cap).
pub(crate) fn inflate_bounded(data: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    // The output buffer is allocated once at its final capacity; `decompress_vec` only writes
    // into spare capacity, so the cap holds by construction. Start small for small inputs:
    // RP1 payloads compress little, so 4x the input (at least 1 KiB) usually fits at once.
    let mut out = Vec::with_capacity(limit.min(data.len().saturating_mul(4).max(1024)));
    let mut inflater = Decompress::new(true);
    loop {
        let consumed = usize::try_from(inflater.total_in()).unwrap_or(usize::MAX);
        let produced = inflater.total_out();
        let input = data.get(consumed..).unwrap_or(&[]);
        let status = inflater
            .decompress_vec(input, &mut out, FlushDecompress::None)
            .map_err(|e| format!("invalid zlib data: {e}"))?;
        if status == Status::StreamEnd {
            break;
        }
        if out.len() == out.capacity() {
            if out.len() >= limit {
                return Err(format!("decompresses to more than {limit} bytes"));
            }
            let grow = out.len().min(limit - out.len()).max(1);
            out.reserve_exact(grow);
        } else if usize::try_from(inflater.total_in()).ok() == Some(data.len()) {
            return Err("truncated zlib stream".into());
        } else if inflater.total_out() == produced
            && usize::try_from(inflater.total_in()).ok() == Some(consumed)
        {
            return Err("zlib stream makes no progress".into());
        }
    }
    if out.len() > limit {
        return Err(format!("decompresses to more than {limit} bytes"));
    }
    if usize::try_from(inflater.total_in()).ok() != Some(data.len()) {
        return Err("trailing bytes after the zlib stream".into());
    }
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
