//! Field schemas: which fields of a resource can be queried and sorted, their types, and where
//! each is stored (an indexed column or a path in the JSON document).
//!
//! Owns the *static* description of Customer and Message fields. It must not contain parsing or
//! SQL generation logic; the checker and compilers read these tables. Every column and JSON key
//! that may ever appear in generated SQL comes from here (or, for custom fields, from a name that
//! the lexer restricted to `[A-Za-z0-9_-]`).

/// A queryable resource's fields and storage layout.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// Resource name for messages, e.g. `customer`.
    pub resource: &'static str,
    /// The table the compiled SQL runs against (the only `FROM` item).
    pub table: &'static str,
    /// The JSON document column (`doc`).
    pub doc_column: &'static str,
    /// `ORDER BY` used when no sort is given; ends with a unique column.
    pub default_order_by: &'static str,
    /// The unique column appended to every `ORDER BY` so paging is stable.
    pub tie_breaker: &'static str,
    /// The top-level queryable fields.
    pub fields: &'static [Field],
}

impl Schema {
    /// Looks up a top-level field by its API (JSON) name.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// One queryable field: its API name, type and storage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    /// The name in the API JSON representation (and in predicates).
    pub name: &'static str,
    /// The field's type.
    pub ty: FieldType,
    /// The dedicated column, when the field has one (only ever on top-level fields of the row,
    /// inside an always-present object, or inside a top-level object whose absence makes the
    /// column NULL, like `customerGroup.id`).
    pub column: Option<Column>,
    /// When set, the API JSON does not carry this field; its value is the lowercased value of
    /// the named sibling field (`lowercaseEmail` is derived from `email`).
    pub lowercase_of: Option<&'static str>,
}

/// A dedicated SQL column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Column name, unqualified.
    pub name: &'static str,
    /// Whether the column may be NULL (the field is optional).
    pub nullable: bool,
}

/// The type of a field as far as querying is concerned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldType {
    /// A JSON string compared as text.
    String,
    /// A JSON number compared numerically.
    Number,
    /// A JSON boolean.
    Bool,
    /// A `YYYY-MM-DD` string; literals must be valid dates.
    Date,
    /// A time of day stored as `hh:mm:ss.sss` (custom `Time` fields); literals are normalised to
    /// that form, so text comparison is time comparison.
    Time,
    /// An ISO-8601 UTC timestamp stored as `2022-09-19T14:34:35.843Z`; literals are normalised.
    DateTime,
    /// An array of strings, queried with any-element semantics.
    StringArray,
    /// An array of scalars of the given type (custom `Set` fields), queried with any-element
    /// semantics. The element type is always a scalar (`String`, `Number`, `Bool`, `Date`,
    /// `Time` or `DateTime`); sets of objects are [`FieldType::ObjectArray`].
    Set(&'static FieldType),
    /// A nested object, queried with `field(…)`.
    Object {
        /// Its fields.
        fields: Fields,
        /// True when the object is required on every resource, so no existence guard is needed
        /// and column-backed children compile to plain column comparisons.
        always_present: bool,
    },
    /// An array of objects, queried with `field(…)` (true if some element matches).
    ObjectArray(Fields),
    /// A value whose type is not known (custom field values): any literal type is accepted and
    /// compared against the JSON value of the same type; arrays use any-element semantics.
    Untyped,
}

/// The fields of a nested object.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fields {
    /// A fixed set of fields.
    Known(&'static [Field]),
    /// Any name (`custom.fields`); every such field is [`FieldType::Untyped`], unless the caller
    /// declared its type (see [`crate::CustomFieldTypes`]).
    Any,
    /// Any language tag (a typed `LocalizedString` custom field); every such field is a
    /// [`FieldType::String`].
    Localized,
}

const fn doc(name: &'static str, ty: FieldType) -> Field {
    Field {
        name,
        ty,
        column: None,
        lowercase_of: None,
    }
}

const fn col(name: &'static str, ty: FieldType, column: &'static str, nullable: bool) -> Field {
    Field {
        name,
        ty,
        column: Some(Column {
            name: column,
            nullable,
        }),
        lowercase_of: None,
    }
}

const fn object(name: &'static str, fields: &'static [Field]) -> Field {
    doc(
        name,
        FieldType::Object {
            fields: Fields::Known(fields),
            always_present: false,
        },
    )
}

