//! The meaning of a [`SearchRequest`], evaluated in memory over index entries: which
//! customers match, their relevance and their order. Every index must return exactly this;
//! the property tests compare the SQL index with it.
//!
//! Relevance: a simple expression that matches scores `boost` (times the number of matched
//! terms for fullText, fullTextPrefix and fuzzy); `and` adds its parts, `or` adds the parts
//! that match, `not` and `filter` score 0; no query scores 1 for every customer.

use std::cmp::Ordering;

use super::{
    IndexEntry, Leaf, LeafTest, SearchQuery, SearchRequest, SearchValue, SortMode, SortTarget,
    ValueKind, TOKEN_PREFIX,
};

/// One customer found.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    /// The customer id.
    pub id: String,
    /// Its relevance.
    pub relevance: f64,
}

/// The edit distance a fuzzy term of this length allows at `level`: terms of 1–2 characters
/// must match exactly, of 3–5 within 1, longer ones within `level`.
pub fn fuzzy_level(term: &str, level: u8) -> u8 {
    match term.chars().count() {
        0..=2 => 0,
        3..=5 => level.min(1),
        _ => level,
    }
}

/// Levenshtein distance between `a` and `b`, in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Whether `text` matches `pattern`, where `*` stands for any run of characters and `?` for
/// exactly one.
pub fn matches_wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // ok[j]: pattern prefix so far matches text prefix of length j.
    let mut ok = vec![false; t.len() + 1];
    ok[0] = true;
    for pc in p {
        let mut next = vec![false; t.len() + 1];
        match pc {
            '*' => {
                let mut any = false;
                for j in 0..=t.len() {
                    any = any || ok[j];
                    next[j] = any;
                }
            }
            c => {
                for j in 1..=t.len() {
                    next[j] = ok[j - 1] && (c == '?' || t[j - 1] == c);
                }
            }
        }
        ok = next;
    }
    ok[t.len()]
}

/// Matches and orders `docs` (id, entries) as `request` asks: the total and one page.
pub fn search_in_memory(
    request: &SearchRequest,
    docs: &[(String, Vec<IndexEntry>)],
) -> (u64, Vec<SearchHit>) {
    let mut hits: Vec<(&String, &Vec<IndexEntry>, f64)> = docs
        .iter()
        .filter_map(|(id, entries)| match &request.query {
            None => Some((id, entries, 1.0)),
            Some(q) => score(q, entries).map(|s| (id, entries, s)),
        })
        .collect();
    hits.sort_by(|a, b| {
        let mut order = Ordering::Equal;
        if request.sort.is_empty() {
            order = b.2.partial_cmp(&a.2).unwrap_or(Ordering::Equal);
        }
        for s in &request.sort {
            if order != Ordering::Equal {
                break;
            }
            order = match &s.target {
                SortTarget::Score => {
                    let o = a.2.partial_cmp(&b.2).unwrap_or(Ordering::Equal);
                    if s.desc {
                        o.reverse()
                    } else {
                        o
                    }
                }
                SortTarget::Field(field, mode) => {
                    let ka = sort_key(a.1, &field.name, field.kind, *mode);
                    let kb = sort_key(b.1, &field.name, field.kind, *mode);
                    match (ka, kb) {
                        (None, None) => Ordering::Equal,
                        (None, Some(_)) => Ordering::Greater,
                        (Some(_), None) => Ordering::Less,
                        (Some(x), Some(y)) => {
                            let o = x.cmp_with(&y);
                            if s.desc {
                                o.reverse()
                            } else {
                                o
                            }
                        }
                    }
                }
            };
        }
        order.then_with(|| a.0.cmp(b.0))
    });
    let total = hits.len() as u64;
    let page = hits
        .into_iter()
        .skip(request.offset as usize)
        .take(request.limit as usize)
        .map(|(id, _, s)| SearchHit {
            id: id.clone(),
            relevance: s,
        })
        .collect();
    (total, page)
}

/// A sort value.
enum Key {
    Num(f64),
    Text(String),
}

