//! Reference expansion (`expand=…`) over response JSON: every Reference `{typeId, id}` an
//! expansion path reaches gets an `obj` holding the referenced resource.
//!
//! Paths come parsed from `clientele-query` (syntax only). As in commercetools, a path that
//! leads nowhere and a reference that does not resolve are skipped silently. Only resources
//! Clientele stores can be resolved (customers, customer groups, types); references to other
//! types never resolve here. A path passing through an already expanded reference continues inside its `obj`.
//! This module reads the store and never writes.

use crate::error::ApiError;
use crate::state::AppState;
use clientele_query::{ExpandPath, ExpandSegment};
use clientele_store::CustomerLookup;
use serde_json::Value;
use std::collections::HashMap;

/// Resolved references of one response, so a page naming one customer fifty times reads it
/// once.
type Resolved = HashMap<(String, String), Option<Value>>;

/// Expands `paths` inside `doc` (one resource or one `CustomerSignInResult`).
pub async fn expand(
    state: &AppState,
    project: &str,
    doc: &mut Value,
    paths: &[ExpandPath],
) -> Result<(), ApiError> {
    let mut resolved = Resolved::new();
    expand_with(state, project, doc, paths, &mut resolved).await
}

/// Expands `paths` inside every element of a paged response's `results`.
pub async fn expand_page(
    state: &AppState,
    project: &str,
    page: &mut Value,
    paths: &[ExpandPath],
) -> Result<(), ApiError> {
    if paths.is_empty() {
        return Ok(());
    }
    let mut resolved = Resolved::new();
    if let Some(Value::Array(results)) = page.get_mut("results") {
        for item in results.iter_mut() {
            expand_with(state, project, item, paths, &mut resolved).await?;
        }
    }
    Ok(())
}

async fn expand_with(
    state: &AppState,
    project: &str,
    doc: &mut Value,
    paths: &[ExpandPath],
    resolved: &mut Resolved,
) -> Result<(), ApiError> {
    for path in paths {
        let mut targets = Vec::new();
        collect(doc, &path.segments, String::new(), &mut targets);
        for pointer in targets {
            let Some(reference) = doc.pointer(&pointer) else {
                continue;
            };
            let Some(key) = reference_key(reference) else {
                continue;
            };
            if reference.get("obj").is_some() {
                continue;
            }
            let obj = match resolved.get(&key) {
                Some(known) => known.clone(),
                None => {
                    let found = resolve(state, project, &key.0, &key.1).await?;
                    resolved.insert(key, found.clone());
                    found
                }
            };
            if let (Some(obj), Some(Value::Object(map))) = (obj, doc.pointer_mut(&pointer)) {
                map.insert("obj".to_owned(), obj);
            }
        }
    }
    Ok(())
}

/// `(typeId, id)` of a Reference object, or `None` for anything else.
fn reference_key(value: &Value) -> Option<(String, String)> {
    let type_id = value.get("typeId")?.as_str()?;
    let id = value.get("id")?.as_str()?;
    Some((type_id.to_owned(), id.to_owned()))
}

/// Collects the JSON pointers of the values `segments` reach from `value`.
fn collect(value: &Value, segments: &[ExpandSegment], pointer: String, out: &mut Vec<String>) {
    let Some((first, rest)) = segments.split_first() else {
        out.push(pointer);
        return;
    };
    // Through an expanded reference, the path continues inside the referenced resource.
    let (value, pointer) = match value.get("obj") {
        Some(obj) if reference_key(value).is_some() => (obj, format!("{pointer}/obj")),
        _ => (value, pointer),
    };
    let Some(child) = value.get(&first.name) else {
        return;
    };
    let pointer = format!("{pointer}/{}", escape(&first.name));
    if first.all_elements {
        if let Value::Array(items) = child {
            for (i, item) in items.iter().enumerate() {
                collect(item, rest, format!("{pointer}/{i}"), out);
            }
        }
    } else {
        collect(child, rest, pointer, out);
    }
}

/// Escapes a field name for a JSON pointer (RFC 6901).
fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// The referenced resource as JSON, if Clientele has it.
async fn resolve(
    state: &AppState,
    project: &str,
    type_id: &str,
    id: &str,
) -> Result<Option<Value>, ApiError> {
    match type_id {
        "customer" if uuid::Uuid::parse_str(id).is_ok() => {
            let customer = state
                .store
                .get_customer(project, &CustomerLookup::Id(id.to_owned()))
                .await?;
            customer
                .map(|c| serde_json::to_value(c).map_err(|e| ApiError::Internal(e.to_string())))
                .transpose()
        }
        // Customer Groups and Types live in the generic resource table.
        "customer-group" | "type" => {
            super::references::expansion_target(state, project, type_id, id).await
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(s: &str) -> ExpandPath {
        clientele_query::parse_expand(&[s.to_owned()])
            .unwrap()
            .remove(0)
    }

    fn pointers(doc: &Value, p: &str) -> Vec<String> {
        let mut out = Vec::new();
        collect(doc, &path(p).segments, String::new(), &mut out);
        out
    }

    #[test]
    fn paths_reach_fields_array_elements_and_expanded_objects() {
        let doc = json!({
            "customerGroup": {"typeId": "customer-group", "id": "g"},
            "customerGroupAssignments": [
                {"customerGroup": {"typeId": "customer-group", "id": "a"}},
                {"customerGroup": {"typeId": "customer-group", "id": "b"}}
            ],
            "resource": {"typeId": "customer", "id": "c", "obj": {"customerGroup": {"typeId": "customer-group", "id": "x"}}}
        });
        assert_eq!(pointers(&doc, "customerGroup"), vec!["/customerGroup"]);
        assert_eq!(
            pointers(&doc, "customerGroupAssignments[*].customerGroup"),
            vec![
                "/customerGroupAssignments/0/customerGroup",
                "/customerGroupAssignments/1/customerGroup"
            ]
        );
        assert_eq!(
            pointers(&doc, "resource.customerGroup"),
            vec!["/resource/obj/customerGroup"]
        );
        assert!(pointers(&doc, "nothing.here").is_empty());
        assert!(pointers(&doc, "customerGroup[*]").is_empty());
    }

    #[test]
    fn only_reference_objects_have_a_key() {
        assert!(reference_key(&json!({"typeId": "customer", "id": "1"})).is_some());
        assert!(reference_key(&json!({"typeId": "customer"})).is_none());
        assert!(reference_key(&json!("customer")).is_none());
    }

    #[test]
    fn pointer_names_are_escaped() {
        assert_eq!(escape("a/b~c"), "a~1b~0c");
    }
}