const fn object_array(name: &'static str, fields: &'static [Field]) -> Field {
    doc(name, FieldType::ObjectArray(Fields::Known(fields)))
}

const S: FieldType = FieldType::String;

/// `Reference` (`typeId`, `id`).
pub(crate) const REFERENCE: &[Field] = &[doc("id", S), doc("typeId", S)];
/// `CentPrecisionMoney`, as typed `Money` custom fields store it.
pub(crate) const MONEY: &[Field] = &[
    doc("type", S),
    doc("currencyCode", S),
    doc("centAmount", FieldType::Number),
    doc("fractionDigits", FieldType::Number),
];
/// `KeyReference` (`typeId`, `key`).
const KEY_REFERENCE: &[Field] = &[doc("key", S), doc("typeId", S)];

/// `CustomFields`: `type` reference plus the untyped field container.
const CUSTOM: &[Field] = &[
    object("type", REFERENCE),
    doc(
        "fields",
        FieldType::Object {
            fields: Fields::Any,
            always_present: false,
        },
    ),
];

/// `CreatedBy` / `LastModifiedBy` (`ClientLogging`).
const CLIENT_LOGGING: &[Field] = &[
    doc("clientId", S),
    doc("externalUserId", S),
    doc("anonymousId", S),
    object("customer", REFERENCE),
    object("associate", REFERENCE),
    doc("isPlatformClient", FieldType::Bool),
];

/// `Address`: id, key, country, every other string field, and custom fields.
const ADDRESS: &[Field] = &[
    doc("id", S),
    doc("key", S),
    doc("country", S),
    doc("title", S),
    doc("salutation", S),
    doc("firstName", S),
    doc("lastName", S),
    doc("streetName", S),
    doc("streetNumber", S),
    doc("additionalStreetInfo", S),
    doc("postalCode", S),
    doc("city", S),
    doc("region", S),
    doc("state", S),
    doc("company", S),
    doc("department", S),
    doc("building", S),
    doc("apartment", S),
    doc("pOBox", S),
    doc("phone", S),
    doc("mobile", S),
    doc("email", S),
    doc("fax", S),
    doc("additionalAddressInfo", S),
    doc("externalId", S),
    object("custom", CUSTOM),
];

const CUSTOMER_GROUP_ASSIGNMENT: &[Field] = &[object("customerGroup", REFERENCE)];

/// The customer's own `customerGroup`: its id has a column (NULL when there is no group), which
/// the SQL compiler compares instead of the document when the test is false on NULL anyway.
const CUSTOMER_GROUP: &[Field] = &[col("id", S, "customer_group_id", true), doc("typeId", S)];

const CUSTOMER_FIELDS: &[Field] = &[
    col("id", S, "id", false),
    col("version", FieldType::Number, "version", false),
    col("key", S, "key", true),
    col("createdAt", FieldType::DateTime, "created_at", false),
    col(
        "lastModifiedAt",
        FieldType::DateTime,
        "last_modified_at",
        false,
    ),
    object("createdBy", CLIENT_LOGGING),
    object("lastModifiedBy", CLIENT_LOGGING),
    col("email", S, "email", false),
    Field {
        name: "lowercaseEmail",
        ty: S,
        column: Some(Column {
            name: "lowercase_email",
            nullable: false,
        }),
        lowercase_of: Some("email"),
    },
    col("firstName", S, "first_name", true),
    col("lastName", S, "last_name", true),
    doc("middleName", S),
    doc("title", S),
    doc("salutation", S),
    doc("dateOfBirth", FieldType::Date),
    col("companyName", S, "company_name", true),
    doc("vatId", S),
    col("customerNumber", S, "customer_number", true),
    col("externalId", S, "external_id", true),
    col(
        "isEmailVerified",
        FieldType::Bool,
        "is_email_verified",
        true,
    ),
    doc("locale", S),
    doc("authenticationMode", S),
    object("customerGroup", CUSTOMER_GROUP),
    object_array("customerGroupAssignments", CUSTOMER_GROUP_ASSIGNMENT),
    object_array("stores", KEY_REFERENCE),
    object_array("addresses", ADDRESS),
    doc("defaultShippingAddressId", S),
    doc("defaultBillingAddressId", S),
    doc("shippingAddressIds", FieldType::StringArray),
    doc("billingAddressIds", FieldType::StringArray),
    object("custom", CUSTOM),
];

