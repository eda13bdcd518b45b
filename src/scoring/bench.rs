//! Benchmark helpers: a deterministic generator of realistic brand mentions, their JSONL
//! import form, and the process's peak resident memory.
//!
//! The generator mixes complaint, praise, question and neutral templates with the names and
//! handles of one fictional airline, so every post is a mention when imported for that brand,
//! and lengths spread like tweets (a short core, sometimes a second sentence, hashtags or a link).

use std::fmt::Write as _;

/// The brand every generated post mentions.
pub const BRAND_ID: &str = "northwind";
pub const BRAND_NAME: &str = "Northwind Air";
pub const BRAND_HANDLE: &str = "@NorthwindAir";

const MENTIONS: &[&str] = &["@NorthwindAir", "Northwind Air", "northwind air", "#NorthwindAir"];

const COMPLAINTS: &[&str] = &[
    "{b} my flight {f} was cancelled with no notice and nobody at the desk can tell me why.",
    "Been on hold with {b} for {n} minutes now. This is unacceptable.",
    "{b} lost my bag AGAIN. Third time this year. I want a refund.",
    "Charged twice for the same seat upgrade by {b}, still waiting on the money back.",
    "{b} your app won't load and check-in closes in {n} minutes. Thanks for nothing.",
    "Flight {f} delayed {n} hours and {b} won't even give us water. Never flying with you again.",
    "{b} booked a window seat, got the middle next to the toilets. Not working as advertised.",
    "Why does {b} keep ignoring my emails about the damaged suitcase?",
];
const PRAISE: &[&str] = &[
    "Shoutout to the crew on {b} {f}, they found my kid's teddy and brought it to the gate.",
    "{b} upgraded me for my birthday, what a lovely surprise!",
    "Smoothest boarding ever with {b} this morning. Landed {n} minutes early too.",
    "The {b} lounge coffee is honestly better than my local cafe.",
    "Big thanks to {b} support for sorting my rebooking in {n} minutes.",
];
const QUESTIONS: &[&str] = &[
    "{b} can I bring a folding bike as checked luggage on {f}?",
    "Does {b} still do free changes on basic fares? Asking before I book.",
    "{b} what's the cabin bag size limit for regional flights?",
    "Is the {b} app down for anyone else or just me?",
];
const NEUTRAL: &[&str] = &[
    "Boarding {b} {f} to Lisbon.",
    "{b} announced new routes to Porto and Bergen starting in March.",
    "Reading about the {b} fleet renewal plans.",
    "On a {b} flight tomorrow, {n}am departure.",
];
const TAILS: &[&str] = &[
    "",
    "",
    " #travel",
    " https://example.com/p/{n}",
    " Seriously.",
    " Has anyone else had this?",
    " Fingers crossed for the return leg.",
    " 🙃",
];

/// SplitMix64: small, fast and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// One generated post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntheticPost {
    pub id: String,
    pub author: String,
    pub text: String,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    pub followers: u64,
}

/// `n` posts, the same for the same `seed`: 35% complaints, 25% praise, 15% questions,
/// 25% neutral.
pub fn generate_posts(n: usize, seed: u64) -> Vec<SyntheticPost> {
    let mut rng = Rng(seed);
    let start = 1_795_000_000_i64;
    (0..n)
        .map(|i| {
            let bucket = rng.below(100);
            let templates = match bucket {
                0..35 => COMPLAINTS,
                35..60 => PRAISE,
                60..75 => QUESTIONS,
                _ => NEUTRAL,
            };
            let mut text = rng.pick(templates).to_owned();
            if rng.below(3) == 0 {
                text.push(' ');
                text.push_str(rng.pick(match bucket {
                    0..35 => COMPLAINTS,
                    35..60 => PRAISE,
                    _ => NEUTRAL,
                }));
            }
            text.push_str(rng.pick(TAILS));
            let mention = rng.pick(MENTIONS);
            let flight = format!("NW{}", 100 + rng.below(900));
            let minutes = (5 + rng.below(170)).to_string();
            // Only the first `{b}` names the brand; repeats read as "they".
            let text = text
                .replacen("{b}", mention, 1)
                .replace("{b}", "they")
                .replace("{f}", &flight)
                .replace("{n}", &minutes);
            SyntheticPost {
                id: format!("bench-{i}"),
                author: format!("@user{}", rng.below(n.max(1) / 3 + 1)),
                text,
                created_at: start + i as i64 * 7,
                followers: rng.next() % 50_000,
            }
        })
        .collect()
}

/// The posts as a JSONL import file (the `jsonl` source's format), which
/// `scripts/python_peer_bench.py` also reads (it uses the `text` field).
pub fn to_jsonl(posts: &[SyntheticPost]) -> String {
    let mut out = String::new();
    for post in posts {
        let line = serde_json::json!({
            "platform": "x",
            "id": post.id,
            "author": post.author,
            "followers": post.followers,
            "text": post.text,
            "created_at": post.created_at,
            "lang": "en",
        });
        let _ = writeln!(out, "{line}");
    }
    out
}

/// Peak resident set size of this process in MiB (`VmHWM` in `/proc/self/status`).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Resets the peak to the current RSS (Linux `clear_refs` 5), so the next phase's peak is
/// its own; returns false where that is not possible.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic_and_every_post_names_the_brand() {
        let a = generate_posts(500, 7);
        let b = generate_posts(500, 7);

        assert_eq!(a, b);
        assert_ne!(a, generate_posts(500, 8));
        for post in &a {
            assert!(
                post.text.to_lowercase().contains("northwindair") || post.text.to_lowercase().contains("northwind air")
            );
            assert!(!post.text.contains('{'), "{}", post.text);
        }
        let lengths: Vec<usize> = a.iter().map(|p| p.text.chars().count()).collect();
        assert!(lengths.iter().all(|l| (15..=280).contains(l)), "{lengths:?}");
    }

    #[test]
    fn the_jsonl_is_one_importable_object_per_post() {
        let posts = generate_posts(20, 1);
        let jsonl = to_jsonl(&posts);

        let lines: Vec<serde_json::Value> = jsonl.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 20);
        assert_eq!(lines[3]["text"], posts[3].text.as_str());
        assert_eq!(lines[3]["id"], "bench-3");
    }

    #[test]
    fn peak_rss_is_read_from_proc() {
        assert!(peak_rss_mib().is_some_and(|m| m > 0.0));
    }
}
