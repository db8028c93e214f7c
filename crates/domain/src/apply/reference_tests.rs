//! Tests of the customer actions and draft fields that name Customer Groups, Types and Stores: state,
//! exact Messages and every error, with a hand-filled `Resolved`.

use super::test_support::{address, minimal_draft, s, TestEnv};
use super::{apply_all_with, apply_with, create_customer_with};
use crate::action::CustomerUpdateAction as A;
use crate::address::AddressDraft;
use crate::custom::{CustomFields, CustomFieldsDraft};
use crate::custom_type::{FieldDefinition, FieldType, Type};
use crate::customer::{
    Customer, CustomerDraft, CustomerGroupAssignment, CustomerGroupAssignmentDraft,
};
use crate::customer_group::CustomerGroup;
use crate::error::DomainError;
use crate::message::MessagePayload as M;
use crate::newtypes::Version;
use crate::reference::{KeyReference, Reference, ResourceIdentifier};
use crate::resolve::{Lookup, Resolved, Wanted};
use crate::store::Store;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use time::macros::datetime;

fn group(id: &str, key: &str) -> CustomerGroup {
    CustomerGroup {
        id: id.to_owned(),
        version: Version::FIRST,
        created_at: datetime!(2024-01-01 0:00 UTC),
        last_modified_at: datetime!(2024-01-01 0:00 UTC),
        last_modified_by: None,
        created_by: None,
        key: s(key),
        name: key.to_owned(),
        custom: None,
    }
}

fn type_(id: &str, key: &str, resources: &[&str], defs: Vec<FieldDefinition>) -> Type {
    Type {
        id: id.to_owned(),
        version: Version::FIRST,
        created_at: datetime!(2024-01-01 0:00 UTC),
        last_modified_at: datetime!(2024-01-01 0:00 UTC),
        last_modified_by: None,
        created_by: None,
        key: key.to_owned(),
        name: BTreeMap::new(),
        description: None,
        resource_type_ids: resources.iter().map(|r| (*r).to_owned()).collect(),
        field_definitions: defs,
    }
}

fn field(name: &str, ty: FieldType, required: bool) -> FieldDefinition {
    FieldDefinition {
        type_: ty,
        name: name.to_owned(),
        label: BTreeMap::new(),
        required,
        input_hint: None,
    }
}

fn resolved() -> Resolved {
    Resolved {
        customer_groups: vec![group("g1", "vip"), group("g2", "b2b")],
        types: vec![
            type_(
                "t1",
                "loyalty",
                &["customer"],
                vec![
                    field("tier", FieldType::String {}, false),
                    field("points", FieldType::Number {}, false),
                ],
            ),
            type_(
                "t2",
                "addr-type",
                &["address"],
                vec![field("floor", FieldType::Number {}, false)],
            ),
        ],
        stores: vec![store("st1", "s1"), store("st2", "s2")],
    }
}

fn store(id: &str, key: &str) -> Store {
    Store {
        id: id.to_owned(),
        version: Version::FIRST,
        created_at: datetime!(2024-01-01 0:00 UTC),
        last_modified_at: datetime!(2024-01-01 0:00 UTC),
        last_modified_by: None,
        created_by: None,
        key: key.to_owned(),
        name: None,
        languages: Vec::new(),
        countries: Vec::new(),
        distribution_channels: Vec::new(),
        supply_channels: Vec::new(),
        product_selections: Vec::new(),
        custom: None,
    }
}

fn store_ref(key: &str) -> KeyReference {
    KeyReference {
        type_id: "store".to_owned(),
        key: key.to_owned(),
    }
}

fn by_key(key: &str) -> ResourceIdentifier {
    ResourceIdentifier {
        type_id: None,
        id: None,
        key: s(key),
    }
}

fn by_id(id: &str) -> ResourceIdentifier {
    ResourceIdentifier {
        type_id: None,
        id: s(id),
        key: None,
    }
}

fn group_ref(id: &str) -> Reference {
    Reference::new("customer-group", id)
}

fn assignment(id: &str) -> CustomerGroupAssignment {
    CustomerGroupAssignment {
        customer_group: group_ref(id),
    }
}

fn assignment_draft(key: &str) -> CustomerGroupAssignmentDraft {
    CustomerGroupAssignmentDraft {
        customer_group: by_key(key),
    }
}

fn fields(v: Value) -> Option<Map<String, Value>> {
    v.as_object().cloned()
}

