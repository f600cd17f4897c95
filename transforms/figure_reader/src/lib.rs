//! The figure reader of `transforms/indicators.py`, compiled: for a batch of span texts, every figure the
//! Python reader accepts, with its offsets, unit, value, qualifier, direction, metric rule and period
//! (`periods.rs`, after `transforms/periods.py`).
//!
//! The rules are the Python modules', read from them: the patterns, the reference tables (units, metrics) and
//! the word lists are handed to `FigureReader` when it is made (`indicators._figure_reader_config`). What stays in
//! Python: a Chinese numeral's value (`parse_number`, called back once per distinct numeral) and the values Python
//! rounds (a fraction's quotient, a product of more than 28 digits), which `indicators._read_compiled` computes.
//! Offsets are Python's: characters, not bytes. The Python reader stays the reference: tests compare the two
//! frame for frame.

use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use regex::Regex;
use std::cmp::Ordering;
use std::collections::{HashMap as StdHashMap, HashSet as StdHashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

mod periods;
use periods::{Period, PeriodFinder, PeriodRules};

/// Firefox's hash (as rustc's FxHasher): the maps here are keyed by characters, short strings and indexes,
/// looked up per character of the text, where SipHash's resistance to chosen keys is not needed.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(byte as u64);
        }
    }
    fn write_u8(&mut self, value: u8) {
        self.write_u64(value as u64);
    }
    fn write_u32(&mut self, value: u32) {
        self.write_u64(value as u64);
    }
    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type HashMap<K, V> = StdHashMap<K, V, BuildHasherDefault<FxHasher>>;
type HashSet<K> = StdHashSet<K, BuildHasherDefault<FxHasher>>;

/// A small set of characters: a table for ASCII, a short list for the rest.
struct CharSet {
    ascii: [bool; 128],
    other: Vec<char>,
}

impl CharSet {
    fn new(text: &str) -> Self {
        let mut set = CharSet { ascii: [false; 128], other: Vec::new() };
        for ch in text.chars() {
            if ch.is_ascii() {
                set.ascii[ch as usize] = true;
            } else if !set.other.contains(&ch) {
                set.other.push(ch);
            }
        }
        set
    }
    #[inline]
    fn contains(&self, ch: &char) -> bool {
        if ch.is_ascii() {
            self.ascii[*ch as usize]
        } else {
            self.other.contains(ch)
        }
    }
}

// The readers, in the order of `indicators._readers` (the patterns' priority), which is also the `kind` column.
const CANDIDATE: u8 = 0;
const PERCENT_WORDS: u8 = 1;
const FRACTION: u8 = 2;
const BARE_MULTIPLE: u8 = 3;

/// One figure found in a span (offsets in characters of the span).
struct Found {
    start: usize,
    end: usize,
    kind: u8,
    unit: String,      // the written unit with its multiplier (万元), the multiplier of a bare figure, or ""
    dimension: String, // the unit's dimension
    value: String,     // the number as an exact decimal string (the numerator of a fraction)
    value_high: Option<String>,
    denominator: Option<String>,
    qualifier: Option<String>,
    direction: Option<String>,
    rule: i64, // index into the metric rules, -1 for 'other'
    period: Option<Period>,
}

struct KeywordEntry {
    keyword: Vec<char>,
    neg_priority: i64,
    neg_length: i64,
    order: usize,
}

/// The rules with a keyword that fit one dimension, by the first character of their keyword, and the
/// dimension's fallback rule (`_keyword_index`).
struct KeywordIndex {
    entries: Vec<KeywordEntry>,
    by_first: HashMap<char, Vec<usize>>,
    fallback: Option<usize>,
}

/// A row of metrics.csv: its keyword, the dimension it fits (empty: any), its priority, the metric it sets and the
/// rule as fact_indicator.metric_rule describes it.
struct Rule {
    keyword: Vec<char>,
    dimension: String,
    priority: i64,
    metric: String,
    description: String,
}

/// A unit as the rows need it: its name, base unit, factor to the base unit (an exact decimal), dimension.
#[derive(Clone)]
struct UnitRow {
    unit: String,
    base_unit: String,
    factor: String,
    dimension: String,
}

impl<'a> FromPyObject<'a> for UnitRow {
    fn extract(object: &'a PyAny) -> PyResult<Self> {
        let (unit, base_unit, factor, dimension): (String, String, String, String) = object.extract()?;
        Ok(UnitRow { unit, base_unit, factor, dimension })
    }
}

/// The coefficient and exponent of a decimal written as digits with an optional fraction, when its digits fit.
fn decimal_parts(text: &str) -> Option<(u128, u32)> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = format!("{int}{frac}");
    if digits.is_empty() || digits.len() > 38 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((digits.parse().ok()?, frac.len() as u32))
}

/// `float(Decimal(value) * Decimal(factor))` where the product is exact in Python's default context (at most 28
/// digits); None otherwise, for Python to compute.
fn product(value: &str, factor: &str) -> Option<f64> {
    let (a, a_scale) = decimal_parts(value)?;
    let (b, b_scale) = decimal_parts(factor)?;
    let coefficient = a.checked_mul(b)?.to_string();
    if coefficient.len() > 28 {
        return None;
    }
    let scale = (a_scale + b_scale) as usize;
    let written = if scale == 0 {
        coefficient
    } else if coefficient.len() > scale {
        format!("{}.{}", &coefficient[..coefficient.len() - scale], &coefficient[coefficient.len() - scale..])
    } else {
        format!("0.{}{}", "0".repeat(scale - coefficient.len()), coefficient)
    };
    written.parse().ok()
}

