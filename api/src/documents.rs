//! Documents as PDF. A template (`templates/documents/{lang}/*.txt`) writes a document as
//! lines of a small layout language; this module lays them out on A4 pages and writes the
//! PDF with krilla in DejaVu Sans (Latin and Cyrillic), embedded and subset, so the text
//! stays searchable and copyable.
//!
//! The language, one directive per line (`name: cells`, cells split by `|`, `\n` a line
//! break inside a cell; values the template inserts are escaped so data never becomes a
//! directive):
//!
//! | directive | draws |
//! |---|---|
//! | `title: text` | the document's title, large and bold |
//! | `subtitle: text` | a grey line under the title |
//! | `heading: text` | a section heading |
//! | `text: text` | a wrapped paragraph (a line without a directive is one too) |
//! | `small: text` | a wrapped paragraph in small grey type |
//! | `field: label \| value` | a label and its value side by side |
//! | `columns: 5 \| 20 \| ...` | the relative widths of the next table's columns |
//! | `header: a \| b \| ...` | a table's header row, repeated on each new page |
//! | `row: a \| b \| ...` | a table row; cells wrap |
//! | `sign: label \| label` | signature lines side by side, each with its label under it |
//! | `qr: url` | a QR code of the link at the right margin, beside what follows |
//! | `map:` | the route map the caller supplies (route sheets) |
//! | `space:` / `rule:` | a gap / a thin line across the page |
//! | `footer: text` | each page's footer; `{page}` and `{pages}` are filled in |

use anyhow::Context;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};
use krilla::Document;
use ttf_parser::Face;

const REGULAR: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-Bold.ttf");

/// A4 in points.
const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const MARGIN: f32 = 46.0;
/// Content stops here; the footer sits below.
const BOTTOM: f32 = PAGE_HEIGHT - 54.0;
const FOOTER_BASELINE: f32 = PAGE_HEIGHT - 30.0;
const BODY_SIZE: f32 = 9.5;
const SMALL_SIZE: f32 = 7.5;
const LEADING: f32 = 1.3;
const CELL_PAD: f32 = 3.0;
const FIELD_LABEL_WIDTH: f32 = 150.0;
const QR_SIZE: f32 = 86.0;
const MAP_HEIGHT: f32 = 210.0;

const BLACK: (u8, u8, u8) = (0, 0, 0);
const GREY: (u8, u8, u8) = (100, 100, 100);
const RULE: (u8, u8, u8) = (185, 185, 185);
const ROUTE: (u8, u8, u8) = (25, 90, 170);

/// A route drawn on a route sheet: the depot and the stops in driving order, as
/// (latitude, longitude), each stop with the number the sheet gives it.
#[derive(Debug, Clone, Default)]
pub struct RouteMap {
    pub depot: Option<(f64, f64)>,
    pub stops: Vec<(i32, f64, f64)>,
}

/// What a document is, for the PDF's own metadata.
pub struct DocumentInfo<'a> {
    pub title: &'a str,
    /// BCP 47, `en` or `ru`: lets readers and screen readers pick the language.
    pub language: &'a str,
}

/// Lays out `markup` on A4 and writes the PDF.
pub fn render(markup: &str, info: DocumentInfo, map: Option<&RouteMap>) -> anyhow::Result<Vec<u8>> {
    let fonts = Measure::new()?;
    let mut layout = Layout::new(&fonts);
    for line in markup.lines() {
        layout.directive(line, map);
    }
    let pages = layout.finish();
    write_pdf(&pages, info)
}

/// Marks a value a template inserts so it reads as text, never as layout: a `|` stays a
/// bar, a line break a break inside its cell.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// A directive's cells, unescaped; explicit line breaks stay as `\n`.
fn cells(text: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => out.last_mut().map_or((), |s| s.push('\n')),
                Some(other) => out.last_mut().map_or((), |s| s.push(other)),
                None => {}
            },
            '|' => out.push(String::new()),
            c => out.last_mut().map_or((), |s| s.push(c)),
        }
    }
    out.into_iter().map(|s| s.trim().to_owned()).collect()
}