fn not_found(type_id: &str, key: &str) -> DomainError {
    DomainError::ReferencedResourceNotFound {
        type_id: type_id.to_owned(),
        predicate: format!("with key '{key}'"),
        id: None,
        key: s(key),
    }
}

fn ok(env: &mut TestEnv, c: &Customer, action: A) -> (Customer, Vec<M>) {
    let r = resolved();
    env.run(|ctx| apply_with(c.clone(), &action, ctx, &r))
        .unwrap()
}

fn err(env: &mut TestEnv, c: &Customer, action: A) -> DomainError {
    let r = resolved();
    env.run(|ctx| apply_with(c.clone(), &action, ctx, &r))
        .unwrap_err()
}

fn create(env: &mut TestEnv, draft: CustomerDraft) -> Result<Customer, DomainError> {
    let r = resolved();
    env.run(|ctx| create_customer_with(draft, "cust-1".to_owned(), ctx, &r))
        .map(|(c, _)| c)
}

#[test]
fn create_resolves_groups_assignments_and_custom_fields() {
    let mut env = TestEnv::new();
    let c = create(
        &mut env,
        CustomerDraft {
            customer_group: Some(by_key("vip")),
            customer_group_assignments: Some(vec![
                assignment_draft("vip"),
                CustomerGroupAssignmentDraft {
                    customer_group: by_id("g2"),
                },
            ]),
            custom: Some(CustomFieldsDraft {
                type_: by_key("loyalty"),
                fields: fields(json!({"tier": "gold"})),
            }),
            addresses: Some(vec![AddressDraft {
                custom: Some(CustomFieldsDraft {
                    type_: by_id("t2"),
                    fields: fields(json!({"floor": 3})),
                }),
                ..address("home", "DE")
            }]),
            ..minimal_draft()
        },
    )
    .unwrap();
    assert_eq!(c.customer_group, Some(group_ref("g1")));
    assert_eq!(
        c.customer_group_assignments,
        vec![assignment("g1"), assignment("g2")]
    );
    assert_eq!(
        c.custom,
        Some(CustomFields {
            type_: Reference::new("type", "t1"),
            fields: fields(json!({"tier": "gold"})).unwrap(),
        })
    );
    assert_eq!(
        c.addresses[0].custom.as_ref().map(|c| c.type_.id.as_str()),
        Some("t2")
    );
}

#[test]
fn create_errors_name_the_missing_reference_and_the_wrong_type() {
    let mut env = TestEnv::new();
    assert_eq!(
        create(
            &mut env,
            CustomerDraft {
                customer_group: Some(by_key("nope")),
                ..minimal_draft()
            }
        )
        .unwrap_err(),
        not_found("customer-group", "nope")
    );
    assert_eq!(
        create(
            &mut env,
            CustomerDraft {
                customer_group_assignments: Some(vec![
                    assignment_draft("vip"),
                    assignment_draft("vip")
                ]),
                ..minimal_draft()
            }
        )
        .unwrap_err(),
        DomainError::InvalidOperation(
            "The customer group with id 'g1' is assigned more than once.".to_owned()
        )
    );
    // The address type is not allowed on customers, and vice versa.
    assert!(matches!(
        create(
            &mut env,
            CustomerDraft {
                custom: Some(CustomFieldsDraft {
                    type_: by_key("addr-type"),
                    fields: None
                }),
                ..minimal_draft()
            }
        )
        .unwrap_err(),
        DomainError::InvalidOperation(m) if m.contains("'customer'")
    ));
    assert!(matches!(
        create(
            &mut env,
            CustomerDraft {
                addresses: Some(vec![AddressDraft {
                    custom: Some(CustomFieldsDraft { type_: by_key("loyalty"), fields: None }),
                    ..address("home", "DE")
                }]),
                ..minimal_draft()
            }
        )
        .unwrap_err(),
        DomainError::InvalidOperation(m) if m.contains("'address'")
    ));
    // Both id and key, or a wrong typeId, are shape errors.
    assert!(matches!(
        create(
            &mut env,
            CustomerDraft {
                customer_group: Some(ResourceIdentifier {
                    type_id: s("customer-group"),
                    id: s("g1"),
                    key: s("vip")
                }),
                ..minimal_draft()
            }
        )
        .unwrap_err(),
        DomainError::InvalidJsonInput { .. }
    ));
    assert!(matches!(
        create(
            &mut env,
            CustomerDraft {
                customer_group: Some(ResourceIdentifier {
                    type_id: s("store"),
                    id: s("g1"),
                    key: None
                }),
                ..minimal_draft()
            }
        )
        .unwrap_err(),
        DomainError::InvalidJsonInput { .. }
    ));
    let too_many: Vec<_> = (0..501).map(|_| assignment_draft("vip")).collect();
    assert!(matches!(
        create(
            &mut env,
            CustomerDraft {
                customer_group_assignments: Some(too_many),
                ..minimal_draft()
            }
        )
        .unwrap_err(),
        DomainError::InvalidOperation(m) if m.contains("at most 500")
    ));
}

