//! The weekly chart as PNG: the SVG from `chart`, parsed by `usvg` (which lays the text out
//! and turns it into outlines) and filled and stroked with `tiny-skia`, then encoded by
//! `lodepng`, so both files always show the same picture.
//!
//! Text is drawn with DejaVu Sans (regular and bold) compiled into the binary from
//! `assets/fonts/` (Bitstream Vera licence with public-domain DejaVu changes, see
//! `assets/fonts/LICENSE`); the font database never looks at the machine's fonts, so a
//! server with none installed renders the same PNG.
//!
//! Why not `resvg` itself: it needs `tiny-skia` with its PNG codec, whose `fdeflate`
//! dependency turns on `simd-adler32` features that the libtorch bindings' build script
//! also uses, which forces `torch-sys` to recompile. The chart only has solid fills, strokes
//! and text, so the walk over the `usvg` tree below is all the renderer it needs; anything
//! else in the SVG is reported as `ChartError::Unsupported` rather than drawn wrong.
//!
//! The picture is rendered at `SCALE` times the SVG size, so it stays sharp when a chat
//! client or a slide shows it large.

use std::sync::{Arc, LazyLock};

use super::chart;
use super::summary::Summary;

/// Pixels per SVG unit.
pub const SCALE: f32 = 2.0;

static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static DEJAVU_SANS_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// Why a chart could not be drawn (only a bug in `chart` could cause these).
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("the chart SVG did not parse")]
    Svg(#[from] usvg::Error),
    #[error("the chart has no area")]
    Size,
    #[error("PNG encoding failed: {0}")]
    Png(String),
    #[error("the chart SVG uses something the PNG renderer does not draw: {0}")]
    Unsupported(&'static str),
}

/// The embedded fonts, loaded once; the only fonts the renderer can see.
static FONTS: LazyLock<Arc<usvg::fontdb::Database>> = LazyLock::new(|| {
    let mut fonts = usvg::fontdb::Database::new();
    fonts.load_font_source(usvg::fontdb::Source::Binary(Arc::new(DEJAVU_SANS)));
    fonts.load_font_source(usvg::fontdb::Source::Binary(Arc::new(DEJAVU_SANS_BOLD)));
    fonts.set_sans_serif_family("DejaVu Sans");
    Arc::new(fonts)
});

/// Renders the summary's chart as PNG bytes.
pub fn render_png(summary: &Summary) -> Result<Vec<u8>, ChartError> {
    svg_to_png(&chart::render_svg(summary))
}

/// Rasterises an SVG with the embedded fonts at `SCALE`.
pub fn svg_to_png(svg: &str) -> Result<Vec<u8>, ChartError> {
    let options = usvg::Options {
        font_family: "DejaVu Sans".to_owned(),
        fontdb: FONTS.clone(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options)?;
    let size = tree.size().to_int_size().scale_by(SCALE).ok_or(ChartError::Size)?;
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height()).ok_or(ChartError::Size)?;
    pixmap.fill(tiny_skia::Color::WHITE);
    draw_group(tree.root(), tiny_skia::Transform::from_scale(SCALE, SCALE), &mut pixmap)?;
    // The background is opaque white, so every pixel is opaque: RGB is enough.
    let rgb: Vec<u8> = pixmap
        .pixels()
        .iter()
        .flat_map(|pixel| {
            let pixel = pixel.demultiply();
            [pixel.red(), pixel.green(), pixel.blue()]
        })
        .collect();
    lodepng::encode24(&rgb, size.width() as usize, size.height() as usize)
        .map_err(|error| ChartError::Png(error.to_string()))
}

fn draw_group(
    group: &usvg::Group,
    scale: tiny_skia::Transform,
    pixmap: &mut tiny_skia::Pixmap,
) -> Result<(), ChartError> {
    if group.opacity().get() < 1.0
        || group.clip_path().is_some()
        || group.mask().is_some()
        || !group.filters().is_empty()
    {
        return Err(ChartError::Unsupported("group opacity, clip, mask or filter"));
    }
    for node in group.children() {
        match node {
            usvg::Node::Group(group) => draw_group(group, scale, pixmap)?,
            usvg::Node::Path(path) => draw_path(path, scale, pixmap)?,
            usvg::Node::Text(text) => draw_group(text.flattened(), scale, pixmap)?,
            usvg::Node::Image(_) => return Err(ChartError::Unsupported("image")),
        }
    }
    Ok(())
}

fn paint_of(paint: &usvg::Paint, opacity: f32) -> Result<tiny_skia::Paint<'static>, ChartError> {
    let usvg::Paint::Color(color) = paint else {
        return Err(ChartError::Unsupported("gradient or pattern paint"));
    };
    let mut paint = tiny_skia::Paint::default();
    paint.set_color_rgba8(color.red, color.green, color.blue, (opacity * 255.0).round() as u8);
    paint.anti_alias = true;
    Ok(paint)
}

fn draw_path(path: &usvg::Path, scale: tiny_skia::Transform, pixmap: &mut tiny_skia::Pixmap) -> Result<(), ChartError> {
    if !path.is_visible() {
        return Ok(());
    }
    let transform = scale.pre_concat(path.abs_transform());
    let fill = |pixmap: &mut tiny_skia::Pixmap| -> Result<(), ChartError> {
        let bounds = path.data().bounds();
        // A straight horizontal or vertical line has no inside to fill.
        if let Some(fill) = path.fill().filter(|_| bounds.width() > 0.0 && bounds.height() > 0.0) {
            let paint = paint_of(fill.paint(), fill.opacity().get())?;
            let rule = match fill.rule() {
                usvg::FillRule::NonZero => tiny_skia::FillRule::Winding,
                usvg::FillRule::EvenOdd => tiny_skia::FillRule::EvenOdd,
            };
            pixmap.fill_path(path.data(), &paint, rule, transform, None);
        }
        Ok(())
    };
    let stroke = |pixmap: &mut tiny_skia::Pixmap| -> Result<(), ChartError> {
        if let Some(stroke) = path.stroke() {
            let paint = paint_of(stroke.paint(), stroke.opacity().get())?;
            pixmap.stroke_path(path.data(), &paint, &stroke.to_tiny_skia(), transform, None);
        }
        Ok(())
    };
    match path.paint_order() {
        usvg::PaintOrder::FillAndStroke => {
            fill(pixmap)?;
            stroke(pixmap)
        }
        usvg::PaintOrder::StrokeAndFill => {
            stroke(pixmap)?;
            fill(pixmap)
        }
    }
}
