//! SVG line charts (plotters' SVG backend: no system fonts, no bitmap code).

use plotters::coord::combinators::BindKeyPoints;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One line: a label and its points, in x order.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// One chart: axes, scales and lines.
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_x: bool,
    pub log_y: bool,
    pub series: Vec<Series>,
}

/// Width and height of one panel, in SVG pixels.
const PANEL: (u32, u32) = (520, 400);

/// Distinct, colour-blind-friendly line colours (Okabe–Ito), then repeats.
const COLOURS: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(230, 159, 0),
    RGBColor(0, 0, 0),
    RGBColor(240, 228, 66),
];

/// A drawing failure (the SVG backend writes into a string, so this is rare).
#[derive(Debug)]
pub struct PlotError(String);

impl std::fmt::Display for PlotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "drawing the plot failed: {}", self.0)
    }
}

impl std::error::Error for PlotError {}

fn err<E: std::fmt::Debug>(e: E) -> PlotError {
    PlotError(format!("{e:?}"))
}

/// Renders `panels` side by side under `title`, as an SVG document.
pub fn render_svg(title: &str, panels: &[Panel]) -> Result<String, PlotError> {
    let mut buf = String::new();
    {
        let cols = u32::try_from(panels.len().max(1)).map_err(err)?;
        let size = (PANEL.0 * cols, PANEL.1 + 70);
        let root = SVGBackend::with_string(&mut buf, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let root = root
            .titled(title, ("sans-serif", 22).into_font())
            .map_err(err)?;
        // One legend for all panels, under the title: the panels share their lines.
        let (legend, root) = root.split_vertically(30);
        let labels: Vec<&str> = panels
            .iter()
            .find(|p| !p.series.is_empty())
            .map(|p| p.series.iter().map(|s| s.label.as_str()).collect())
            .unwrap_or_default();
        let mut x = 60i32;
        for (i, label) in labels.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            legend
                .draw(&PathElement::new(
                    vec![(x, 15), (x + 24, 15)],
                    colour.stroke_width(3),
                ))
                .map_err(err)?;
            legend
                .draw(&Text::new(
                    label.to_string(),
                    (x + 30, 8),
                    ("sans-serif", 14).into_font(),
                ))
                .map_err(err)?;
            // The naive font metrics: about 7.5 px per character at 14 px.
            x += 30 + 8 * label.len() as i32 + 30;
        }
        let areas = root.split_evenly((1, panels.len().max(1)));
        for (panel, area) in panels.iter().zip(&areas) {
            let xs = panel
                .series
                .iter()
                .flat_map(|s| s.points.iter().map(|p| p.0));
            let ys = panel
                .series
                .iter()
                .flat_map(|s| s.points.iter().map(|p| p.1));
            let mut x_ticks: Vec<f64> = xs.clone().filter(|x| *x > 0.0).collect();
            x_ticks.sort_by(f64::total_cmp);
            x_ticks.dedup();
            let (x0, x1) = axis_range(xs, panel.log_x, false);
            let (y0, y1) = axis_range(ys, panel.log_y, true);
            // Log axes: ticks at the data's x values and at 1-2-5 steps of y.
            let log_x = || (x0..x1).log_scale().with_key_points(x_ticks.clone());
            let log_y = || (y0..y1).log_scale().with_key_points(ticks_125(y0, y1));
            match (panel.log_x, panel.log_y) {
                (true, true) => draw(area, panel, log_x(), log_y()),
                (true, false) => draw(area, panel, log_x(), y0..y1),
                (false, true) => draw(area, panel, x0..x1, log_y()),
                (false, false) => draw(area, panel, x0..x1, y0..y1),
            }?;
        }
        root.present().map_err(err)?;
    }
    Ok(buf)
}

/// The values `{1, 2, 5} x 10^k` in `[lo, hi]`.
fn ticks_125(lo: f64, hi: f64) -> Vec<f64> {
    let mut out = Vec::new();
    if !(lo > 0.0 && hi >= lo && hi.is_finite()) {
        return out;
    }
    let mut decade = 10f64.powi(lo.log10().floor() as i32);
    while decade <= hi {
        for m in [1.0, 2.0, 5.0] {
            let v = m * decade;
            if v >= lo && v <= hi {
                out.push(v);
            }
        }
        decade *= 10.0;
    }
    out
}

