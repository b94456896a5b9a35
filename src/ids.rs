//! Lists of ids as forms and server functions carry them: "1,3" (topics a visitor ticks,
//! the topics and sites a campaign is aimed at).

use crate::error::AppError;

/// The most ids one list may hold.
pub const MAX_IDS: usize = 50;

/// Ids as text: "1,3".
pub fn ids_text(ids: impl IntoIterator<Item = i64>) -> String {
    ids.into_iter().map(|id| id.to_string()).collect::<Vec<_>>().join(",")
}

/// `text` (as [`ids_text`] writes it) with `id` added or removed.
pub fn toggle_id(text: &str, id: i64, on: bool) -> String {
    let mut ids: Vec<i64> = parse_ids(text, "", "").unwrap_or_default().into_iter().filter(|t| *t != id).collect();
    if on {
        ids.push(id);
    }
    ids.sort();
    ids_text(ids)
}

/// "3,1,3" → [1, 3]: sorted, without repeats, at most [`MAX_IDS`]; anything else is refused
/// with `message`, naming `field`.
pub fn parse_ids(raw: &str, field: &str, message: &str) -> Result<Vec<i64>, AppError> {
    let mut ids = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let id = part.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| AppError::field(field, message))?;
        ids.push(id);
    }
    ids.sort();
    ids.dedup();
    if ids.len() > MAX_IDS {
        return Err(AppError::field(field, format!("At most {MAX_IDS} can be chosen.")));
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_sorted_without_repeats_and_nothing_else_is_taken() {
        assert_eq!(parse_ids(" 3, 1,3 ,", "t", "m").unwrap(), vec![1, 3]);
        assert_eq!(parse_ids("", "t", "m").unwrap(), Vec::<i64>::new());
        for bad in ["x", "1;2", "-4", "0", "1.5"] {
            assert_eq!(parse_ids(bad, "audience", "m").unwrap_err().field_name(), Some("audience"), "{bad}");
        }
        assert!(parse_ids(&ids_text(1..=51), "t", "m").is_err());
    }

    #[test]
    fn ticking_and_unticking_keeps_the_list_sorted_and_unique() {
        assert_eq!(toggle_id("", 3, true), "3");
        assert_eq!(toggle_id("3", 1, true), "1,3");
        assert_eq!(toggle_id("1,3", 3, true), "1,3");
        assert_eq!(toggle_id("1,3", 1, false), "3");
    }
}
