//! The throughput chart: achieved/bound against payload size, per baud rate, driver and
//! baseline, as SVG.

use std::path::Path;

use plotters::prelude::*;

/// One line of the chart.
pub struct Series {
    pub label: String,
    /// (payload bytes, ratio).
    pub points: Vec<(f64, f64)>,
    pub color: RGBColor,
    pub dashed: bool,
}

pub fn draw(path: &Path, title: &str, series: &[Series]) -> Result<(), Box<dyn std::error::Error>> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let lo = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.9f64, f64::min);
    let y_min = (lo * 20.0).floor() / 20.0;
    let root = SVGBackend::new(path, (760, 440)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d((12f64..1400f64).log_scale(), y_min..1.02f64)?;
    chart
        .configure_mesh()
        .x_desc("payload bytes (16-byte topic, QoS 0)")
        .y_desc("achieved / line-rate bound")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.2}"))
        .draw()?;
    chart
        .draw_series(LineSeries::new(
            [(12.0, 0.95), (1400.0, 0.95)],
            ShapeStyle::from(&RGBColor(160, 160, 160)).stroke_width(1),
        ))?
        .label("goal 0.95")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RGBColor(160, 160, 160)));
    for s in series {
        let style = ShapeStyle::from(&s.color).stroke_width(if s.dashed { 1 } else { 2 });
        let color = s.color;
        chart
            .draw_series(LineSeries::new(s.points.iter().copied(), style).point_size(3))?
            .label(s.label.clone())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
