//! The residence endpoints: declaring a registration, listing them, and the eligibility
//! check; with the person and address checks casework's application form shares.

use chrono::NaiveDate;
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use uuid::Uuid;

use crate::identity::auth::SessionAuth;
use crate::identity::model::{IdNumber, Role, mask_id_number};
use crate::platform::clock::local_date;
use crate::platform::error::ApiError;
use crate::platform::state::AppState;
use crate::platform::text::{Nullable, Text};
use crate::platform::web::ApiTags;
use crate::residence::eligibility::Assessment;
use crate::residence::service::{self, ResidenceError};

use super::model::{AddressPart, NewRegistration, Person, ResidenceAddress, ResidenceRegistration};

/// A residence address chosen level by level: district → street → detail down to the room,
/// and the community (社区/村委会) under a street of the same district.
#[derive(Debug, Clone, Object)]
pub struct Address {
    /// 区县 (a `district` region code).
    pub district_code: Text,
    /// 乡镇街道 (a `street` region code under the district).
    pub street_code: Text,
    /// 街路巷、门牌、楼幢号、房号.
    pub address_detail: Text,
    /// 社区 (a `community` region code in the district).
    pub community_code: Text,
}

impl Address {
    /// Checks every level against the region data.
    pub async fn check(&self, state: &AppState) -> Result<(), ApiError> {
        Ok(service::check_address(&*state.storage, &self.clone().into()).await?)
    }
}

impl From<Address> for ResidenceAddress {
    fn from(a: Address) -> Self {
        ResidenceAddress {
            district_code: a.district_code.into(),
            street_code: a.street_code.into(),
            address_detail: a.address_detail.into(),
            community_code: a.community_code.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum HousingType {
    /// 自有住房
    Own,
    /// 租赁房屋
    Rented,
    /// 单位宿舍
    Employer,
    /// 学校宿舍
    School,
    /// 借住亲友
    Relative,
    /// 其他
    Other,
}

impl HousingType {
    fn as_str(self) -> &'static str {
        match self {
            HousingType::Own => "own",
            HousingType::Rented => "rented",
            HousingType::Employer => "employer",
            HousingType::School => "school",
            HousingType::Relative => "relative",
            HousingType::Other => "other",
        }
    }
    fn parse(s: &str) -> Self {
        match s {
            "own" => HousingType::Own,
            "rented" => HousingType::Rented,
            "employer" => HousingType::Employer,
            "school" => HousingType::School,
            "relative" => HousingType::Relative,
            _ => HousingType::Other,
        }
    }
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "ResidenceRegistrationInput")]
pub struct RegistrationInput {
    /// The person's name; the account holder's when absent.
    pub person_name: Nullable<Text>,
    /// The person's citizen ID number; the account holder's when absent.
    pub id_number: Nullable<Text>,
    #[oai(flatten)]
    pub address: Address,
    /// 入住日期
    pub moved_in_on: NaiveDate,
    pub housing_type: HousingType,
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "ResidenceRegistration")]
pub struct Registration {
    pub id: Uuid,
    pub person_name: String,
    /// Masked: first 6 and last 4 characters.
    pub id_number: String,
    #[oai(flatten)]
    pub address: Address,
    pub moved_in_on: NaiveDate,
    pub housing_type: HousingType,
    /// 登记日期: continuous residence counts from here.
    pub registered_on: NaiveDate,
}

impl From<ResidenceRegistration> for Registration {
    fn from(r: ResidenceRegistration) -> Self {
        let f = r.fields;
        Registration {
            id: r.id,
            person_name: f.person_name,
            id_number: mask_id_number(&f.id_number),
            address: Address {
                district_code: f.district_code.into(),
                street_code: f.street_code.into(),
                address_detail: f.address_detail.into(),
                community_code: f.community_code.into(),
            },
            moved_in_on: f.moved_in_on,
            housing_type: HousingType::parse(&f.housing_type),
            registered_on: f.registered_on,
        }
    }
}

