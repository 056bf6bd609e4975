//! What administrators set for booking: the State Council working-day calendar (later years
//! added here), each service point's opening days, sessions and default capacity, and the
//! capacity of one session of one day.

use chrono::{Datelike, NaiveDate};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use uuid::Uuid;

use crate::booking::calendar::{CalendarDay, DayKind, Session};
use crate::booking::http::SessionName;
use crate::booking::service::{self, working_calendar};
use crate::directory::http::ServicePoint;
use crate::identity::auth::SessionAuth;
use crate::identity::model::Role;
use crate::platform::audit;
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::text::Text;
use crate::platform::web::ApiTags;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum DayKindName {
    /// 放假
    Holiday,
    /// 调休上班
    Workday,
}

#[derive(Debug, Clone, Object)]
pub struct CalendarDayView {
    pub date: NaiveDate,
    pub kind: DayKindName,
    pub name: Text,
}

#[derive(Debug, Clone, Object)]
pub struct CalendarYear {
    /// Years whose calendar is loaded; other years follow Monday to Friday.
    pub known_years: Vec<i32>,
    pub days: Vec<CalendarDayView>,
}

#[derive(Debug, Clone, Object)]
pub struct CalendarYearInput {
    pub days: Vec<CalendarDayView>,
}

#[derive(Debug, Clone, Object)]
pub struct OpeningInput {
    /// ISO weekdays the point opens, 1 = Monday … 7 = Sunday.
    pub open_weekdays: Vec<i32>,
    pub sessions: Vec<SessionName>,
    pub capacity_morning: i32,
    pub capacity_afternoon: i32,
}

#[derive(Debug, Clone, Object)]
pub struct SlotCapacityInput {
    /// Places in this session of this day; absent or null returns to the point's default.
    pub capacity: Option<i32>,
}

#[derive(Debug, ApiResponse)]
pub enum Saved {
    #[oai(status = 204)]
    Done,
}

pub struct ScheduleApi;

#[OpenApi(tag = "ApiTags::Staff")]
impl ScheduleApi {
    /// The holidays and make-up working days of a year (all loaded years when absent).
    #[oai(path = "/calendar", method = "get")]
    async fn calendar(
        &self,
        state: Data<&AppState>,
        year: Query<Option<i32>>,
    ) -> Result<Json<CalendarYear>, ApiError> {
        let calendar = working_calendar(&*state.storage).await?;
        let days = calendar
            .days()
            .filter(|d| year.0.is_none_or(|y| d.date.year() == y))
            .map(|d| CalendarDayView {
                date: d.date,
                kind: match d.kind {
                    DayKind::Holiday => DayKindName::Holiday,
                    DayKind::Workday => DayKindName::Workday,
                },
                name: d.name.clone().into(),
            })
            .collect();
        Ok(Json(CalendarYear {
            known_years: calendar.known_years(),
            days,
        }))
    }

    /// Load or replace one year's calendar (administrators).
    #[oai(path = "/calendar/:year", method = "put")]
    async fn put_year(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        year: Path<i32>,
        body: Json<CalendarYearInput>,
    ) -> Result<Saved, ApiError> {
        auth.0.require(&[Role::Admin])?;
        let days: Vec<CalendarDay> = body
            .0
            .days
            .into_iter()
            .map(|d| CalendarDay {
                date: d.date,
                kind: match d.kind {
                    DayKindName::Holiday => DayKind::Holiday,
                    DayKindName::Workday => DayKind::Workday,
                },
                name: d.name.into(),
            })
            .collect();
        service::replace_calendar_year(&*state.storage, year.0, &days).await?;
        let detail = format!("{} days", days.len());
        audit::record(
            &state,
            &auth,
            "put_calendar_year",
            "calendar",
            year.0,
            detail,
        )
        .await?;
        Ok(Saved::Done)
    }

    /// A service point's opening days, sessions and default capacity (administrators).
    #[oai(path = "/service-points/:id/opening", method = "put")]
    async fn put_opening(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        body: Json<OpeningInput>,
    ) -> Result<Json<ServicePoint>, ApiError> {
        auth.0.require(&[Role::Admin])?;
        let input = body.0;
        let weekdays: Vec<u8> = input
            .open_weekdays
            .iter()
            .map(|d| u8::try_from(*d).unwrap_or(0))
            .collect();
        let sessions: Vec<Session> = input.sessions.iter().map(|s| (*s).into()).collect();
        let point = service::set_opening(
            &*state.storage,
            id.0,
            &weekdays,
            &sessions,
            input.capacity_morning,
            input.capacity_afternoon,
        )
        .await?;
        let detail = format!(
            "weekdays {weekdays:?}, capacity {}/{}",
            input.capacity_morning, input.capacity_afternoon
        );
        audit::record(
            &state,
            &auth,
            "put_opening",
            "service_point",
            point.id,
            detail,
        )
        .await?;
        Ok(Json(point.into()))
    }

    /// The capacity of one session of one day (administrators); 0 closes it.
    #[oai(path = "/service-points/:id/capacity/:date/:session", method = "put")]
    async fn put_capacity(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<Uuid>,
        date: Path<NaiveDate>,
        session: Path<SessionName>,
        body: Json<SlotCapacityInput>,
    ) -> Result<Saved, ApiError> {
        auth.0.require(&[Role::Admin])?;
        service::set_slot_capacity(
            &*state.storage,
            &*state.ephemeral,
            id.0,
            date.0,
            session.0.into(),
            body.0.capacity,
        )
        .await?;
        let detail = format!("{} {:?}: {:?}", date.0, session.0, body.0.capacity);
        audit::record(&state, &auth, "put_capacity", "service_point", id.0, detail).await?;
        Ok(Saved::Done)
    }
}
