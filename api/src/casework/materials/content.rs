//! Judging uploaded proof by its content, not its name: the magic bytes decide the kind, the
//! structure is walked with bounds checks, and metadata that can locate the applicant (EXIF GPS,
//! XMP, IPTC, text chunks) is dropped before the file is stored.

/// The largest upload accepted.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaterialKind {
    Jpeg,
    Png,
    Pdf,
}

impl MaterialKind {
    pub fn mime(self) -> &'static str {
        match self {
            MaterialKind::Jpeg => "image/jpeg",
            MaterialKind::Png => "image/png",
            MaterialKind::Pdf => "application/pdf",
        }
    }

    /// The file extension to store and serve under, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            MaterialKind::Jpeg => "jpg",
            MaterialKind::Png => "png",
            MaterialKind::Pdf => "pdf",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MaterialKind::Jpeg => "jpeg",
            MaterialKind::Png => "png",
            MaterialKind::Pdf => "pdf",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "jpeg" => Some(MaterialKind::Jpeg),
            "png" => Some(MaterialKind::Png),
            "pdf" => Some(MaterialKind::Pdf),
            _ => None,
        }
    }

    fn label(self) -> &'static str {
        match self {
            MaterialKind::Jpeg => "JPG",
            MaterialKind::Png => "PNG",
            MaterialKind::Pdf => "PDF",
        }
    }
}

#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq, Eq)]
pub enum ContentError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than {max} bytes")]
    TooLarge { max: usize },
    #[error("the file is not a JPEG, PNG or PDF")]
    Unsupported,
    #[error("the file starts like a {} but its structure is broken", .0.as_str())]
    Malformed(MaterialKind),
}

impl ContentError {
    pub fn code(&self) -> &'static str {
        match self {
            ContentError::Empty => "file_empty",
            ContentError::TooLarge { .. } => "file_too_large",
            ContentError::Unsupported => "file_type_unsupported",
            ContentError::Malformed(_) => "file_malformed",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            ContentError::Empty => "文件内容为空，请重新上传".into(),
            ContentError::TooLarge { max } => {
                format!("文件超过{}MB，请压缩后重新上传", max / (1024 * 1024))
            }
            ContentError::Unsupported => "仅支持JPG、PNG格式的图片或PDF文件".into(),
            ContentError::Malformed(kind) => {
                format!("文件已损坏或不是有效的{}文件，请重新上传", kind.label())
            }
        }
    }
}

/// The kind the magic bytes claim, without checking the rest.
pub fn sniff(bytes: &[u8]) -> Option<MaterialKind> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(MaterialKind::Jpeg)
    } else if bytes.starts_with(&PNG_SIGNATURE) {
        Some(MaterialKind::Png)
    } else if bytes.starts_with(b"%PDF-") {
        Some(MaterialKind::Pdf)
    } else {
        None
    }
}

/// Checks an upload and returns its kind and the bytes to store: JPEG and PNG without their
/// location-bearing metadata; PDF unchanged once its header and trailer look right.
pub fn sanitize(bytes: &[u8]) -> Result<(MaterialKind, Vec<u8>), ContentError> {
    if bytes.is_empty() {
        return Err(ContentError::Empty);
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ContentError::TooLarge {
            max: MAX_FILE_BYTES,
        });
    }
    let kind = sniff(bytes).ok_or(ContentError::Unsupported)?;
    let clean = match kind {
        MaterialKind::Jpeg => clean_jpeg(bytes),
        MaterialKind::Png => clean_png(bytes),
        // PDF metadata (Info dictionary, XMP streams) is not rewritten: that needs a full PDF
        // parser; the file is only checked to be a PDF and kept byte for byte.
        MaterialKind::Pdf => pdf_looks_whole(bytes).then(|| bytes.to_vec()),
    };
    clean
        .map(|c| (kind, c))
        .ok_or(ContentError::Malformed(kind))
}

// --- JPEG ---------------------------------------------------------------------------------

const SOS: u8 = 0xDA;
const EOI: u8 = 0xD9;

/// APP1 (EXIF, XMP: may hold GPS), APP13 (IPTC/Photoshop) and COM (free text).
fn jpeg_drops(marker: u8) -> bool {
    matches!(marker, 0xE1 | 0xED | 0xFE)
}

/// Markers that stand alone, without a length: TEM, RST0-7, SOI, EOI.
fn jpeg_standalone(marker: u8) -> bool {
    matches!(marker, 0x01 | 0xD0..=0xD9)
}