/// The axis range covering `values` (positive values only on a log axis), padded.
/// A linear y axis starts at zero when every value is non-negative.
fn axis_range(values: impl Iterator<Item = f64>, log: bool, is_y: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite() && (!log || *v > 0.0)) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return if log { (0.1, 10.0) } else { (0.0, 1.0) };
    }
    if log {
        let (lo, hi) = if hi / lo < 1.5 {
            (lo / 1.5, hi * 1.5)
        } else {
            (lo, hi)
        };
        (lo / 1.15, hi * 1.15)
    } else {
        let span = if hi > lo { hi - lo } else { hi.abs().max(1.0) };
        let lo = if is_y && lo >= 0.0 {
            0.0
        } else {
            lo - 0.05 * span
        };
        (lo, hi + 0.05 * span)
    }
}

fn draw<DB, X, Y>(area: &DrawingArea<DB, Shift>, panel: &Panel, x: X, y: Y) -> Result<(), PlotError>
where
    DB: DrawingBackend,
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 16).into_font())
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(x, y)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(panel.x_label.as_str())
        .y_desc(panel.y_label.as_str())
        .x_label_formatter(&|v| short_number(*v))
        .y_label_formatter(&|v| short_number(*v))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(err)?;
    for (i, s) in panel.series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let points: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|&(x, y)| {
                x.is_finite()
                    && y.is_finite()
                    && (!panel.log_x || x > 0.0)
                    && (!panel.log_y || y > 0.0)
            })
            .collect();
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))
            .map_err(err)?;
    }
    Ok(())
}

/// Axis labels: 1000 → "1k", 1e6 → "1M", 0.25 → "0.25".
pub fn short_number(v: f64) -> String {
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let s = if scaled == scaled.round() || scaled.abs() >= 10.0 {
        format!("{scaled:.0}")
    } else if scaled.abs() >= 1.0 {
        format!("{scaled:.1}")
    } else {
        format!("{scaled:.2}")
    };
    format!("{s}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panel(log: bool) -> Panel {
        Panel {
            title: "client time".into(),
            x_label: "clients n".into(),
            y_label: "ms".into(),
            log_x: log,
            log_y: log,
            series: vec![
                Series {
                    label: "complete/semi-honest".into(),
                    points: vec![(50.0, 1.0), (100.0, 2.5), (200.0, 7.0)],
                },
                Series {
                    label: "sparse/semi-honest".into(),
                    points: vec![(50.0, 0.8), (100.0, 1.1), (200.0, 0.0)],
                },
            ],
        }
    }

    #[test]
    fn svg_has_every_series_and_is_closed() {
        for log in [false, true] {
            let svg = render_svg("sweep over n", &[panel(log), panel(!log)]).unwrap();
            assert!(svg.starts_with("<svg"), "{}", &svg[..40.min(svg.len())]);
            assert!(svg.trim_end().ends_with("</svg>"));
            assert!(svg.contains("complete/semi-honest"));
            assert!(svg.contains("sparse/semi-honest"));
            assert!(svg.contains("sweep over n"));
            // Two panels with both lines each, and one legend mark per line.
            for colour in ["#0072B2", "#D55E00"] {
                let n = svg
                    .matches(&format!(
                        "<polyline fill=\"none\" opacity=\"1\" stroke=\"{colour}\""
                    ))
                    .count();
                assert_eq!(n, 3, "{colour}");
            }
        }
    }

    #[test]
    fn ranges() {
        assert_eq!(axis_range([1.0, 3.0].into_iter(), false, true), (0.0, 3.1));
        assert_eq!(axis_range([1.0, 3.0].into_iter(), false, false), (0.9, 3.1));
        let (lo, hi) = axis_range([10.0, 1000.0, 0.0].into_iter(), true, true);
        assert!(lo > 0.0 && lo < 10.0 && hi > 1000.0);
        assert_eq!(
            ticks_125(3.0, 600.0),
            [5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0]
        );
        assert!(ticks_125(0.0, 1.0).is_empty());
        assert_eq!(axis_range(std::iter::empty(), true, false), (0.1, 10.0));
    }

    #[test]
    fn short_numbers() {
        assert_eq!(short_number(1000.0), "1k");
        assert_eq!(short_number(1e6), "1M");
        assert_eq!(short_number(2500.0), "2.5k");
        assert_eq!(short_number(0.25), "0.25");
        assert_eq!(short_number(50.0), "50");
    }
}
