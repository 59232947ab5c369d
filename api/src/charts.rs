//! Bar charts of the reports as SVG (`?format=svg`), drawn with plotters' SVG backend:
//! text stays text (the viewer's fonts draw it), so nothing is rasterised and no font is
//! needed on the server. The words on a chart come from the chart templates
//! (`templates/charts/{en,ru}`), like every other text people read.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const WIDTH: u32 = 960;
const HEIGHT: u32 = 480;
/// Bars of one series, in order (a palette that stays apart for colour-blind readers).
const PALETTE: [RGBColor; 4] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
];
/// A bar that needs attention (a flagged batch).
const ALERT: RGBColor = RGBColor(213, 94, 0);

/// One series of bars: a value per category.
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

/// A grouped bar chart: per category one bar of each series; `alert[i]` draws category
/// `i`'s bars in the alert colour.
pub struct Bars<'a> {
    pub title: &'a str,
    pub y_label: &'a str,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
    pub alert: Vec<bool>,
    /// Printed under the chart (what the alert colour means, the rule behind it).
    pub note: Option<&'a str>,
}

pub fn bars(chart: &Bars) -> anyhow::Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error)?;
        let n = chart.categories.len().max(1);
        let top = chart
            .series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .fold(0.0_f64, f64::max);
        let top = if top > 0.0 { top * 1.15 } else { 1.0 };
        let (body, footer) = root.split_vertically(HEIGHT - 24);
        let mut ctx = ChartBuilder::on(&body)
            .caption(chart.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(if n > 8 { 70 } else { 36 })
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..n as f64, 0.0..top)
            .map_err(draw_error)?;
        ctx.configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc(chart.y_label)
            .y_label_style(("sans-serif", 13))
            .draw()
            .map_err(draw_error)?;
        let groups = chart.series.len().max(1) as f64;
        let width = 0.8 / groups;
        for (k, series) in chart.series.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let rects = series.values.iter().enumerate().map(|(i, v)| {
                let left = i as f64 + 0.1 + k as f64 * width;
                let fill = if chart.alert.get(i).copied().unwrap_or(false) {
                    ALERT
                } else {
                    color
                };
                Rectangle::new([(left, 0.0), (left + width * 0.92, *v)], fill.filled())
            });
            let drawn = ctx.draw_series(rects).map_err(draw_error)?;
            if chart.series.len() > 1 {
                drawn.label(series.name.as_str()).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
                });
            }
        }
        // Category names under their groups, slanted when there are many.
        let style = TextStyle::from(("sans-serif", 12).into_font()).color(&BLACK);
        let style = if n > 8 {
            style.transform(FontTransform::Rotate90)
        } else {
            style.pos(Pos::new(HPos::Center, VPos::Top))
        };
        for (i, name) in chart.categories.iter().enumerate() {
            let label = EmptyElement::at((i as f64 + 0.5, 0.0))
                + Text::new(name.clone(), (0, 6), style.clone());
            ctx.plotting_area().draw(&label).map_err(draw_error)?;
        }
        if chart.series.len() > 1 {
            ctx.configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .label_font(("sans-serif", 13))
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(draw_error)?;
        }
        if let Some(note) = chart.note {
            footer
                .draw(&Text::new(
                    note.to_owned(),
                    (76, 4),
                    ("sans-serif", 12).into_font().color(&RGBColor(90, 90, 90)),
                ))
                .map_err(draw_error)?;
        }
        root.present().map_err(draw_error)?;
    }
    Ok(svg)
}

fn draw_error<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::anyhow!("drawing a chart: {e:?}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_grouped_chart_has_a_bar_per_value_and_its_labels() {
        let svg = bars(&Bars {
            title: "Claims",
            y_label: "claims",
            categories: vec!["2026-10".into(), "2026-11".into(), "2026-12".into()],
            series: vec![
                Series {
                    name: "filed".into(),
                    values: vec![3.0, 5.0, 2.0],
                },
                Series {
                    name: "closed".into(),
                    values: vec![1.0, 4.0, 0.0],
                },
            ],
            alert: Vec::new(),
            note: Some("a note"),
        })
        .unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        for text in ["Claims", "2026-11", "filed", "closed", "a note"] {
            assert!(svg.contains(text), "no {text}");
        }
        // The chart's own frame and legend are rects too; six bars at least.
        assert!(svg.matches("<rect").count() >= 6);
    }

    #[test]
    fn labels_are_text_never_markup() {
        let svg = bars(&Bars {
            title: "<script>alert(1)</script>",
            y_label: "y",
            categories: vec!["<b onclick=x>".into()],
            series: vec![Series {
                name: "s".into(),
                values: vec![1.0],
            }],
            alert: vec![true],
            note: None,
        })
        .unwrap();
        assert!(!svg.contains("<script"), "{svg}");
        assert!(!svg.contains("<b "), "{svg}");
        assert!(svg.contains("&lt;script&gt;"));
    }
}