/// One drawing operation on a page, in points from the top-left corner.
#[derive(Debug, Clone)]
enum Op {
    Text {
        x: f32,
        baseline: f32,
        size: f32,
        bold: bool,
        color: (u8, u8, u8),
        text: String,
    },
    Line {
        points: Vec<(f32, f32)>,
        width: f32,
        color: (u8, u8, u8),
    },
    /// Filled squares (a QR code's dark modules, the map's depot).
    Squares {
        squares: Vec<(f32, f32, f32)>,
        color: (u8, u8, u8),
    },
    /// A filled circle (a stop on the map).
    Dot {
        x: f32,
        y: f32,
        radius: f32,
        color: (u8, u8, u8),
    },
}

/// Glyph advances of the embedded fonts, to break lines where krilla will draw them.
struct Measure {
    regular: Face<'static>,
    bold: Face<'static>,
}

impl Measure {
    fn new() -> anyhow::Result<Self> {
        Ok(Self {
            regular: Face::parse(REGULAR, 0).context("the regular document font")?,
            bold: Face::parse(BOLD, 0).context("the bold document font")?,
        })
    }

    fn width(&self, text: &str, size: f32, bold: bool) -> f32 {
        let face = if bold { &self.bold } else { &self.regular };
        let em = f32::from(face.units_per_em());
        let units: f32 = text
            .chars()
            .map(|c| {
                face.glyph_index(c)
                    .and_then(|g| face.glyph_hor_advance(g))
                    .map_or(em / 2.0, f32::from)
            })
            .sum();
        units * size / em
    }

    /// Greedy line breaking at spaces; a word wider than the line is cut where it must be.
    fn wrap(&self, text: &str, size: f32, bold: bool, max_width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            for word in paragraph.split_whitespace() {
                let candidate = if line.is_empty() {
                    word.to_owned()
                } else {
                    format!("{line} {word}")
                };
                if self.width(&candidate, size, bold) <= max_width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                // The word alone: cut it into pieces that fit.
                for c in word.chars() {
                    line.push(c);
                    if self.width(&line, size, bold) > max_width && line.chars().count() > 1 {
                        let last = line.pop().unwrap_or(c);
                        lines.push(std::mem::take(&mut line));
                        line.push(last);
                    }
                }
            }
            lines.push(line);
        }
        lines
    }
}

struct Layout<'a> {
    fonts: &'a Measure,
    pages: Vec<Vec<Op>>,
    y: f32,
    /// Width taken at the right margin (by a QR code) down to this height.
    right_inset: Option<(f32, f32)>,
    columns: Vec<f32>,
    table_header: Option<Vec<String>>,
    footer: Option<String>,
}