#[derive(Debug, ApiResponse)]
pub enum Registered {
    #[oai(status = 201)]
    Created(Json<Registration>),
}

/// Resolves the named person, or the account holder when both fields are absent.
pub async fn person_or_holder(
    state: &AppState,
    auth: &SessionAuth,
    name: Option<&str>,
    id: Option<&str>,
) -> Result<Person, ApiError> {
    Ok(service::person_or_holder(&*state.storage, auth.0.account_id, name, id).await?)
}

/// Every residence refusal has its stable code, field and words.
impl From<ResidenceError> for ApiError {
    fn from(e: ResidenceError) -> Self {
        let region = |field: &str, message: &str| {
            ApiError::unprocessable("invalid_region", field, message.to_string())
        };
        match e {
            ResidenceError::MovedInOnImpossible => ApiError::unprocessable(
                "invalid_moved_in_on",
                "moved_in_on",
                "入住日期不能晚于今天，也不能早于出生日期",
            ),
            ResidenceError::AccountGone => ApiError::unauthenticated(),
            ResidenceError::IdNumberRequired => ApiError::unprocessable(
                "id_number_required",
                "id_number",
                "请填写申请人的公民身份号码",
            ),
            ResidenceError::PersonIncomplete => ApiError::unprocessable(
                "person_incomplete",
                "id_number",
                "为他人办理时，请同时填写姓名和公民身份号码",
            ),
            ResidenceError::InvalidName => {
                ApiError::unprocessable("invalid_real_name", "person_name", "请输入真实姓名")
            }
            ResidenceError::InvalidIdNumber(e) => {
                ApiError::unprocessable(e.code(), "id_number", e.message())
            }
            ResidenceError::InvalidRegion(part) => region(
                match part {
                    AddressPart::District => "district_code",
                    AddressPart::Street => "street_code",
                    AddressPart::Community => "community_code",
                },
                "请逐级选择有效的区县、街道和社区",
            ),
            ResidenceError::StreetOutsideDistrict => {
                region("street_code", "所选街道不属于所选区县")
            }
            ResidenceError::CommunityOutsideDistrict => {
                region("community_code", "所选社区不属于所选区县")
            }
            ResidenceError::InvalidAddressDetail => ApiError::unprocessable(
                "invalid_address_detail",
                "address_detail",
                "请填写街道以下的详细地址，直到房号（2至100个字符）",
            ),
            ResidenceError::Storage(e) => e.into(),
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct ProofOption {
    pub case_zh: String,
    pub documents_zh: Vec<String>,
}

#[derive(Debug, Clone, Object)]
pub struct ConditionAnswer {
    /// `employment`, `residence`, `study`, `talent` in the Zhejiang policy.
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// 特殊人才: exempt from the residence period.
    pub exempt_from_residence: bool,
    /// Whether this condition can be used today.
    pub available_now: bool,
    /// The proof each case needs (the Zhejiang manual §4.3).
    pub proof: Vec<ProofOption>,
}

#[derive(Debug, Clone, Object)]
pub struct Lacking {
    /// `no_residence_registration` or `residence_too_short`.
    pub code: String,
    pub message: String,
    pub message_en: String,
}

#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct EligibilityAnswer {
    pub jurisdiction: String,
    /// The residence period is met: any one condition makes the person eligible.
    pub eligible: bool,
    pub residence_since: Option<NaiveDate>,
    /// The first day the residence period is met.
    pub eligible_from: Option<NaiveDate>,
    pub months_required: u32,
    /// Under the guardian age: a guardian applies and brings the guardian proof.
    pub minor: bool,
    pub lacking: Vec<Lacking>,
    pub conditions: Vec<ConditionAnswer>,
    pub guardian_proof_zh: Vec<String>,
}

/// The eligibility answer as the API shows it.
fn answer(jurisdiction: &str, a: Assessment) -> EligibilityAnswer {
    EligibilityAnswer {
        jurisdiction: jurisdiction.to_string(),
        eligible: a.eligible,
        residence_since: a.residence_since,
        eligible_from: a.eligible_from,
        months_required: a.months_required,
        minor: a.minor,
        lacking: a
            .lacking
            .iter()
            .map(|l| Lacking {
                code: l.code().to_string(),
                message: l.message_zh(),
                message_en: l.message_en(),
            })
            .collect(),
        conditions: a
            .conditions
            .into_iter()
            .map(|c| ConditionAnswer {
                code: c.code,
                name_zh: c.name_zh,
                name_en: c.name_en,
                exempt_from_residence: c.exempt_from_residence,
                available_now: c.available_now,
                proof: c
                    .proof
                    .into_iter()
                    .map(|p| ProofOption {
                        case_zh: p.case_zh,
                        documents_zh: p.documents_zh,
                    })
                    .collect(),
            })
            .collect(),
        guardian_proof_zh: a.guardian_proof_zh,
    }
}

/// Residents and units act for people; staff work through the counter operations.
pub fn require_applicant(auth: &SessionAuth) -> Result<(), ApiError> {
    auth.0.require(&[Role::Resident, Role::Unit])
}

pub struct ResidenceApi;

#[OpenApi(tag = "ApiTags::Residence")]
impl ResidenceApi {
    /// Declare a residence registration (居住登记) for the account holder or another person.
    #[oai(path = "/residence-registrations", method = "post")]
    async fn register(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        body: Json<RegistrationInput>,
    ) -> Result<Registered, ApiError> {
        require_applicant(&auth)?;
        let input = body.0;
        let person = person_or_holder(
            &state,
            &auth,
            input.person_name.as_deref(),
            input.id_number.as_deref(),
        )
        .await?;
        input.address.check(&state).await?;
        let registration = NewRegistration {
            account_id: auth.0.account_id,
            person_name: person.name,
            id_number: person.id_number.clone(),
            district_code: input.address.district_code.into(),
            street_code: input.address.street_code.into(),
            address_detail: input.address.address_detail.trim().to_string(),
            community_code: input.address.community_code.into(),
            moved_in_on: input.moved_in_on,
            housing_type: input.housing_type.as_str().to_string(),
            // Set by the service: the day it is declared.
            registered_on: local_date(state.clock.now()),
        };
        let stored = service::register(&*state.storage, registration, state.clock.now()).await?;
        Ok(Registered::Created(Json(stored.into())))
    }

    /// My residence registrations.
    #[oai(path = "/residence-registrations", method = "get")]
    async fn mine(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
    ) -> Result<Json<Vec<Registration>>, ApiError> {
        require_applicant(&auth)?;
        let list = service::registrations(&*state.storage, auth.0.account_id).await?;
        Ok(Json(list.into_iter().map(Into::into).collect()))
    }

    /// 查询办证资格: whether the person can apply, from when, and what proof each condition
    /// needs. Without `applicant_id_number`, the account holder.
    #[oai(path = "/eligibility", method = "get")]
    async fn eligibility(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        applicant_id_number: Query<Option<Text>>,
    ) -> Result<Json<EligibilityAnswer>, ApiError> {
        require_applicant(&auth)?;
        let id_number = match applicant_id_number.0.as_deref().filter(|s| !s.is_empty()) {
            Some(id) => IdNumber::parse(id).map_err(|e| {
                ApiError::unprocessable(e.code(), "applicant_id_number", e.message())
            })?,
            None => person_or_holder(&state, &auth, None, None).await?.id_number,
        };
        let assessment = service::assess(
            &*state.storage,
            &state.policy,
            auth.0.account_id,
            &id_number,
            local_date(state.clock.now()),
        )
        .await?;
        Ok(Json(answer(&state.policy.jurisdiction, assessment)))
    }
}
