//! The QR code of a credential, drawn as SVG or PNG.

use super::*;

pub(super) fn render_qr(
    text: &str,
    format: QrFormat,
    ecc: QrEcc,
) -> Result<(Vec<u8>, &'static str), ApiError> {
    let failed = |e: String| {
        tracing::error!(error = %e, "rendering a QR code");
        ApiError::internal()
    };
    match format {
        QrFormat::Text => Ok((text.as_bytes().to_vec(), "text/plain; charset=utf-8")),
        QrFormat::Svg => Ok((
            permit_verifier::to_svg(text, ecc)
                .map_err(|e| failed(e.to_string()))?
                .into_bytes(),
            "image/svg+xml",
        )),
        QrFormat::Png => Ok((png(text, ecc).map_err(failed)?, "image/png")),
    }
}

/// A QR code as a PNG (8 pixels a module, quiet zone included).
pub fn png(text: &str, ecc: QrEcc) -> Result<Vec<u8>, String> {
    let level = match ecc {
        QrEcc::Low => qrcode::EcLevel::L,
        QrEcc::Medium => qrcode::EcLevel::M,
        QrEcc::Quartile => qrcode::EcLevel::Q,
        QrEcc::High => qrcode::EcLevel::H,
    };
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), level)
        .map_err(|e| e.to_string())?;
    let image = code
        .render::<image::Luma<u8>>()
        .module_dimensions(8, 8)
        .build();
    let mut out = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}
