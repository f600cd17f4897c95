//! The period a figure refers to, as `transforms/periods.py` finds it (`PeriodFinder.before`, falling back to
//! `period_before` where a period phrase straddles the figure): the patterns and word lists are Python's,
//! handed over when the reader is made.

use regex::{Captures, Regex};
use std::collections::HashMap;
use std::collections::HashSet;

/// A period phrase and the dates it stands for, as days since 1970-01-01.
#[derive(Clone)]
pub struct Period {
    pub phrase: String,
    pub start: Option<i32>,
    pub end: Option<i32>,
}

pub struct PeriodRules {
    /// `_PERIOD`: every part optional, with its named groups.
    pub period: Regex,
    /// `_PERIOD_RELAXED`: the non-empty matches of `_PERIOD`, without groups.
    pub relaxed: Regex,
    pub relative: Regex,
    pub year_only: Regex,
    pub sentence_breaks: Vec<char>,
    pub comparison_before: Vec<Vec<char>>,
    pub quarters: HashMap<String, (u32, u32)>,
    /// The characters Python's `str.isdigit` accepts beyond ASCII digits.
    pub other_digits: HashSet<char>,
    /// `_WHOLE_YEAR`: a relative phrase that adds nothing after a phrase that is a year alone.
    pub whole_year: String,
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days(year: i32, month: u32, day: u32) -> i32 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = month as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn month_length(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

fn safe_date(year: i32, month: u32, day: u32) -> Option<i32> {
    if (1..=12).contains(&month) && day >= 1 && day <= month_length(year, month) {
        Some(days(year, month, day))
    } else {
        None
    }
}

fn last_day(year: i32, month: u32) -> i32 {
    days(year, month, month_length(year, month))
}

fn number(caps: &Captures<'_>, name: &str) -> Option<u32> {
    caps.name(name).and_then(|m| m.as_str().parse().ok())
}

fn has(caps: &Captures<'_>, name: &str) -> bool {
    caps.name(name).map_or(false, |m| !m.as_str().is_empty())
}

impl PeriodRules {
    fn is_digit(&self, ch: char) -> bool {
        ch.is_ascii_digit() || self.other_digits.contains(&ch)
    }

    /// The dates a phrase with its year stands for (`_dates`).
    fn dates(&self, caps: &Captures<'_>) -> (Option<i32>, Option<i32>) {
        let year = match number(caps, "y") {
            Some(year) => year as i32,
            None => return (None, None),
        };
        let tail = caps.name("tail").map_or("", |m| m.as_str());
        let upto = has(caps, "upto");
        let (start, end);
        if let Some(m1) = number(caps, "m1") {
            if let Some(day) = number(caps, "d") {
                start = safe_date(year, m1, day);
                end = match number(caps, "d2") {
                    Some(d2) => {
                        let year2 = number(caps, "y2").map_or(year, |y| y as i32);
                        safe_date(year2, number(caps, "m3").unwrap_or(m1), d2)
                    }
                    None => start,
                };
            } else {
                let m2 = number(caps, "m2").unwrap_or(m1);
                if m2 < m1 {
                    return (None, None);
                }
                start = Some(days(year, m1, 1));
                let mut last = last_day(year, m2);
                if (tail == "上旬" || tail == "中旬") && !has(caps, "m2") {
                    last = days(year, m1, if tail == "上旬" { 10 } else { 20 });
                }
                if tail == "初" && !has(caps, "m2") {
                    last = days(year, m1, 10);
                }
                end = Some(last);
            }
        } else {
            let (mut first, mut last) = (days(year, 1, 1), days(year, 12, 31));
            if tail == "上半年" {
                last = days(year, 6, 30);
            } else if tail == "下半年" {
                first = days(year, 7, 1);
            } else if tail == "前三季度" {
                last = days(year, 9, 30);
            } else if let Some(&(first_month, last_month)) = self.quarters.get(tail) {
                first = days(year, first_month, 1);
                last = last_day(year, last_month);
            }
            start = Some(first);
            end = Some(last);
        }
        if tail == "以来" {
            return (start, None);
        }
        if upto || tail == "底" || tail == "末" {
            return (None, end);
        }
        (start, end)
    }

    /// The period a match of `_PERIOD` at [start, end) (characters) stands for (`_period_of`).
    fn period_of(&self, text: &[char], caps: &Captures<'_>, start: usize, end: usize, sentence_start: usize) -> Option<Period> {
        if !(has(caps, "y") || has(caps, "m1")) {
            return None;
        }
        if !has(caps, "y") && !has(caps, "tail") && !has(caps, "upto") && !has(caps, "m2") && !has(caps, "d") {
            return None; // a bare "6月" could be a duration's tail or a month name: too weak alone
        }
        if start > 0 && self.is_digit(text[start - 1]) {
            return None;
        }
        if end < text.len() && self.is_digit(text[end]) {
            return None;
        }
        let before = &text[sentence_start.max(start.saturating_sub(2))..start];
        if self.comparison_before.iter().any(|word| before.ends_with(word)) {
            return None;
        }
        if text[end..].starts_with(&['同', '期'][..]) {
            return None;
        }
        let (first, last) = self.dates(caps);
        Some(Period { phrase: text[start..end].iter().collect(), start: first, end: last })
    }

    fn sentence_start(&self, text: &[char], start: usize) -> usize {
        (0..start).rev().find(|&i| self.sentence_breaks.contains(&text[i])).map_or(0, |i| i + 1)
    }

    /// Whether a relative phrase ending at or before the offset replaces `best`, the period found so far in the
    /// sentence: not when it starts inside it (the tail of a dated phrase, 2021年上半年), nor when it is the whole
    /// year after a year alone.
    fn relative_replaces(&self, best: &Option<(usize, Period)>, phrase_start: usize, phrase: &str) -> bool {
        match best {
            None => true,
            Some((best_end, period)) => {
                phrase_start >= *best_end && !(phrase == self.whole_year && self.is_year_only(&period.phrase))
            }
        }
    }

    fn is_year_only(&self, phrase: &str) -> bool {
        self.year_only.find(phrase).map_or(false, |m| m.start() == 0 && m.end() == phrase.len())
    }

    /// `period_before(text, start)`: the patterns run over the sentence up to `start` only.
    fn period_before(&self, text: &[char], start: usize) -> Option<Period> {
        let sentence_start = self.sentence_start(text, start);
        let sentence: String = text[sentence_start..start].iter().collect();
        let mut best: Option<(usize, Period)> = None;
        let mut offsets = super::CharOffsets::new(&sentence);
        for caps in self.period.captures_iter(&sentence) {
            let whole = caps.get(0).expect("group 0");
            if whole.start() == whole.end() {
                continue;
            }
            let (from, to) = (offsets.at(whole.start()), offsets.at(whole.end()));
            let (from, to) = (sentence_start + from, sentence_start + to);
            if let Some(period) = self.period_of(text, &caps, from, to, sentence_start) {
                best = Some((to, period));
            }
        }
        let mut offsets = super::CharOffsets::new(&sentence);
        for found in self.relative.find_iter(&sentence) {
            let (from, to) = (offsets.at(found.start()), offsets.at(found.end()));
            let (from, to) = (sentence_start + from, sentence_start + to);
            if self.relative_replaces(&best, from, found.as_str()) {
                best = Some((to, Period { phrase: found.as_str().to_string(), start: None, end: None }));
            }
        }
        best.map(|(_, period)| period)
    }
}

/// One period match of a whole text: offsets in characters and the match's text.
struct PeriodMatch {
    start: usize,
    end: usize,
    text: String,
}

/// `PeriodFinder`: the period before many offsets of one text, the text scanned once.
pub struct PeriodFinder {
    matches: Vec<PeriodMatch>,
    periods: Vec<Option<Option<Period>>>, // by match, read when an offset first asks
    relatives: Vec<PeriodMatch>,
}

impl PeriodFinder {
    pub fn new(rules: &PeriodRules, source: &str) -> Self {
        let mut matches = Vec::new();
        let mut offsets = super::CharOffsets::new(source);
        for found in rules.relaxed.find_iter(source) {
            let (start, end) = (offsets.at(found.start()), offsets.at(found.end()));
            matches.push(PeriodMatch { start, end, text: found.as_str().to_string() });
        }
        let mut relatives = Vec::new();
        let mut offsets = super::CharOffsets::new(source);
        for found in rules.relative.find_iter(source) {
            let (start, end) = (offsets.at(found.start()), offsets.at(found.end()));
            relatives.push(PeriodMatch { start, end, text: found.as_str().to_string() });
        }
        let periods = vec![None; matches.len()];
        PeriodFinder { matches, periods, relatives }
    }

    fn period(&mut self, rules: &PeriodRules, text: &[char], index: usize, sentence_start: usize) -> Option<Period> {
        if self.periods[index].is_none() {
            let found = &self.matches[index];
            // The groups of a match read from the match alone (the engine's preferred match of its own text).
            let period = rules
                .period
                .captures(&found.text)
                .and_then(|caps| rules.period_of(text, &caps, found.start, found.end, sentence_start));
            self.periods[index] = Some(period);
        }
        self.periods[index].clone().flatten()
    }

    pub fn before(&mut self, rules: &PeriodRules, text: &[char], start: usize) -> Option<Period> {
        let sentence_start = rules.sentence_start(text, start);
        // Matches are in order and do not overlap: those before `count` end at or before `start`.
        let count = self.matches.partition_point(|m| m.end <= start);
        if count < self.matches.len() && self.matches[count].start < start {
            return rules.period_before(text, start); // a period match straddles `start`
        }
        let mut best: Option<(usize, Period)> = None;
        for at in (0..count).rev() {
            if self.matches[at].start < sentence_start {
                break; // in an earlier sentence
            }
            if let Some(period) = self.period(rules, text, at, sentence_start) {
                best = Some((self.matches[at].end, period));
                break;
            }
        }
        let first = self.relatives.partition_point(|m| m.start < sentence_start);
        for relative in &self.relatives[first..] {
            if relative.end > start {
                if relative.start < start {
                    return rules.period_before(text, start); // a relative phrase straddles `start`
                }
                break;
            }
            if rules.relative_replaces(&best, relative.start, &relative.text) {
                best = Some((relative.end, Period { phrase: relative.text.clone(), start: None, end: None }));
            }
        }
        best.map(|(_, period)| period)
    }
}
