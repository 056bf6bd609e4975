//! Printed documents as PDF (krilla, with an embedded subset of a CJK font): the confirmation
//! slip (居住证确认单) that carries the permit's verifiable QR for people without a phone, and
//! the acceptance receipt (受理回执) of each submission.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::text::{Font, TextDirection};

use crate::platform::config::Config;

/// A5 in points.
const PAGE_W: f32 = 419.53;
const PAGE_H: f32 = 595.28;

/// Where a CJK font is looked for when none is configured: the data directory's `fonts/`, then
/// the Debian packages `make run` / `make test` install (fonts-wqy-microhei, fonts-noto-cjk;
/// collection index 2 of Noto Sans CJK is Simplified Chinese).
const SYSTEM_FONTS: &[(&str, u32)] = &[
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
];

#[derive(Debug, Clone, thiserror::Error)]
pub enum DocumentError {
    #[error(
        "no CJK font found: set font_path, put one in <data_dir>/fonts, or install fonts-noto-cjk"
    )]
    NoFont,
    #[error("the font {0} cannot be used")]
    BadFont(String),
    #[error("PDF: {0}")]
    Pdf(String),
}

/// The font, read once on first use.
pub struct Fonts {
    configured: Option<(PathBuf, u32)>,
    data_dir: PathBuf,
    loaded: OnceLock<Result<Font, DocumentError>>,
}

impl Fonts {
    pub fn new(config: &Config) -> Self {
        Fonts {
            configured: config.font_path.clone().map(|p| (p, config.font_index)),
            data_dir: config.data_dir.join("fonts"),
            loaded: OnceLock::new(),
        }
    }

    fn candidates(&self) -> Vec<(PathBuf, u32)> {
        if let Some(c) = &self.configured {
            return vec![c.clone()];
        }
        let mut out: Vec<(PathBuf, u32)> = std::fs::read_dir(&self.data_dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| matches!(e, "ttf" | "otf" | "ttc" | "otc"))
            })
            .map(|p| (p, 0))
            .collect();
        out.sort();
        out.extend(SYSTEM_FONTS.iter().map(|(p, i)| (PathBuf::from(p), *i)));
        out
    }

    /// The first candidate font file that exists, read and parsed.
    fn load(&self) -> Result<(Font, PathBuf), DocumentError> {
        let (path, index) = self
            .candidates()
            .into_iter()
            .find(|(p, _)| Path::new(p).is_file())
            .ok_or(DocumentError::NoFont)?;
        let data =
            std::fs::read(&path).map_err(|_| DocumentError::BadFont(path.display().to_string()))?;
        let font = Font::new(Arc::new(data).into(), index)
            .ok_or_else(|| DocumentError::BadFont(path.display().to_string()))?;
        Ok((font, path))
    }

    pub fn font(&self) -> Result<Font, DocumentError> {
        self.loaded
            .get_or_init(|| {
                let (font, path) = self.load()?;
                tracing::info!(font = %path.display(), "CJK font for PDF documents");
                Ok(font)
            })
            .clone()
    }

    /// Where the font the documents would use is, once it has been read and parsed
    /// (`permitd check`).
    pub fn locate(&self) -> Result<PathBuf, DocumentError> {
        self.load().map(|(_, path)| path)
    }
}

/// One page of lines of text and, optionally, a QR code.
struct Sheet {
    font: Font,
    doc: Document,
}

