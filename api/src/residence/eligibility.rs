//! Eligibility for a residence permit, as a per-jurisdiction policy (Zhejiang by default).
//!
//! The rule (the Wenzhou article §1, the Zhejiang manual §4.3): registered residence for at least N months, counted
//! from the residence registration date, plus exactly one condition (employment, residence,
//! study); special talent / investment is exempt from both. Minors below an age apply through
//! a guardian, who brings extra proof.

use std::collections::BTreeSet;

use chrono::{Datelike, Months, NaiveDate};

/// The default policy, the Zhejiang manual §4.3 (浙江省居住证申领指南). The talent proof is thinner in the
/// seed ("as the county government rules"), so its document list is a plain summary.
pub const ZHEJIANG_JSON: &str = include_str!("../../seed/policy-zhejiang.json");

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("policy JSON is invalid: {0}")]
    Json(String),
    #[error("jurisdiction `{0}` must be lowercase letters and underscores")]
    BadJurisdiction(String),
    #[error("residence_months is {0}; it must be 1 to 60")]
    ResidenceMonths(u32),
    #[error("guardian_under_age is {0}; it must be 1 to 18")]
    GuardianAge(u32),
    #[error("the policy needs at least one condition")]
    NoConditions,
    #[error("condition code `{0}` must be lowercase letters and underscores")]
    BadCode(String),
    #[error("condition code `{0}` is used twice")]
    DuplicateCode(String),
    #[error("condition `{0}` lists no proof")]
    NoProof(String),
    #[error("condition `{code}`, case `{case}` lists no documents")]
    EmptyProof { code: String, case: String },
}

/// One way to prove a condition: a situation and the documents it needs (all of them).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofOption {
    pub case_zh: String,
    pub documents_zh: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionRule {
    /// Stable identifier stored with an application, e.g. `employment`.
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// True for special talent / investment: no residence period needed.
    pub exempt_from_residence: bool,
    pub requirement_zh: String,
    pub proof: Vec<ProofOption>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub jurisdiction: String,
    pub name_zh: String,
    pub residence_months: u32,
    /// Applicants younger than this (in full years) apply through a guardian.
    pub guardian_under_age: u32,
    pub conditions: Vec<ConditionRule>,
    pub guardian_proof_zh: Vec<String>,
}

fn is_code(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

impl Policy {
    /// Parses and validates a policy; unknown fields are rejected so a typo cannot silently
    /// fall back to a default.
    pub fn from_json(text: &str) -> Result<Policy, PolicyError> {
        let policy: Policy =
            serde_json::from_str(text).map_err(|e| PolicyError::Json(e.to_string()))?;
        policy.validate()?;
        Ok(policy)
    }

    pub fn validate(&self) -> Result<(), PolicyError> {
        if !is_code(&self.jurisdiction) {
            return Err(PolicyError::BadJurisdiction(self.jurisdiction.clone()));
        }
        if !(1..=60).contains(&self.residence_months) {
            return Err(PolicyError::ResidenceMonths(self.residence_months));
        }
        if !(1..=18).contains(&self.guardian_under_age) {
            return Err(PolicyError::GuardianAge(self.guardian_under_age));
        }
        if self.conditions.is_empty() {
            return Err(PolicyError::NoConditions);
        }
        let mut seen = BTreeSet::new();
        for c in &self.conditions {
            if !is_code(&c.code) {
                return Err(PolicyError::BadCode(c.code.clone()));
            }
            if !seen.insert(c.code.as_str()) {
                return Err(PolicyError::DuplicateCode(c.code.clone()));
            }
            if c.proof.is_empty() {
                return Err(PolicyError::NoProof(c.code.clone()));
            }
            if let Some(p) = c.proof.iter().find(|p| p.documents_zh.is_empty()) {
                return Err(PolicyError::EmptyProof {
                    code: c.code.clone(),
                    case: p.case_zh.clone(),
                });
            }
        }
        Ok(())
    }

    pub fn condition(&self, code: &str) -> Option<&ConditionRule> {
        self.conditions.iter().find(|c| c.code == code)
    }
}

/// The Zhejiang policy embedded in the server.
pub fn zhejiang() -> Policy {
    // Compiled in and checked by a unit test, so this cannot fail at run time.
    Policy::from_json(ZHEJIANG_JSON).expect("embedded Zhejiang policy is valid")
}

/// What the assessment needs to know about the applicant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facts {
    pub today: NaiveDate,
    pub birth_date: NaiveDate,
    /// The residence registration (居住登记) date, if any.
    pub registered_on: Option<NaiveDate>,
}

