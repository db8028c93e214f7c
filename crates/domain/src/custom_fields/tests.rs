//! The validation matrix (every field type: accepted, normalised and rejected values) and the
//! setCustomType / setCustomField semantics on a bare `custom` slot.

use super::*;
use crate::custom_type::{CustomFieldEnumValue, CustomFieldLocalizedEnumValue, FieldDefinition};
use crate::newtypes::Version;
use std::collections::BTreeMap;
use time::macros::datetime;

fn label() -> BTreeMap<String, String> {
    BTreeMap::from([("en".to_owned(), "Label".to_owned())])
}

fn def(name: &str, type_: FieldType, required: bool) -> FieldDefinition {
    FieldDefinition {
        type_,
        name: name.to_owned(),
        label: label(),
        required,
        input_hint: None,
    }
}

fn enum_type() -> FieldType {
    FieldType::Enum {
        values: vec![
            CustomFieldEnumValue {
                key: "gold".to_owned(),
                label: "Gold".to_owned(),
            },
            CustomFieldEnumValue {
                key: "silver".to_owned(),
                label: "Silver".to_owned(),
            },
        ],
    }
}

fn lenum_type() -> FieldType {
    FieldType::LocalizedEnum {
        values: vec![CustomFieldLocalizedEnumValue {
            key: "a".to_owned(),
            label: label(),
        }],
    }
}

fn custom_type(defs: Vec<FieldDefinition>, resource_type_ids: &[&str]) -> Type {
    Type {
        id: "type-1".to_owned(),
        version: Version::FIRST,
        created_at: datetime!(2024-01-01 0:00 UTC),
        last_modified_at: datetime!(2024-01-01 0:00 UTC),
        last_modified_by: None,
        created_by: None,
        key: "loyalty".to_owned(),
        name: label(),
        description: None,
        resource_type_ids: resource_type_ids.iter().map(|s| (*s).to_owned()).collect(),
        field_definitions: defs,
    }
}

fn resolved(t: Type) -> Resolved {
    Resolved {
        customer_groups: Vec::new(),
        types: vec![t],
        stores: Vec::new(),
    }
}

fn by_key(key: &str) -> ResourceIdentifier {
    ResourceIdentifier {
        type_id: None,
        id: None,
        key: Some(key.to_owned()),
    }
}

#[track_caller]
fn accepts(ty: &FieldType, v: Value, stored: Value) {
    assert_eq!(
        validate_value(ty, "f", &v),
        Ok(stored),
        "{} accepts {v}",
        ty.name()
    );
}

#[track_caller]
fn rejects(ty: &FieldType, v: Value) {
    let err = validate_value(ty, "f", &v).unwrap_err();
    assert!(
        matches!(&err, DomainError::InvalidField { field, invalid_value, .. } if field == "f" && *invalid_value == v),
        "{} rejects {v}: {err:?}",
        ty.name()
    );
}

/// A field type, the values it accepts with how they are stored, and values it rejects.
type Case = (FieldType, Vec<(Value, Value)>, Vec<Value>);