impl Key {
    fn cmp_with(&self, other: &Key) -> Ordering {
        match (self, other) {
            (Key::Num(a), Key::Num(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
            (Key::Text(a), Key::Text(b)) => a.cmp(b),
            _ => Ordering::Equal,
        }
    }
}

fn sort_key(entries: &[IndexEntry], field: &str, kind: ValueKind, mode: SortMode) -> Option<Key> {
    let of_field = entries.iter().filter(|e| e.field == field);
    if kind == ValueKind::Number {
        let nums: Vec<f64> = of_field.filter_map(|e| e.num).collect();
        if nums.is_empty() {
            return None;
        }
        let sum: f64 = nums.iter().sum();
        Some(Key::Num(match mode {
            SortMode::Min => nums.iter().copied().fold(f64::INFINITY, f64::min),
            SortMode::Max => nums.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            SortMode::Sum => sum,
            SortMode::Avg => sum / nums.len() as f64,
        }))
    } else {
        let texts = of_field.map(|e| e.text.clone());
        match mode {
            SortMode::Max => texts.max(),
            _ => texts.min(),
        }
        .map(Key::Text)
    }
}

/// The relevance of a matching query, `None` when it does not match.
fn score(q: &SearchQuery, entries: &[IndexEntry]) -> Option<f64> {
    match q {
        SearchQuery::And(parts) => parts.iter().map(|p| score(p, entries)).sum(),
        SearchQuery::Or(parts) => {
            let scores: Vec<f64> = parts.iter().filter_map(|p| score(p, entries)).collect();
            (!scores.is_empty()).then(|| scores.iter().sum())
        }
        SearchQuery::Not(parts) => parts
            .iter()
            .all(|p| score(p, entries).is_none())
            .then_some(0.0),
        SearchQuery::Filter(parts) => parts
            .iter()
            .all(|p| score(p, entries).is_some())
            .then_some(0.0),
        SearchQuery::Leaf(leaf) => leaf_matches(leaf, entries).map(|n| leaf.boost * n as f64),
    }
}

/// How many terms (1 for a non-term test) a leaf matches; `None` when it does not match.
fn leaf_matches(leaf: &Leaf, entries: &[IndexEntry]) -> Option<usize> {
    let name = &leaf.field.name;
    let values = || entries.iter().filter(move |e| &e.field == name);
    let terms_field = format!("{TOKEN_PREFIX}{name}");
    let terms = || entries.iter().filter(|e| e.field == terms_field);
    let side = |e: &IndexEntry, ci: bool| if ci { e.lower.clone() } else { e.text.clone() };
    let hit = |b: bool| b.then_some(1);
    match &leaf.test {
        LeafTest::Exact {
            values: wanted,
            case_insensitive,
        } => hit(values().any(|e| {
            wanted.iter().any(|w| match w {
                SearchValue::Number(n) => e.num == Some(*n),
                SearchValue::Text(s) => &side(e, *case_insensitive) == s,
            })
        })),
        LeafTest::Prefix {
            value,
            case_insensitive,
        } => hit(values().any(|e| side(e, *case_insensitive).starts_with(value.as_str()))),
        LeafTest::Wildcard {
            pattern,
            case_insensitive,
        } => hit(values().any(|e| matches_wildcard(pattern, &side(e, *case_insensitive)))),
        LeafTest::Exists => hit(values().next().is_some()),
        LeafTest::Range { gt, gte, lt, lte } => hit(values().any(|e| {
            let ok = |bound: &Option<SearchValue>, want: &[Ordering]| match bound {
                None => true,
                Some(SearchValue::Number(n)) => e
                    .num
                    .and_then(|v| v.partial_cmp(n))
                    .is_some_and(|o| want.contains(&o)),
                Some(SearchValue::Text(s)) => want.contains(&e.text.as_str().cmp(s.as_str())),
            };
            ok(gt, &[Ordering::Greater])
                && ok(gte, &[Ordering::Greater, Ordering::Equal])
                && ok(lt, &[Ordering::Less])
                && ok(lte, &[Ordering::Less, Ordering::Equal])
        })),
        LeafTest::FullText {
            terms: wanted,
            all,
            last_is_prefix,
        } => {
            let last = wanted.len().saturating_sub(1);
            let matched = wanted
                .iter()
                .enumerate()
                .filter(|(i, w)| {
                    terms().any(|e| {
                        if *last_is_prefix && *i == last {
                            e.lower.starts_with(w.as_str())
                        } else {
                            &e.lower == *w
                        }
                    })
                })
                .count();
            counted(matched, wanted.len(), *all)
        }
        LeafTest::Fuzzy { terms: wanted, all } => {
            let matched = wanted
                .iter()
                .filter(|(w, level)| {
                    terms().any(|e| edit_distance(&e.lower, w) <= usize::from(*level))
                })
                .count();
            counted(matched, wanted.len(), *all)
        }
    }
}

/// `matched` of `of` terms: a match when all (or, without `all`, any) matched.
fn counted(matched: usize, of: usize, all: bool) -> Option<usize> {
    let ok = if all { matched == of } else { matched > 0 };
    ok.then_some(matched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(edit_distance("mueller", "mueler"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("müller", "muller"), 1);
    }

    #[test]
    fn wildcards_match_runs_and_single_characters() {
        assert!(matches_wildcard("*@example.com", "jo@example.com"));
        assert!(!matches_wildcard("*@example.com", "jo@example.org"));
        assert!(matches_wildcard("j?hn", "john"));
        assert!(!matches_wildcard("j?hn", "jhn"));
        assert!(matches_wildcard("*", ""));
    }

    #[test]
    fn fuzzy_level_is_capped_by_term_length() {
        assert_eq!(fuzzy_level("ab", 2), 0);
        assert_eq!(fuzzy_level("abcde", 2), 1);
        assert_eq!(fuzzy_level("abcdef", 2), 2);
        assert_eq!(fuzzy_level("abcdef", 0), 0);
    }
}