/// Name regions of a span: sorted starts and the furthest end reached up to each (`_Regions`).
struct Regions {
    starts: Vec<usize>,
    reach: Vec<usize>,
}

impl Regions {
    fn inside(&self, pos: usize) -> bool {
        let before = self.starts.partition_point(|&start| start < pos);
        before > 0 && self.reach[before - 1] > pos
    }
}

#[pyclass]
struct FigureReader {
    patterns: Vec<Arc<Pattern>>, // in priority order: a later pattern never takes digits an earlier one has read
    groups_seen: Vec<HashMap<String, Arc<[Option<(usize, usize)>]>>>, // by pattern, by match text
    glued_before: Regex,
    range_before: Regex,
    ordinal_list_before: Regex,
    arabic_only: HashSet<String>,
    prefix_qualifiers: HashMap<String, String>,
    inner_qualifiers: HashMap<String, String>,
    suffix_qualifiers: HashMap<String, String>,
    direction_words: HashMap<Vec<char>, String>,
    direction_lengths: Vec<usize>,
    rate_only_words: HashSet<Vec<char>>,
    rate_dimensions: HashSet<String>,
    word_before_yue: CharSet,
    name_followers: Vec<Vec<char>>,
    unit_veto: HashMap<String, CharSet>,
    may_reject_after: CharSet,
    clause_breaks: CharSet,
    glued_after: CharSet,
    date_followers: CharSet,
    openers: CharSet,

    closers: HashMap<char, char>, // closing mark -> its opening mark
    symmetric: CharSet,
    marks: Regex, // every opening, closing and symmetric mark
    rules: Vec<Rule>,
    indexes: HashMap<String, KeywordIndex>,
    periods: PeriodRules,
    units: HashMap<String, UnitRow>, // by written form, multiplier included
    bare_units: HashMap<String, UnitRow>, // a bare figure's unit by its multiplier
    fraction_unit: UnitRow,
    percent_unit: UnitRow,
    chinese_value: PyObject,
    numerals: HashMap<(String, bool), Option<String>>,
}

fn item<'a, T: FromPyObject<'a>>(config: &'a PyDict, key: &str) -> PyResult<T> {
    config
        .get_item(key)
        .ok_or_else(|| PyKeyError::new_err(format!("figure reader config: no {key}")))?
        .extract()
}

fn regex(pattern: &str) -> PyResult<Regex> {
    Regex::new(pattern).map_err(|e| PyValueError::new_err(format!("{pattern}: {e}")))
}

fn count(text: &str) -> usize {
    text.chars().count()
}

/// Compares two decimals written as digits with an optional fraction (what the Arabic pattern and
/// `str(Decimal)` of a count write).
fn decimal_cmp(a: &str, b: &str) -> Ordering {
    fn parts(text: &str) -> (&str, &str) {
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        (int.trim_start_matches('0'), frac.trim_end_matches('0'))
    }
    let (ai, af) = parts(a);
    let (bi, bf) = parts(b);
    ai.len().cmp(&bi.len()).then_with(|| ai.cmp(bi)).then_with(|| af.cmp(bf))
}

/// Character offsets of increasing byte offsets of one text, counted from the last one asked.
struct CharOffsets<'t> {
    text: &'t str,
    byte: usize,
    char: usize,
}

impl<'t> CharOffsets<'t> {
    fn new(text: &'t str) -> Self {
        CharOffsets { text, byte: 0, char: 0 }
    }
    fn at(&mut self, byte: usize) -> usize {
        self.char += self.text[self.byte..byte].chars().count();
        self.byte = byte;
        self.char
    }
}

/// The characters beyond ASCII that Python's `str.isdigit` accepts (superscripts, circled digits, other scripts'
/// digits), which `_period_of` tests: asked of Python for the characters Rust calls numeric, a superset.
fn python_digits(py: Python<'_>) -> PyResult<StdHashSet<char>> {
    let mut digits = StdHashSet::new();
    for ch in (0x80..=0x10FFFFu32).filter_map(char::from_u32).filter(|ch| ch.is_numeric()) {
        if pyo3::types::PyString::new(py, ch.encode_utf8(&mut [0; 4])).call_method0("isdigit")?.extract::<bool>()? {
            digits.insert(ch);
        }
    }
    Ok(digits)
}

fn is_year(number: &str) -> bool {
    number.len() == 4
        && number.bytes().all(|b| b.is_ascii_digit())
        && (1900..=2100).contains(&number.parse::<u32>().unwrap_or(0))
}

fn starts_with_at(text: &[char], at: usize, word: &[char]) -> bool {
    text.len() >= at + word.len() && &text[at..at + word.len()] == word
}

/// The groups of one match by name: their offsets in the match's text, found once per distinct match text.
struct Groups<'t> {
    text: &'t str,
    spans: Arc<[Option<(usize, usize)>]>,
    names: Arc<[(String, usize)]>,
}

/// A match of a candidate pattern in a span: where it starts and ends (characters) and its groups.
struct Located<'t> {
    start: usize,
    end: usize,
    groups: Groups<'t>,
}