#[test]
fn every_field_type_accepts_its_values_and_rejects_the_rest() {
    let others = [
        json!(true),
        json!("text"),
        json!(42),
        json!({"en": "x"}),
        json!([1]),
        json!(null),
    ];
    let cases: Vec<Case> = vec![
        (
            FieldType::Boolean {},
            vec![(json!(false), json!(false))],
            vec![json!("true")],
        ),
        (
            FieldType::String {},
            vec![(json!(""), json!("")), (json!("x"), json!("x"))],
            vec![],
        ),
        (
            FieldType::LocalizedString {},
            vec![(json!({"en": "a", "de": "b"}), json!({"en": "a", "de": "b"}))],
            vec![json!({"en": 1})],
        ),
        (
            FieldType::Number {},
            vec![(json!(1.5), json!(1.5)), (json!(-3), json!(-3))],
            vec![json!("1")],
        ),
        (
            FieldType::Money {},
            vec![
                (
                    json!({"centAmount": 1234, "currencyCode": "EUR"}),
                    json!({"type": "centPrecision", "currencyCode": "EUR", "centAmount": 1234, "fractionDigits": 2}),
                ),
                (
                    json!({"type": "centPrecision", "centAmount": 5, "currencyCode": "JPY", "fractionDigits": 0}),
                    json!({"type": "centPrecision", "currencyCode": "JPY", "centAmount": 5, "fractionDigits": 0}),
                ),
            ],
            vec![
                json!({"centAmount": 1.5, "currencyCode": "EUR"}),
                json!({"centAmount": 1, "currencyCode": "eur"}),
                json!({"centAmount": 1}),
                json!({"centAmount": 1, "currencyCode": "EUR", "type": "highPrecision"}),
            ],
        ),
        (
            FieldType::Date {},
            vec![(json!("2024-02-29"), json!("2024-02-29"))],
            vec![json!("2023-02-29"), json!("29.02.2024")],
        ),
        (
            FieldType::Time {},
            vec![
                (json!("14:00:00"), json!("14:00:00.000")),
                (json!("23:59:59.5"), json!("23:59:59.500")),
                (json!("01:02:03.123456"), json!("01:02:03.123")),
            ],
            vec![
                json!("24:00:00"),
                json!("1:00:00"),
                json!("12:00"),
                json!("12:00:00."),
            ],
        ),
        (
            FieldType::DateTime {},
            vec![
                (
                    json!("2024-01-02T03:04:05Z"),
                    json!("2024-01-02T03:04:05.000Z"),
                ),
                (
                    json!("2024-01-02T03:04:05.123+01:00"),
                    json!("2024-01-02T02:04:05.123Z"),
                ),
            ],
            vec![json!("2024-01-02"), json!("yesterday")],
        ),
        (
            FieldType::Reference {
                reference_type_id: "customer".to_owned(),
            },
            vec![(
                json!({"typeId": "customer", "id": "c1", "obj": {}}),
                json!({"typeId": "customer", "id": "c1"}),
            )],
            vec![
                json!({"typeId": "product", "id": "p"}),
                json!({"typeId": "customer"}),
            ],
        ),
        (
            FieldType::Set {
                element_type: Box::new(FieldType::String {}),
            },
            vec![
                (json!([]), json!([])),
                (json!(["a", "b"]), json!(["a", "b"])),
            ],
            vec![json!(["a", 1]), json!("a")],
        ),
        (
            enum_type(),
            vec![(json!("gold"), json!("gold"))],
            vec![json!("bronze")],
        ),
        (
            lenum_type(),
            vec![(json!("a"), json!("a"))],
            vec![json!("b")],
        ),
    ];
    for (ty, good, bad) in cases {
        for (v, stored) in good {
            accepts(&ty, v, stored);
        }
        for v in bad {
            rejects(&ty, v);
        }
        for v in &others {
            if validate_value(&ty, "f", v).is_ok() {
                continue;
            }
            rejects(&ty, v.clone());
        }
    }
    // Each type rejects at least the values of the other JSON kinds.
    rejects(&FieldType::Boolean {}, json!("x"));
    rejects(&FieldType::String {}, json!(1));
    rejects(&FieldType::Number {}, json!(true));
    rejects(&FieldType::LocalizedString {}, json!("x"));
}

#[test]
fn enum_errors_list_the_allowed_keys() {
    let err = validate_value(&enum_type(), "tier", &json!("bronze")).unwrap_err();
    assert_eq!(
        err,
        DomainError::InvalidField {
            field: "tier".to_owned(),
            invalid_value: json!("bronze"),
            allowed_values: Some(vec![json!("gold"), json!("silver")]),
        }
    );
    let set = FieldType::Set {
        element_type: Box::new(enum_type()),
    };
    assert_eq!(
        validate_value(&set, "tiers", &json!(["gold", "x"])).unwrap_err(),
        DomainError::InvalidField {
            field: "tiers".to_owned(),
            invalid_value: json!(["gold", "x"]),
            allowed_values: Some(vec![json!("gold"), json!("silver")]),
        }
    );
}