#[test]
fn set_customer_group_sets_replaces_and_removes() {
    let mut env = TestEnv::new();
    let c = env.customer();
    let (c1, msgs) = ok(
        &mut env,
        &c,
        A::SetCustomerGroup {
            customer_group: Some(by_key("vip")),
        },
    );
    assert_eq!(c1.customer_group, Some(group_ref("g1")));
    assert_eq!(
        msgs,
        vec![M::CustomerGroupSet {
            customer_group: Some(group_ref("g1"))
        }]
    );
    let (_, msgs) = ok(
        &mut env,
        &c1,
        A::SetCustomerGroup {
            customer_group: Some(by_id("g1")),
        },
    );
    assert!(msgs.is_empty(), "same group: no-op");
    let (c2, msgs) = ok(
        &mut env,
        &c1,
        A::SetCustomerGroup {
            customer_group: None,
        },
    );
    assert_eq!(c2.customer_group, None);
    assert_eq!(
        msgs,
        vec![M::CustomerGroupSet {
            customer_group: None
        }]
    );
    assert_eq!(
        err(
            &mut env,
            &c,
            A::SetCustomerGroup {
                customer_group: Some(by_key("nope"))
            }
        ),
        not_found("customer-group", "nope")
    );
}

#[test]
fn group_assignment_actions() {
    let mut env = TestEnv::new();
    let c = env.customer();
    let (c1, msgs) = ok(
        &mut env,
        &c,
        A::SetCustomerGroupAssignments {
            customer_group_assignments: vec![assignment_draft("vip")],
        },
    );
    assert_eq!(c1.customer_group_assignments, vec![assignment("g1")]);
    assert_eq!(
        msgs,
        vec![M::CustomerGroupAssignmentsSet {
            customer_group_assignments: vec![assignment("g1")],
            old_customer_group_assignments: vec![],
        }]
    );
    let (c2, msgs) = ok(
        &mut env,
        &c1,
        A::AddCustomerGroupAssignment {
            customer_group_assignment: assignment_draft("b2b"),
        },
    );
    assert_eq!(
        c2.customer_group_assignments,
        vec![assignment("g1"), assignment("g2")]
    );
    assert_eq!(
        msgs,
        vec![M::CustomerGroupAssignmentAdded {
            customer_group_assignment: assignment("g2")
        }]
    );
    let (_, msgs) = ok(
        &mut env,
        &c2,
        A::AddCustomerGroupAssignment {
            customer_group_assignment: assignment_draft("b2b"),
        },
    );
    assert!(msgs.is_empty(), "adding an assigned group is a no-op");
    let (c3, msgs) = ok(
        &mut env,
        &c2,
        A::RemoveCustomerGroupAssignment {
            customer_group: by_key("vip"),
        },
    );
    assert_eq!(c3.customer_group_assignments, vec![assignment("g2")]);
    assert_eq!(
        msgs,
        vec![M::CustomerGroupAssignmentRemoved {
            customer_group_assignment: assignment("g1")
        }]
    );
    assert_eq!(
        err(
            &mut env,
            &c3,
            A::RemoveCustomerGroupAssignment {
                customer_group: by_key("vip")
            }
        ),
        DomainError::InvalidOperation(
            "The customer is not assigned to the customer group with id 'g1'.".to_owned()
        )
    );
    assert_eq!(
        err(
            &mut env,
            &c3,
            A::AddCustomerGroupAssignment {
                customer_group_assignment: assignment_draft("nope")
            }
        ),
        not_found("customer-group", "nope")
    );
    let (c4, msgs) = ok(
        &mut env,
        &c3,
        A::SetCustomerGroupAssignments {
            customer_group_assignments: vec![],
        },
    );
    assert!(c4.customer_group_assignments.is_empty());
    assert_eq!(
        msgs,
        vec![M::CustomerGroupAssignmentsSet {
            customer_group_assignments: vec![],
            old_customer_group_assignments: vec![assignment("g2")],
        }]
    );
}

