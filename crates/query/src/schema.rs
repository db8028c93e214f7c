//! Field schemas: which fields of a resource can be queried and sorted, their types, and where
//! each is stored (an indexed column or a path in the JSON document).

/// A queryable resource's fields and storage layout.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// Resource name for messages, e.g. `customer`.
    pub resource: &'static str,
    /// The JSON document column (`doc`).
    pub doc_column: &'static str,
    /// `ORDER BY` used when no sort is given; ends with a unique column.
    pub default_order_by: &'static str,
}

/// The Customer schema over table `customers`.
pub fn customer_schema() -> Schema {
    Schema {
        resource: "customer",
        doc_column: "doc",
        default_order_by: "created_at ASC, id ASC",
    }
}

/// The Message schema over table `messages`.
pub fn message_schema() -> Schema {
    Schema {
        resource: "message",
        doc_column: "doc",
        default_order_by: "created_at ASC, id ASC",
    }
}