/// The message's `resource` reference; both parts have columns.
const MESSAGE_RESOURCE: &[Field] = &[
    col("id", S, "resource_id", false),
    col("typeId", S, "resource_type_id", false),
];

const USER_PROVIDED_IDENTIFIERS: &[Field] = &[
    doc("key", S),
    doc("externalId", S),
    doc("customerNumber", S),
    doc("orderNumber", S),
    doc("sku", S),
];

const MESSAGE_FIELDS: &[Field] = &[
    col("id", S, "id", false),
    doc("version", FieldType::Number),
    col("type", S, "type", false),
    Field {
        name: "resource",
        ty: FieldType::Object {
            fields: Fields::Known(MESSAGE_RESOURCE),
            always_present: true,
        },
        column: None,
        lowercase_of: None,
    },
    col(
        "resourceVersion",
        FieldType::Number,
        "resource_version",
        false,
    ),
    col(
        "sequenceNumber",
        FieldType::Number,
        "sequence_number",
        false,
    ),
    col("createdAt", FieldType::DateTime, "created_at", false),
    doc("lastModifiedAt", FieldType::DateTime),
    object("createdBy", CLIENT_LOGGING),
    object("lastModifiedBy", CLIENT_LOGGING),
    object("resourceUserProvidedIdentifiers", USER_PROVIDED_IDENTIFIERS),
];

/// An array of key references whose keys the store mirrors, one row per key, in an indexed side
/// table, so `field(key = …)` / `field(key in (…))` can be answered by that table instead of a
/// scan of every document's JSON array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyIndex {
    /// The side table.
    pub(crate) table: &'static str,
    /// Its column holding the id of the row the key belongs to.
    pub(crate) owner_column: &'static str,
    /// Its column holding one key.
    pub(crate) key_column: &'static str,
    /// The resource table's id column (what `owner_column` refers to).
    pub(crate) id_column: &'static str,
    /// A `key_column` value that stands for "no key" rather than a key (the global email scope);
    /// a predicate naming it keeps the JSON form, so the two can never be confused.
    pub(crate) reserved: &'static str,
}

/// The key-indexed array fields: (resource table, top-level field, index).
///
/// `customer_emails` holds one row per store key of a store customer (and one row with scope
/// `''` for a global one), maintained in the same transaction as the customer row; the store's
/// `customer_emails_scope_customer_idx (scope, customer_id)` serves the lookup.
const KEY_INDEXES: &[(&str, &str, KeyIndex)] = &[(
    "customers",
    "stores",
    KeyIndex {
        table: "customer_emails",
        owner_column: "customer_id",
        key_column: "scope",
        id_column: "id",
        reserved: "",
    },
)];

/// An array of objects whose elements the store mirrors, one row per element, in a side table
/// with a column per indexed field, so `field(…)` over those fields alone is answered by that
/// table's indexes instead of a walk through every document's array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ElementIndex {
    /// The side table.
    pub(crate) table: &'static str,
    /// Its column holding the id of the row the element belongs to.
    pub(crate) owner_column: &'static str,
    /// Its column holding the project (what the capped total of one project filters by).
    pub(crate) project_column: &'static str,
    /// The resource table's id column, qualified: the lookup is a subquery with a `FROM` of
    /// its own.
    pub(crate) id_column: &'static str,
    /// The mirrored element fields: (field name, side-table column). A column is NULL exactly
    /// where the element has no string under that name, as the JSON tests see it.
    pub(crate) columns: &'static [(&'static str, Column)],
    /// Fields whose equality usually leaves few rows (a postal code): a lookup testing one of
    /// them for equality is asked as `id IN (…)`, so the side table's index drives it; any other
    /// as a correlated `EXISTS`, which a page in the resource's order stops after a few rows.
    pub(crate) selective: &'static [&'static str],
}

const fn side(name: &'static str) -> Column {
    Column {
        name,
        nullable: true,
    }
}

