//! Customer Group routes: `/{projectKey}/customer-groups` and
//! `/{projectKey}/customer-groups/{id}` | `/key={key}` — create, get/HEAD, query, update,
//! delete. Scopes `view_customer_groups` / `manage_customer_groups` (or `manage_project`).
//!
//! The handlers are the shared ones of `api::resources`; this module only plugs in what is
//! the group's own: its scopes, its query schema and the `ManagedResource` use cases of
//! `service::customer_groups`.

use super::resources::{self, ResourceKind};
use crate::auth::{ManageCustomerGroups, ViewCustomerGroups};
use crate::state::AppState;
use axum::Router;
use clientele_domain::resolve::CUSTOMER_GROUP;
use clientele_domain::CustomerGroup;
use clientele_query::schema::{customer_group_schema, Schema};

/// Customer Group routes.
pub fn router() -> Router<AppState> {
    resources::router::<CustomerGroup>()
}

impl ResourceKind for CustomerGroup {
    const PATH: &'static str = "customer-groups";
    const CUSTOM_TYPE_ID: Option<&'static str> = Some(CUSTOMER_GROUP);
    type View = ViewCustomerGroups;
    type Manage = ManageCustomerGroups;

    fn schema() -> Schema {
        customer_group_schema()
    }
}