impl<'a> Layout<'a> {
    fn new(fonts: &'a Measure) -> Self {
        Self {
            fonts,
            pages: vec![Vec::new()],
            y: MARGIN,
            right_inset: None,
            columns: Vec::new(),
            table_header: None,
            footer: None,
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn width(&self) -> f32 {
        let full = PAGE_WIDTH - 2.0 * MARGIN;
        match self.right_inset {
            Some((inset, until)) if self.y < until => full - inset,
            _ => full,
        }
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
        self.right_inset = None;
    }

    /// Starts a new page unless `height` more fits on this one.
    fn room_for(&mut self, height: f32) -> bool {
        if self.y + height > BOTTOM && self.y > MARGIN {
            self.new_page();
            return false;
        }
        true
    }

    fn text(
        &mut self,
        x: f32,
        baseline: f32,
        size: f32,
        bold: bool,
        color: (u8, u8, u8),
        text: &str,
    ) {
        if text.is_empty() {
            return;
        }
        self.ops().push(Op::Text {
            x,
            baseline,
            size,
            bold,
            color,
            text: text.to_owned(),
        });
    }

    fn line(&mut self, points: Vec<(f32, f32)>, width: f32, color: (u8, u8, u8)) {
        self.ops().push(Op::Line {
            points,
            width,
            color,
        });
    }

    /// A wrapped paragraph across the page (less any inset), moving down past it.
    fn paragraph(&mut self, text: &str, size: f32, bold: bool, color: (u8, u8, u8), after: f32) {
        let lines = self.fonts.wrap(text, size, bold, self.width());
        let line_height = size * LEADING;
        for line in lines {
            self.room_for(line_height);
            self.text(MARGIN, self.y + size, size, bold, color, &line);
            self.y += line_height;
        }
        self.y += after;
    }

    fn directive(&mut self, line: &str, map: Option<&RouteMap>) {
        let line = line.trim();
        if line.is_empty() {
            return;
        }
        let (name, rest) = match line.split_once(':') {
            Some((name, rest))
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase()) =>
            {
                (name, rest.trim())
            }
            _ => ("text", line),
        };
        if !matches!(name, "row" | "header") {
            self.table_header = None;
        }
        let parts = cells(rest);
        let first = parts.first().cloned().unwrap_or_default();
        match name {
            "title" => self.paragraph(&first, 16.0, true, BLACK, 2.0),
            "subtitle" => self.paragraph(&first, BODY_SIZE, false, GREY, 10.0),
            "heading" => {
                self.y += 8.0;
                self.room_for(40.0);
                self.paragraph(&first, 11.0, true, BLACK, 3.0);
            }
            "small" => self.paragraph(&first, SMALL_SIZE, false, GREY, 3.0),
            "field" => self.field(&first, parts.get(1).map_or("", String::as_str)),
            "columns" => {
                self.columns = parts
                    .iter()
                    .filter_map(|p| p.parse::<f32>().ok())
                    .filter(|w| *w > 0.0)
                    .collect();
            }
            "header" => {
                self.room_for(40.0);
                self.row(&parts, true);
                self.table_header = Some(parts);
            }
            "row" => self.row(&parts, false),
            "sign" => self.signatures(&parts),
            "qr" => self.qr(&first),
            "map" => {
                if let Some(map) = map {
                    self.map(map);
                }
            }
            "space" => self.y += 10.0,
            "rule" => {
                self.room_for(8.0);
                let y = self.y + 4.0;
                self.line(vec![(MARGIN, y), (PAGE_WIDTH - MARGIN, y)], 0.6, RULE);
                self.y += 8.0;
            }
            "footer" => self.footer = Some(first),
            _ => self.paragraph(&first, BODY_SIZE, false, BLACK, 4.0),
        }
    }

    fn field(&mut self, label: &str, value: &str) {
        let value_width = self.width() - FIELD_LABEL_WIDTH;
        let labels = self
            .fonts
            .wrap(label, BODY_SIZE, false, FIELD_LABEL_WIDTH - 8.0);
        let values = self.fonts.wrap(value, BODY_SIZE, false, value_width);
        let line_height = BODY_SIZE * LEADING;
        let height = labels.len().max(values.len()) as f32 * line_height;
        self.room_for(height);
        let top = self.y;
        for (i, l) in labels.iter().enumerate() {
            let baseline = top + BODY_SIZE + i as f32 * line_height;
            self.text(MARGIN, baseline, BODY_SIZE, false, GREY, l);
        }
        for (i, v) in values.iter().enumerate() {
            let baseline = top + BODY_SIZE + i as f32 * line_height;
            self.text(
                MARGIN + FIELD_LABEL_WIDTH,
                baseline,
                BODY_SIZE,
                false,
                BLACK,
                v,
            );
        }
        self.y = top + height + 2.5;
    }

    /// Column widths in points for `n` cells: the declared proportions, else equal.
    fn column_widths(&self, n: usize) -> Vec<f32> {
        let full = PAGE_WIDTH - 2.0 * MARGIN;
        let declared: Vec<f32> = if self.columns.len() == n {
            self.columns.clone()
        } else {
            vec![1.0; n]
        };
        let total: f32 = declared.iter().sum();
        declared.iter().map(|w| w / total * full).collect()
    }

    fn row(&mut self, parts: &[String], header: bool) {
        let size = if header {
            SMALL_SIZE + 0.5
        } else {
            BODY_SIZE - 1.0
        };
        let widths = self.column_widths(parts.len());
        let wrapped: Vec<Vec<String>> = parts
            .iter()
            .zip(&widths)
            .map(|(text, w)| self.fonts.wrap(text, size, header, w - 2.0 * CELL_PAD))
            .collect();
        let line_height = size * LEADING;
        let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        let height = lines as f32 * line_height + 2.0 * CELL_PAD;
        if !self.room_for(height) && !header {
            if let Some(head) = self.table_header.clone() {
                self.row(&head, true);
            }
        }
        let top = self.y;
        let mut x = MARGIN;
        for (cell, w) in wrapped.iter().zip(&widths) {
            for (i, text) in cell.iter().enumerate() {
                let baseline = top + CELL_PAD + size + i as f32 * line_height;
                self.text(x + CELL_PAD, baseline, size, header, BLACK, text);
            }
            x += w;
        }
        let bottom = top + height;
        let (width, color) = if header { (0.9, GREY) } else { (0.5, RULE) };
        self.line(
            vec![(MARGIN, bottom), (PAGE_WIDTH - MARGIN, bottom)],
            width,
            color,
        );
        self.y = bottom;
    }

    fn signatures(&mut self, labels: &[String]) {
        let gap = 24.0;
        let n = labels.len().max(1) as f32;
        // A lone signature gets a line of its own size, not the page's width.
        let width = ((PAGE_WIDTH - 2.0 * MARGIN - gap * (n - 1.0)) / n).min(240.0);
        self.room_for(52.0);
        let line_y = self.y + 34.0;
        for (i, label) in labels.iter().enumerate() {
            let x = MARGIN + i as f32 * (width + gap);
            self.line(vec![(x, line_y), (x + width, line_y)], 0.7, BLACK);
            self.text(x, line_y + 10.0, SMALL_SIZE, false, GREY, label);
        }
        self.y = line_y + 18.0;
    }

    fn qr(&mut self, link: &str) {
        let Ok(code) = qrcode::QrCode::new(link.as_bytes()) else {
            return;
        };
        let modules = code.width();
        let module = QR_SIZE / modules as f32;
        let left = PAGE_WIDTH - MARGIN - QR_SIZE;
        let top = self.y;
        let squares = code
            .to_colors()
            .iter()
            .enumerate()
            .filter(|(_, c)| **c == qrcode::Color::Dark)
            .map(|(i, _)| {
                let (row, col) = (i / modules, i % modules);
                (
                    left + col as f32 * module,
                    top + row as f32 * module,
                    module,
                )
            })
            .collect();
        self.ops().push(Op::Squares {
            squares,
            color: BLACK,
        });
        self.right_inset = Some((QR_SIZE + 14.0, top + QR_SIZE + 4.0));
    }

    fn map(&mut self, map: &RouteMap) {
        let mut points: Vec<(f64, f64)> = map.stops.iter().map(|s| (s.1, s.2)).collect();
        points.extend(map.depot);
        if points.is_empty() {
            return;
        }
        self.room_for(MAP_HEIGHT + 12.0);
        let (left, top) = (MARGIN, self.y + 4.0);
        let (width, height) = (PAGE_WIDTH - 2.0 * MARGIN, MAP_HEIGHT);
        // Equirectangular at the route's latitude: true enough at a city's scale.
        let mean_lat = points.iter().map(|p| p.0).sum::<f64>() / points.len() as f64;
        let squeeze = mean_lat.to_radians().cos().max(0.1);
        let xs: Vec<f64> = points.iter().map(|p| p.1 * squeeze).collect();
        let ys: Vec<f64> = points.iter().map(|p| p.0).collect();
        let fold = |v: &[f64], f: fn(f64, f64) -> f64, start: f64| v.iter().copied().fold(start, f);
        let (min_x, max_x) = (fold(&xs, f64::min, f64::MAX), fold(&xs, f64::max, f64::MIN));
        let (min_y, max_y) = (fold(&ys, f64::min, f64::MAX), fold(&ys, f64::max, f64::MIN));
        let pad = 16.0;
        let span = ((max_x - min_x) / f64::from(width - 2.0 * pad))
            .max((max_y - min_y) / f64::from(height - 2.0 * pad))
            .max(1e-9);
        let (mid_x, mid_y) = ((min_x + max_x) / 2.0, (min_y + max_y) / 2.0);
        let place = |lat: f64, lon: f64| -> (f32, f32) {
            let x = f64::from(left + width / 2.0) + (lon * squeeze - mid_x) / span;
            let y = f64::from(top + height / 2.0) - (lat - mid_y) / span;
            (x as f32, y as f32)
        };
        let frame = vec![
            (left, top),
            (left + width, top),
            (left + width, top + height),
            (left, top + height),
            (left, top),
        ];
        self.line(frame, 0.6, RULE);
        let mut path: Vec<(f32, f32)> = Vec::new();
        path.extend(map.depot.map(|d| place(d.0, d.1)));
        path.extend(map.stops.iter().map(|s| place(s.1, s.2)));
        path.extend(map.depot.map(|d| place(d.0, d.1)));
        if path.len() > 1 {
            self.line(path, 1.2, ROUTE);
        }
        if let Some((lat, lon)) = map.depot {
            let (x, y) = place(lat, lon);
            self.ops().push(Op::Squares {
                squares: vec![(x - 4.5, y - 4.5, 9.0)],
                color: BLACK,
            });
        }
        for (seq, lat, lon) in &map.stops {
            let (x, y) = place(*lat, *lon);
            self.ops().push(Op::Dot {
                x,
                y,
                radius: 6.5,
                color: ROUTE,
            });
            let label = seq.to_string();
            let w = self.fonts.width(&label, 6.5, true);
            self.text(x - w / 2.0, y + 2.3, 6.5, true, (255, 255, 255), &label);
        }
        self.y = top + height + 10.0;
    }

    /// The pages with their footers.
    fn finish(mut self) -> Vec<Vec<Op>> {
        if let Some(footer) = self.footer.take() {
            let total = self.pages.len();
            for (i, page) in self.pages.iter_mut().enumerate() {
                let text = footer
                    .replace("{page}", &(i + 1).to_string())
                    .replace("{pages}", &total.to_string());
                page.push(Op::Line {
                    points: vec![
                        (MARGIN, FOOTER_BASELINE - 10.0),
                        (PAGE_WIDTH - MARGIN, FOOTER_BASELINE - 10.0),
                    ],
                    width: 0.5,
                    color: RULE,
                });
                page.push(Op::Text {
                    x: MARGIN,
                    baseline: FOOTER_BASELINE,
                    size: SMALL_SIZE,
                    bold: false,
                    color: GREY,
                    text,
                });
            }
        }
        self.pages
    }
}

fn fill(color: (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(color.0, color.1, color.2).into(),
        ..Fill::default()
    }
}

fn write_pdf(pages: &[Vec<Op>], info: DocumentInfo) -> anyhow::Result<Vec<u8>> {
    let regular = Font::new(REGULAR.into(), 0).context("the regular document font")?;
    let bold = Font::new(BOLD.into(), 0).context("the bold document font")?;
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(info.title.to_owned())
            .language(info.language.to_owned())
            .creator("claimroute".to_owned()),
    );
    let settings =
        PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).context("the A4 page size is valid")?;
    for ops in pages {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        for op in ops {
            match op {
                Op::Text {
                    x,
                    baseline,
                    size,
                    bold: is_bold,
                    color,
                    text,
                } => {
                    surface.set_stroke(None);
                    surface.set_fill(Some(fill(*color)));
                    let font = if *is_bold {
                        bold.clone()
                    } else {
                        regular.clone()
                    };
                    surface.draw_text(
                        Point::from_xy(*x, *baseline),
                        font,
                        *size,
                        text,
                        false,
                        TextDirection::Auto,
                    );
                }
                Op::Line {
                    points,
                    width,
                    color,
                } => {
                    let mut builder = PathBuilder::new();
                    for (i, (x, y)) in points.iter().enumerate() {
                        if i == 0 {
                            builder.move_to(*x, *y);
                        } else {
                            builder.line_to(*x, *y);
                        }
                    }
                    if let Some(path) = builder.finish() {
                        surface.set_fill(None);
                        surface.set_stroke(Some(Stroke {
                            paint: rgb::Color::new(color.0, color.1, color.2).into(),
                            width: *width,
                            ..Stroke::default()
                        }));
                        surface.draw_path(&path);
                    }
                }
                Op::Squares { squares, color } => {
                    let mut builder = PathBuilder::new();
                    for (x, y, side) in squares {
                        if let Some(rect) = Rect::from_xywh(*x, *y, *side, *side) {
                            builder.push_rect(rect);
                        }
                    }
                    if let Some(path) = builder.finish() {
                        surface.set_stroke(None);
                        surface.set_fill(Some(fill(*color)));
                        surface.draw_path(&path);
                    }
                }
                Op::Dot {
                    x,
                    y,
                    radius,
                    color,
                } => {
                    // A circle from four cubic arcs (the usual 0.5523 control distance).
                    let (r, k) = (*radius, *radius * 0.552_284_8);
                    let mut b = PathBuilder::new();
                    b.move_to(x + r, *y);
                    b.cubic_to(x + r, y + k, x + k, y + r, *x, y + r);
                    b.cubic_to(x - k, y + r, x - r, y + k, x - r, *y);
                    b.cubic_to(x - r, y - k, x - k, y - r, *x, y - r);
                    b.cubic_to(x + k, y - r, x + r, y - k, x + r, *y);
                    b.close();
                    if let Some(path) = b.finish() {
                        surface.set_stroke(None);
                        surface.set_fill(Some(fill(*color)));
                        surface.draw_path(&path);
                    }
                }
            }
        }
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| anyhow::anyhow!("writing the PDF: {e:?}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn escaped_values_stay_inside_their_cell() {
        let line = format!("row: {} | {}", escape("a | b\nc"), escape("back\\slash"));
        assert_eq!(cells(&line[4..]), vec!["a | b\nc", "back\\slash"]);
    }

    #[test]
    fn long_text_wraps_inside_the_width() {
        let fonts = Measure::new().unwrap();
        let text = "Кофемашина не включается после грозы, индикатор мигает красным ".repeat(4);
        let lines = fonts.wrap(&text, BODY_SIZE, false, 200.0);
        assert!(lines.len() > 4, "{lines:?}");
        assert!(lines
            .iter()
            .all(|l| fonts.width(l, BODY_SIZE, false) <= 200.0));
        let rejoined = lines.join(" ");
        assert_eq!(
            rejoined.split_whitespace().count(),
            text.split_whitespace().count()
        );
    }

    #[test]
    fn a_long_table_repeats_its_header_on_every_page() {
        let mut markup = String::from("title: Route\ncolumns: 1 | 4\nheader: No | Address\n");
        for i in 0..120 {
            markup.push_str(&format!("row: {i} | Street {i}\n"));
        }
        let fonts = Measure::new().unwrap();
        let mut layout = Layout::new(&fonts);
        for line in markup.lines() {
            layout.directive(line, None);
        }
        let pages = layout.finish();
        assert!(pages.len() >= 2);
        for page in &pages {
            let headers = page
                .iter()
                .filter(|op| matches!(op, Op::Text { text, bold: true, .. } if text == "Address"))
                .count();
            assert_eq!(headers, 1);
        }
        let pdf = write_pdf(
            &pages,
            DocumentInfo {
                title: "Route",
                language: "en",
            },
        )
        .unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
    }
}
