//! Query-string parameters shared by the API: repeated keys (`where`, `sort`, `expand`,
//! `var.*`), paging limits, and booleans in any letter case as SDKs send them.

use crate::error::ApiError;
use std::collections::HashMap;

/// All query parameters in order, repeated keys kept.
#[derive(Debug, Clone, Default)]
pub struct QueryParams(pub Vec<(String, String)>);

impl QueryParams {
    /// Parses a raw query string.
    pub fn parse(raw: Option<&str>) -> Self {
        QueryParams(
            form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The last value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `var.<name>` values grouped by name (repeated ones form a list).
    pub fn vars(&self) -> HashMap<String, Vec<String>> {
        let mut vars: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in &self.0 {
            if let Some(name) = k.strip_prefix("var.") {
                vars.entry(name.to_owned()).or_default().push(v.clone());
            }
        }
        vars
    }

    /// A boolean parameter: `true`/`false` in any letter case; absent → `default`.
    pub fn bool(&self, name: &str, default: bool) -> Result<bool, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(ApiError::invalid_input(format!(
                "Malformed parameter: {name}: '{v}' is not a boolean."
            ))),
        }
    }

    /// An integer parameter within `min..=max`; absent → `default`.
    pub fn int(&self, name: &str, default: u64, min: u64, max: u64) -> Result<u64, ApiError> {
        let Some(v) = self.get(name) else {
            return Ok(default);
        };
        let n: i64 = v.trim().parse().map_err(|_| {
            ApiError::invalid_input(format!(
                "Malformed parameter: {name}: '{v}' is not an integer."
            ))
        })?;
        u64::try_from(n)
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| {
                ApiError::invalid_input(format!(
                    "Malformed parameter: {name}: must be between {min} and {max}, but was {n}."
                ))
            })
    }

    /// `limit` (default 20, 0..=500).
    pub fn limit(&self) -> Result<u64, ApiError> {
        self.int("limit", 20, 0, 500)
    }

    /// `offset` (default 0, 0..=10000).
    pub fn offset(&self) -> Result<u64, ApiError> {
        self.int("offset", 0, 0, 10_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_accept_any_case_and_reject_the_rest() {
        let q = QueryParams::parse(Some("a=TRUE&b=False&c=yes"));
        assert!(q.bool("a", false).unwrap());
        assert!(!q.bool("b", true).unwrap());
        assert!(q.bool("c", true).is_err());
        assert!(q.bool("d", true).unwrap());
    }

    #[test]
    fn paging_bounds() {
        assert_eq!(QueryParams::parse(None).limit().unwrap(), 20);
        assert_eq!(QueryParams::parse(Some("limit=500")).limit().unwrap(), 500);
        assert!(QueryParams::parse(Some("limit=501")).limit().is_err());
        assert!(QueryParams::parse(Some("limit=-1")).limit().is_err());
        assert!(QueryParams::parse(Some("offset=10001")).offset().is_err());
        assert!(QueryParams::parse(Some("offset=x")).offset().is_err());
    }

    #[test]
    fn vars_group_repeated_names() {
        let q = QueryParams::parse(Some("var.a=1&var.a=2&var.b=x&where=y"));
        assert_eq!(q.vars()["a"], vec!["1", "2"]);
        assert_eq!(q.all("where"), vec!["y"]);
    }
}
