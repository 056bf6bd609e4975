//! Applications (预约受理, docs/product.md §4.3): step 1 basic information, step 2 one condition and its
//! proof, 确认申报, then the appointment (see `appointments`). The list and detail follow seed
//! 000 §3.3. Another account's application is a 404, never a 403.

mod http;
pub mod model;

// The views the counter, booking and credentials endpoints show an application with.
pub use http::ApplicationsApi;
pub(crate) use http::views::check_fields;
pub use http::views::{
    ApplicationDetail, ApplicationInput, ApplicationSummary, AppointmentInfo,
    AppointmentStatusView, BusinessTypeView, DecisionView, ServicePointBrief, StatusView,
    appointment_info, brief, detail, load_own, staff_scope, staff_serves, summary,
};
pub use model::StaffScope;
