//! The public directory (Zhejiang manual §4): regions (district → street → community), service
//! points (受理网点) and articles (政策法规, 办事指南). Anyone can read; administrators edit.

pub mod http;
pub mod model;
pub mod seed;
pub mod service;
pub mod store;

// The directory's plain types are what other contexts read (a booking's service point, an
// address's region); they are reached at the context's root.
pub use model::{
    Article, ArticleInput, ArticleKind, Region, RegionInput, ServicePoint, ServicePointInput,
};
