//! SVG rate–distortion curves: bits per element (log scale) against PSNR, one curve per
//! configuration; one plot per layer kind and one per layer.

use super::load::TensorInfo;
use super::report::{Aggregate, Report};
use anyhow::{anyhow, Context};
use plotters::prelude::*;
use std::path::Path;

/// Writes `rd_kind_KIND.svg` per kind and `rd_layer_MODEL_LAYER.svg` per layer into `dir`
/// (created if missing); returns the file names.
pub fn write_plots(report: &Report, dir: &Path) -> anyhow::Result<Vec<String>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut written = Vec::new();
    let mut write = |name: String, svg: String| -> anyhow::Result<()> {
        crate::bench::output::write_atomic(&dir.join(&name), svg.as_bytes())?;
        written.push(name);
        Ok(())
    };
    for kind in report.kinds() {
        let n = report.tensors.iter().filter(|t| t.kind == kind).count();
        let title = format!("{kind} layers ({n} tensors): mean PSNR against rate");
        write(
            format!("rd_kind_{kind}.svg"),
            rd_plot(report, &title, |t| t.kind == kind)?,
        )?;
    }
    for l in report.layers() {
        let title = format!("{} {} ({})", l.model, l.layer, l.kind);
        let name = format!(
            "rd_layer_{}_{}.svg",
            file_part(&l.model),
            file_part(&l.layer)
        );
        write(name, rd_plot(report, &title, |t| l.keeps(t))?)?;
    }
    Ok(written)
}

/// A name made safe for a file name.
pub fn file_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("drawing a plot: {e}")
}

/// A colour per configuration: the baselines in greys and blues, DFC's in warm colours.
fn colour(config: &str, index: usize) -> RGBColor {
    match config {
        "uniform-zstd" => RGBColor(31, 119, 180),
        "uniform-lzma" => RGBColor(126, 178, 228),
        "uniform-order0" => RGBColor(110, 110, 110),
        "dfc" => RGBColor(200, 30, 30),
        "dfc-codebook" => RGBColor(230, 120, 0),
        "dfc-nearest" => RGBColor(120, 60, 170),
        "dfc-no-intra" => RGBColor(240, 110, 160),
        "seq-none" => RGBColor(110, 110, 110),
        "seq-intra" => RGBColor(31, 119, 180),
        "seq-inter" => RGBColor(200, 30, 30),
        _ => {
            const SPARE: [(u8, u8, u8); 4] =
                [(44, 140, 44), (23, 170, 190), (188, 189, 34), (0, 0, 0)];
            let (r, g, b) = SPARE[index % SPARE.len()];
            RGBColor(r, g, b)
        }
    }
}

/// One plot over the tensors `keep` accepts; points with an infinite PSNR are left out.
pub fn rd_plot(
    report: &Report,
    title: &str,
    keep: impl Fn(&TensorInfo) -> bool,
) -> anyhow::Result<String> {
    let curves: Vec<(String, Vec<(f64, f64)>)> = report
        .configs
        .iter()
        .map(|c| {
            let points = report
                .curve(&c.name, &keep)
                .iter()
                .filter(|a| a.psnr_db.is_finite() && a.bits_per_element > 0.0)
                .map(|a: &Aggregate| (a.bits_per_element, a.psnr_db))
                .collect();
            (c.name.clone(), points)
        })
        .collect();
    draw_rd(title, curves)
}

/// An SVG of rate–distortion curves: per configuration name, its (bits per element, PSNR)
/// points (finite PSNRs, positive rates).
pub fn draw_rd(title: &str, curves: Vec<(String, Vec<(f64, f64)>)>) -> anyhow::Result<String> {
    let all: Vec<(f64, f64)> = curves.iter().flat_map(|c| c.1.iter().copied()).collect();
    let (x_lo, x_hi) = all
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.0), b.max(p.0))
        });
    let (y_lo, y_hi) = all
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.1), b.max(p.1))
        });
    let (x_lo, x_hi) = if all.is_empty() {
        (0.01, 10.0)
    } else {
        (x_lo / 1.3, x_hi * 1.3)
    };
    let (y_lo, y_hi) = if all.is_empty() {
        (0.0, 60.0)
    } else {
        ((y_lo - 3.0).floor(), (y_hi + 3.0).ceil())
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 640)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(60)
            .build_cartesian_2d((x_lo..x_hi).log_scale(), y_lo..y_hi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("bits per element (log scale)")
            .y_desc("PSNR (dB), peak = max |x|")
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(err)?;
        for (j, (name, points)) in curves.into_iter().enumerate() {
            if points.is_empty() {
                continue;
            }
            let c = colour(&name, j);
            let mut line = points.clone();
            line.sort_by(|a, b| a.0.total_cmp(&b.0));
            chart
                .draw_series(LineSeries::new(line, c.stroke_width(2)))
                .map_err(err)?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                });
            chart
                .draw_series(
                    points
                        .into_iter()
                        .map(move |p| Circle::new(p, 3, c.filled())),
                )
                .map_err(err)?;
        }
        if all.is_empty() {
            root.draw(&Text::new(
                "no finite PSNR: every reconstruction is exact",
                (300, 320),
                ("sans-serif", 16).into_font(),
            ))
            .map_err(err)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}
