//! Applications (预约受理, docs/product.md §4.3): step 1 basic information, step 2 one condition and its
//! proof, 确认申报, then the appointment (see `appointments`). The list and detail follow the
//! Zhejiang manual §3.3. Another account's application is a 404, never a 403.

// The API objects the counter, booking and credentials endpoints show an application with are in
// `http::views`; only http modules name them.
pub mod http;
pub mod model;

pub use model::StaffScope;
