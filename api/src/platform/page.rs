//! Keyset pages of the staff lists: newest first by time, rows with equal times ordered by id,
//! and the cursor is the last row's (time, id), so a page neither skips nor repeats a row
//! however many share a timestamp, and rows added meanwhile do not shift later pages.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Rows per page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: i64 = 50;
/// The most rows one page holds.
pub const MAX_LIMIT: i64 = 200;

/// Where a page ends: the (time, id) of its last row. Written `<RFC 3339 time>_<uuid>`, the
/// time to its last stored digit (a cursor rounded to microseconds would skip the rows between).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

impl Cursor {
    pub fn parse(text: &str) -> Option<Cursor> {
        let (at, id) = text.trim().rsplit_once('_')?;
        Some(Cursor {
            at: DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc),
            id: Uuid::parse_str(id).ok()?,
        })
    }

    pub fn to_text(&self) -> String {
        format!(
            "{}_{}",
            self.at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            self.id
        )
    }
}

/// A page's size: `DEFAULT_LIMIT` unless given, `None` outside 1 to `MAX_LIMIT`.
pub fn limit(asked: Option<i64>) -> Option<i64> {
    let limit = asked.unwrap_or(DEFAULT_LIMIT);
    (1..=MAX_LIMIT).contains(&limit).then_some(limit)
}

/// A page of rows and the cursor of the next one (none on the last page).
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// From `limit + 1` rows read in page order: the extra row only says another page exists.
    pub fn of(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> Cursor) -> Page<T> {
        let limit = usize::try_from(limit).unwrap_or(0);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = if more { rows.last().map(key) } else { None };
        Page { items: rows, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_what_it_wrote_and_refuses_anything_else() {
        let c = Cursor {
            at: DateTime::parse_from_rfc3339("2026-12-04T09:30:00.123456Z")
                .unwrap()
                .with_timezone(&Utc),
            id: Uuid::new_v4(),
        };
        assert_eq!(Cursor::parse(&c.to_text()), Some(c));
        for bad in [
            "",
            "x",
            "2026-12-04T09:30:00Z",
            "2026-12-04T09:30:00Z_nope",
            "_",
        ] {
            assert_eq!(Cursor::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn limits_are_one_to_two_hundred_fifty_by_default() {
        assert_eq!(limit(None), Some(50));
        assert_eq!(limit(Some(1)), Some(1));
        assert_eq!(limit(Some(200)), Some(200));
        assert_eq!(limit(Some(0)), None);
        assert_eq!(limit(Some(201)), None);
        assert_eq!(limit(Some(-3)), None);
    }

    #[test]
    fn the_extra_row_makes_a_next_cursor_and_is_dropped() {
        let at = Utc::now();
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
        let key = |id: &Uuid| Cursor { at, id: *id };
        let page = Page::of(ids.clone(), 2, key);
        assert_eq!(page.items, ids[..2]);
        assert_eq!(page.next, Some(key(&ids[1])));
        let last = Page::of(ids[..2].to_vec(), 2, key);
        assert_eq!(last.next, None);
    }
}
