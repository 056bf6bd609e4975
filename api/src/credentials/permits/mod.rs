//! Electronic permits (docs/product.md §4.4): issued by a clerk for a checked-in application, shown as
//! RP1 QR codes signed with the verifier crate, endorsed yearly, revoked when replaced,
//! cancelled or obtained by fraud. A permit's QR is shown only after the holder passed a
//! step-up once (a fresh passkey assertion, or an SMS code for accounts without a passkey).

pub mod model;
pub mod qr;
pub mod rules;

pub use qr::png;
