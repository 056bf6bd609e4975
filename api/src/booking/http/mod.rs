//! The booking endpoints: the calendar of an application, booking or moving its day, and
//! cancelling it. Handlers extract, call `booking::service`, and map its errors; the rules are
//! in `booking::model`.

use chrono::NaiveDate;
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::booking::calendar::Session;
use crate::booking::model::{BookingChoice, CalendarYearRefusal, DayState, DayView};
use crate::booking::service::{self, BookingError, CapacityOf};
use crate::casework;
use crate::casework::applications::http::views::{
    AppointmentInfo, ServicePointBrief, appointment_info,
};
use crate::casework::applications::model::Application;
use crate::identity::auth::SessionAuth;
use crate::identity::rate_limits::BOOKINGS_PER_ACCOUNT;
use crate::platform::error::ApiError;
use crate::platform::idempotency;
use crate::platform::state::AppState;
use crate::platform::web::ApiTags;

pub mod schedule;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum SessionName {
    /// 上午
    Morning,
    /// 下午
    Afternoon,
}

impl From<SessionName> for Session {
    fn from(s: SessionName) -> Self {
        match s {
            SessionName::Morning => Session::Morning,
            SessionName::Afternoon => Session::Afternoon,
        }
    }
}

/// The colours of the booking calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "DayState", rename_all = "snake_case")]
pub enum DayStateView {
    /// 节假日或休息日 (red): the service point is closed.
    Holiday,
    /// 满 (full): no place left.
    Full,
    /// 无法预约 (grey): pre-review days, past days, a session the point does not hold.
    Unavailable,
    /// 可以预约 (blue).
    Available,
}

#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct CalendarEntry {
    pub date: NaiveDate,
    pub state: DayStateView,
    /// The holiday's name when the State Council calendar lists one.
    pub holiday_name: Option<String>,
    /// Places left in the session, for days in the window.
    pub remaining: Option<i32>,
    /// The application's own appointment is on this day and session.
    pub mine: bool,
}

#[derive(Debug, Clone, Object)]
pub struct BookingCalendar {
    pub application_id: Uuid,
    pub service_point: ServicePointBrief,
    pub session: SessionName,
    /// The 2 working days pre-review takes.
    pub review_days: Vec<NaiveDate>,
    /// The bookable days, in order.
    pub bookable_days: Vec<NaiveDate>,
    pub days: Vec<CalendarEntry>,
}

#[derive(Debug, Clone, Object)]
pub struct BookingRequest {
    pub date: NaiveDate,
    /// Morning by default (the Zhejiang manual: 两个工作日后的任一工作日上午办理).
    pub session: Option<SessionName>,
    /// When given, it must be the application's service point.
    pub service_point_id: Option<Uuid>,
}

impl From<DayState> for DayStateView {
    fn from(s: DayState) -> Self {
        match s {
            DayState::Holiday => DayStateView::Holiday,
            DayState::Full => DayStateView::Full,
            DayState::Unavailable => DayStateView::Unavailable,
            DayState::Available => DayStateView::Available,
        }
    }
}

impl From<DayView> for CalendarEntry {
    fn from(d: DayView) -> Self {
        CalendarEntry {
            date: d.date,
            state: d.state.into(),
            holiday_name: d.holiday_name,
            remaining: d.remaining,
            mine: d.mine,
        }
    }
}

/// Every booking refusal has its stable code and words.
impl From<BookingError> for ApiError {
    fn from(e: BookingError) -> Self {
        match e {
            BookingError::NotFound => ApiError::not_found(),
            BookingError::NotBookable => ApiError::rejected("not_bookable"),
            BookingError::WrongServicePoint => ApiError::unprocessable(
                "wrong_service_point",
                "service_point_id",
                "只能预约申请所选的受理点",
            ),
            BookingError::DayClosed => {
                ApiError::unprocessable("day_closed", "date", "节假日或休息日不能预约")
            }
            BookingError::DayOutsideWindow => ApiError::unprocessable(
                "day_outside_window",
                "date",
                "只能预约初审两个工作日之后的7个工作日",
            ),
            BookingError::SessionClosed => {
                ApiError::unprocessable("session_closed", "session", "该受理点此时段不办理业务")
            }
            BookingError::SlotFull => ApiError::rejected("slot_full"),
            BookingError::NoAppointment => ApiError::rejected("no_appointment"),
            BookingError::NotCheckable => ApiError::rejected("not_checkable"),
            BookingError::CalendarYear(CalendarYearRefusal::YearOutOfRange) => {
                ApiError::unprocessable("invalid_year", "year", "年份应在2000至2100之间")
            }
            BookingError::CalendarYear(CalendarYearRefusal::DayNotInYear { day, year }) => {
                ApiError::unprocessable(
                    "invalid_calendar_day",
                    "days",
                    format!("{day} 不属于 {year} 年或重复"),
                )
            }
            BookingError::CalendarYear(CalendarYearRefusal::NameTooLong) => {
                ApiError::unprocessable("invalid_calendar_day", "days", "名称不超过50个字符")
            }
            BookingError::InvalidCapacity(of) => ApiError::unprocessable(
                "invalid_capacity",
                match of {
                    CapacityOf::Morning => "capacity_morning",
                    CapacityOf::Afternoon => "capacity_afternoon",
                    CapacityOf::Slot => "capacity",
                },
                "名额应为0至10000之间的整数",
            ),
            BookingError::InvalidOpening(e) => {
                ApiError::unprocessable("invalid_opening", "open_weekdays", e.to_string())
            }
            BookingError::Storage(e) => e.into(),
        }
    }
}