fn black() -> Fill {
    Fill {
        paint: rgb::Color::new(0, 0, 0).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

impl Sheet {
    fn new(font: Font) -> Self {
        Sheet {
            font,
            doc: Document::new(),
        }
    }

    /// Draws `lines` (text, size, y) and the QR modules (top-left corner, module size).
    fn page(
        &mut self,
        lines: &[(String, f32, f32, f32)],
        qr: Option<(&[bool], usize, f32, f32, f32)>,
    ) -> Result<(), DocumentError> {
        let settings =
            PageSettings::from_wh(PAGE_W, PAGE_H).ok_or(DocumentError::Pdf("page size".into()))?;
        let mut page = self.doc.start_page_with(settings);
        let mut surface = page.surface();
        surface.set_fill(Some(black()));
        for (text, size, x, y) in lines {
            surface.draw_text(
                Point::from_xy(*x, *y),
                self.font.clone(),
                *size,
                text,
                false,
                TextDirection::Auto,
            );
        }
        if let Some((modules, width, left, top, module)) = qr {
            let mut pb = PathBuilder::new();
            for (row, line) in modules.chunks(width).enumerate() {
                // One rectangle per run of dark modules keeps the page small.
                let mut col = 0;
                while col < width {
                    if line[col] {
                        let start = col;
                        while col < width && line[col] {
                            col += 1;
                        }
                        if let Some(r) = Rect::from_xywh(
                            left + start as f32 * module,
                            top + row as f32 * module,
                            (col - start) as f32 * module,
                            module,
                        ) {
                            pb.push_rect(r);
                        }
                    } else {
                        col += 1;
                    }
                }
            }
            if let Some(path) = pb.finish() {
                surface.draw_path(&path);
            }
        }
        surface.finish();
        page.finish();
        Ok(())
    }

    fn finish(self) -> Result<Vec<u8>, DocumentError> {
        self.doc
            .finish()
            .map_err(|e| DocumentError::Pdf(format!("{e:?}")))
    }
}

/// The fields a slip shows.
pub struct SlipFields {
    pub holder_name: String,
    pub id_number: String,
    pub permit_number: String,
    pub valid_from: chrono::NaiveDate,
    pub valid_until: chrono::NaiveDate,
    pub district: String,
    pub authority: String,
}

/// 居住证确认单: the holder's details and the permit's QR with error correction Q, for paper.
pub fn slip(fonts: &Fonts, f: &SlipFields, qr_text: &str) -> Result<Vec<u8>, DocumentError> {
    let code = qrcode::QrCode::with_error_correction_level(qr_text.as_bytes(), qrcode::EcLevel::Q)
        .map_err(|e| DocumentError::Pdf(e.to_string()))?;
    let width = code.width();
    let modules: Vec<bool> = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    // Whole-point modules on a whole-point grid, up to 300 pt wide: printers and scanners
    // then see every module the same size, 3 pt (about 1 mm) for a permit's QR.
    let module = (300 / width.max(1)).clamp(2, 8) as f32;
    let size = module * width as f32;
    let left = ((PAGE_W - size) / 2.0).round();
    let lines = vec![
        ("居住证确认单".to_string(), 22.0, 140.0, 60.0),
        (format!("姓名：{}", f.holder_name), 13.0, 40.0, 105.0),
        (format!("公民身份号码：{}", f.id_number), 13.0, 40.0, 128.0),
        (
            format!("居住证号码：{}", f.permit_number),
            13.0,
            40.0,
            151.0,
        ),
        (
            format!("有效期限：{} 至 {}", f.valid_from, f.valid_until),
            13.0,
            40.0,
            174.0,
        ),
        (format!("居住地：{}", f.district), 13.0, 40.0, 197.0),
        (format!("签发机关：{}", f.authority), 13.0, 40.0, 220.0),
        (
            "请在有效期届满前一个月内办理签注，逾期中止使用。".to_string(),
            10.0,
            40.0,
            510.0,
        ),
        (
            "扫描二维码可离线核验真伪（RP1）。".to_string(),
            10.0,
            40.0,
            528.0,
        ),
    ];
    let mut sheet = Sheet::new(fonts.font()?);
    sheet.page(&lines, Some((&modules, width, left, 238.0, module)))?;
    sheet.finish()
}

/// The fields a receipt shows.
pub struct ReceiptFields {
    pub number: String,
    pub applicant_name: String,
    pub applicant_id_number: String,
    pub business_type: String,
    pub service_point: String,
    pub service_point_address: String,
    pub submitted_at: String,
    pub appointment: Option<String>,
    pub status: String,
}

/// 受理回执 of a submission.
pub fn receipt(fonts: &Fonts, f: &ReceiptFields) -> Result<Vec<u8>, DocumentError> {
    let mut lines = vec![
        ("居住证受理回执".to_string(), 22.0, 130.0, 60.0),
        (format!("申请编号：{}", f.number), 13.0, 40.0, 105.0),
        (format!("申请人：{}", f.applicant_name), 13.0, 40.0, 128.0),
        (
            format!("公民身份号码：{}", f.applicant_id_number),
            13.0,
            40.0,
            151.0,
        ),
        (
            format!("业务类别：居住证{}", f.business_type),
            13.0,
            40.0,
            174.0,
        ),
        (format!("受理点：{}", f.service_point), 13.0, 40.0, 197.0),
        (
            format!("受理点地址：{}", f.service_point_address),
            13.0,
            40.0,
            220.0,
        ),
        (format!("申报时间：{}", f.submitted_at), 13.0, 40.0, 243.0),
        (format!("办理情况：{}", f.status), 13.0, 40.0, 289.0),
        (
            "请按预约时间携带身份证及证明材料原件到受理点办理。".to_string(),
            10.0,
            40.0,
            510.0,
        ),
    ];
    if let Some(a) = &f.appointment {
        lines.push((format!("预约办理：{a}"), 13.0, 40.0, 266.0));
    }
    let mut sheet = Sheet::new(fonts.font()?);
    sheet.page(&lines, None)?;
    sheet.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slip_is_a_pdf_with_an_embedded_font_subset() {
        // make test installs fonts-noto-cjk, which this finds.
        let fonts = Fonts::new(&Config::default());
        let pdf = slip(
            &fonts,
            &SlipFields {
                holder_name: "欧阳明月".into(),
                id_number: "330102199001010011".into(),
                permit_number: "3301022026000001".into(),
                valid_from: chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
                valid_until: chrono::NaiveDate::from_ymd_opt(2027, 11, 24).unwrap(),
                district: "浙江省杭州市上城区".into(),
                authority: "杭州市公安局上城区分局".into(),
            },
            "RP1:TEST",
        )
        .unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        // A subset, not the 20 MB collection.
        assert!(pdf.len() < 200_000, "{} bytes", pdf.len());
        if let Ok(dir) = std::env::var("PERMIT_SLIP_SAMPLE") {
            std::fs::write(std::path::Path::new(&dir).join("slip.pdf"), &pdf).unwrap();
        }
    }
}
