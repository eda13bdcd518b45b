//! `earshot match-bench [--brands 50] [--keywords 20] [--posts 200000]`: posts per second
//! of brand matching for many brands at once (`tools::match_bench`).

use std::process::ExitCode;

use crate::tools::match_bench;

#[derive(Debug, clap::Args)]
pub struct MatchBenchArgs {
    #[arg(long, default_value_t = 50)]
    brands: usize,
    /// Keywords per brand (each brand also has two handles and two exclusions).
    #[arg(long, default_value_t = 20)]
    keywords: usize,
    #[arg(long, default_value_t = 200_000)]
    posts: usize,
}

pub(super) fn run(args: MatchBenchArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.brands > 0 && args.keywords > 0 && args.posts > 0,
        "--brands, --keywords and --posts must be at least 1"
    );
    let report = match_bench::run(args.brands, args.keywords, args.posts);
    say!(
        "matching: {:.0} posts/s ({} posts, {} brands × {} keywords, {} mentions, {:.2} s, profile {})",
        report.posts_per_second,
        report.n_posts,
        report.n_brands,
        report.n_keywords_per_brand,
        report.n_mentions,
        report.seconds,
        super::profile()
    );
    Ok(ExitCode::SUCCESS)
}
