//! A problem's label: the terms that set its posts apart from the brand's other complaints,
//! by class-based TF-IDF (each problem's posts are one class, the brand's other complaints
//! another): a term's weight in a class is its frequency there times
//! `ln(1 + A / f)`, where `A` is the average number of terms per class and `f` the term's
//! frequency over all classes. Pure; words are read as spike terms are (`alerts::terms`:
//! stop words, the brand's own names, links and numbers left out; each post counts a word
//! once). A term used by as large a share of the other classes' posts is not distinctive
//! and is left out.

use std::collections::{BTreeMap, HashSet};

use crate::alerts::terms::{TermInput, document_frequency};

/// The `limit` most distinctive terms of each class in `classes`, heaviest first. A term
/// must be used by at least two posts of a class of four or more (one post is an anecdote).
pub fn distinctive_terms(classes: &[Vec<TermInput<'_>>], ignore: &HashSet<String>, limit: usize) -> Vec<Vec<String>> {
    let frequencies: Vec<BTreeMap<String, u32>> = classes.iter().map(|c| document_frequency(c, ignore)).collect();
    let mut overall: BTreeMap<&str, u32> = BTreeMap::new();
    let mut total = 0u64;
    for class in &frequencies {
        for (term, count) in class {
            *overall.entry(term.as_str()).or_insert(0) += count;
            total += u64::from(*count);
        }
    }
    let average = total as f64 / classes.len().max(1) as f64;
    let n_posts: usize = classes.iter().map(Vec::len).sum();
    frequencies
        .iter()
        .zip(classes)
        .map(|(class, posts)| {
            let min_posts = if posts.len() >= 4 { 2 } else { 1 };
            let words: u32 = class.values().sum();
            let mut weighted: Vec<(f64, &str)> = class
                .iter()
                .filter(|(_, count)| **count >= min_posts)
                // Used by a larger share of this class's posts than of the others'.
                .filter(|(term, count)| {
                    let elsewhere = overall.get(term.as_str()).copied().unwrap_or(0).saturating_sub(**count);
                    let others = n_posts.saturating_sub(posts.len());
                    others == 0 || f64::from(**count) / posts.len() as f64 > f64::from(elsewhere) / others as f64
                })
                .map(|(term, count)| {
                    let f = f64::from(overall.get(term.as_str()).copied().unwrap_or(*count));
                    let tf = f64::from(*count) / f64::from(words.max(1));
                    (tf * (1.0 + average / f).ln(), term.as_str())
                })
                .collect();
            weighted.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
            weighted.into_iter().take(limit).map(|(_, t)| t.to_owned()).collect()
        })
        .collect()
}

/// The label shown for a problem: its top terms joined, or a fallback when it has none.
pub fn label_of(terms: &[String]) -> String {
    if terms.is_empty() {
        "(no distinctive terms yet)".to_owned()
    } else {
        terms.iter().take(4).cloned().collect::<Vec<_>>().join(" · ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posts(texts: &[&'static str]) -> Vec<TermInput<'static>> {
        texts.iter().map(|text| TermInput { text, lang: None }).collect()
    }

    #[test]
    fn each_class_is_named_by_its_own_words_not_the_shared_ones() {
        let login = posts(&[
            "acme app login fails again, terrible",
            "cannot login to the acme app since this morning",
            "login broken on the app, terrible service",
            "app says login error every time",
        ]);
        let refund = posts(&[
            "still waiting for my refund from acme, terrible",
            "refund never arrived after three weeks",
            "where is my refund acme",
            "acme refund process is a joke, terrible",
        ]);
        let ignore: HashSet<String> = ["acme".to_owned()].into();
        let terms = distinctive_terms(&[login, refund], &ignore, 3);
        assert_eq!(terms[0].len(), 2, "only words of two or more of its posts: {terms:?}");
        assert!(
            terms[0].contains(&"login".to_owned()) && terms[0].contains(&"app".to_owned()),
            "{terms:?}"
        );
        assert_eq!(terms[1][0], "refund", "{terms:?}");
        for class in &terms {
            assert!(
                !class.contains(&"acme".to_owned()) && !class.contains(&"terrible".to_owned()),
                "{terms:?}"
            );
        }
        assert_eq!(label_of(&terms[1][..1]), "refund");
        assert_eq!(label_of(&[]), "(no distinctive terms yet)");
    }
}