/// Something the applicant lacks before a non-exempt condition can be used.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Lack {
    NoResidenceRegistration,
    /// The residence period is met on `until`.
    ResidenceTooShort {
        until: NaiveDate,
    },
}

impl Lack {
    pub fn code(&self) -> &'static str {
        match self {
            Lack::NoResidenceRegistration => "no_residence_registration",
            Lack::ResidenceTooShort { .. } => "residence_too_short",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            Lack::NoResidenceRegistration => {
                "尚未办理居住登记，请先申报居住登记；连续居住时间自申报居住登记之日起计算".into()
            }
            Lack::ResidenceTooShort { until } => {
                format!(
                    "居住登记时间未满规定期限，{}起可申领",
                    until.format("%Y年%m月%d日")
                )
            }
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            Lack::NoResidenceRegistration => "No residence registration yet: register first; \
                 continuous residence counts from the registration date."
                .into(),
            Lack::ResidenceTooShort { until } => {
                format!(
                    "The registered residence period is not yet met; you may apply from {until}."
                )
            }
        }
    }
}

/// One condition as it applies to this applicant now.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ConditionAssessment {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub exempt_from_residence: bool,
    pub requirement_zh: String,
    /// Exempt, or the residence period is met.
    pub available_now: bool,
    pub proof: Vec<ProofOption>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Assessment {
    /// The residence period is met (the non-exempt conditions may be used).
    pub eligible: bool,
    pub residence_since: Option<NaiveDate>,
    /// The first day the residence period is met.
    pub eligible_from: Option<NaiveDate>,
    pub months_required: u32,
    /// Younger than the policy's guardian age: a guardian applies.
    pub minor: bool,
    pub lacking: Vec<Lack>,
    pub conditions: Vec<ConditionAssessment>,
    /// Empty unless `minor`.
    pub guardian_proof_zh: Vec<String>,
}

/// Full years of age on `today`. Someone born on 29 February turns a year older on 1 March in
/// a common year (the anniversary has not passed on 28 February).
pub fn age_on(birth_date: NaiveDate, today: NaiveDate) -> u32 {
    let mut years = today.year() - birth_date.year();
    if (today.month(), today.day()) < (birth_date.month(), birth_date.day()) {
        years -= 1;
    }
    u32::try_from(years).unwrap_or(0)
}