fn group<'t>(groups: &Groups<'t>, name: &str) -> &'t str {
    match groups.names.iter().find(|(known, _)| known == name) {
        Some(&(_, index)) => groups.spans[index].map_or("", |(start, end)| &groups.text[start..end]),
        None => "",
    }
}

/// One of the candidate patterns, in priority order.
struct Pattern {
    kind: u8,
    /// The pattern: its groups.
    full: Regex,
    /// What is searched: the pattern, or the pattern less an optional prefix group that starts it (`prefixes`), which
    /// regex 1.7 scans several times slower (it defeats the search for the digits the rest starts with).
    scan: Regex,
    /// The prefix group's alternatives in the pattern's order (longest first), when `scan` lacks them.
    prefixes: Vec<String>,
    names: Arc<[(String, usize)]>,
}

/// At most this many distinct match texts keep their groups (a batch has ~20,000 of ~120,000 matches).
const GROUPS_KEPT: usize = 200_000;

impl FigureReader {
    fn name_regions(&self, text: &[char], source: &str) -> Regions {
        let mut offsets = CharOffsets::new(source);
        let mut regions: Vec<(usize, usize)> = Vec::new();
        let mut stack: Vec<(char, usize)> = Vec::new();
        let mut previous = 0;
        for found in self.marks.find_iter(source) {
            let pos = offsets.at(found.start());
            let ch = text[pos];
            let opener = self.openers.contains(&ch);
            let closer = self.closers.get(&ch);
            let symmetric = self.symmetric.contains(&ch);
            if !stack.is_empty() && text[previous..pos].contains(&'\n') {
                stack.clear(); // marks pair on one line only
            }
            previous = pos;
            if opener {
                stack.push((ch, pos));
                continue;
            }
            let wanted = *closer.unwrap_or(&ch);
            let depth = stack.iter().rposition(|&(mark, _)| mark == wanted);
            match depth {
                Some(depth) => {
                    regions.push((stack[depth].1, pos + 1));
                    stack.truncate(depth);
                }
                None if symmetric => stack.push((ch, pos)),
                None => {}
            }
        }
        regions.sort_unstable();
        let mut reach = Vec::with_capacity(regions.len());
        let mut furthest = 0;
        for &(_, end) in &regions {
            furthest = furthest.max(end);
            reach.push(furthest);
        }
        Regions { starts: regions.iter().map(|&(start, _)| start).collect(), reach }
    }

    fn parse_number(&mut self, py: Python<'_>, text: &str, counting: bool) -> PyResult<Option<String>> {
        let first = match text.chars().next() {
            None => return Ok(None),
            Some(first) => first,
        };
        if first.is_ascii() {
            return Ok(Some(text.chars().filter(|&c| c != ',' && c != ' ').collect()));
        }
        let key = (text.to_string(), counting);
        if let Some(known) = self.numerals.get(&key) {
            return Ok(known.clone());
        }
        let value: Option<String> = self.chinese_value.call1(py, (text, counting))?.extract(py)?;
        self.numerals.insert(key, value.clone());
        Ok(value)
    }

    fn rejected_before(&self, text: &[char], number_start: usize, regions: &Regions) -> bool {
        if regions.inside(number_start) {
            return true;
        }
        if number_start == 0 || !self.may_reject_after.contains(&text[number_start - 1]) {
            return false;
        }
        let before: String = text[number_start.saturating_sub(12)..number_start].iter().collect();
        if self.glued_before.is_match(&before) || self.range_before.is_match(&before) {
            return true;
        }
        before.ends_with('第') || self.ordinal_list_before.is_match(&before)
    }

    fn glued_after(&self, text: &[char], end: usize) -> bool {
        end < text.len() && self.glued_after.contains(&text[end])
    }

    /// (start of the quote, qualifier): a prefix that is part of a word is dropped from the quote.
    #[allow(clippy::too_many_arguments)]
    fn qualifier(
        &self,
        text: &[char],
        start: usize,
        number_start: usize,
        prefix: &str,
        dimension: &str,
        inners: [&str; 2],
        suffix: &str,
    ) -> (usize, Option<String>) {
        let before_prefix = &text[start.saturating_sub(2)..start];
        let mut start = start;
        let mut prefix = prefix;
        if !prefix.is_empty()
            && ((prefix == "近" && dimension == "time")
                || (prefix.starts_with('超') && (before_prefix.contains(&'不') || before_prefix.last() == Some(&'消')))
                || (prefix == "约" && before_prefix.last().map_or(false, |c| self.word_before_yue.contains(c))))
        {
            start = number_start;
            prefix = "";
        }
        let mut qualifier = if prefix.is_empty() { None } else { self.prefix_qualifiers.get(prefix).cloned() };
        for inner in inners {
            if !inner.is_empty() {
                qualifier = self.inner_qualifiers.get(inner).cloned();
            }
        }
        if !suffix.is_empty() {
            qualifier = self.suffix_qualifiers.get(suffix).cloned();
        }
        (start, qualifier)
    }

    fn direction_before(&self, before: &[char], dimension: &str) -> Option<String> {
        let before = match before.last() {
            Some('了') => &before[..before.len() - 1],
            _ => before,
        };
        for &length in &self.direction_lengths {
            if before.len() < length {
                continue;
            }
            let word = &before[before.len() - length..];
            if let Some(direction) = self.direction_words.get(word) {
                if self.rate_only_words.contains(word) && !self.rate_dimensions.contains(dimension) {
                    continue;
                }
                return Some(direction.clone());
            }
        }
        None
    }