#[test]
fn custom_type_and_field_actions_emit_their_messages() {
    let mut env = TestEnv::new();
    let c = env.customer();
    let (c1, msgs) = ok(
        &mut env,
        &c,
        A::SetCustomType {
            type_: Some(by_key("loyalty")),
            fields: fields(json!({"tier": "gold"})),
        },
    );
    let custom = CustomFields {
        type_: Reference::new("type", "t1"),
        fields: fields(json!({"tier": "gold"})).unwrap(),
    };
    assert_eq!(c1.custom, Some(custom.clone()));
    assert_eq!(
        msgs,
        vec![M::CustomerCustomTypeSet {
            custom_fields: custom,
            previous_type_id: None
        }]
    );
    let (c2, msgs) = ok(
        &mut env,
        &c1,
        A::SetCustomField {
            name: "points".to_owned(),
            value: Some(json!(10)),
        },
    );
    assert_eq!(
        msgs,
        vec![M::CustomerCustomFieldAdded {
            name: "points".to_owned(),
            value: json!(10)
        }]
    );
    let (c3, msgs) = ok(
        &mut env,
        &c2,
        A::SetCustomField {
            name: "points".to_owned(),
            value: Some(json!(11)),
        },
    );
    assert_eq!(
        msgs,
        vec![M::CustomerCustomFieldChanged {
            name: "points".to_owned(),
            value: json!(11),
            previous_value: Some(json!(10))
        }]
    );
    let (c4, msgs) = ok(
        &mut env,
        &c3,
        A::SetCustomField {
            name: "points".to_owned(),
            value: None,
        },
    );
    assert_eq!(
        msgs,
        vec![M::CustomerCustomFieldRemoved {
            name: "points".to_owned()
        }]
    );
    assert!(matches!(
        err(
            &mut env,
            &c4,
            A::SetCustomField {
                name: "points".to_owned(),
                value: Some(json!("ten"))
            }
        ),
        DomainError::InvalidField { field, .. } if field == "points"
    ));
    let (c5, msgs) = ok(
        &mut env,
        &c4,
        A::SetCustomType {
            type_: None,
            fields: None,
        },
    );
    assert_eq!(c5.custom, None);
    assert_eq!(
        msgs,
        vec![M::CustomerCustomTypeRemoved {
            previous_type_id: s("t1")
        }]
    );
    assert_eq!(
        err(
            &mut env,
            &c,
            A::SetCustomType {
                type_: Some(by_key("nope")),
                fields: None
            }
        ),
        not_found("type", "nope")
    );
}

#[test]
fn address_custom_actions_carry_the_address_id() {
    let mut env = TestEnv::new();
    let c = env.customer_with_addresses();
    let (c1, msgs) = ok(
        &mut env,
        &c,
        A::SetAddressCustomType {
            address_id: "addr-1".to_owned(),
            type_: Some(by_key("addr-type")),
            fields: None,
        },
    );
    let custom = CustomFields {
        type_: Reference::new("type", "t2"),
        fields: Map::new(),
    };
    assert_eq!(c1.addresses[0].custom, Some(custom.clone()));
    assert_eq!(
        msgs,
        vec![M::CustomerAddressCustomTypeSet {
            custom_fields: custom,
            previous_type_id: None,
            address_id: s("addr-1")
        }]
    );
    let (c2, msgs) = ok(
        &mut env,
        &c1,
        A::SetAddressCustomField {
            address_id: "addr-1".to_owned(),
            name: "floor".to_owned(),
            value: Some(json!(2)),
        },
    );
    assert_eq!(
        msgs,
        vec![M::CustomerAddressCustomFieldAdded {
            name: "floor".to_owned(),
            value: json!(2),
            address_id: s("addr-1")
        }]
    );
    let (c3, msgs) = ok(
        &mut env,
        &c2,
        A::SetAddressCustomField {
            address_id: "addr-1".to_owned(),
            name: "floor".to_owned(),
            value: Some(json!(3)),
        },
    );
    assert_eq!(
        msgs,
        vec![M::CustomerAddressCustomFieldChanged {
            name: "floor".to_owned(),
            value: json!(3),
            previous_value: Some(json!(2)),
            address_id: s("addr-1")
        }]
    );
    let (c4, msgs) = ok(
        &mut env,
        &c3,
        A::SetAddressCustomField {
            address_id: "addr-1".to_owned(),
            name: "floor".to_owned(),
            value: Some(Value::Null),
        },
    );
    assert_eq!(
        msgs,
        vec![M::CustomerAddressCustomFieldRemoved {
            name: "floor".to_owned(),
            address_id: s("addr-1")
        }]
    );
    let (_, msgs) = ok(
        &mut env,
        &c4,
        A::SetAddressCustomType {
            address_id: "addr-1".to_owned(),
            type_: None,
            fields: None,
        },
    );
    assert_eq!(
        msgs,
        vec![M::CustomerAddressCustomTypeRemoved {
            previous_type_id: s("t2"),
            address_id: s("addr-1")
        }]
    );
    assert_eq!(
        err(
            &mut env,
            &c,
            A::SetAddressCustomField {
                address_id: "nope".to_owned(),
                name: "floor".to_owned(),
                value: None
            }
        ),
        DomainError::InvalidOperation(
            "The customer does not have an address with id 'nope'.".to_owned()
        )
    );
    assert!(matches!(
        err(
            &mut env,
            &c,
            A::SetAddressCustomField {
                address_id: "addr-2".to_owned(),
                name: "floor".to_owned(),
                value: Some(json!(1))
            }
        ),
        DomainError::InvalidOperation(m) if m.contains("no custom type set")
    ));
}