pub fn assess(policy: &Policy, facts: &Facts) -> Assessment {
    // checked_add_months clamps to the month's end (31 Aug + 6 months = 28/29 Feb) and is None
    // only past chrono's range, which no registration date reaches.
    let eligible_from = facts
        .registered_on
        .and_then(|r| r.checked_add_months(Months::new(policy.residence_months)));
    let eligible = eligible_from.is_some_and(|from| from <= facts.today);
    let mut lacking = Vec::new();
    match (facts.registered_on, eligible_from) {
        (None, _) => lacking.push(Lack::NoResidenceRegistration),
        (Some(_), Some(until)) if !eligible => lacking.push(Lack::ResidenceTooShort { until }),
        (Some(_), None) => lacking.push(Lack::ResidenceTooShort {
            until: NaiveDate::MAX,
        }),
        (Some(_), Some(_)) => {}
    }
    let minor = age_on(facts.birth_date, facts.today) < policy.guardian_under_age;
    let conditions = policy
        .conditions
        .iter()
        .map(|c| ConditionAssessment {
            code: c.code.clone(),
            name_zh: c.name_zh.clone(),
            name_en: c.name_en.clone(),
            exempt_from_residence: c.exempt_from_residence,
            requirement_zh: c.requirement_zh.clone(),
            available_now: c.exempt_from_residence || eligible,
            proof: c.proof.clone(),
        })
        .collect();
    Assessment {
        eligible,
        residence_since: facts.registered_on,
        eligible_from,
        months_required: policy.residence_months,
        minor,
        lacking,
        conditions,
        guardian_proof_zh: if minor {
            policy.guardian_proof_zh.clone()
        } else {
            Vec::new()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn adult(today: &str, registered_on: Option<&str>) -> Facts {
        Facts {
            today: d(today),
            birth_date: d("1990-05-01"),
            registered_on: registered_on.map(d),
        }
    }

    fn available(a: &Assessment, code: &str) -> bool {
        a.conditions
            .iter()
            .find(|c| c.code == code)
            .unwrap()
            .available_now
    }

    #[test]
    fn zhejiang_parses_with_four_conditions() {
        let p = zhejiang();
        assert_eq!(p.jurisdiction, "zhejiang");
        assert_eq!(p.residence_months, 6);
        assert_eq!(p.guardian_under_age, 16);
        let codes: Vec<&str> = p.conditions.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(codes, ["employment", "residence", "study", "talent"]);
        assert!(p.condition("talent").unwrap().exempt_from_residence);
        assert!(!p.condition("employment").unwrap().exempt_from_residence);
        assert!(p.condition("nope").is_none());
        // The one-year social insurance requirement is part of every employment case.
        for case in &p.condition("employment").unwrap().proof {
            assert!(
                case.documents_zh
                    .iter()
                    .any(|doc| doc.contains("社会保险满1年")),
                "{case:?}"
            );
        }
        assert_eq!(p.guardian_proof_zh.len(), 5);
        // Round trip through serde keeps it identical.
        let again = Policy::from_json(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(again, p);
    }

    #[test]
    fn exactly_six_months_is_eligible_that_day_not_before() {
        let p = zhejiang();
        let on = assess(&p, &adult("2025-09-15", Some("2025-03-15")));
        assert!(on.eligible);
        assert!(on.lacking.is_empty());
        assert_eq!(on.eligible_from, Some(d("2025-09-15")));
        assert_eq!(on.residence_since, Some(d("2025-03-15")));
        assert_eq!(on.months_required, 6);
        assert!(on.conditions.iter().all(|c| c.available_now));

        let before = assess(&p, &adult("2025-09-14", Some("2025-03-15")));
        assert!(!before.eligible);
        assert_eq!(
            before.lacking,
            vec![Lack::ResidenceTooShort {
                until: d("2025-09-15")
            }]
        );
    }

    #[test]
    fn no_registration() {
        let a = assess(&zhejiang(), &adult("2025-09-15", None));
        assert!(!a.eligible);
        assert_eq!(a.residence_since, None);
        assert_eq!(a.eligible_from, None);
        assert_eq!(a.lacking, vec![Lack::NoResidenceRegistration]);
        assert!(available(&a, "talent"));
        assert!(!available(&a, "study"));
        assert_eq!(
            serde_json::to_value(&a.lacking[0]).unwrap(),
            serde_json::json!({ "code": "no_residence_registration" })
        );
    }

    #[test]
    fn month_end_is_clamped() {
        let p = zhejiang();
        let a = assess(&p, &adult("2026-02-28", Some("2025-08-31")));
        assert_eq!(a.eligible_from, Some(d("2026-02-28")));
        assert!(a.eligible);
        let a = assess(&p, &adult("2024-02-28", Some("2023-08-31")));
        assert_eq!(a.eligible_from, Some(d("2024-02-29")));
        assert!(!a.eligible);
        assert_eq!(
            a.lacking,
            vec![Lack::ResidenceTooShort {
                until: d("2024-02-29")
            }]
        );
    }

    #[test]
    fn minor_until_the_sixteenth_birthday() {
        let p = zhejiang();
        let facts = |today: &str, birth: &str| Facts {
            today: d(today),
            birth_date: d(birth),
            registered_on: Some(d("2020-01-01")),
        };
        // 15 years and 364 days.
        let a = assess(&p, &facts("2026-03-09", "2010-03-10"));
        assert!(a.minor);
        assert_eq!(a.guardian_proof_zh, p.guardian_proof_zh);
        // 16 exactly.
        let a = assess(&p, &facts("2026-03-10", "2010-03-10"));
        assert!(!a.minor);
        assert!(a.guardian_proof_zh.is_empty());
        // Born on 29 February: 16 on 1 March of a common year, not on 28 February.
        assert!(assess(&p, &facts("2024-02-28", "2008-02-29")).minor);
        assert!(!assess(&p, &facts("2024-02-29", "2008-02-29")).minor);
        assert!(assess(&p, &facts("2025-02-28", "2009-03-01")).minor);
        assert!(!assess(&p, &facts("2025-03-01", "2009-03-01")).minor);
        assert_eq!(age_on(d("2008-02-29"), d("2025-02-28")), 16);
        assert_eq!(age_on(d("2008-02-29"), d("2025-03-01")), 17);
        assert_eq!(age_on(d("2012-02-29"), d("2028-02-28")), 15);
        assert_eq!(age_on(d("2012-02-29"), d("2028-02-29")), 16);
        // A birth date after today is not a negative age.
        assert_eq!(age_on(d("2030-01-01"), d("2026-01-01")), 0);
    }

    #[test]
    fn talent_is_available_before_the_residence_period() {
        let a = assess(&zhejiang(), &adult("2025-04-01", Some("2025-03-15")));
        assert!(!a.eligible);
        assert!(available(&a, "talent"));
        for code in ["employment", "residence", "study"] {
            assert!(!available(&a, code), "{code}");
        }
        let talent = a.conditions.iter().find(|c| c.code == "talent").unwrap();
        assert!(!talent.proof.is_empty());
    }

    #[test]
    fn lack_messages() {
        let l = Lack::ResidenceTooShort {
            until: d("2026-02-28"),
        };
        assert_eq!(l.code(), "residence_too_short");
        assert!(
            l.message_zh().contains("2026年02月28日"),
            "{}",
            l.message_zh()
        );
        assert!(l.message_en().contains("2026-02-28"));
        assert_eq!(
            serde_json::to_value(&l).unwrap(),
            serde_json::json!({ "code": "residence_too_short", "until": "2026-02-28" })
        );
        assert!(
            Lack::NoResidenceRegistration
                .message_zh()
                .contains("居住登记")
        );
    }

    #[test]
    fn invalid_policies_are_rejected() {
        let good: serde_json::Value = serde_json::from_str(ZHEJIANG_JSON).unwrap();
        let with = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v = good.clone();
            f(&mut v);
            Policy::from_json(&v.to_string())
        };
        assert!(with(&|_| {}).is_ok());
        assert_eq!(
            with(&|v| v["conditions"] = serde_json::json!([])),
            Err(PolicyError::NoConditions)
        );
        assert_eq!(
            with(&|v| v["conditions"][1]["code"] = "employment".into()),
            Err(PolicyError::DuplicateCode("employment".into()))
        );
        assert_eq!(
            with(&|v| v["conditions"][0]["code"] = "Employment".into()),
            Err(PolicyError::BadCode("Employment".into()))
        );
        assert_eq!(
            with(&|v| v["conditions"][0]["code"] = "".into()),
            Err(PolicyError::BadCode("".into()))
        );
        assert_eq!(
            with(&|v| v["residence_months"] = 0.into()),
            Err(PolicyError::ResidenceMonths(0))
        );
        assert_eq!(
            with(&|v| v["residence_months"] = 61.into()),
            Err(PolicyError::ResidenceMonths(61))
        );
        assert!(with(&|v| v["residence_months"] = 60.into()).is_ok());
        assert_eq!(
            with(&|v| v["guardian_under_age"] = 19.into()),
            Err(PolicyError::GuardianAge(19))
        );
        assert_eq!(
            with(&|v| v["conditions"][2]["proof"] = serde_json::json!([])),
            Err(PolicyError::NoProof("study".into()))
        );
        assert_eq!(
            with(&|v| v["conditions"][2]["proof"][0]["documents_zh"] = serde_json::json!([])),
            Err(PolicyError::EmptyProof {
                code: "study".into(),
                case: "在市区全日制学校就读".into()
            })
        );
        assert_eq!(
            with(&|v| v["jurisdiction"] = "Zhe-jiang".into()),
            Err(PolicyError::BadJurisdiction("Zhe-jiang".into()))
        );
        let typo = with(&|v| {
            let m = v.as_object_mut().unwrap();
            let n = m.remove("residence_months").unwrap();
            m.insert("residence_month".into(), n);
        });
        match typo {
            Err(PolicyError::Json(msg)) => assert!(msg.contains("residence_month"), "{msg}"),
            other => panic!("expected a JSON error, got {other:?}"),
        }
        assert!(matches!(
            Policy::from_json("not json"),
            Err(PolicyError::Json(_))
        ));
        assert_eq!(
            PolicyError::NoProof("study".into()).to_string(),
            "condition `study` lists no proof"
        );
    }
}