    fn keyword_index(&mut self, dimension: &str) -> &KeywordIndex {
        if !self.indexes.contains_key(dimension) {
            let mut best: Vec<KeywordEntry> = Vec::new();
            let mut by_keyword: HashMap<Vec<char>, usize> = HashMap::default();
            for (order, rule) in self.rules.iter().enumerate() {
                if rule.keyword.is_empty() || (!rule.dimension.is_empty() && rule.dimension != dimension) {
                    continue;
                }
                let entry = KeywordEntry {
                    keyword: rule.keyword.clone(),
                    neg_priority: -rule.priority,
                    neg_length: -(rule.keyword.len() as i64),
                    order,
                };
                match by_keyword.get(&rule.keyword) {
                    None => {
                        by_keyword.insert(rule.keyword.clone(), best.len());
                        best.push(entry);
                    }
                    Some(&at) => {
                        let known = &best[at];
                        if (entry.neg_priority, entry.order) < (known.neg_priority, known.order) {
                            best[at] = entry;
                        }
                    }
                }
            }
            let mut by_first: HashMap<char, Vec<usize>> = HashMap::default();
            for (at, entry) in best.iter().enumerate() {
                by_first.entry(entry.keyword[0]).or_default().push(at);
            }
            let fallback = self.rules.iter().position(|rule| rule.keyword.is_empty() && rule.dimension == dimension);
            self.indexes.insert(dimension.to_string(), KeywordIndex { entries: best, by_first, fallback });
        }
        &self.indexes[dimension]
    }

    /// The metric rule of a figure (`classify_metric_rule`): its index, or -1 for 'other'.
    fn classify(&mut self, before: &[char], after: &[char], dimension: &str) -> i64 {
        let index = self.keyword_index(dimension);
        let mut distances: HashMap<usize, i64> = HashMap::default();
        let length = before.len() as i64;
        for (at, ch) in before.iter().enumerate() {
            if let Some(entries) = index.by_first.get(ch) {
                for &entry in entries {
                    let keyword = &index.entries[entry].keyword;
                    if starts_with_at(before, at, keyword) {
                        distances.insert(entry, length - at as i64 - keyword.len() as i64);
                    }
                }
            }
        }
        for (at, ch) in after.iter().enumerate() {
            if let Some(entries) = index.by_first.get(ch) {
                for &entry in entries {
                    if starts_with_at(after, at, &index.entries[entry].keyword) {
                        let known = distances.get(&entry);
                        if known.map_or(true, |&known| (at as i64) < known) {
                            distances.insert(entry, at as i64);
                        }
                    }
                }
            }
        }
        let best = distances.iter().min_by_key(|(&entry, &distance)| {
            let e = &index.entries[entry];
            (e.neg_priority, distance, e.neg_length, e.order)
        });
        match best {
            Some((&entry, _)) => index.entries[entry].order as i64,
            None => index.fallback.map_or(-1, |rule| rule as i64),
        }
    }

    /// Direction and metric rule of a located figure [start, end) (`_context`, the period aside).
    fn context(&mut self, text: &[char], start: usize, end: usize, dimension: &str) -> (Option<String>, i64) {
        let direction = self.direction_before(&text[start.saturating_sub(8)..start], dimension);
        let clause_end = (end..text.len()).find(|&i| self.clause_breaks.contains(&text[i])).unwrap_or(text.len());
        let clause_start = (0..start).rev().find(|&i| self.clause_breaks.contains(&text[i])).map_or(0, |i| i + 1);
        let rule = self.classify(&text[clause_start..start], &text[end..clause_end], dimension);
        (direction, rule)
    }

    #[allow(clippy::too_many_arguments)]
    fn found(
        &mut self,
        text: &[char],
        start: usize,
        end: usize,
        kind: u8,
        unit: String,
        dimension: String,
        value: String,
        value_high: Option<String>,
        denominator: Option<String>,
        qualifier: Option<String>,
    ) -> Found {
        let (direction, rule) = self.context(text, start, end, &dimension);
        Found { start, end, kind, unit, dimension, value, value_high, denominator, qualifier, direction, rule, period: None }
    }

