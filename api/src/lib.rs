//! permitd: the residence-permit platform server (居住证服务平台).
//!
//! One folder per bounded context, named as the product is: who people are (identity), where
//! they go (directory), where they live (residence), what they apply for (casework), when they
//! come (booking), what the police station does (counter), what they carry (credentials), what
//! they are told (notifications), what is held about them, how long and what they may ask of
//! it (privacy), and the platform that runs it all. See the README for the
//! architecture in a page.

pub mod booking;
pub mod casework;
pub mod counter;
pub mod credentials;
pub mod directory;
pub mod identity;
pub mod notifications;
pub mod platform;
pub mod privacy;
pub mod residence;
