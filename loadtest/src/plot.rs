//! The picture of a run (`--plot FILE.svg`): per one-second window, latency
//! percentiles in one panel and throughput in the other, over the run.

use std::ops::Range;
use std::path::Path;

use anyhow::Context;
use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::stats::Report;
use crate::timeline::{Summary, Window};

/// Picture size in pixels.
const SIZE: (u32, u32) = (1000, 760);
/// Font family of all text.
const FONT: &str = "sans-serif";
/// One value of a window, if it has one.
type Value = fn(&Window) -> Option<f64>;
/// The latency lines, top down: name, colour, value. Drawn in this order,
/// so p99 shows over max where they meet.
const LATENCY: [(&str, RGBColor, Value); 3] = [
    ("max", RGBColor(214, 39, 40), |w| w.max_ms),
    ("p99", RGBColor(255, 127, 14), |w| w.p99_ms),
    ("p50", RGBColor(31, 119, 180), |w| w.p50_ms),
];
/// The throughput line's colour.
const THROUGHPUT: RGBColor = RGBColor(44, 160, 44);
/// The x axis of both panels.
const TIME_AXIS: &str = "seconds since the run started";

/// A panel's chart, seconds across.
type Chart<'a, 'b, Y> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, Y>>;

/// Draws `report`'s timeline as an SVG picture at `path`.
pub fn write(report: &Report, path: &Path) -> anyhow::Result<()> {
    let timeline = report
        .timeline
        .as_ref()
        .with_context(|| format!("the {} scenario records no timeline", report.scenario))?;
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let inner = root.titled(&report.scenario, (FONT, 26))?;
    let (top, bottom) = inner.split_vertically(50.percent_height());
    latency_panel(&top, timeline)?;
    throughput_panel(&bottom, timeline)?;
    root.present()
        .with_context(|| format!("write {}", path.display()))?;
    Ok(())
}

/// p50, p99 and max per second, on a log scale: medians and maxima are
/// often orders of magnitude apart.
fn latency_panel(area: &DrawingArea<SVGBackend<'_>, Shift>, t: &Summary) -> anyhow::Result<()> {
    let values = t.windows.iter().flat_map(|w| [w.p50_ms, w.max_ms]);
    let caption = format!("{} latency per second", t.latency.replace('_', " "));
    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FONT, 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(seconds(&t.windows), decades(values.flatten()).log_scale())?;
    axes(&mut chart, &t.windows, "latency (ms, log scale)")?;
    for (name, color, value) in LATENCY {
        line(&mut chart, &t.windows, value, name, color)?;
    }
    legend(&mut chart)
}

/// Events per second, on a linear scale from zero.
fn throughput_panel(area: &DrawingArea<SVGBackend<'_>, Shift>, t: &Summary) -> anyhow::Result<()> {
    let most = t.windows.iter().map(|w| w.count).max().unwrap_or(0).max(1);
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{} per second", t.events), (FONT, 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(seconds(&t.windows), 0.0..most as f64 * 1.1)?;
    let unit = format!("{} / s", t.events);
    axes(&mut chart, &t.windows, &unit)?;
    let name = format!("{}/s", t.events);
    line(
        &mut chart,
        &t.windows,
        |w| Some(w.count as f64),
        &name,
        THROUGHPUT,
    )?;
    legend(&mut chart)
}

/// Grid, ticks and axis names; about one tick a second on short runs.
fn axes<'a, 'b: 'a, Y>(
    chart: &mut Chart<'a, 'b, Y>,
    windows: &[Window],
    y_desc: &str,
) -> anyhow::Result<()>
where
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let span = seconds(windows);
    let ticks = (span.end - span.start) as usize + 1;
    chart
        .configure_mesh()
        .x_labels(ticks.clamp(2, 12))
        .x_max_light_lines(1)
        .light_line_style(RGBColor(238, 238, 238))
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15))
        .x_desc(TIME_AXIS)
        .y_desc(y_desc)
        .x_label_formatter(&|s| short(*s))
        .y_label_formatter(&|v| short(*v))
        .draw()?;
    Ok(())
}

/// Draws one series, each window at its middle; windows without a value
/// break the line.
fn line<Y: Ranged<ValueType = f64>>(
    chart: &mut Chart<'_, '_, Y>,
    windows: &[Window],
    value: Value,
    name: &str,
    color: RGBColor,
) -> anyhow::Result<()> {
    let stretches = windows
        .split(|w| value(w).is_none())
        .filter(|s| !s.is_empty());
    for (i, stretch) in stretches.enumerate() {
        let points = stretch
            .iter()
            .filter_map(|w| Some((f64::from(w.second) + 0.5, value(w)?)));
        let drawn =
            chart.draw_series(LineSeries::new(points, color.stroke_width(2)).point_size(2))?;
        if i == 0 {
            drawn.label(name).legend(move |(x, y)| {
                PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
            });
        }
    }
    Ok(())
}

/// The legend, top right.
fn legend<'a, 'b: 'a, Y: Ranged<ValueType = f64>>(
    chart: &mut Chart<'a, 'b, Y>,
) -> anyhow::Result<()> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 14))
        .draw()?;
    Ok(())
}

/// The seconds the windows span.
fn seconds(windows: &[Window]) -> Range<f64> {
    match (windows.first(), windows.last()) {
        (Some(first), Some(last)) => f64::from(first.second)..f64::from(last.second) + 1.0,
        _ => 0.0..1.0,
    }
}

/// Whole decades that hold every positive value.
fn decades(values: impl Iterator<Item = f64>) -> Range<f64> {
    let (low, high) = values
        .filter(|v| *v > 0.0)
        .fold((f64::INFINITY, 0.0_f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !low.is_finite() {
        return 0.1..10.0;
    }
    let low = 10_f64.powf(low.log10().floor());
    let high = 10_f64.powf(high.log10().ceil()).max(low * 10.0);
    low..high
}

/// A number without trailing zeros: 0.5, 2, 100.
fn short(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::Timeline;
    use std::time::Duration;

    #[test]
    fn ranges_cover_the_data() {
        assert_eq!(decades([1.5, 44.7, 1812.0].into_iter()), 1.0..10_000.0);
        assert_eq!(decades([0.9, 2.36].into_iter()), 0.1..10.0);
        assert_eq!(decades(std::iter::empty()), 0.1..10.0);
        assert_eq!(short(0.30000000000000004), "0.3");
        assert_eq!(short(100.0), "100");
    }

    #[test]
    fn writes_an_svg_with_both_panels() -> anyhow::Result<()> {
        let start = crate::timeline::origin();
        let mut timeline = Timeline::default();
        for ms in (0..4_000).step_by(7) {
            let latency = Duration::from_micros(500 + ms * 3);
            timeline.event(start + Duration::from_millis(ms), Some(latency));
        }
        let mut report = Report::new("chat");
        report.timeline("send_to_deliver", "deliveries", timeline);
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("run.svg");
        write(&report, &path)?;
        let svg = std::fs::read_to_string(&path)?;
        assert!(svg.starts_with("<svg"), "{svg:.200}");
        for text in [
            "<polyline",
            "deliveries/s",
            "p99",
            "latency (ms, log scale)",
        ] {
            assert!(svg.contains(text), "no {text} in the picture");
        }
        Ok(())
    }

    #[test]
    fn a_report_without_timeline_is_refused() {
        let report = Report::new("reconnect");
        let path = std::env::temp_dir().join("never-written.svg");
        assert!(write(&report, &path).is_err());
    }
}
