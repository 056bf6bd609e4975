//! The seed data (api/seed/*.json): the Hangzhou region tree, the seven 上城区 service points of
//! the Zhejiang manual §4.1, the policies and guides of §4.2-4.3. Regions are reference data that
//! registration needs, so they load once in every mode; service points and articles load once in
//! demo mode. Either way an administrator's later edits stand. Each set loads in one
//! transaction with its marker, so it is there entirely or not at all.

use serde::Deserialize;

use super::model::{ArticleInput, Region, ServicePoint, ServicePointInput};
use super::store;
use crate::platform::storage::{Storage, StorageError, StorageResult, Tx, claim_marker};

const REGIONS: &str = include_str!("../../seed/regions.json");
const SERVICE_POINTS: &str = include_str!("../../seed/service_points.json");
const ARTICLES: &str = include_str!("../../seed/articles.json");

#[derive(Deserialize)]
struct RegionNode {
    code: String,
    name: String,
    name_en: Option<String>,
    level: String,
    #[serde(default)]
    children: Vec<RegionNode>,
}

fn flatten(node: RegionNode, parent: Option<&str>, out: &mut Vec<Region>) {
    out.push(Region {
        code: node.code.clone(),
        parent_code: parent.map(str::to_string),
        name: node.name,
        name_en: node.name_en,
        level: node.level,
    });
    for child in node.children {
        flatten(child, Some(&node.code), out);
    }
}

/// Every region, parents before children.
pub fn regions() -> Result<Vec<Region>, serde_json::Error> {
    let roots: Vec<RegionNode> = serde_json::from_str(REGIONS)?;
    let mut out = Vec::new();
    for root in roots {
        flatten(root, None, &mut out);
    }
    Ok(out)
}

pub fn service_points() -> Result<Vec<ServicePointInput>, serde_json::Error> {
    serde_json::from_str(SERVICE_POINTS)
}

pub fn articles() -> Result<Vec<ArticleInput>, serde_json::Error> {
    serde_json::from_str(ARTICLES)
}

fn corrupt(_: serde_json::Error) -> StorageError {
    StorageError::Corrupt("seed data")
}

pub async fn load_regions(storage: &dyn Storage) -> StorageResult<usize> {
    let regions = regions().map_err(corrupt)?;
    let mut tx = storage.begin().await?;
    for region in &regions {
        store::upsert_region_in(&mut tx, region).await?;
    }
    tx.commit().await?;
    Ok(regions.len())
}

const REGIONS_MARKER: &str = "regions_seed_loaded";
const DEMO_MARKER: &str = "demo_seed_loaded";

/// Loads the region tree unless it was loaded before: the marker and every region in one
/// transaction (see `claim_marker`), so a start killed half-way leaves nothing and the next
/// start loads the tree again, and of instances starting at once exactly one loads it.
pub async fn load_regions_once(storage: &dyn Storage) -> StorageResult<bool> {
    let regions = regions().map_err(corrupt)?;
    let mut tx = storage.begin().await?;
    if !claim_marker(&mut tx, REGIONS_MARKER).await? {
        return Ok(false);
    }
    for region in &regions {
        store::upsert_region_in(&mut tx, region).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Claims the demo seed in the caller's transaction: `false` when a start before loaded it
/// (or another instance is loading it now and commits).
pub async fn claim_demo(tx: &mut Tx) -> StorageResult<bool> {
    claim_marker(tx, DEMO_MARKER).await
}

/// Writes the demo service points and articles in the caller's transaction (the demo's staff
/// go in the same one); answers the service points, in the seed's order.
pub async fn demo_directory_in(tx: &mut Tx) -> StorageResult<Vec<ServicePoint>> {
    let mut points = Vec::new();
    for point in service_points().map_err(corrupt)? {
        points.push(store::insert_service_point_in(tx, &point).await?);
    }
    for article in articles().map_err(corrupt)? {
        store::insert_article_unless_taken_in(tx, &article).await?;
    }
    Ok(points)
}

/// Loads the demo service points and articles unless they were loaded before, in one
/// transaction with their marker.
pub async fn load_demo_directory(storage: &dyn Storage) -> StorageResult<bool> {
    let mut tx = storage.begin().await?;
    if !claim_demo(&mut tx).await? {
        return Ok(false);
    }
    demo_directory_in(&mut tx).await?;
    tx.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_files_parse_and_hold_the_seven_shangcheng_points() {
        let regions = regions().expect("regions.json");
        let shangcheng: Vec<_> = regions
            .iter()
            .filter(|r| r.parent_code.as_deref() == Some("330102"))
            .collect();
        assert!(shangcheng.len() >= 14, "上城区 has 14 streets");
        for street in &shangcheng {
            assert!(
                regions
                    .iter()
                    .any(|r| r.parent_code.as_deref() == Some(street.code.as_str())),
                "{} has communities",
                street.name
            );
        }
        let points = service_points().expect("service_points.json");
        assert_eq!(points.len(), 7);
        assert_eq!(points[0].name, "清波派出所受理点");
        assert!(points[0].opens_saturday);
        assert_eq!(points.iter().filter(|p| p.opens_saturday).count(), 1);
        let articles = articles().expect("articles.json");
        assert!(
            articles
                .iter()
                .any(|a| a.kind == super::super::ArticleKind::Policy)
        );
        assert!(
            articles
                .iter()
                .any(|a| a.kind == super::super::ArticleKind::Guide)
        );
    }
}
