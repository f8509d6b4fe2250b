//! The content filter: configurable keyword lists matched in one pass over
//! the text with a multi-pattern (Aho-Corasick) automaton.
//!
//! Text is normalised first (lower-case, spaces and punctuation removed), so
//! `赌 博` and `赌-博` match `赌博`. Words on the block list stop a
//! submission; words on the flag list send it to review marked.

use aho_corasick::{AhoCorasick, MatchKind};

/// Words blocked when no list is configured: content the regulation
/// forbids outright.
pub const DEFAULT_BLOCK_WORDS: &[&str] = &["赌博", "色情", "毒品", "枪支", "代开发票", "传销"];
/// Words flagged when no list is configured: talk of the secondary market
/// and speculation, which the filing review looks for.
pub const DEFAULT_FLAG_WORDS: &[&str] =
    &["二级市场", "转售", "炒作", "寄售", "升值", "稳赚", "收益率"];

/// What the filter found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterReport {
    /// Blocked words found (normalised), each once.
    pub blocked: Vec<String>,
    /// Flagged words found (normalised), each once.
    pub flagged: Vec<String>,
}

/// A keyword list that cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid content filter list: {0}")]
pub struct FilterListError(pub String);

/// The compiled filter.
#[derive(Debug, Clone)]
pub struct ContentFilter {
    automaton: AhoCorasick,
    /// For each pattern: its word and whether it blocks.
    patterns: Vec<(String, bool)>,
}

/// Lower-cases and keeps only letters and digits (any script).
pub fn normalise(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

impl ContentFilter {
    /// Compiles the two lists.
    pub fn new(block: &[String], flag: &[String]) -> Result<ContentFilter, FilterListError> {
        let mut patterns = Vec::new();
        for (list, blocks) in [(block, true), (flag, false)] {
            for word in list {
                let w = normalise(word);
                if w.is_empty() {
                    return Err(FilterListError(format!(
                        "{word:?} has no letters or digits"
                    )));
                }
                patterns.push((w, blocks));
            }
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(patterns.iter().map(|(w, _)| w))
            .map_err(|e| FilterListError(e.to_string()))?;
        Ok(ContentFilter {
            automaton,
            patterns,
        })
    }

    /// The filter with the built-in lists.
    pub fn with_defaults() -> ContentFilter {
        let owned = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        ContentFilter::new(&owned(DEFAULT_BLOCK_WORDS), &owned(DEFAULT_FLAG_WORDS))
            .expect("the built-in lists are valid")
    }

    /// Checks some texts (each normalised, then scanned once; overlapping
    /// matches are all found).
    pub fn check(&self, texts: &[&str]) -> FilterReport {
        let mut report = FilterReport::default();
        for text in texts {
            for m in self.automaton.find_overlapping_iter(&normalise(text)) {
                let (word, blocks) = &self.patterns[m.pattern().as_usize()];
                let list = if *blocks {
                    &mut report.blocked
                } else {
                    &mut report.flagged
                };
                if !list.contains(word) {
                    list.push(word.clone());
                }
            }
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_and_flags_through_spacing_and_case() {
        let f = ContentFilter::with_defaults();
        assert_eq!(f.check(&["敦煌飞天，千年之美"]), FilterReport::default());
        let r = f.check(&["参与赌 博", "欢迎二级-市场转售"]);
        assert_eq!(r.blocked, vec!["赌博"]);
        assert_eq!(r.flagged, vec!["二级市场", "转售"]);
        let custom = ContentFilter::new(&["Spam".into()], &[]).unwrap();
        assert_eq!(custom.check(&["s p a m!"]).blocked, vec!["spam"]);
        assert!(ContentFilter::new(&["  ".into()], &[]).is_err());
    }

    #[test]
    fn overlapping_words_are_all_found() {
        let f = ContentFilter::new(&["ab".into()], &["bc".into()]).unwrap();
        let r = f.check(&["abc"]);
        assert_eq!(
            (r.blocked, r.flagged),
            (vec!["ab".to_owned()], vec!["bc".to_owned()])
        );
    }
}
