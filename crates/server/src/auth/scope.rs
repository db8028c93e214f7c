//! Scopes: parsing `name:projectKey[:storeKey]` strings and deciding what a set of granted
//! scopes allows. Pure; the implication rules live in one function with a table test.

/// Scope names that say who a token speaks for (password and anonymous flows add them); no API
/// client holds them and no route requires them.
pub const IDENTITY_SCOPES: &[&str] = &["customer_id", "anonymous_id", "external_user_id"];

/// One granted scope, e.g. `manage_customers:demo` or `view_customers:demo:eu-store`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The permission name, e.g. `manage_customers`, or `customer_id` for password flows.
    pub name: String,
    /// The project key (for `customer_id`, the customer id).
    pub project: String,
    /// The store key for store-scoped permissions.
    pub store: Option<String>,
}

impl Scope {
    /// Parses one scope string; `None` when it has no `:`-separated project part.
    pub fn parse(s: &str) -> Option<Scope> {
        let mut parts = s.splitn(3, ':');
        let name = parts.next().filter(|n| !n.is_empty())?;
        let project = parts.next().filter(|p| !p.is_empty())?;
        let store = parts.next().map(str::to_owned);
        if store.as_deref() == Some("") {
            return None;
        }
        Some(Scope {
            name: name.to_owned(),
            project: project.to_owned(),
            store,
        })
    }

    /// Parses a space-separated scope list, skipping blanks; `Err` names the first bad one.
    pub fn parse_list(s: &str) -> Result<Vec<Scope>, String> {
        s.split_whitespace()
            .map(|one| Scope::parse(one).ok_or_else(|| one.to_owned()))
            .collect()
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.name, self.project)?;
        if let Some(store) = &self.store {
            write!(f, ":{store}")?;
        }
        Ok(())
    }
}

/// Whether `granted` allows an operation needing any of `any_of` on `project`, at project level
/// (store-scoped grants do not count) or, with `store`, in that store.
///
/// Rules: `manage_project:{p}` allows everything in `p`; `manage_X` implies `view_X`; a
/// store-scoped `X:{p}:{s}` counts only for store `s`.
pub fn allows(granted: &[Scope], any_of: &[&str], project: &str, store: Option<&str>) -> bool {
    granted.iter().any(|g| {
        if g.project != project {
            return false;
        }
        let store_ok = match (&g.store, store) {
            (None, _) => true,
            (Some(gs), Some(s)) => gs == s,
            (Some(_), None) => false,
        };
        if !store_ok {
            return false;
        }
        if g.name == "manage_project" && g.store.is_none() {
            return true;
        }
        any_of.iter().any(|need| {
            g.name == *need
                || need
                    .strip_prefix("view_")
                    .is_some_and(|rest| g.name == format!("manage_{rest}"))
        })
    })
}

/// Whether a scope list holds an identity entry (`customer_id:…`, `anonymous_id:…`): such a
/// token speaks for a customer or an anonymous session and is for `/me` only.
pub fn names_identity(scopes: &[Scope]) -> bool {
    scopes
        .iter()
        .any(|s| IDENTITY_SCOPES.contains(&s.name.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(list: &str) -> Vec<Scope> {
        Scope::parse_list(list).unwrap()
    }

    #[test]
    fn parses_project_and_store_scopes() {
        assert_eq!(
            Scope::parse("view_customers:demo:eu").unwrap(),
            Scope {
                name: "view_customers".into(),
                project: "demo".into(),
                store: Some("eu".into())
            }
        );
        assert!(Scope::parse("manage_project").is_none());
        assert!(Scope::parse("x:").is_none());
        assert_eq!(Scope::parse("a:b").unwrap().to_string(), "a:b");
    }

    #[test]
    fn customer_id_entries_of_password_flow_tokens_grant_nothing() {
        // Even a customer id that equals the project key names no permission.
        let granted = s("view_messages:demo customer_id:demo");
        assert_eq!(granted[1].name, "customer_id");
        assert!(!allows(&granted, &["view_customers"], "demo", None));
        assert!(!allows(
            &s("customer_id:demo"),
            &["view_messages"],
            "demo",
            None
        ));
        assert!(allows(&granted, &["view_messages"], "demo", None));
    }

    #[test]
    fn implication_table() {
        // (granted, needed, project, store, allowed)
        type Case = (
            &'static str,
            &'static [&'static str],
            &'static str,
            Option<&'static str>,
            bool,
        );
        let cases: &[Case] = &[
            (
                "manage_project:demo",
                &["manage_customers"],
                "demo",
                None,
                true,
            ),
            (
                "manage_project:demo",
                &["view_messages"],
                "demo",
                None,
                true,
            ),
            (
                "manage_project:other",
                &["view_customers"],
                "demo",
                None,
                false,
            ),
            (
                "manage_customers:demo",
                &["view_customers"],
                "demo",
                None,
                true,
            ),
            (
                "manage_customers:demo",
                &["manage_customers"],
                "demo",
                None,
                true,
            ),
            (
                "view_customers:demo",
                &["manage_customers"],
                "demo",
                None,
                false,
            ),
            (
                "view_customers:demo",
                &["view_customers"],
                "demo",
                None,
                true,
            ),
            (
                "view_customers:demo",
                &["view_messages"],
                "demo",
                None,
                false,
            ),
            (
                "manage_customers:demo:eu",
                &["manage_customers"],
                "demo",
                None,
                false,
            ),
            (
                "manage_customers:demo:eu",
                &["manage_customers"],
                "demo",
                Some("eu"),
                true,
            ),
            (
                "manage_customers:demo:eu",
                &["manage_customers"],
                "demo",
                Some("us"),
                false,
            ),
            (
                "manage_customers:demo",
                &["manage_customers"],
                "demo",
                Some("us"),
                true,
            ),
        ];
        for (granted, need, project, store, expected) in cases {
            assert_eq!(
                allows(&s(granted), need, project, *store),
                *expected,
                "{granted} for {need:?} on {project}/{store:?}"
            );
        }
    }
}