pub struct AppointmentsApi;

#[OpenApi(tag = "ApiTags::Applications")]
impl AppointmentsApi {
    /// The booking calendar of a submitted application: each day's state and places left.
    #[oai(path = "/applications/:id/calendar", method = "get")]
    async fn calendar(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        session: Query<Option<SessionName>>,
    ) -> Result<Json<BookingCalendar>, ApiError> {
        let session_name = session.0.unwrap_or(SessionName::Morning);
        let c = service::calendar(
            &*state.storage,
            auth.0.account_id,
            id.0,
            session_name.into(),
            state.clock.now(),
        )
        .await?;
        Ok(Json(BookingCalendar {
            application_id: c.application.id,
            service_point: ServicePointBrief::from(&c.point),
            session: session_name,
            review_days: c.review_days,
            bookable_days: c.bookable_days,
            days: c.days.into_iter().map(Into::into).collect(),
        }))
    }

    /// Book a day, or move the booking; an `Idempotency-Key` makes a repeat harmless. A move
    /// to a full day leaves the old booking as it was.
    #[oai(path = "/applications/:id/appointment", method = "put")]
    async fn book(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        #[oai(name = "Idempotency-Key")] key: Header<Option<String>>,
        body: Json<BookingRequest>,
    ) -> Result<Json<AppointmentInfo>, ApiError> {
        let state = &*state;
        let request = format!(
            "book:{}:{}:{:?}:{:?}",
            id.0, body.0.date, body.0.session, body.0.service_point_id
        );
        let out = idempotency::once(
            state,
            auth.0.account_id,
            key.0.as_deref(),
            &request,
            || book(state, &auth, id.0, body.0.clone()),
            || booked(state, &auth, id.0),
        )
        .await?;
        Ok(Json(out))
    }

    /// Cancel the booking; the application can be booked again within its window.
    #[oai(path = "/applications/:id/appointment", method = "delete")]
    async fn cancel(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
    ) -> Result<Json<AppointmentInfo>, ApiError> {
        let application = own_counted(&state, &auth, id.0).await?;
        let b = service::cancel(
            &*state.storage,
            &*state.ephemeral,
            application,
            state.clock.now(),
        )
        .await?;
        Ok(Json(appointment_info(
            &b.application,
            &b.appointment,
            ServicePointBrief::from(&b.point),
        )))
    }
}

/// The caller's application, its booking change counted against their allowance once it is
/// known to be theirs: another account's is a 404 and costs nothing.
async fn own_counted(
    state: &AppState,
    auth: &SessionAuth,
    application_id: Uuid,
) -> Result<Application, ApiError> {
    let application =
        casework::service::own_application(&*state.storage, auth.0.account_id, application_id)
            .await?;
    BOOKINGS_PER_ACCOUNT
        .hit(&*state.ephemeral, &auth.0.account_id.to_string())
        .await?;
    Ok(application)
}

/// The place a repeated booking request made the first time: the application's booking now.
async fn booked(
    state: &AppState,
    auth: &SessionAuth,
    id: Uuid,
) -> Result<AppointmentInfo, ApiError> {
    let application =
        casework::service::own_application(&*state.storage, auth.0.account_id, id).await?;
    let appointment = casework::service::current_appointment(&*state.storage, id)
        .await?
        .ok_or_else(|| {
            ApiError::conflict(
                "appointment_gone",
                "appointment",
                "这次预约已取消或已办理，请查看申请详情",
            )
        })?;
    let point =
        casework::service::service_point(&*state.storage, appointment.service_point_id).await?;
    Ok(appointment_info(
        &application,
        &appointment,
        ServicePointBrief::from(&point),
    ))
}

async fn book(
    state: &AppState,
    auth: &SessionAuth,
    id: Uuid,
    req: BookingRequest,
) -> Result<AppointmentInfo, ApiError> {
    let application = own_counted(state, auth, id).await?;
    let choice = BookingChoice {
        date: req.date,
        session: req.session.unwrap_or(SessionName::Morning).into(),
        service_point_id: req.service_point_id,
    };
    let b = service::book(
        &*state.storage,
        &*state.ephemeral,
        application,
        &choice,
        state.clock.now(),
    )
    .await?;
    Ok(appointment_info(
        &b.application,
        &b.appointment,
        ServicePointBrief::from(&b.point),
    ))
}
