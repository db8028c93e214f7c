//! Type routes: `/{projectKey}/types` and
//! `/{projectKey}/types/{id}` | `/key={key}` — create, get/HEAD, query, update,
//! delete. Scopes `view_types` / `manage_types` (or `manage_project`).
//!
//! The handlers are the shared ones of `api::resources`; this module only plugs in what is
//! the Type's own: its scopes, its query schema and the `ManagedResource` use cases of
//! `service::types`.

use super::resources::{self, ResourceKind};
use crate::auth::{ManageTypes, ViewTypes};
use crate::state::AppState;
use axum::Router;
use clientele_domain::Type;
use clientele_query::schema::{type_schema, Schema};

/// Type routes.
pub fn router() -> Router<AppState> {
    resources::router::<Type>()
}

impl ResourceKind for Type {
    const PATH: &'static str = "types";
    // Types have no Custom Fields themselves, so their queries never read other Types.
    const CUSTOM_TYPE_ID: Option<&'static str> = None;
    type View = ViewTypes;
    type Manage = ManageTypes;

    fn schema() -> Schema {
        type_schema()
    }
}