/// SOF0-15 except DHT (C4), JPG (C8) and DAC (CC), which share the range.
fn jpeg_frame(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

/// Reads the marker at `pos` (an 0xFF, optional 0xFF fill bytes, then the code) and returns the
/// code and the position after it.
fn jpeg_marker(b: &[u8], pos: usize) -> Option<(u8, usize)> {
    if *b.get(pos)? != 0xFF {
        return None;
    }
    let mut p = pos + 1;
    while *b.get(p)? == 0xFF {
        p += 1;
    }
    let marker = *b.get(p)?;
    (marker != 0x00).then_some((marker, p + 1))
}

/// Reads the length-prefixed segment whose length starts at `p`, copies it to `out` unless it
/// is dropped, and returns the position after it.
fn jpeg_segment(b: &[u8], marker: u8, p: usize, out: &mut Vec<u8>) -> Option<usize> {
    let len = usize::from(u16::from_be_bytes([*b.get(p)?, *b.get(p + 1)?]));
    if len < 2 {
        return None;
    }
    let body = b.get(p..p + len)?;
    if !jpeg_drops(marker) {
        out.extend_from_slice(&[0xFF, marker]);
        out.extend_from_slice(body);
    }
    Some(p + len)
}

fn clean_jpeg(b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut pos = 2;
    let mut saw_frame = false;
    // Header: segments from SOI up to the first SOS.
    loop {
        let (marker, p) = jpeg_marker(b, pos)?;
        if jpeg_standalone(marker) {
            // A second SOI, an EOI before any scan or a stray restart: not a real image.
            return None;
        }
        if marker == SOS && !saw_frame {
            return None;
        }
        saw_frame |= jpeg_frame(marker);
        pos = jpeg_segment(b, marker, p, &mut out)?;
        if marker == SOS {
            break;
        }
    }
    // Entropy-coded data. In it 0xFF is always followed by 0x00 (a stuffed byte), a restart
    // marker or more 0xFF fill; anything else is a real marker: EOI, or (in progressive JPEGs)
    // another table or scan header between scans, which gets the same treatment as above.
    let mut expect_marker = false;
    loop {
        if expect_marker && *b.get(pos)? != 0xFF {
            return None;
        }
        let mut ff = pos;
        loop {
            ff += b.get(ff..)?.iter().position(|&x| x == 0xFF)?;
            match *b.get(ff + 1)? {
                0x00 | 0xD0..=0xD7 => ff += 2,
                0xFF => ff += 1,
                _ => break,
            }
        }
        out.extend_from_slice(b.get(pos..ff)?);
        let (marker, p) = jpeg_marker(b, ff)?;
        if marker == EOI {
            // Anything after EOI is not part of the image and is dropped.
            out.extend_from_slice(&[0xFF, EOI]);
            return Some(out);
        }
        if jpeg_standalone(marker) {
            return None;
        }
        pos = jpeg_segment(b, marker, p, &mut out)?;
        expect_marker = marker != SOS;
    }
}

// --- PNG ----------------------------------------------------------------------------------

/// Chunks that carry EXIF (with GPS), free text or a timestamp.
const PNG_DROPS: [&[u8; 4]; 5] = [b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"];

fn clean_png(b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&PNG_SIGNATURE);
    let mut pos = PNG_SIGNATURE.len();
    let mut first = true;
    let mut saw_idat = false;
    loop {
        let len = u32::from_be_bytes(b.get(pos..pos + 4)?.try_into().ok()?);
        // The PNG specification caps chunk lengths at 2^31 - 1.
        if len > 0x7FFF_FFFF {
            return None;
        }
        let len = usize::try_from(len).ok()?;
        let kind: [u8; 4] = b.get(pos + 4..pos + 8)?.try_into().ok()?;
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return None;
        }
        let data_end = (pos + 8).checked_add(len)?;
        let chunk_end = data_end.checked_add(4)?;
        let stored_crc = u32::from_be_bytes(b.get(data_end..chunk_end)?.try_into().ok()?);
        if crc32(b.get(pos + 4..data_end)?) != stored_crc {
            return None;
        }
        let is_ihdr = &kind == b"IHDR";
        if first != is_ihdr || (is_ihdr && len != 13) {
            return None;
        }
        first = false;
        let chunk = b.get(pos..chunk_end)?;
        match &kind {
            b"IDAT" => saw_idat = true,
            b"IEND" => {
                if len != 0 || !saw_idat {
                    return None;
                }
                // Anything after IEND is not part of the image and is dropped.
                out.extend_from_slice(chunk);
                return Some(out);
            }
            _ => {}
        }
        if !PNG_DROPS.contains(&&kind) {
            out.extend_from_slice(chunk);
        }
        pos = chunk_end;
    }
}