#[test]
fn a_request_is_atomic_across_reference_actions() {
    let mut env = TestEnv::new();
    let c = env.customer();
    let r = resolved();
    let actions = [
        A::SetCustomerGroup {
            customer_group: Some(by_key("vip")),
        },
        A::SetCustomType {
            type_: Some(by_key("loyalty")),
            fields: None,
        },
        A::SetCustomField {
            name: "tier".to_owned(),
            value: Some(json!("gold")),
        },
    ];
    let (after, msgs) = env
        .run(|ctx| apply_all_with(c.clone(), &actions, ctx, &r))
        .unwrap();
    assert_eq!(after.version, c.version.next());
    assert_eq!(msgs.len(), 3);
    let failing = [
        actions[0].clone(),
        A::SetCustomField {
            name: "tier".to_owned(),
            value: Some(json!(1)),
        },
    ];
    assert!(env
        .run(|ctx| apply_all_with(c.clone(), &failing, ctx, &r))
        .is_err());
}

#[test]
fn wanted_lists_what_drafts_and_actions_name() {
    let draft = CustomerDraft {
        customer_group: Some(by_key("vip")),
        customer_group_assignments: Some(vec![assignment_draft("vip"), assignment_draft("b2b")]),
        custom: Some(CustomFieldsDraft {
            type_: by_id("t1"),
            fields: None,
        }),
        ..minimal_draft()
    };
    let w = Wanted::for_draft(&draft);
    assert_eq!(
        w.customer_groups,
        vec![Lookup::Key("vip".to_owned()), Lookup::Key("b2b".to_owned())]
    );
    assert_eq!(w.types, vec![Lookup::Id("t1".to_owned())]);

    let mut env = TestEnv::new();
    let mut c = env.customer();
    c.custom = Some(CustomFields {
        type_: Reference::new("type", "t9"),
        fields: Map::new(),
    });
    assert!(Wanted::for_update(&c, &[A::SetFirstName { first_name: None }]).is_empty());
    let w = Wanted::for_update(
        &c,
        &[
            A::RemoveCustomerGroupAssignment {
                customer_group: by_id("g1"),
            },
            A::SetCustomField {
                name: "x".to_owned(),
                value: None,
            },
        ],
    );
    assert_eq!(w.customer_groups, vec![Lookup::Id("g1".to_owned())]);
    assert_eq!(w.types, vec![Lookup::Id("t9".to_owned())]);
}

// ---------------------------------------------------------------- stores

#[test]
fn create_resolves_stores_by_key_and_id_as_key_references() {
    let mut env = TestEnv::new();
    let c = create(
        &mut env,
        CustomerDraft {
            stores: Some(vec![by_key("s1"), by_id("st2"), by_key("s1")]),
            ..minimal_draft()
        },
    )
    .unwrap();
    assert_eq!(c.stores, vec![store_ref("s1"), store_ref("s2")]);
    let v = serde_json::to_value(&c).unwrap();
    assert_eq!(
        v["stores"],
        json!([{"typeId": "store", "key": "s1"}, {"typeId": "store", "key": "s2"}])
    );
    assert_eq!(
        create(
            &mut env,
            CustomerDraft {
                stores: Some(vec![by_key("nope")]),
                ..minimal_draft()
            },
        )
        .unwrap_err(),
        not_found("store", "nope")
    );
    let wrong_type = ResourceIdentifier {
        type_id: s("customer-group"),
        ..by_key("s1")
    };
    assert!(matches!(
        create(
            &mut env,
            CustomerDraft {
                stores: Some(vec![wrong_type]),
                ..minimal_draft()
            },
        )
        .unwrap_err(),
        DomainError::InvalidJsonInput { .. }
    ));
}

