//! The weekly chart as SVG: daily volume by sentiment (stacked bars, left axis) and each
//! brand's daily negative share (lines, right axis).
//!
//! Written by hand rather than through a plotting crate: it is one fixed layout, and plain
//! SVG keeps the build light. Brand ids are slugs, but every text goes through `escape`.

use std::fmt::Write;

use super::summary::Summary;

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 480.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 70.0;
const TOP: f64 = 60.0;
const BOTTOM: f64 = 110.0;

/// Sentiment colours: red for negative, grey neutral, green positive, light for unscored.
const SENTIMENT_COLOURS: [(&str, &str); 4] = [
    ("negative", "#d62728"),
    ("neutral", "#9e9e9e"),
    ("positive", "#2ca02c"),
    ("unscored", "#dddddd"),
];
/// Line colours per brand (distinct from the bar colours).
const BRAND_COLOURS: [&str; 6] = ["#1f4e9c", "#ff7f0e", "#6a3d9a", "#17becf", "#8c564b", "#e377c2"];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A round axis maximum at or above `value`.
fn nice_max(value: u64) -> u64 {
    if value <= 5 {
        return 5;
    }
    let magnitude = 10u64.pow((value as f64).log10().floor() as u32);
    [1, 2, 5, 10]
        .into_iter()
        .map(|step| step * magnitude)
        .find(|max| *max >= value)
        .unwrap_or(value)
}

/// Renders the chart.
pub fn render_svg(summary: &Summary) -> String {
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let days = summary.week.days();
    // Per day: [negative, neutral, positive, unscored] over all brands in scope.
    let mut volume = [[0u64; 4]; 7];
    for brand in &summary.brands {
        for (i, day) in brand.days.iter().enumerate().take(7) {
            let s = &day.stats;
            for (slot, n) in volume[i]
                .iter_mut()
                .zip([s.negative, s.neutral, s.positive, s.unscored])
            {
                *slot += n;
            }
        }
    }
    let max_total = volume.iter().map(|v| v.iter().sum::<u64>()).max().unwrap_or(0);
    let y_max = nice_max(max_total) as f64;
    let slot_w = plot_w / 7.0;
    let bar_w = slot_w * 0.6;
    let y_of = |n: f64| TOP + plot_h - n / y_max * plot_h;
    let y_of_share = |share: f64| TOP + plot_h - share * plot_h;

    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="DejaVu Sans, Verdana, Arial, sans-serif" font-size="13">"##
    );
    let _ = write!(svg, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    let title = format!(
        "Mentions by sentiment and negative share — {} ({}, scope: {})",
        summary.week, summary.timezone, summary.scope
    );
    let _ = write!(
        svg,
        r##"<text x="{}" y="30" text-anchor="middle" font-size="17" font-weight="bold">{}</text>"##,
        WIDTH / 2.0,
        escape(&title)
    );
    // Grid and left axis (volume).
    for step in 0..=5 {
        let value = y_max * f64::from(step) / 5.0;
        let y = y_of(value);
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e6e6e6"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT + plot_w,
            LEFT - 8.0,
            y + 4.0,
            value.round()
        );
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="start" fill="#1f4e9c">{}%</text>"##,
            LEFT + plot_w + 8.0,
            y + 4.0,
            step * 20
        );
    }
    let _ = write!(
        svg,
        r##"<text transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle">mentions per day</text>"##,
        TOP + plot_h / 2.0
    );
    let _ = write!(
        svg,
        r##"<text transform="translate({:.1} {:.1}) rotate(90)" text-anchor="middle" fill="#1f4e9c">negative share</text>"##,
        WIDTH - 16.0,
        TOP + plot_h / 2.0
    );
    // Stacked bars.
    for (i, counts) in volume.iter().enumerate() {
        let x = LEFT + slot_w * i as f64 + (slot_w - bar_w) / 2.0;
        let mut base = 0.0;
        for (n, (name, colour)) in counts.iter().zip(SENTIMENT_COLOURS) {
            if *n == 0 {
                continue;
            }
            let top = base + *n as f64;
            let _ = write!(
                svg,
                r##"<rect x="{x:.1}" y="{:.1}" width="{bar_w:.1}" height="{:.1}" fill="{colour}"><title>{} {name}: {n}</title></rect>"##,
                y_of(top),
                y_of(base) - y_of(top),
                days[i]
            );
            base = top;
        }
        let total: u64 = counts.iter().sum();
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="11" fill="#555555">{total}</text>"##,
            x + bar_w / 2.0,
            y_of(total as f64) - 4.0
        );
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            x + bar_w / 2.0,
            TOP + plot_h + 18.0,
            days[i].format("%a %d %b")
        );
    }
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#333333"/>"##,
        TOP + plot_h,
        LEFT + plot_w,
        TOP + plot_h
    );
    // Negative share lines, one per brand; a day without scored posts breaks the line.
    for (brand_idx, brand) in summary.brands.iter().enumerate() {
        let colour = BRAND_COLOURS[brand_idx % BRAND_COLOURS.len()];
        let mut segment: Vec<(f64, f64)> = Vec::new();
        let mut segments = Vec::new();
        for (i, day) in brand.days.iter().enumerate().take(7) {
            let x = LEFT + slot_w * (i as f64 + 0.5);
            match day.stats.negative_share {
                Some(share) => segment.push((x, y_of_share(share))),
                None => segments.push(std::mem::take(&mut segment)),
            }
        }
        segments.push(segment);
        for points in segments.iter().filter(|s| !s.is_empty()) {
            let path: Vec<String> = points.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
            let _ = write!(
                svg,
                r##"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="3"/>"##,
                path.join(" ")
            );
            for (x, y) in points {
                let _ = write!(
                    svg,
                    r##"<circle cx="{x:.1}" cy="{y:.1}" r="4" fill="{colour}" stroke="#ffffff" stroke-width="1.5"/>"##
                );
            }
        }
    }
    // Legend: sentiments, then brands.
    let mut x = LEFT;
    let legend_y = HEIGHT - 50.0;
    for (name, colour) in SENTIMENT_COLOURS {
        let _ = write!(
            svg,
            r##"<rect x="{x:.1}" y="{:.1}" width="14" height="14" fill="{colour}"/><text x="{:.1}" y="{legend_y:.1}">{name}</text>"##,
            legend_y - 11.0,
            x + 20.0
        );
        x += 110.0;
    }
    let mut x = LEFT;
    let legend_y = HEIGHT - 22.0;
    for (brand_idx, brand) in summary.brands.iter().enumerate() {
        let colour = BRAND_COLOURS[brand_idx % BRAND_COLOURS.len()];
        let share = brand
            .week
            .negative_share
            .map(|s| format!("{:.0}%", s * 100.0))
            .unwrap_or_else(|| "n/a".into());
        let label = format!("{} negative share (week: {share})", brand.brand);
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="3"/><text x="{:.1}" y="{legend_y:.1}">{}</text>"##,
            legend_y - 4.0,
            x + 24.0,
            legend_y - 4.0,
            x + 30.0,
            escape(&label)
        );
        x += 30.0 + 8.0 * label.chars().count() as f64 + 24.0;
    }
    if summary.brands.is_empty() || max_total == 0 {
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="16" fill="#777777">No mentions this week</text>"##,
            LEFT + plot_w / 2.0,
            TOP + plot_h / 2.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_maxima_are_round() {
        assert_eq!(nice_max(0), 5);
        assert_eq!(nice_max(7), 10);
        assert_eq!(nice_max(120), 200);
        assert_eq!(nice_max(1000), 1000);
        assert_eq!(nice_max(1001), 2000);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
