//! SVG plots: ratio per layer per method, and ratio against non-zero rate.

use super::report::Report;
use super::TensorInfo;
use anyhow::{anyhow, Context};
use plotters::prelude::*;
use std::path::Path;

/// File names of the plots [`write_plots`] writes.
pub const RATIO_PER_LAYER: &str = "ratio_per_layer.svg";
pub const RATIO_VS_NONZERO: &str = "ratio_vs_nonzero.svg";

/// Writes both plots into `dir` (created if missing).
pub fn write_plots(report: &Report, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    super::output::write_atomic(
        &dir.join(RATIO_PER_LAYER),
        ratio_per_layer(report)?.as_bytes(),
    )?;
    super::output::write_atomic(
        &dir.join(RATIO_VS_NONZERO),
        ratio_vs_nonzero(report)?.as_bytes(),
    )?;
    Ok(())
}

fn err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("drawing a plot: {e}")
}

/// A colour per method: a hue per coder, dark inside DFC, light for the bare-bytes anchor.
pub fn colour(method: &str, index: usize) -> RGBColor {
    let base = method.strip_prefix("dfc-").unwrap_or(method);
    let dfc = method.starts_with("dfc-");
    let pick = |dark: (u8, u8, u8), light: (u8, u8, u8)| {
        let (r, g, b) = if dfc { dark } else { light };
        RGBColor(r, g, b)
    };
    match base {
        "raw" => pick((90, 90, 90), (170, 170, 170)),
        "zlib" => pick((31, 119, 180), (126, 178, 228)),
        "gzip" => pick((230, 120, 0), (255, 187, 120)),
        "bzip2" => pick((44, 140, 44), (152, 223, 138)),
        "lzma" => pick((200, 30, 30), (255, 140, 140)),
        "auto" => pick((120, 60, 170), (197, 176, 213)),
        "native" => RGBColor(20, 20, 20),
        "zstd-3" => RGBColor(140, 86, 75),
        "zstd-19" => RGBColor(227, 80, 180),
        "pcodec" => RGBColor(23, 170, 190),
        _ => {
            const SPARE: [(u8, u8, u8); 6] = [
                (188, 189, 34),
                (0, 0, 0),
                (100, 100, 200),
                (0, 120, 120),
                (160, 100, 0),
                (200, 0, 120),
            ];
            let (r, g, b) = SPARE[index % SPARE.len()];
            RGBColor(r, g, b)
        }
    }
}

fn mean_ratio(report: &Report, method: &str, keep: impl Fn(&TensorInfo) -> bool) -> Option<f64> {
    report.stats(method, keep).mean_ratio()
}