#[test]
fn build_checks_resource_type_required_and_unknown_fields() {
    let t = custom_type(
        vec![
            def("tier", enum_type(), true),
            def("note", FieldType::String {}, false),
        ],
        &["customer"],
    );
    let r = resolved(t);
    let draft = |fields: Value| CustomFieldsDraft {
        type_: by_key("loyalty"),
        fields: fields.as_object().cloned(),
    };
    let built = build_custom_fields(
        &draft(json!({"tier": "gold", "note": null})),
        &r,
        "customer",
    )
    .unwrap();
    assert_eq!(built.type_, Reference::new("type", "type-1"));
    assert_eq!(Value::Object(built.fields), json!({"tier": "gold"}));
    assert_eq!(
        build_custom_fields(&draft(json!({"note": "x"})), &r, "customer").unwrap_err(),
        DomainError::RequiredField {
            field: "tier".to_owned()
        }
    );
    assert!(matches!(
        build_custom_fields(&draft(json!({"tier": "gold", "nope": 1})), &r, "customer").unwrap_err(),
        DomainError::InvalidField { field, .. } if field == "nope"
    ));
    assert!(matches!(
        build_custom_fields(&draft(json!({"tier": "gold"})), &r, "address").unwrap_err(),
        DomainError::InvalidOperation(m) if m.contains("cannot be used for resources of type 'address'")
    ));
    assert!(matches!(
        build_custom_fields(
            &CustomFieldsDraft { type_: by_key("other"), fields: None },
            &r,
            "customer"
        )
        .unwrap_err(),
        DomainError::ReferencedResourceNotFound { type_id, key: Some(k), .. } if type_id == "type" && k == "other"
    ));
}

#[test]
fn set_type_and_field_report_what_changed() {
    let t = custom_type(
        vec![
            def("tier", enum_type(), false),
            def("vip", FieldType::Boolean {}, true),
        ],
        &["customer"],
    );
    let r = resolved(t);
    let mut slot = None;
    assert_eq!(
        set_custom_field(&mut slot, "vip", Some(&json!(true)), &r).unwrap_err(),
        DomainError::invalid_operation(
            "This resource has no custom type set - please use setCustomType first to set the type and then set the custom fields."
        )
    );
    assert!(matches!(
        set_custom_type(&mut slot, Some(&by_key("loyalty")), None, &r, "customer"),
        Err(DomainError::RequiredField { .. })
    ));
    let fields = json!({"vip": false}).as_object().cloned();
    let ch = set_custom_type(
        &mut slot,
        Some(&by_key("loyalty")),
        fields.as_ref(),
        &r,
        "customer",
    )
    .unwrap()
    .unwrap();
    assert!(matches!(
        ch,
        TypeChange::Set {
            previous_type_id: None,
            ..
        }
    ));
    // Same type and fields again: nothing changes.
    assert_eq!(
        set_custom_type(
            &mut slot,
            Some(&by_key("loyalty")),
            fields.as_ref(),
            &r,
            "customer"
        )
        .unwrap(),
        None
    );
    assert_eq!(
        set_custom_field(&mut slot, "tier", Some(&json!("gold")), &r).unwrap(),
        Some(FieldChange::Added {
            name: "tier".to_owned(),
            value: json!("gold")
        })
    );
    assert_eq!(
        set_custom_field(&mut slot, "tier", Some(&json!("gold")), &r).unwrap(),
        None
    );
    assert_eq!(
        set_custom_field(&mut slot, "tier", Some(&json!("silver")), &r).unwrap(),
        Some(FieldChange::Changed {
            name: "tier".to_owned(),
            value: json!("silver"),
            previous_value: json!("gold")
        })
    );
    assert_eq!(
        set_custom_field(&mut slot, "tier", Some(&Value::Null), &r).unwrap(),
        Some(FieldChange::Removed {
            name: "tier".to_owned()
        })
    );
    assert!(matches!(
        set_custom_field(&mut slot, "tier", None, &r).unwrap_err(),
        DomainError::InvalidOperation(_)
    ));
    assert_eq!(
        set_custom_field(&mut slot, "vip", None, &r).unwrap_err(),
        DomainError::RequiredField {
            field: "vip".to_owned()
        }
    );
    assert!(matches!(
        set_custom_field(&mut slot, "vip", Some(&json!("yes")), &r).unwrap_err(),
        DomainError::InvalidField { .. }
    ));
    assert_eq!(
        set_custom_type(&mut slot, None, None, &r, "customer").unwrap(),
        Some(TypeChange::Removed {
            previous_type_id: Some("type-1".to_owned())
        })
    );
    assert_eq!(slot, None);
    assert_eq!(
        set_custom_type(&mut slot, None, None, &r, "customer").unwrap(),
        None
    );
}
