//! The directory as the domain sees it: regions (district → street → community), service points
//! (受理网点) and articles (政策法规, 办事指南), and the rules an administrator's edits follow.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub code: String,
    pub parent_code: Option<String>,
    pub name: String,
    pub name_en: Option<String>,
    /// city, district, street or community
    pub level: String,
}

/// A region as an administrator writes it; the code comes from the path.
#[derive(Debug, Clone)]
pub struct RegionInput {
    pub parent_code: Option<String>,
    pub name: String,
    pub name_en: Option<String>,
    pub level: String,
}

/// 受理网点, with the columns of the Zhejiang manual's service-point table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePoint {
    pub id: Uuid,
    pub number: i32,
    pub district_code: String,
    pub street_code: Option<String>,
    pub police_station: String,
    pub name: String,
    pub scope: String,
    pub address: String,
    pub phone: String,
    pub hours: String,
    pub opens_saturday: bool,
    /// ISO weekdays (1 = Monday).
    pub open_weekdays: Vec<i32>,
    /// `morning`, `afternoon`.
    pub sessions: Vec<String>,
    pub capacity_morning: i32,
    pub capacity_afternoon: i32,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct ServicePointInput {
    pub number: i32,
    pub district_code: String,
    pub street_code: Option<String>,
    pub police_station: String,
    pub name: String,
    pub scope: String,
    pub address: String,
    pub phone: String,
    pub hours: String,
    #[serde(default)]
    pub opens_saturday: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArticleKind {
    /// 政策法规
    Policy,
    /// 办事指南
    Guide,
}

impl ArticleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ArticleKind::Policy => "policy",
            ArticleKind::Guide => "guide",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "policy" => Some(ArticleKind::Policy),
            "guide" => Some(ArticleKind::Guide),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    pub id: Uuid,
    pub slug: String,
    pub kind: ArticleKind,
    pub title: String,
    pub title_en: Option<String>,
    pub summary: String,
    /// Markdown.
    pub body: String,
    pub source: Option<String>,
    pub published_on: Option<NaiveDate>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct ArticleInput {
    pub slug: String,
    pub kind: ArticleKind,
    pub title: String,
    pub title_en: Option<String>,
    pub summary: String,
    pub body: String,
    pub source: Option<String>,
    pub published_on: Option<NaiveDate>,
}

/// An edit that breaks a rule of the directory, and the field it concerns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error("a region code is at most 12 digits")]
    RegionCode,
    #[error("the level is not one of city, district, street, community")]
    Level,
    /// Empty, or longer than `max` characters.
    #[error("{field} is empty or longer than {max} characters")]
    Required { field: &'static str, max: usize },
    #[error("the number is negative")]
    NegativeNumber,
    #[error("the slug is not lower-case letters, digits and dashes")]
    Slug,
}

fn required(value: &str, field: &'static str, max: usize) -> Result<(), FieldError> {
    let n = value.trim().chars().count();
    if n == 0 || n > max {
        return Err(FieldError::Required { field, max });
    }
    Ok(())
}

impl RegionInput {
    /// The region this input writes at `code`, trimmed; the code is all digits, at most 12.
    pub fn into_region(self, code: String) -> Result<Region, FieldError> {
        if code.is_empty() || code.len() > 12 || !code.chars().all(|c| c.is_ascii_digit()) {
            return Err(FieldError::RegionCode);
        }
        if !matches!(
            self.level.as_str(),
            "city" | "district" | "street" | "community"
        ) {
            return Err(FieldError::Level);
        }
        required(&self.name, "name", 50)?;
        Ok(Region {
            code,
            parent_code: self.parent_code.filter(|p| !p.is_empty()),
            name: self.name.trim().to_string(),
            name_en: self.name_en,
            level: self.level,
        })
    }
}

impl ServicePointInput {
    pub fn check(&self) -> Result<(), FieldError> {
        required(&self.district_code, "district_code", 12)?;
        required(&self.police_station, "police_station", 100)?;
        required(&self.name, "name", 100)?;
        required(&self.scope, "scope", 500)?;
        required(&self.address, "address", 200)?;
        required(&self.phone, "phone", 50)?;
        required(&self.hours, "hours", 200)?;
        if self.number < 0 {
            return Err(FieldError::NegativeNumber);
        }
        Ok(())
    }
}

impl ArticleInput {
    pub fn check(&self) -> Result<(), FieldError> {
        let slug_ok = (1..=100).contains(&self.slug.len())
            && self
                .slug
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !slug_ok {
            return Err(FieldError::Slug);
        }
        required(&self.title, "title", 200)?;
        required(&self.summary, "summary", 500)?;
        required(&self.body, "body", 200_000)?;
        Ok(())
    }
}

/// An article is named by its id or, failing that, by its slug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArticleKey {
    Id(Uuid),
    Slug(String),
}

