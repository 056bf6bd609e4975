//! The QR code of a credential, drawn as SVG or PNG.

use permit_verifier::QrEcc;

/// A QR code as SVG.
pub fn svg(text: &str, ecc: QrEcc) -> Result<Vec<u8>, String> {
    permit_verifier::to_svg(text, ecc)
        .map(String::into_bytes)
        .map_err(|e| e.to_string())
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
