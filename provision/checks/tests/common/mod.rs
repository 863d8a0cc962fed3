//! Helpers shared by the fixture tests.

use provision_checks::{Tree, check_tree};

/// The violations of the fixture `files` (path, text) with `edits` (path,
/// from, to) applied, each replacing one exact, present piece of text of one
/// file, as the checker prints them.
pub fn violations_of_edited(files: &[(&str, &str)], edits: &[(&str, &str, &str)]) -> Vec<String> {
    let mut texts: Vec<(&str, String)> = files.iter().map(|(p, t)| (*p, t.to_string())).collect();
    for (path, from, to) in edits {
        let (_, text) = texts
            .iter_mut()
            .find(|(p, _)| p == path)
            .unwrap_or_else(|| panic!("no fixture file {path}"));
        assert!(text.contains(from), "{path} does not contain {from:?}");
        *text = text.replacen(from, to, 1);
    }
    let tree =
        Tree::from_sources(texts.iter().map(|(p, t)| (*p, t.as_str()))).expect("fixture parses");
    check_tree(&tree)
        .violations
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// Fails unless `got` lists exactly `expected`, in order.
pub fn assert_listed(got: &[String], expected: &[&str]) {
    let got: Vec<&str> = got.iter().map(String::as_str).collect();
    assert_eq!(got, expected, "violations differ");
}