/// The element-indexed array fields: (resource table, top-level field, index).
///
/// `customer_addresses` holds one row per address (country, city, postal code), maintained in
/// the same transaction as the customer row and deleted with it; each column leads an index.
const ELEMENT_INDEXES: &[(&str, &str, ElementIndex)] = &[(
    "customers",
    "addresses",
    ElementIndex {
        table: "customer_addresses",
        owner_column: "customer_id",
        project_column: "project",
        id_column: "customers.id",
        columns: &[
            ("country", side("country")),
            ("city", side("city")),
            ("postalCode", side("postal_code")),
        ],
        selective: &["postalCode"],
    },
)];

/// The side-table index of the elements of top-level field `field` of the resource stored in
/// `table`, if any.
pub(crate) fn element_index(table: &str, field: &str) -> Option<ElementIndex> {
    ELEMENT_INDEXES
        .iter()
        .find(|(t, f, _)| *t == table && *f == field)
        .map(|(_, _, ix)| *ix)
}

/// The side-table index of top-level field `field` of the resource stored in `table`, if any.
pub(crate) fn key_index(table: &str, field: &str) -> Option<KeyIndex> {
    KEY_INDEXES
        .iter()
        .find(|(t, f, _)| *t == table && *f == field)
        .map(|(_, _, ix)| *ix)
}

/// The Customer schema over table `customers`.
pub fn customer_schema() -> Schema {
    Schema {
        resource: "customer",
        table: "customers",
        doc_column: "doc",
        default_order_by: "created_at ASC, id ASC",
        tie_breaker: "id",
        fields: CUSTOMER_FIELDS,
    }
}

/// The Message schema over table `messages`.
pub fn message_schema() -> Schema {
    Schema {
        resource: "message",
        table: "messages",
        doc_column: "doc",
        // Messages of one request share a timestamp: keep them in sequence order.
        default_order_by: "created_at ASC, sequence_number ASC, id ASC",
        tie_breaker: "id",
        fields: MESSAGE_FIELDS,
    }
}

// ---- Generic `resources` table (customer groups, types; later stores). Added by the
// customer-groups/types work as a separate extension: nothing above depends on it.

/// `LocalizedString`: any language tag → text, queried as `name(en = "…")`.
const LOCALIZED_STRING: FieldType = FieldType::Object {
    fields: Fields::Any,
    always_present: false,
};

/// The columns every row of the generic `resources` table has.
const fn resource_id() -> Field {
    col("id", S, "id", false)
}

const CUSTOMER_GROUP_FIELDS: &[Field] = &[
    resource_id(),
    col("version", FieldType::Number, "version", false),
    col("key", S, "key", true),
    col("createdAt", FieldType::DateTime, "created_at", false),
    col(
        "lastModifiedAt",
        FieldType::DateTime,
        "last_modified_at",
        false,
    ),
    object("createdBy", CLIENT_LOGGING),
    object("lastModifiedBy", CLIENT_LOGGING),
    doc("name", S),
    object("custom", CUSTOM),
];

/// A field definition's `type`: its `name` and, for references, `referenceTypeId`.
const FIELD_TYPE: &[Field] = &[doc("name", S), doc("referenceTypeId", S)];

const FIELD_DEFINITION: &[Field] = &[
    doc("name", S),
    doc("label", LOCALIZED_STRING),
    doc("required", FieldType::Bool),
    doc("inputHint", S),
    object("type", FIELD_TYPE),
];

const TYPE_FIELDS: &[Field] = &[
    resource_id(),
    col("version", FieldType::Number, "version", false),
    col("key", S, "key", true),
    col("createdAt", FieldType::DateTime, "created_at", false),
    col(
        "lastModifiedAt",
        FieldType::DateTime,
        "last_modified_at",
        false,
    ),
    object("createdBy", CLIENT_LOGGING),
    object("lastModifiedBy", CLIENT_LOGGING),
    doc("name", LOCALIZED_STRING),
    doc("description", LOCALIZED_STRING),
    doc("resourceTypeIds", FieldType::StringArray),
    object_array("fieldDefinitions", FIELD_DEFINITION),
];

/// The Customer Group schema over the generic `resources` table (the store adds the
/// `type_id` filter).
pub fn customer_group_schema() -> Schema {
    Schema {
        resource: "customer-group",
        table: "resources",
        doc_column: "doc",
        default_order_by: "created_at ASC, id ASC",
        tie_breaker: "id",
        fields: CUSTOMER_GROUP_FIELDS,
    }
}

