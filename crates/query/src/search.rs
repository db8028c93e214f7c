//! The Customer Search query language (`customer-search.md` §3–§7): the checked request
//! ([`SearchRequest`]) that [`parse_search_request`] builds strictly from JSON, the searchable
//! fields and how a customer document is flattened into index entries ([`index_entries`]), and
//! an in-memory evaluation ([`search_in_memory`]) that defines the semantics every index
//! (SQL or other) must reproduce — the property tests compare against it.
//!
//! Pure: no IO, no SQL. Compiling a request to SQL belongs to the store.

mod eval;
mod fields;
mod parse;

pub use eval::{edit_distance, fuzzy_level, matches_wildcard, search_in_memory, SearchHit};
pub use fields::{
    derived, index_entries, indexed, lower_is_text, term_fields, tokenize, IndexEntry,
    MAX_INDEXED_CHARS, TOKEN_PREFIX,
};
pub use parse::{parse_search_request, SearchError};

/// Most expressions (simple and compound, all levels) one query may hold.
pub const MAX_EXPRESSIONS: usize = 50;
/// Longest string value (in characters) an expression may hold.
pub const MAX_VALUE_CHARS: usize = 256;
/// Largest `limit`.
pub const MAX_LIMIT: u32 = 100;
/// Largest `offset`.
pub const MAX_OFFSET: u32 = 9900;
/// Most `sort` entries one request may hold (each one is a sort key the database computes).
pub const MAX_SORT_ENTRIES: usize = 10;
/// Largest `boost`: relevance adds boosts over up to [`MAX_EXPRESSIONS`] parts and their
/// terms, and must stay a finite double on both databases.
pub const MAX_BOOST: f64 = 1_000_000.0;
/// `limit` when the request has none.
pub const DEFAULT_LIMIT: u32 = 20;

/// What kind of values a field holds, which decides how they are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Text, compared bytewise (or lowercased with `caseInsensitive`).
    Text,
    /// `true` / `false`, stored as that text.
    Bool,
    /// A number, compared numerically.
    Number,
    /// `YYYY-MM-DD`, compared as text.
    Date,
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, compared as text.
    DateTime,
    /// `hh:mm:ss.sss`, compared as text.
    Time,
}

/// A searchable field as the index names it.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchField {
    /// The index field name (`email`, `addresses.city`, `custom.tier`, …).
    pub name: String,
    /// How its values compare.
    pub kind: ValueKind,
    /// Whether its text is also split into terms (fullText, fullTextPrefix, fuzzy).
    pub analysed: bool,
}

/// A value of a query, already converted to the field's kind.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchValue {
    /// Compared with the stored text (booleans, dates and times are text too).
    Text(String),
    /// Compared with the stored number.
    Number(f64),
}

/// One simple expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf {
    /// The field it tests.
    pub field: SearchField,
    /// Multiplies its contribution to the relevance.
    pub boost: f64,
    /// The test.
    pub test: LeafTest,
}

/// The test of a simple expression.
#[derive(Debug, Clone, PartialEq)]
pub enum LeafTest {
    /// Some value equals one of `values` (lowercased on both sides with `case_insensitive`).
    Exact {
        /// Accepted values (one or more).
        values: Vec<SearchValue>,
        /// Compare lowercased text.
        case_insensitive: bool,
    },
    /// Some value starts with `value`.
    Prefix {
        /// The prefix (lowercased when `case_insensitive`).
        value: String,
        /// Compare lowercased text.
        case_insensitive: bool,
    },
    /// Some value matches the pattern (`*` any run, `?` one character).
    Wildcard {
        /// The pattern (lowercased when `case_insensitive`).
        pattern: String,
        /// Compare lowercased text.
        case_insensitive: bool,
    },
    /// Analysed term match; each term is one of the field's terms.
    FullText {
        /// The lowercased terms.
        terms: Vec<String>,
        /// Every term must match (`mustMatch: all`) or at least one.
        all: bool,
        /// The last term matches as a prefix (`fullTextPrefix`).
        last_is_prefix: bool,
    },
    /// Terms within an edit distance of the field's terms.
    Fuzzy {
        /// The lowercased terms with their effective edit distance.
        terms: Vec<(String, u8)>,
        /// Every term must match or at least one.
        all: bool,
    },
    /// Some value in the range.
    Range {
        /// Exclusive lower bound.
        gt: Option<SearchValue>,
        /// Inclusive lower bound.
        gte: Option<SearchValue>,
        /// Exclusive upper bound.
        lt: Option<SearchValue>,
        /// Inclusive upper bound.
        lte: Option<SearchValue>,
    },
    /// The field has a value.
    Exists,
}

/// A checked SearchQuery.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchQuery {
    /// All match; scores add up.
    And(Vec<SearchQuery>),
    /// At least one matches; the scores of those that match add up.
    Or(Vec<SearchQuery>),
    /// None matches; scores nothing.
    Not(Vec<SearchQuery>),
    /// All match; scores nothing.
    Filter(Vec<SearchQuery>),
    /// A simple expression.
    Leaf(Leaf),
}

/// Which value of a multi-valued field a sort uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortMode {
    /// The smallest.
    Min,
    /// The largest.
    Max,
    /// The mean (numbers only).
    Avg,
    /// The sum (numbers only).
    Sum,
}

/// What a sort entry orders by.
#[derive(Debug, Clone, PartialEq)]
pub enum SortTarget {
    /// The relevance.
    Score,
    /// A field's value, chosen by `mode`.
    Field(SearchField, SortMode),
}

/// One sort entry.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchSort {
    /// What to order by.
    pub target: SortTarget,
    /// Descending order.
    pub desc: bool,
}

/// A checked `CustomerSearchRequest`.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    /// The query; `None` matches every customer.
    pub query: Option<SearchQuery>,
    /// Sort entries; empty means relevance descending. The id (ascending) always breaks ties.
    pub sort: Vec<SearchSort>,
    /// Page size, 1..=100.
    pub limit: u32,
    /// Offset, 0..=9900.
    pub offset: u32,
}