    fn split_chinese_multiplier<'a>(number: &'a str, mult: &'a str) -> (&'a str, &'a str) {
        let chars: Vec<(usize, char)> = number.char_indices().collect();
        if !mult.is_empty() || chars.len() < 2 || chars[0].1.is_ascii() {
            return (number, mult);
        }
        let (last_at, last) = chars[chars.len() - 1];
        let second_last = chars[chars.len() - 2].1;
        if "万亿".contains(last) && !"万亿".contains(second_last) {
            return (&number[..last_at], &number[last_at..]);
        }
        (number, mult)
    }

    fn read_candidate(&mut self, py: Python<'_>, text: &[char], regions: &Regions, at: &Located<'_>) -> PyResult<Option<Found>> {
        let (start, end, groups) = (at.start, at.end, &at.groups);
        let prefix = group(groups, "prefix");
        let number = group(groups, "number");
        let high = group(groups, "high");
        let unit_written = group(groups, "unit");
        let suffix = group(groups, "suffix");
        let number_start = start + count(prefix);
        let unit_end = end - count(suffix);
        let mult_written = group(groups, "mult");
        if unit_written == "年" && high.is_empty() && mult_written.is_empty() && is_year(number) {
            return Ok(None);
        }
        if self.rejected_before(text, number_start, regions) {
            return Ok(None);
        }
        if unit_end < text.len() {
            let next = text[unit_end];
            if self.unit_veto.get(unit_written).map_or(false, |veto| veto.contains(&next)) {
                return Ok(None);
            }
            if unit_written.is_ascii() && next.is_ascii_alphanumeric() {
                return Ok(None);
            }
        }
        if !number.starts_with(|c: char| c.is_ascii()) {
            let name_follows = self.name_followers.iter().any(|word| starts_with_at(text, unit_end, word));
            if self.arabic_only.contains(unit_written) || name_follows {
                return Ok(None);
            }
        }
        let (mult, value, value_high) = if !high.is_empty() {
            let (high, mult) = Self::split_chinese_multiplier(high, mult_written);
            let value_high = self.parse_number(py, high, true)?;
            let value = self.parse_number(py, number, true)?;
            let (value, value_high) = match (value, value_high) {
                (Some(value), Some(value_high)) if decimal_cmp(&value_high, &value) != Ordering::Less => (value, value_high),
                _ => return Ok(None),
            };
            if unit_written == "年" && mult.is_empty() && (is_year(number) || is_year(high)) {
                return Ok(None);
            }
            (mult, value, Some(value_high))
        } else {
            let (number, mult) = Self::split_chinese_multiplier(number, mult_written);
            match self.parse_number(py, number, false)? {
                Some(value) => (mult, value, None),
                None => return Ok(None),
            }
        };
        let written = format!("{mult}{unit_written}");
        let dimension = match self.units.get(&written) {
            Some(unit) => unit.dimension.clone(),
            None => return Ok(None),
        };
        let inners = [group(groups, "inner1"), group(groups, "inner2")];
        let (start, qualifier) = self.qualifier(text, start, number_start, prefix, &dimension, inners, suffix);
        Ok(Some(self.found(text, start, end, CANDIDATE, written, dimension, value, value_high, None, qualifier)))
    }

    fn read_bare_multiple(&mut self, py: Python<'_>, text: &[char], regions: &Regions, at: &Located<'_>) -> PyResult<Option<Found>> {
        let (start, end, groups) = (at.start, at.end, &at.groups);
        let prefix = group(groups, "prefix");
        let number_start = start + count(prefix);
        if self.rejected_before(text, number_start, regions) || self.glued_after(text, end) {
            return Ok(None);
        }
        let value = match self.parse_number(py, group(groups, "number"), false)? {
            Some(value) => value,
            None => return Ok(None),
        };
        let mult = group(groups, "mult").to_string();
        let dimension = self.bare_units[&mult].dimension.clone();
        let inners = [group(groups, "inner1"), group(groups, "inner2")];
        let (start, qualifier) =
            self.qualifier(text, start, number_start, prefix, &dimension, inners, group(groups, "suffix"));
        Ok(Some(self.found(text, start, end, BARE_MULTIPLE, mult, dimension, value, None, None, qualifier)))
    }

    fn read_fraction(&mut self, _py: Python<'_>, text: &[char], regions: &Regions, at: &Located<'_>) -> PyResult<Option<Found>> {
        let (start, end, groups) = (at.start, at.end, &at.groups);
        let numerator = group(groups, "numerator");
        let denominator = group(groups, "denominator");
        if self.rejected_before(text, start, regions) || self.glued_after(text, end) {
            return Ok(None);
        }
        if start > 0 && (text[start - 1] == '-' || text[start - 1] == '—') {
            return Ok(None);
        }
        if decimal_cmp(denominator, "0") == Ordering::Equal || decimal_cmp(numerator, denominator) == Ordering::Greater {
            return Ok(None); // a share never exceeds its whole: 24/7 is a schedule
        }
        if decimal_cmp(numerator, "12") != Ordering::Greater
            && decimal_cmp(denominator, "31") != Ordering::Greater
            && end < text.len()
            && self.date_followers.contains(&text[end])
        {
            return Ok(None); // 6/30前: a month and a day
        }
        let dimension = self.fraction_unit.dimension.clone();
        Ok(Some(self.found(
            text,
            start,
            end,
            FRACTION,
            String::new(),
            dimension,
            numerator.to_string(),
            None,
            Some(denominator.to_string()),
            None,
        )))
    }

    fn read_percent_words(&mut self, py: Python<'_>, text: &[char], regions: &Regions, at: &Located<'_>) -> PyResult<Option<Found>> {
        let (start, end, groups) = (at.start, at.end, &at.groups);
        let number = group(groups, "number");
        if regions.inside(start) {
            return Ok(None);
        }
        let value = match self.parse_number(py, number, true)? {
            Some(value) => value,
            None => return Ok(None),
        };
        let dimension = self.percent_unit.dimension.clone();
        Ok(Some(self.found(text, start, end, PERCENT_WORDS, "%".to_string(), dimension, value, None, None, None)))
    }

    /// Every figure of one span, in text order (`extract_indicators`' loop over one span).
    fn read_span(&mut self, py: Python<'_>, text: &str) -> PyResult<Vec<Found>> {
        let chars: Vec<char> = text.chars().collect();
        let mut accepted: Vec<Found> = Vec::new();
        let mut regions: Option<Regions> = None;
        for at in 0..self.patterns.len() {
            let pattern = Arc::clone(&self.patterns[at]);
            let kind = pattern.kind;
            let prefixed = kind == CANDIDATE || kind == BARE_MULTIPLE;
            let taken: Vec<(usize, usize)> = accepted.iter().map(|m| (m.start, m.end)).collect();
            let mut offsets = CharOffsets::new(text);
            let mut previous_end = 0; // bytes: where the last match ended
            for found in pattern.scan.find_iter(text) {
                // A match of `scan` starts where the pattern's number does: the pattern's match starts at the longest
                // of its prefixes that ends there (leftmost-first takes it), unless that prefix would overlap the last
                // match.
                let mut match_start = found.start();
                if let Some(prefix) = pattern.prefixes.iter().find(|p| text[previous_end..match_start].ends_with(p.as_str())) {
                    match_start -= prefix.len();
                }
                previous_end = found.end();
                let matched = &text[match_start..found.end()];
                // The groups are read from the match alone, as Polars' `extract_groups` reads them for the Python
                // reader: the match is the engine's preferred match at its place, so it is again the preferred
                // match of its own text, with the same groups (and the engine's work is bounded by the match,
                // not by the text before it). Most match texts recur ("3个", "2人"): their groups are read once.
                let spans = match self.groups_seen[at].get(matched) {
                    Some(spans) => Arc::clone(spans),
                    None => {
                        let caps = match pattern.full.captures(matched) {
                            Some(caps) => caps,
                            None => continue,
                        };
                        let spans: Arc<[Option<(usize, usize)>]> =
                            caps.iter().map(|m| m.map(|m| (m.start(), m.end()))).collect();
                        if self.groups_seen[at].len() >= GROUPS_KEPT {
                            self.groups_seen[at].clear();
                        }
                        self.groups_seen[at].insert(matched.to_string(), Arc::clone(&spans));
                        spans
                    }
                };
                let groups = Groups { text: matched, spans, names: Arc::clone(&pattern.names) };
                let local = offsets.at(match_start);
                let end = offsets.at(found.end());
                if !taken.is_empty() {
                    let core_start = local + if prefixed { count(group(&groups, "prefix")) } else { 0 };
                    if taken.iter().any(|&(start, stop)| core_start < stop && start < end) {
                        continue;
                    }
                }
                if regions.is_none() {
                    regions = Some(self.name_regions(&chars, text));
                }
                let regions = regions.as_ref().expect("regions");
                let reader = match kind {
                    CANDIDATE => Self::read_candidate,
                    PERCENT_WORDS => Self::read_percent_words,
                    FRACTION => Self::read_fraction,
                    _ => Self::read_bare_multiple,
                };
                let mention = reader(self, py, &chars, regions, &Located { start: local, end, groups })?;
                let mention = match mention {
                    Some(mention) => mention,
                    None => continue,
                };
                if taken.iter().any(|&(start, stop)| mention.start < stop && start < mention.end) {
                    continue; // the same digits already read by a pattern of higher priority
                }
                accepted.push(mention);
            }
        }
        accepted.sort_by_key(|m| m.start);
        // "分别同比增长97.7%、43.2%、23.8%": the change word governs the whole list.
        for at in 1..accepted.len() {
            let (done, rest) = accepted.split_at_mut(at);
            let previous = &done[at - 1];
            let mention = &mut rest[0];
            if mention.direction.is_none()
                && previous.direction.is_some()
                && previous.end < mention.start
                && mention.start - previous.end == 1
                && chars[previous.end] == '、'
                && previous.dimension == mention.dimension
            {
                mention.direction = previous.direction.clone();
            }
        }
        if !accepted.is_empty() {
            let mut finder = PeriodFinder::new(&self.periods, text);
            for mention in accepted.iter_mut() {
                mention.period = finder.before(&self.periods, &chars, mention.start);
            }
        }
        Ok(accepted)
    }
}