/// Grouped bars: one panel per model, its layers on the x axis in network order, one bar per
/// method (mean ratio over the layer's tensors); a dashed line marks ratio 1.
pub fn ratio_per_layer(report: &Report) -> anyhow::Result<String> {
    let methods: Vec<&str> = report.methods.iter().map(|m| m.name.as_str()).collect();
    let per_row = 9usize;
    let legend_rows = methods.len().div_ceil(per_row);
    let legend_h = 20 + 24 * legend_rows as u32;
    let panel_h = 400u32;
    let width = 1400u32;
    let height = legend_h + panel_h * report.models.len().max(1) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (legend, panels) = root.split_vertically(legend_h);
        let text = ("sans-serif", 15).into_font();
        for (j, m) in methods.iter().enumerate() {
            let x = 70 + (j % per_row) as i32 * 140;
            let y = 12 + (j / per_row) as i32 * 24;
            let c = colour(m, j);
            legend
                .draw(&Rectangle::new([(x, y), (x + 14, y + 14)], c.filled()))
                .map_err(err)?;
            legend
                .draw(&Text::new(m.to_string(), (x + 20, y), text.clone()))
                .map_err(err)?;
        }
        let areas = panels.split_evenly((report.models.len().max(1), 1));
        for (area, model) in areas.iter().zip(&report.models) {
            let layers = report.layers(model);
            let n = layers.len().max(1);
            let means: Vec<Vec<Option<f64>>> = layers
                .iter()
                .map(|l| {
                    methods
                        .iter()
                        .map(|m| mean_ratio(report, m, |t| &t.model == model && &t.layer == l))
                        .collect()
                })
                .collect();
            let top = means
                .iter()
                .flatten()
                .flatten()
                .fold(1.0f64, |a, &b| a.max(b))
                * 1.08;
            // Integer x axis, SCALE units per layer, so that ticks sit under each group.
            const SCALE: i32 = 1000;
            let keys: Vec<i32> = (0..n as i32).map(|i| i * SCALE + SCALE / 2).collect();
            let mut chart = ChartBuilder::on(area)
                .caption(format!("{model}: mean ratio per layer"), ("sans-serif", 20))
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(56)
                .build_cartesian_2d((0..n as i32 * SCALE).with_key_points(keys), 0.0..top)
                .map_err(err)?;
            let label = |v: &i32| {
                let i = (v / SCALE).max(0) as usize;
                layers.get(i).cloned().unwrap_or_default()
            };
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_label_formatter(&label)
                .y_desc("ratio (original / coded)")
                .label_style(("sans-serif", 14))
                .draw()
                .map_err(err)?;
            let w = f64::from(SCALE) * 0.84 / methods.len() as f64;
            for (j, m) in methods.iter().enumerate() {
                let c = colour(m, j);
                chart
                    .draw_series(means.iter().enumerate().filter_map(|(i, row)| {
                        row[j].map(|r| {
                            let x0 = f64::from(i as i32 * SCALE)
                                + 0.08 * f64::from(SCALE)
                                + j as f64 * w;
                            let x1 = x0 + w * 0.9;
                            Rectangle::new(
                                [(x0.round() as i32, 0.0), (x1.round() as i32, r)],
                                c.filled(),
                            )
                        })
                    }))
                    .map_err(err)?;
            }
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(0, 1.0), (n as i32 * SCALE, 1.0)],
                    6,
                    4,
                    BLACK.stroke_width(1),
                ))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Every tensor × method as a point (non-zero rate, ratio) on a log ratio axis, one colour per
/// method, with the curve 1 / non-zero rate for reference.
pub fn ratio_vs_nonzero(report: &Report) -> anyhow::Result<String> {
    let points: Vec<(f64, f64)> = report
        .rows
        .iter()
        .filter_map(|r| r.ratio.map(|q| (r.info.nonzero_rate, q)))
        .collect();
    let min_nz = report
        .tensors
        .iter()
        .map(|t| t.nonzero_rate)
        .filter(|&x| x > 0.0)
        .fold(1.0f64, f64::min);
    let lo = points.iter().map(|p| p.1).fold(1.0f64, f64::min) * 0.7;
    let hi = points.iter().map(|p| p.1).fold(1.0 / min_nz, f64::max) * 1.4;
    let x_lo = (min_nz - 0.05).max(0.0);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (1100, 760)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "ratio against non-zero rate, every tensor and method",
                ("sans-serif", 22),
            )
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(x_lo..1.02f64, (lo..hi).log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("non-zero rate (share of elements that are not 0)")
            .y_desc("ratio (original / coded), log scale")
            .y_labels(16)
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(err)?;
        for (j, m) in report.methods.iter().enumerate() {
            let c = colour(&m.name, j);
            let pts: Vec<(f64, f64)> = report
                .rows
                .iter()
                .filter(|r| r.method == m.name)
                .filter_map(|r| r.ratio.map(|q| (r.info.nonzero_rate, q)))
                .collect();
            let filled = m.family == super::Family::Dfc;
            chart
                .draw_series(pts.into_iter().map(move |p| {
                    let style = if filled {
                        c.filled()
                    } else {
                        c.stroke_width(2)
                    };
                    Circle::new(p, 4, style)
                }))
                .map_err(err)?
                .label(m.name.clone())
                .legend(move |(x, y)| {
                    let style = if filled {
                        c.filled()
                    } else {
                        c.stroke_width(2)
                    };
                    Circle::new((x + 8, y), 5, style)
                });
        }
        let x0 = x_lo.max(min_nz * 0.9).max(1e-3);
        let curve: Vec<(f64, f64)> = (0..=200)
            .map(|i| x0 + (1.0 - x0) * f64::from(i) / 200.0)
            .map(|x| (x, 1.0 / x))
            .collect();
        chart
            .draw_series(LineSeries::new(curve, BLACK.stroke_width(2)))
            .map_err(err)?
            .label("1 / non-zero rate")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.stroke_width(2)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}