/// CRC-32 (ISO 3309, as PNG uses), one table built at compile time.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &byte in data {
        c = CRC_TABLE[((c ^ u32::from(byte)) & 0xFF) as usize] ^ (c >> 8);
    }
    c ^ 0xFFFF_FFFF
}

// --- PDF ----------------------------------------------------------------------------------

/// A version from `%PDF-1.0` to `%PDF-2.0` and an `%%EOF` in the last 1024 bytes, the window
/// readers search for the trailer.
fn pdf_looks_whole(b: &[u8]) -> bool {
    let version_ok = matches!(
        b.get(5..8),
        Some([b'1', b'.', b'0'..=b'7'] | [b'2', b'.', b'0'])
    );
    // "%PDF-1.70" is not a version we know.
    let version_ends = !b.get(8).is_some_and(u8::is_ascii_digit);
    let tail = &b[b.len().saturating_sub(1024)..];
    version_ok && version_ends && tail.windows(5).any(|w| w == b"%%EOF")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(marker: u8, payload: &[u8]) -> Vec<u8> {
        let len = u16::try_from(payload.len() + 2).unwrap().to_be_bytes();
        [&[0xFF, marker][..], &len, payload].concat()
    }

    const APP0_JFIF: &[u8] = b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0";
    const EXIF_GPS: &[u8] = b"Exif\0\0MM\0*\0\0\0\x08GPS 30.2500N 120.1600E";

    fn dqt() -> Vec<u8> {
        let mut p = vec![0x00];
        p.extend(1..=64u8);
        seg(0xDB, &p)
    }

    fn sof0() -> Vec<u8> {
        seg(0xC0, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0])
    }

    fn dht(class_id: u8) -> Vec<u8> {
        let mut p = vec![class_id, 1];
        p.extend([0u8; 15]);
        p.push(0);
        seg(0xC4, &p)
    }

    fn sos() -> Vec<u8> {
        seg(0xDA, &[1, 1, 0x00, 0, 63, 0])
    }

    /// Entropy data with a stuffed 0xFF and a restart marker, as real scans have.
    const SCAN: &[u8] = &[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0x78];

    /// A baseline JPEG laid out like a camera's, with the given segments after APP0.
    fn jpeg_with(extra: &[Vec<u8>]) -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8];
        v.extend(seg(0xE0, APP0_JFIF));
        for e in extra {
            v.extend(e);
        }
        v.extend(dqt());
        v.extend(sof0());
        v.extend(dht(0x00));
        v.extend(dht(0x10));
        v.extend(sos());
        v.extend(SCAN);
        v.extend([0xFF, 0xD9]);
        v
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn jpeg_exif_gps_is_dropped_and_the_rest_kept() {
        let with_exif = jpeg_with(&[seg(0xE1, EXIF_GPS)]);
        assert!(contains(&with_exif, b"GPS"));
        let (kind, clean) = sanitize(&with_exif).unwrap();
        assert_eq!(kind, MaterialKind::Jpeg);
        assert!(!contains(&clean, b"GPS"));
        assert!(!contains(&clean, b"Exif"));
        assert_eq!(clean, jpeg_with(&[]));
    }

    #[test]
    fn jpeg_keeps_icc_and_adobe_drops_xmp_iptc_comments() {
        let icc = seg(0xE2, b"ICC_PROFILE\0\x01\x01profile");
        let adobe = seg(0xEE, b"Adobe\0\x64\0\0\0\0\x01");
        let dri = seg(0xDD, &[0, 4]);
        let input = jpeg_with(&[
            icc.clone(),
            seg(
                0xE1,
                b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>GPS</x:xmpmeta>",
            ),
            seg(0xED, b"Photoshop 3.0\08BIM\x04\x04 city"),
            adobe.clone(),
            seg(0xFE, b"shot at home"),
            dri.clone(),
        ]);
        let (_, clean) = sanitize(&input).unwrap();
        assert_eq!(clean, jpeg_with(&[icc, adobe, dri]));
        for gone in [&b"xmpmeta"[..], b"Photoshop", b"shot at home", b"GPS"] {
            assert!(!contains(&clean, gone));
        }
    }

    #[test]
    fn jpeg_trailing_bytes_after_eoi_are_dropped() {
        let mut input = jpeg_with(&[]);
        input.extend(b"PK\x03\x04 hidden zip");
        assert_eq!(sanitize(&input).unwrap().1, jpeg_with(&[]));
    }

    #[test]
    fn jpeg_progressive_segments_between_scans() {
        let mut input = jpeg_with(&[]);
        input.truncate(input.len() - 2);
        input.extend(dht(0x11));
        input.extend(seg(0xFE, b"between scans"));
        input.extend(sos());
        input.extend([0x9A, 0xFF, 0x00, 0xFF, 0xFF, 0xD9]);
        let (_, clean) = sanitize(&input).unwrap();
        let mut expected = jpeg_with(&[]);
        expected.truncate(expected.len() - 2);
        expected.extend(dht(0x11));
        expected.extend(sos());
        expected.extend([0x9A, 0xFF, 0x00, 0xFF, 0xFF, 0xD9]);
        assert_eq!(clean, expected);
        // A table segment must be followed by a marker, not loose data.
        let mut bad = jpeg_with(&[]);
        bad.truncate(bad.len() - 2);
        bad.extend(dht(0x11));
        bad.extend([0x01, 0x02, 0xFF, 0xD9]);
        assert_eq!(
            sanitize(&bad),
            Err(ContentError::Malformed(MaterialKind::Jpeg))
        );
    }

    #[test]
    fn jpeg_broken_structures() {
        let malformed = Err(ContentError::Malformed(MaterialKind::Jpeg));
        // Truncated inside APP0.
        assert_eq!(
            sanitize(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J']),
            malformed
        );
        assert_eq!(sanitize(&[0xFF, 0xD8, 0xFF]), malformed);
        // No EOI.
        let mut no_eoi = jpeg_with(&[]);
        no_eoi.truncate(no_eoi.len() - 2);
        assert_eq!(sanitize(&no_eoi), malformed);
        // No SOS: EOI straight after the tables.
        let mut no_sos = vec![0xFF, 0xD8];
        no_sos.extend(seg(0xE0, APP0_JFIF));
        no_sos.extend(sof0());
        no_sos.extend([0xFF, 0xD9]);
        assert_eq!(sanitize(&no_sos), malformed);
        // SOS with no frame header before it.
        let mut no_frame = vec![0xFF, 0xD8];
        no_frame.extend(sos());
        no_frame.extend([0x00, 0xFF, 0xD9]);
        assert_eq!(sanitize(&no_frame), malformed);
        // Garbage where a marker should be, and a length below 2.
        let mut garbage = vec![0xFF, 0xD8];
        garbage.extend(seg(0xE0, APP0_JFIF));
        garbage.extend(b"hello");
        assert_eq!(sanitize(&garbage), malformed);
        assert_eq!(
            sanitize(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01, 0xFF, 0xD9]),
            malformed
        );
        // A segment length running past the end.
        assert_eq!(
            sanitize(&[0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 0, 0]),
            malformed
        );
    }

    #[test]
    fn text_named_jpg_is_unsupported() {
        assert_eq!(
            sanitize(b"This is my payslip, honest."),
            Err(ContentError::Unsupported)
        );
        assert_eq!(sanitize(b"<html><script>"), Err(ContentError::Unsupported));
        assert_eq!(sanitize(&[0xFF, 0xD8]), Err(ContentError::Unsupported));
        assert_eq!(sanitize(b"GIF89a"), Err(ContentError::Unsupported));
    }

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let len = u32::try_from(data.len()).unwrap().to_be_bytes();
        let crc = crc32(&[&kind[..], data].concat()).to_be_bytes();
        [&len[..], kind, data, &crc].concat()
    }

    fn ihdr() -> Vec<u8> {
        chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0])
    }

    fn idat() -> Vec<u8> {
        chunk(
            b"IDAT",
            &[0x78, 0x9C, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01],
        )
    }

    fn png(chunks: &[Vec<u8>]) -> Vec<u8> {
        let mut v = PNG_SIGNATURE.to_vec();
        for c in chunks {
            v.extend(c);
        }
        v
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn png_text_and_exif_chunks_are_dropped() {
        let gama = chunk(b"gAMA", &[0, 0, 0xB1, 0x8F]);
        let input = png(&[
            ihdr(),
            chunk(b"tEXt", b"Comment\0GPS 30.25N"),
            chunk(b"eXIf", b"MM\0*GPS"),
            gama.clone(),
            chunk(b"tIME", &[7, 0xEA, 1, 1, 0, 0, 0]),
            idat(),
            chunk(b"zTXt", b"Author\0\0x"),
            chunk(b"iTXt", b"Location\0\0\0\0\0Hangzhou"),
            chunk(b"IEND", &[]),
        ]);
        let (kind, clean) = sanitize(&input).unwrap();
        assert_eq!(kind, MaterialKind::Png);
        assert_eq!(clean, png(&[ihdr(), gama, idat(), chunk(b"IEND", &[])]));
        assert!(!contains(&clean, b"GPS"));
    }

    #[test]
    fn png_broken_structures() {
        let malformed = Err(ContentError::Malformed(MaterialKind::Png));
        let good = png(&[ihdr(), idat(), chunk(b"IEND", &[])]);
        assert_eq!(sanitize(&good).unwrap().1, good);
        // Tampered data with the old CRC.
        let mut tampered = good.clone();
        let at = PNG_SIGNATURE.len() + ihdr().len() + 8 + 3;
        tampered[at] ^= 0x55;
        assert_eq!(sanitize(&tampered), malformed);
        // IHDR not first, IHDR twice, no IEND, no IDAT, IEND with data.
        assert_eq!(
            sanitize(&png(&[idat(), ihdr(), chunk(b"IEND", &[])])),
            malformed
        );
        assert_eq!(
            sanitize(&png(&[ihdr(), ihdr(), idat(), chunk(b"IEND", &[])])),
            malformed
        );
        assert_eq!(sanitize(&png(&[ihdr(), idat()])), malformed);
        assert_eq!(sanitize(&png(&[ihdr(), chunk(b"IEND", &[])])), malformed);
        assert_eq!(
            sanitize(&png(&[ihdr(), idat(), chunk(b"IEND", b"x")])),
            malformed
        );
        // A chunk type that is not letters, and a length past the end.
        assert_eq!(
            sanitize(&png(&[ihdr(), chunk(b"ID1T", b"x"), idat()])),
            malformed
        );
        let mut huge = png(&[ihdr()]);
        huge.extend([0x7F, 0xFF, 0xFF, 0xFF]);
        huge.extend(b"IDAT");
        assert_eq!(sanitize(&huge), malformed);
        // Trailing bytes after IEND are dropped.
        let mut trailing = good.clone();
        trailing.extend(b"appended secret");
        assert_eq!(sanitize(&trailing).unwrap().1, good);
    }

    fn pdf() -> Vec<u8> {
        b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
            .to_vec()
    }

    #[test]
    fn pdf_is_checked_and_kept_unchanged() {
        let input = pdf();
        assert_eq!(sanitize(&input), Ok((MaterialKind::Pdf, input.clone())));
        let two = [&b"%PDF-2.0"[..], &input[8..]].concat();
        assert!(sanitize(&two).is_ok());
        let malformed = Err(ContentError::Malformed(MaterialKind::Pdf));
        let no_eof = input[..input.len() - 7].to_vec();
        assert_eq!(sanitize(&no_eof), malformed);
        // %%EOF present but not within the last 1024 bytes.
        let mut far = input.clone();
        far.extend(vec![b' '; 1024]);
        assert_eq!(sanitize(&far), malformed);
        for bad in [
            &b"%PDF-1.8"[..],
            b"%PDF-3.0",
            b"%PDF-2.1",
            b"%PDF-1.70",
            b"%PDF-x.y",
        ] {
            let v = [bad, &b"\n%%EOF"[..]].concat();
            assert_eq!(sanitize(&v), malformed, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn empty_and_too_large() {
        assert_eq!(sanitize(&[]), Err(ContentError::Empty));
        let mut big = vec![0u8; MAX_FILE_BYTES + 1];
        big[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
        assert_eq!(
            sanitize(&big),
            Err(ContentError::TooLarge {
                max: MAX_FILE_BYTES
            })
        );
        // Exactly the limit is judged on its content.
        big.truncate(MAX_FILE_BYTES);
        assert_eq!(
            sanitize(&big),
            Err(ContentError::Malformed(MaterialKind::Jpeg))
        );
    }

    #[test]
    fn kinds_and_error_codes() {
        for k in [MaterialKind::Jpeg, MaterialKind::Png, MaterialKind::Pdf] {
            assert_eq!(MaterialKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(MaterialKind::Jpeg.mime(), "image/jpeg");
        assert_eq!(MaterialKind::Png.mime(), "image/png");
        assert_eq!(MaterialKind::Pdf.mime(), "application/pdf");
        assert_eq!(MaterialKind::Jpeg.extension(), "jpg");
        assert_eq!(MaterialKind::parse("gif"), None);
        assert_eq!(ContentError::Empty.code(), "file_empty");
        assert_eq!(
            ContentError::TooLarge {
                max: MAX_FILE_BYTES
            }
            .code(),
            "file_too_large"
        );
        assert_eq!(ContentError::Unsupported.code(), "file_type_unsupported");
        assert_eq!(
            ContentError::Malformed(MaterialKind::Pdf).code(),
            "file_malformed"
        );
        assert!(
            ContentError::TooLarge {
                max: MAX_FILE_BYTES
            }
            .message_zh()
            .contains("10MB")
        );
        assert!(
            ContentError::Malformed(MaterialKind::Png)
                .message_zh()
                .contains("PNG")
        );
    }

    #[test]
    fn every_truncation_is_rejected() {
        let jpeg = jpeg_with(&[seg(0xE1, EXIF_GPS)]);
        let png = png(&[ihdr(), chunk(b"tEXt", b"a\0b"), idat(), chunk(b"IEND", &[])]);
        for (full, kind, magic) in [(jpeg, MaterialKind::Jpeg, 3), (png, MaterialKind::Png, 8)] {
            assert!(sanitize(&full).is_ok());
            for n in 0..full.len() {
                let expected = match n {
                    0 => ContentError::Empty,
                    n if n < magic => ContentError::Unsupported,
                    _ => ContentError::Malformed(kind),
                };
                assert_eq!(sanitize(&full[..n]), Err(expected), "{kind:?} cut at {n}");
            }
        }
        let pdf = pdf();
        let eof_end = pdf.windows(5).position(|w| w == b"%%EOF").unwrap() + 5;
        for n in 1..pdf.len() {
            let result = sanitize(&pdf[..n]);
            if n < 5 {
                assert_eq!(result, Err(ContentError::Unsupported));
            } else {
                assert_eq!(result.is_ok(), n >= eof_end, "PDF cut at {n}");
            }
        }
    }

    /// xorshift64: deterministic pseudo-random bytes without a dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn bytes(&mut self, n: usize) -> Vec<u8> {
            (0..n).map(|_| self.next() as u8).collect()
        }
    }

    /// Never panics, and whatever it accepts it accepts again unchanged.
    fn check_total(input: &[u8]) {
        if let Ok((kind, clean)) = sanitize(input) {
            assert_eq!(
                sanitize(&clean),
                Ok((kind, clean.clone())),
                "not idempotent: {input:02X?}"
            );
        }
    }

    #[test]
    fn never_panics_on_arbitrary_input() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let fixtures = [
            jpeg_with(&[seg(0xE1, EXIF_GPS), seg(0xFE, b"c")]),
            png(&[ihdr(), chunk(b"tEXt", b"a\0b"), idat(), chunk(b"IEND", &[])]),
            pdf(),
        ];
        for _ in 0..3000 {
            let n = rng.below(200);
            let mut v = rng.bytes(n);
            check_total(&v);
            // The same noise behind each magic number reaches the structure walkers.
            for magic in [&[0xFF, 0xD8, 0xFF][..], &PNG_SIGNATURE, b"%PDF-1.4"] {
                v.splice(0..0, magic.iter().copied());
                check_total(&v);
                v.drain(0..magic.len());
            }
        }
        for f in &fixtures {
            for _ in 0..3000 {
                let mut v = f.clone();
                for _ in 0..=rng.below(4) {
                    let i = rng.below(v.len());
                    match rng.below(3) {
                        0 => v[i] = rng.next() as u8,
                        1 => {
                            v.remove(i);
                        }
                        _ => v.insert(i, [0xFF, 0x00, 0xD9, 0xDA][rng.below(4)]),
                    }
                }
                check_total(&v);
            }
            for n in 0..f.len() {
                check_total(&f[..n]);
                check_total(&f[n..]);
            }
        }
    }
}