/// The Type schema over the generic `resources` table (the store adds the `type_id` filter).
pub fn type_schema() -> Schema {
    Schema {
        resource: "type",
        table: "resources",
        doc_column: "doc",
        default_order_by: "created_at ASC, id ASC",
        tie_breaker: "id",
        fields: TYPE_FIELDS,
    }
}

const STORE_COUNTRY: &[Field] = &[doc("code", S)];

const STORE_FIELDS: &[Field] = &[
    resource_id(),
    col("version", FieldType::Number, "version", false),
    col("key", S, "key", true),
    col("createdAt", FieldType::DateTime, "created_at", false),
    col(
        "lastModifiedAt",
        FieldType::DateTime,
        "last_modified_at",
        false,
    ),
    object("createdBy", CLIENT_LOGGING),
    object("lastModifiedBy", CLIENT_LOGGING),
    doc("name", LOCALIZED_STRING),
    doc("languages", FieldType::StringArray),
    object_array("countries", STORE_COUNTRY),
    object("custom", CUSTOM),
];

/// The Store schema over the generic `resources` table (the store adds the `type_id` filter).
pub fn store_schema() -> Schema {
    Schema {
        resource: "store",
        table: "resources",
        doc_column: "doc",
        default_order_by: "created_at ASC, id ASC",
        tie_breaker: "id",
        fields: STORE_FIELDS,
    }
}

/// Only the Destination's non-secret fields are queryable, so `where` cannot probe a secret.
const SUBSCRIPTION_DESTINATION: &[Field] = &[
    doc("type", S),
    doc("exchange", S),
    doc("routingKey", S),
    doc("subject", S),
    doc("region", S),
    doc("topic", S),
];

const MESSAGE_SUBSCRIPTION: &[Field] = &[
    doc("resourceTypeId", S),
    doc("types", FieldType::StringArray),
];

const CHANGE_SUBSCRIPTION: &[Field] = &[doc("resourceTypeId", S)];

const DELIVERY_FORMAT: &[Field] = &[doc("type", S), doc("cloudEventsVersion", S)];

const SUBSCRIPTION_FIELDS: &[Field] = &[
    resource_id(),
    col("version", FieldType::Number, "version", false),
    col("key", S, "key", true),
    col("createdAt", FieldType::DateTime, "created_at", false),
    col(
        "lastModifiedAt",
        FieldType::DateTime,
        "last_modified_at",
        false,
    ),
    object("createdBy", CLIENT_LOGGING),
    object("lastModifiedBy", CLIENT_LOGGING),
    object("destination", SUBSCRIPTION_DESTINATION),
    object_array("messages", MESSAGE_SUBSCRIPTION),
    object_array("changes", CHANGE_SUBSCRIPTION),
    object("format", DELIVERY_FORMAT),
    doc("status", S),
];

/// The Subscription schema over the generic `resources` table (the store adds the `type_id`
/// filter).
pub fn subscription_schema() -> Schema {
    Schema {
        resource: "subscription",
        table: "resources",
        doc_column: "doc",
        default_order_by: "created_at ASC, id ASC",
        tie_breaker: "id",
        fields: SUBSCRIPTION_FIELDS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_are_unique_per_level() {
        fn walk(fields: &[Field]) {
            for (i, f) in fields.iter().enumerate() {
                assert!(
                    fields[i + 1..].iter().all(|g| g.name != f.name),
                    "duplicate field {}",
                    f.name
                );
                match f.ty {
                    FieldType::Object {
                        fields: Fields::Known(inner),
                        ..
                    }
                    | FieldType::ObjectArray(Fields::Known(inner)) => walk(inner),
                    _ => {}
                }
            }
        }
        walk(customer_schema().fields);
        walk(message_schema().fields);
        walk(customer_group_schema().fields);
        walk(type_schema().fields);
        walk(store_schema().fields);
        walk(subscription_schema().fields);
    }

    #[test]
    fn lookup() {
        let s = customer_schema();
        assert_eq!(
            s.field("email").and_then(|f| f.column).map(|c| c.name),
            Some("email")
        );
        assert!(s.field("password").is_none());
    }
}