#[test]
fn set_stores_replaces_with_a_message_and_no_op_is_silent() {
    let mut env = TestEnv::new();
    let c = env.customer();
    let (c1, msgs) = ok(
        &mut env,
        &c,
        A::SetStores {
            stores: vec![by_key("s1"), by_id("st2")],
        },
    );
    assert_eq!(c1.stores, vec![store_ref("s1"), store_ref("s2")]);
    assert_eq!(
        msgs,
        vec![M::CustomerStoresSet {
            stores: vec![store_ref("s1"), store_ref("s2")],
            old_stores: vec![],
        }]
    );
    let (same, msgs) = ok(
        &mut env,
        &c1,
        A::SetStores {
            stores: vec![by_key("s1"), by_key("s2")],
        },
    );
    assert_eq!((same, msgs), (c1.clone(), vec![]));
    let (global, msgs) = ok(&mut env, &c1, A::SetStores { stores: vec![] });
    assert!(global.stores.is_empty());
    assert_eq!(
        msgs,
        vec![M::CustomerStoresSet {
            stores: vec![],
            old_stores: vec![store_ref("s1"), store_ref("s2")],
        }]
    );
    assert_eq!(
        err(
            &mut env,
            &c,
            A::SetStores {
                stores: vec![by_key("s1"), by_key("zz")],
            }
        ),
        not_found("store", "zz")
    );
}

#[test]
fn add_and_remove_store_change_the_list_without_messages() {
    let mut env = TestEnv::new();
    let c = env.customer();
    let (c1, msgs) = ok(
        &mut env,
        &c,
        A::AddStore {
            store: by_key("s1"),
        },
    );
    assert_eq!((c1.stores.clone(), msgs), (vec![store_ref("s1")], vec![]));
    let (c2, _) = ok(
        &mut env,
        &c1,
        A::AddStore {
            store: by_id("st2"),
        },
    );
    assert_eq!(c2.stores, vec![store_ref("s1"), store_ref("s2")]);
    let (again, _) = ok(
        &mut env,
        &c2,
        A::AddStore {
            store: by_key("s2"),
        },
    );
    assert_eq!(again, c2);
    let (c3, msgs) = ok(
        &mut env,
        &c2,
        A::RemoveStore {
            store: by_id("st1"),
        },
    );
    assert_eq!((c3.stores.clone(), msgs), (vec![store_ref("s2")], vec![]));
    let (c4, _) = ok(
        &mut env,
        &c3,
        A::RemoveStore {
            store: by_key("s2"),
        },
    );
    assert!(c4.stores.is_empty(), "no store left: global again");
    let (same, _) = ok(
        &mut env,
        &c4,
        A::RemoveStore {
            store: by_key("s1"),
        },
    );
    assert_eq!(same, c4);
    assert_eq!(
        err(
            &mut env,
            &c,
            A::AddStore {
                store: by_key("zz")
            }
        ),
        not_found("store", "zz")
    );
    assert_eq!(
        err(
            &mut env,
            &c,
            A::RemoveStore {
                store: by_key("zz")
            }
        ),
        not_found("store", "zz")
    );
}

#[test]
fn wanted_lists_the_stores_of_drafts_and_actions() {
    let draft = CustomerDraft {
        stores: Some(vec![by_key("s1"), by_id("st2"), by_key("s1")]),
        ..minimal_draft()
    };
    assert_eq!(
        Wanted::for_draft(&draft).stores,
        vec![Lookup::Key("s1".into()), Lookup::Id("st2".into())]
    );
    let mut env = TestEnv::new();
    let c = env.customer();
    let w = Wanted::for_update(
        &c,
        &[
            A::SetStores {
                stores: vec![by_key("a1")],
            },
            A::AddStore {
                store: by_key("b1"),
            },
            A::RemoveStore { store: by_id("c1") },
        ],
    );
    assert_eq!(
        w.stores,
        vec![
            Lookup::Key("a1".into()),
            Lookup::Key("b1".into()),
            Lookup::Id("c1".into())
        ]
    );
}
