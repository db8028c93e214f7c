//! Store routes: `/{projectKey}/stores` and `/{projectKey}/stores/{id}` | `/key={key}` —
//! create, get/HEAD, query, update (setName, setLanguages, setCountries, setCustomType,
//! setCustomField), delete (refused while customers belong to the Store). Scopes
//! `view_stores` / `manage_stores` (or `manage_project`).
//!
//! The handlers are the shared ones of `api::resources`; this module only plugs in what is
//! the Store's own: its scopes, its query schema and the `ManagedResource` use cases of
//! `service::stores`.

use super::resources::{self, ResourceKind};
use crate::auth::{ManageStores, ViewStores};
use crate::state::AppState;
use axum::Router;
use clientele_domain::resolve::STORE;
use clientele_domain::Store;
use clientele_query::schema::{store_schema, Schema};

/// Store routes.
pub fn router() -> Router<AppState> {
    resources::router::<Store>()
}

impl ResourceKind for Store {
    const PATH: &'static str = "stores";
    const CUSTOM_TYPE_ID: Option<&'static str> = Some(STORE);
    type View = ViewStores;
    type Manage = ManageStores;

    fn schema() -> Schema {
        store_schema()
    }
}