/// The strings of a batch's output, each written once: columns hold their codes (0 stands for None).
struct Strings {
    codes: HashMap<String, u32>,
    values: Vec<Option<String>>,
}

impl Default for Strings {
    fn default() -> Self {
        Strings { codes: HashMap::default(), values: vec![None] }
    }
}

impl Strings {
    fn code(&mut self, value: Option<&str>) -> u32 {
        let value = match value {
            None => return 0,
            Some(value) => value,
        };
        if let Some(&code) = self.codes.get(value) {
            return code;
        }
        let code = self.values.len() as u32;
        self.values.push(Some(value.to_string()));
        self.codes.insert(value.to_string(), code);
        code
    }
}

/// A figure whose value Python computes (`read`'s `by_python`): row, kind, written unit, value as written,
/// denominator, upper end as written.
type ByPython = (u32, u8, String, String, Option<String>, Option<String>);

/// The reader's output, column by column (`read`): numbers as arrays, strings as codes into `strings`.
#[derive(Default)]
struct Columns {
    span: Vec<u32>,
    start: Vec<u32>,
    end: Vec<u32>,
    value: Vec<f64>,
    value_base: Vec<f64>,
    value_high: Vec<f64>,
    period_start: Vec<i32>, // NO_DATE for none
    period_end: Vec<i32>,
    unit: Vec<u32>,
    base_unit: Vec<u32>,
    dimension: Vec<u32>,
    qualifier: Vec<u32>,
    direction: Vec<u32>,
    metric: Vec<u32>,
    metric_rule: Vec<u32>,
    period: Vec<u32>,
    strings: Strings,
    by_python: Vec<ByPython>,
}