impl ArticleKey {
    pub fn parse(raw: &str) -> ArticleKey {
        match Uuid::parse_str(raw) {
            Ok(id) => ArticleKey::Id(id),
            Err(_) => ArticleKey::Slug(raw.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(level: &str, name: &str) -> RegionInput {
        RegionInput {
            parent_code: Some(String::new()),
            name: name.into(),
            name_en: None,
            level: level.into(),
        }
    }

    fn point() -> ServicePointInput {
        ServicePointInput {
            number: 1,
            district_code: "330102".into(),
            street_code: None,
            police_station: "清波派出所".into(),
            name: "清波派出所居住证受理点".into(),
            scope: "清波街道".into(),
            address: "杭州市上城区".into(),
            phone: "0571-00000000".into(),
            hours: "8:30-17:00".into(),
            opens_saturday: false,
        }
    }

    fn article(slug: &str) -> ArticleInput {
        ArticleInput {
            slug: slug.into(),
            kind: ArticleKind::Guide,
            title: "办事指南".into(),
            title_en: None,
            summary: "摘要".into(),
            body: "正文".into(),
            source: None,
            published_on: None,
        }
    }

    #[test]
    fn a_region_code_is_at_most_twelve_digits_and_its_level_is_known() {
        let ok = region("street", "  清波街道 ").into_region("330102001".into());
        let ok = ok.expect("a street with a 9-digit code");
        assert_eq!(ok.name, "清波街道");
        assert_eq!(ok.parent_code, None, "an empty parent is the top level");
        for bad in ["", "3301020010001", "33010a"] {
            assert_eq!(
                region("street", "清波").into_region(bad.into()),
                Err(FieldError::RegionCode),
                "{bad:?}"
            );
        }
        assert_eq!(
            region("province", "浙江").into_region("33".into()),
            Err(FieldError::Level)
        );
        assert_eq!(
            region("city", " ").into_region("3301".into()),
            Err(FieldError::Required {
                field: "name",
                max: 50
            })
        );
    }

    #[test]
    fn a_service_point_needs_its_columns_and_a_number_not_below_zero() {
        assert_eq!(point().check(), Ok(()));
        let mut p = point();
        p.address = "地".repeat(201);
        assert_eq!(
            p.check(),
            Err(FieldError::Required {
                field: "address",
                max: 200
            })
        );
        let mut p = point();
        p.number = -1;
        assert_eq!(p.check(), Err(FieldError::NegativeNumber));
    }

    #[test]
    fn an_article_slug_is_lower_case_letters_digits_and_dashes() {
        assert_eq!(article("residence-permit-2026").check(), Ok(()));
        for bad in ["", "Guide", "办事", "a b", &"a".repeat(101)] {
            assert_eq!(article(bad).check(), Err(FieldError::Slug), "{bad:?}");
        }
    }

    #[test]
    fn an_article_is_named_by_id_or_slug() {
        let id = Uuid::new_v4();
        assert_eq!(ArticleKey::parse(&id.to_string()), ArticleKey::Id(id));
        assert_eq!(
            ArticleKey::parse("guide-1"),
            ArticleKey::Slug("guide-1".into())
        );
    }
}
