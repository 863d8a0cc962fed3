//! The `/` filter of every list, k9s-style: a case-insensitive regular
//! expression, inverted by a leading `!`; text that is not a valid regex is
//! matched literally, so typing `(` never errors.

use regex::{Regex, RegexBuilder};

#[derive(Clone, Debug)]
pub struct Filter {
    source: String,
    regex: Option<Regex>,
    invert: bool,
}

impl Default for Filter {
    fn default() -> Filter {
        Filter::new("")
    }
}

impl Filter {
    pub fn new(text: &str) -> Filter {
        let (invert, pattern) = match text.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let regex = if pattern.is_empty() {
            None
        } else {
            let build = |p: &str| {
                RegexBuilder::new(p)
                    .case_insensitive(true)
                    .size_limit(1 << 20)
                    .build()
                    .ok()
            };
            build(pattern).or_else(|| build(&regex::escape(pattern)))
        };
        Filter {
            source: text.to_string(),
            regex,
            invert,
        }
    }

    pub fn text(&self) -> &str {
        &self.source
    }

    pub fn is_active(&self) -> bool {
        self.regex.is_some()
    }

    pub fn matches(&self, haystack: &str) -> bool {
        match &self.regex {
            None => true,
            Some(r) => r.is_match(haystack) != self.invert,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_invert_and_literal_fallback() {
        assert!(Filter::new("").matches("anything"));
        assert!(Filter::new("ERR").matches("an error"));
        assert!(Filter::new("i-0[ab]").matches("i-0b12"));
        assert!(!Filter::new("!healthy").matches("healthy"));
        assert!(Filter::new("!healthy").matches("pending"));
        let f = Filter::new("(oops");
        assert!(f.matches("an (oops) here") && !f.matches("oops"));
    }
}