const NO_DATE: i32 = i32::MIN;

fn bytes_of<T: Copy, const N: usize>(values: &[T], to_bytes: fn(T) -> [u8; N]) -> Vec<u8> {
    values.iter().flat_map(|&value| to_bytes(value)).collect()
}

impl FigureReader {
    fn unit_row(&self, kind: u8, written: &str) -> &UnitRow {
        match kind {
            CANDIDATE => &self.units[written],
            PERCENT_WORDS => &self.percent_unit,
            FRACTION => &self.fraction_unit,
            _ => &self.bare_units[written],
        }
    }

    fn push(&self, columns: &mut Columns, span: usize, found: Found) {
        let unit = self.unit_row(found.kind, &found.unit);
        // A fraction's value is a quotient Python rounds to 28 digits: left to Python, as are products too long
        // to be exact there.
        let value = if found.kind == FRACTION { None } else { found.value.parse::<f64>().ok() };
        let value_base = if found.kind == FRACTION { None } else { product(&found.value, &unit.factor) };
        let value_high = match &found.value_high {
            Some(high) => high.parse::<f64>().ok(),
            None => value,
        };
        match (value, value_base, value_high) {
            (Some(value), Some(value_base), Some(value_high)) => {
                columns.value.push(value);
                columns.value_base.push(value_base);
                columns.value_high.push(value_high);
            }
            _ => {
                let row = columns.span.len() as u32;
                columns.by_python.push((row, found.kind, found.unit.clone(), found.value.clone(), found.denominator.clone(), found.value_high.clone()));
                columns.value.push(0.0);
                columns.value_base.push(0.0);
                columns.value_high.push(0.0);
            }
        }
        columns.span.push(span as u32);
        columns.start.push(found.start as u32);
        columns.end.push(found.end as u32);
        let strings = &mut columns.strings;
        columns.unit.push(strings.code(Some(&unit.unit)));
        columns.base_unit.push(strings.code(Some(&unit.base_unit)));
        columns.dimension.push(strings.code(Some(&unit.dimension)));
        columns.qualifier.push(strings.code(found.qualifier.as_deref()));
        columns.direction.push(strings.code(found.direction.as_deref()));
        let rule = usize::try_from(found.rule).ok().map(|rule| &self.rules[rule]);
        columns.metric.push(strings.code(Some(rule.map_or("other", |rule| rule.metric.as_str()))));
        columns.metric_rule.push(strings.code(rule.map(|rule| rule.description.as_str())));
        let period = found.period.as_ref();
        columns.period.push(strings.code(period.map(|period| period.phrase.as_str())));
        columns.period_start.push(period.and_then(|period| period.start).unwrap_or(NO_DATE));
        columns.period_end.push(period.and_then(|period| period.end).unwrap_or(NO_DATE));
    }
}

