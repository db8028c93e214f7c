//! In-memory evaluator of a checked predicate against a resource's API JSON: the test oracle
//! the SQL must agree with.
//!
//! Owns the reference semantics: a test on an absent (or null) field is false for every
//! operator (including `!=` and `not in`); values of another JSON type than the literal never
//! compare; arrays use any-element semantics; `not` is plain negation. Strings compare
//! byte-wise, numbers numerically, datetimes as their normalised text (the stored format). It must
//! not do any IO or reorder semantics for speed — it is deliberately the simplest reading.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value as Json;

use crate::ast::CmpOp;
use crate::check::{Access, Cond, Kind, ScopeMode, Shape, Test, Value};

/// Evaluates `cond` with `obj` as the current object.
pub(crate) fn eval(cond: &Cond, obj: &Json) -> bool {
    match cond {
        Cond::And(items) => items.iter().all(|c| eval(c, obj)),
        Cond::Or(items) => items.iter().any(|c| eval(c, obj)),
        Cond::Not(inner) => !eval(inner, obj),
        // The side table mirrors the JSON array; the JSON is the reference.
        Cond::KeyIn { json, .. } | Cond::Elements { json, .. } => eval(json, obj),
        Cond::Scope {
            access,
            mode,
            inner,
        } => {
            let Some(v) = get(obj, access) else {
                return false;
            };
            let any_object_element = |v: &Json| {
                v.as_array()
                    .is_some_and(|a| a.iter().any(|e| e.is_object() && eval(inner, e)))
            };
            match mode {
                ScopeMode::Object { .. } => v.is_object() && eval(inner, &v),
                ScopeMode::Array => any_object_element(&v),
                ScopeMode::Untyped => (v.is_object() && eval(inner, &v)) || any_object_element(&v),
            }
        }
        Cond::Test {
            access,
            shape,
            test,
        } => {
            let v = get(obj, access);
            match test {
                Test::Defined(negated) => v.is_some() != *negated,
                Test::Empty(negated) => match v.as_deref().and_then(Json::as_array) {
                    Some(a) => a.is_empty() != *negated,
                    None => false,
                },
                _ => {
                    let Some(v) = v else {
                        return false;
                    };
                    let cands = candidates(&v, *shape);
                    match test {
                        Test::Cmp(op, lit) => cands
                            .iter()
                            .any(|c| compare(c, lit).is_some_and(|ord| op_holds(*op, ord))),
                        Test::In { negated, values } => cands.iter().any(|c| {
                            let comparable = values.iter().any(|l| compare(c, l).is_some());
                            let found = values
                                .iter()
                                .any(|l| compare(c, l) == Some(Ordering::Equal));
                            if *negated {
                                comparable && !found
                            } else {
                                found
                            }
                        }),
                        Test::ContainsAll(values) => values
                            .iter()
                            .all(|l| cands.iter().any(|c| compare(c, l) == Some(Ordering::Equal))),
                        Test::Defined(_) | Test::Empty(_) => false,
                    }
                }
            }
        }
    }
}

/// The field's value, or `None` when absent or null.
fn get<'a>(obj: &'a Json, access: &Access) -> Option<Cow<'a, Json>> {
    if let Some(of) = access.lowercase_of {
        return obj
            .get(of)
            .and_then(Json::as_str)
            .map(|s| Cow::Owned(Json::String(s.to_lowercase())));
    }
    obj.get(access.key.as_str())
        .filter(|v| !v.is_null())
        .map(Cow::Borrowed)
}

fn candidates(v: &Json, shape: Shape) -> Vec<&Json> {
    match (shape, v) {
        (Shape::Single, v) => vec![v],
        (Shape::Array | Shape::Untyped, Json::Array(a)) => a.iter().collect(),
        (Shape::Array, _) => Vec::new(),
        (Shape::Untyped, Json::String(_) | Json::Number(_) | Json::Bool(_)) => vec![v],
        (Shape::Untyped, _) => Vec::new(),
    }
}

/// Orders a JSON value against a checked value; `None` when their kinds differ.
fn compare(c: &Json, lit: &Value) -> Option<Ordering> {
    match (c, lit.kind()) {
        (Json::String(s), Kind::Str) => match lit {
            Value::Str(l) => Some(s.as_str().cmp(l.as_str())),
            _ => None,
        },
        (Json::Bool(b), Kind::Bool) => match lit {
            Value::Bool(l) => Some(b.cmp(l)),
            _ => None,
        },
        (Json::Number(n), Kind::Num) => match (lit, n.as_i64()) {
            (Value::Int(l), Some(i)) => Some(i.cmp(l)),
            (Value::Int(l), None) => n.as_f64()?.partial_cmp(&(*l as f64)),
            (Value::Float(l), _) => n.as_f64()?.partial_cmp(l),
            _ => None,
        },
        _ => None,
    }
}

fn op_holds(op: CmpOp, ord: Ordering) -> bool {
    match op {
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::Ne => ord != Ordering::Equal,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Le => ord != Ordering::Greater,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Ge => ord != Ordering::Less,
    }
}