#[pymethods]
impl FigureReader {
    /// `config`: the rules as `indicators._figure_reader_config()` writes them; `chinese_value(text, counting)`:
    /// the exact value of a Chinese numeral as a decimal string, or None when it is not a count.
    #[new]
    fn new(py: Python<'_>, config: &PyDict, chinese_value: PyObject) -> PyResult<Self> {
        // The patterns in priority order, each read by its reader (the kinds, in the order of `indicators._readers`).
        let written: Vec<(String, String, Vec<String>)> = item(config, "patterns")?;
        if written.len() != 4 {
            return Err(PyValueError::new_err("figure reader config: four patterns expected"));
        }
        let mut patterns = Vec::new();
        for (kind, (full, scan, prefixes)) in [CANDIDATE, PERCENT_WORDS, FRACTION, BARE_MULTIPLE].into_iter().zip(&written) {
            let full = regex(full)?;
            let names: Arc<[(String, usize)]> = full
                .capture_names()
                .enumerate()
                .filter_map(|(index, name)| name.map(|name| (name.to_string(), index)))
                .collect();
            patterns.push(Arc::new(Pattern {
                kind,
                full,
                scan: regex(scan)?,
                prefixes: prefixes.clone(),
                names,
            }));
        }
        let pair_marks: HashMap<String, String> = item(config, "paired_marks")?;
        let openers = CharSet::new(&pair_marks.keys().map(String::as_str).collect::<String>());
        let mut closers = HashMap::default();
        for (open, close) in &pair_marks {
            if let (Some(open), Some(close)) = (open.chars().next(), close.chars().next()) {
                closers.insert(close, open);
            }
        }
        let symmetric_marks: String = item(config, "symmetric_marks")?;
        let every_mark: String = pair_marks.iter().flat_map(|(open, close)| [open.as_str(), close.as_str()]).chain([symmetric_marks.as_str()]).collect();
        let marks = regex(&format!("[{}]", regex::escape(&every_mark)))?;
        let direction_words: HashMap<String, String> = item(config, "direction_words")?;
        let mut direction_lengths: Vec<usize> = direction_words.keys().map(|w| count(w)).collect();
        direction_lengths.sort_unstable_by(|a, b| b.cmp(a));
        direction_lengths.dedup();
        let rate_only: Vec<String> = item(config, "rate_only_direction_words")?;
        let veto: HashMap<String, String> = item(config, "unit_veto")?;
        let followers: Vec<String> = item(config, "name_followers")?;
        let rules: Vec<(String, String, i64, String, String)> = item(config, "metric_rules")?;
        let arabic_only: Vec<String> = item(config, "arabic_only_units")?;
        Ok(FigureReader {
            groups_seen: vec![HashMap::default(); patterns.len()],
            patterns,
            glued_before: regex(&item::<String>(config, "glued_before")?)?,
            range_before: regex(&item::<String>(config, "range_before")?)?,
            ordinal_list_before: regex(&item::<String>(config, "ordinal_list_before")?)?,
            arabic_only: arabic_only.into_iter().collect(),
            marks,
            prefix_qualifiers: item(config, "prefix_qualifiers")?,
            inner_qualifiers: item(config, "inner_qualifiers")?,
            suffix_qualifiers: item(config, "suffix_qualifiers")?,
            direction_words: direction_words.into_iter().map(|(w, d)| (w.chars().collect(), d)).collect(),
            direction_lengths,
            rate_only_words: rate_only.iter().map(|w| w.chars().collect()).collect(),
            rate_dimensions: item::<Vec<String>>(config, "rate_dimensions")?.into_iter().collect(),
            word_before_yue: CharSet::new(&item::<String>(config, "word_before_yue")?),
            name_followers: followers.iter().map(|w| w.chars().collect()).collect(),
            unit_veto: veto.into_iter().map(|(unit, chars)| (unit, CharSet::new(&chars))).collect(),
            may_reject_after: CharSet::new(&item::<String>(config, "may_reject_after")?),
            clause_breaks: CharSet::new(&item::<String>(config, "clause_breaks")?),
            glued_after: CharSet::new(&item::<String>(config, "glued_after")?),
            date_followers: CharSet::new(&item::<String>(config, "date_followers")?),
            openers,
            closers,
            symmetric: CharSet::new(&symmetric_marks),
            rules: rules
                .into_iter()
                .map(|(keyword, dimension, priority, metric, description)| Rule {
                    keyword: keyword.chars().collect(),
                    dimension,
                    priority,
                    metric,
                    description,
                })
                .collect(),
            indexes: HashMap::default(),
            periods: PeriodRules {
                period: regex(&item::<String>(config, "period_pattern")?)?,
                relaxed: regex(&item::<String>(config, "period_relaxed_pattern")?)?,
                relative: regex(&item::<String>(config, "relative_pattern")?)?,
                year_only: regex(&item::<String>(config, "year_only_pattern")?)?,
                sentence_breaks: item::<String>(config, "sentence_breaks")?.chars().collect(),
                comparison_before: item::<Vec<String>>(config, "comparison_before")?.iter().map(|w| w.chars().collect()).collect(),
                quarters: item(config, "quarters")?,
                other_digits: python_digits(py)?,
                whole_year: item(config, "whole_year")?,
            },
            units: item(config, "units")?,
            bare_units: item(config, "bare_units")?,
            fraction_unit: item(config, "fraction_unit")?,
            percent_unit: item(config, "percent_unit")?,
            chinese_value,
            numerals: HashMap::default(),
        })
    }

    /// Every figure of every text, as columns: span index, start, end (characters), kind (0 a figure with a
    /// unit, 1 a percentage in words, 2 a fraction, 3 a bare multiple), written unit, value, value_high,
    /// denominator, qualifier, direction, metric rule index (-1: other).
    fn read(&mut self, py: Python<'_>, texts: Vec<&str>) -> PyResult<PyObject> {
        let mut columns = Columns::default();
        for (index, text) in texts.iter().enumerate() {
            for mention in self.read_span(py, text)? {
                self.push(&mut columns, index, mention);
            }
        }
        let out = PyDict::new(py);
        for (name, values) in [("span", &columns.span), ("start", &columns.start), ("end", &columns.end)] {
            out.set_item(name, PyBytes::new(py, &bytes_of(values, u32::to_ne_bytes)))?;
        }
        for (name, values) in [("value", &columns.value), ("value_base", &columns.value_base), ("value_high", &columns.value_high)] {
            out.set_item(name, PyBytes::new(py, &bytes_of(values, f64::to_ne_bytes)))?;
        }
        for (name, values) in [("period_start", &columns.period_start), ("period_end", &columns.period_end)] {
            out.set_item(name, PyBytes::new(py, &bytes_of(values, i32::to_ne_bytes)))?;
        }
        let coded = [
            ("unit", &columns.unit),
            ("base_unit", &columns.base_unit),
            ("dimension", &columns.dimension),
            ("qualifier", &columns.qualifier),
            ("direction", &columns.direction),
            ("metric", &columns.metric),
            ("metric_rule", &columns.metric_rule),
            ("period", &columns.period),
        ];
        for (name, values) in coded {
            out.set_item(name, PyBytes::new(py, &bytes_of(values, u32::to_ne_bytes)))?;
        }
        out.set_item("strings", columns.strings.values)?;
        out.set_item("by_python", columns.by_python)?;
        out.set_item("no_date", NO_DATE)?;
        Ok(out.into())
    }
}

#[pymodule]
fn _figure_reader(_py: Python<'_>, module: &PyModule) -> PyResult<()> {
    module.add_class::<FigureReader>()?;
    Ok(())
}
