//! A period's progress report as a PDF, laid out like the published report: the title, then
//! each commitment on a new page with its lead agency, description, progress, challenges, next
//! steps (and comment), then the closing words.
//!
//! The text is set in Liberation Sans (SIL Open Font License 1.1, `fonts/`), embedded as a
//! subset of the glyphs used, with a ToUnicode map so that the text (macrons and curly quotes
//! included) can be searched, copied and extracted.

use std::collections::BTreeMap;
use std::io::Write;

use pdf_writer::types::{CidFontType, FontFlags};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};

use crate::model::Plan;
use crate::report::{blocks, sections, Block};
use crate::PlanError;

const REGULAR: &[u8] = include_bytes!("../fonts/LiberationSans-Regular.ttf");
const BOLD: &[u8] = include_bytes!("../fonts/LiberationSans-Bold.ttf");

// A4, in points.
const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const MARGIN_LEFT: f32 = 64.0;
const MARGIN_RIGHT: f32 = 64.0;
const MARGIN_TOP: f32 = 72.0;
const MARGIN_BOTTOM: f32 = 72.0;
const FOOTER_BASELINE: f32 = 40.0;

const BODY: f32 = 10.5;
const LEADING: f32 = 1.38;
const LIST_INDENT: f32 = 16.0;

/// The report for `period` as PDF bytes. Fails if the plan has no report for the period.
pub fn report_pdf(plan: &Plan, period: &str) -> Result<Vec<u8>, PlanError> {
    let report = plan
        .report(period)
        .ok_or_else(|| PlanError::UnknownPeriod(period.to_owned()))?;
    let fonts = [
        FontMetrics::parse(REGULAR, "LiberationSans")?,
        FontMetrics::parse(BOLD, "LiberationSans-Bold")?,
    ];
    let mut layout = Layout::new(&fonts);

    layout.paragraph(&report.title, Style::Bold, 20.0, 0.0);
    if let Some(subtitle) = &report.subtitle {
        layout.space(4.0);
        layout.paragraph(subtitle, Style::Regular, 13.0, 0.0);
    }
    layout.space(6.0);
    layout.paragraph(
        &format!("{}: {}", plan.country, plan.title),
        Style::Regular,
        BODY,
        0.0,
    );

    for (i, section) in sections(plan, period).iter().enumerate() {
        // Each commitment starts a page, as in the published report.
        if i > 0 {
            layout.new_page();
        } else {
            layout.space(22.0);
        }
        layout.heading(&section.heading(), 15.0);
        layout.space(6.0);
        layout.heading("Lead agency", 12.0);
        layout.paragraph(&section.lead_agency, Style::Regular, BODY, 0.0);
        for (heading, text) in section.parts(period) {
            layout.space(8.0);
            layout.heading(&heading, 12.0);
            layout.text(text);
        }
    }
    if !report.closing.is_empty() {
        layout.space(30.0);
        layout.text(&report.closing);
    }

    let title = format!("{} ({})", report.title, plan.country);
    write_pdf(&title, layout.finish(), &fonts)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Regular = 0,
    Bold = 1,
}

/// What layout needs of a font: glyphs and their advances.
struct FontMetrics {
    data: &'static [u8],
    name: &'static str,
    face: Face<'static>,
    /// Font units to thousandths of the font size, PDF's unit for glyph widths.
    per_mille: f32,
}

impl FontMetrics {
    fn parse(data: &'static [u8], name: &'static str) -> Result<FontMetrics, PlanError> {
        let face = Face::parse(data, 0).map_err(|e| PlanError::Pdf(format!("{name}: {e}")))?;
        let per_mille = 1000.0 / f32::from(face.units_per_em());
        Ok(FontMetrics {
            data,
            name,
            face,
            per_mille,
        })
    }

    /// A character the font lacks becomes `.notdef` (glyph 0): shown as a box rather than
    /// dropping the report.
    fn glyph(&self, c: char) -> GlyphId {
        self.face.glyph_index(c).unwrap_or(GlyphId(0))
    }

    fn advance(&self, glyph: GlyphId) -> f32 {
        f32::from(self.face.glyph_hor_advance(glyph).unwrap_or(0)) * self.per_mille
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| self.advance(self.glyph(c)))
            .sum::<f32>()
            * size
            / 1000.0
    }
}

/// A piece of text at a place on a page, in one font and size.
struct Run {
    style: Style,
    size: f32,
    x: f32,
    y: f32,
    text: String,
}

/// Flows text top to bottom onto pages.
struct Layout<'f> {
    fonts: &'f [FontMetrics; 2],
    pages: Vec<Vec<Run>>,
    /// The baseline of the last line set, or the top margin on a fresh page.
    y: f32,
}

impl<'f> Layout<'f> {
    fn new(fonts: &'f [FontMetrics; 2]) -> Layout<'f> {
        Layout {
            fonts,
            pages: vec![Vec::new()],
            y: PAGE_HEIGHT - MARGIN_TOP,
        }
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = PAGE_HEIGHT - MARGIN_TOP;
    }

    fn at_top(&self) -> bool {
        self.y >= PAGE_HEIGHT - MARGIN_TOP
    }

    fn space(&mut self, points: f32) {
        // Space at the top of a page would only push the text down.
        if !self.at_top() {
            self.y -= points;
        }
    }

    /// Make room for `height` more points, starting a page if they would not fit.
    fn need(&mut self, height: f32) {
        if self.y - height < MARGIN_BOTTOM && !self.at_top() {
            self.new_page();
        }
    }

    fn line(&mut self, runs: Vec<(Style, f32, f32, String)>, size: f32) {
        self.need(size * LEADING);
        self.y -= size * LEADING;
        let y = self.y;
        if let Some(page) = self.pages.last_mut() {
            page.extend(runs.into_iter().map(|(style, size, x, text)| Run {
                style,
                size,
                x,
                y,
                text,
            }));
        }
    }

    /// A heading, kept on the same page as the first lines after it.
    fn heading(&mut self, text: &str, size: f32) {
        let width = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
        let lines = wrap(&self.fonts[Style::Bold as usize], text, size, width);
        self.need(lines.len() as f32 * size * LEADING + 3.0 * BODY * LEADING);
        for line in lines {
            self.line(vec![(Style::Bold, size, MARGIN_LEFT, line)], size);
        }
        self.y -= 2.0;
    }

    fn paragraph(&mut self, text: &str, style: Style, size: f32, indent: f32) {
        let x = MARGIN_LEFT + indent;
        let width = PAGE_WIDTH - MARGIN_RIGHT - x;
        for line in wrap(&self.fonts[style as usize], text, size, width) {
            self.line(vec![(style, size, x, line)], size);
        }
    }

    /// Paragraphs and list items, a list item hanging from its marker.
    fn text(&mut self, paragraphs: &[String]) {
        for (i, block) in blocks(paragraphs).into_iter().enumerate() {
            if i > 0 {
                self.space(BODY * 0.45);
            }
            let (marker, text) = match block {
                Block::Paragraph(text) => {
                    self.paragraph(text, Style::Regular, BODY, 0.0);
                    continue;
                }
                Block::Bullet(text) => ("\u{2022}".to_owned(), text),
                Block::Numbered(n, text) => (format!("{n}."), text),
            };
            let x = MARGIN_LEFT + LIST_INDENT;
            let width = PAGE_WIDTH - MARGIN_RIGHT - x;
            let lines = wrap(&self.fonts[Style::Regular as usize], text, BODY, width);
            for (j, line) in lines.into_iter().enumerate() {
                let mut runs = vec![(Style::Regular, BODY, x, line)];
                if j == 0 {
                    runs.insert(0, (Style::Regular, BODY, MARGIN_LEFT + 4.0, marker.clone()));
                }
                self.line(runs, BODY);
            }
        }
    }

    /// The pages, each with its "Page N of M" footer.
    fn finish(mut self) -> Vec<Vec<Run>> {
        let count = self.pages.len();
        for (i, page) in self.pages.iter_mut().enumerate() {
            let text = format!("Page {} of {count}", i + 1);
            let width = self.fonts[Style::Regular as usize].width(&text, 8.5);
            page.push(Run {
                style: Style::Regular,
                size: 8.5,
                x: (PAGE_WIDTH - width) / 2.0,
                y: FOOTER_BASELINE,
                text,
            });
        }
        self.pages
    }
}

/// Greedy line breaking at spaces. A word wider than the line (a long address) is broken after
/// its last '/' or '-' that fits, or else at the last character that fits.
fn wrap(font: &FontMetrics, text: &str, size: f32, width: f32) -> Vec<String> {
    let space = font.width(" ", size);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut line_width = 0.0;
    for word in text.split_whitespace() {
        let mut word = word.to_owned();
        let mut word_width = font.width(&word, size);
        let gap = if line.is_empty() { 0.0 } else { space };
        if line_width + gap + word_width <= width {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&word);
            line_width += gap + word_width;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        while word_width > width {
            let cut = break_point(font, &word, size, width);
            let rest = word.split_off(cut);
            lines.push(std::mem::replace(&mut word, rest));
            word_width = font.width(&word, size);
        }
        line = word;
        line_width = word_width;
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Where to cut a word that does not fit on a line: a byte offset, never 0 (so that breaking
/// always makes progress).
fn break_point(font: &FontMetrics, word: &str, size: f32, width: f32) -> usize {
    let mut fits = 0;
    let mut preferred = None;
    let mut used = 0.0;
    for (i, c) in word.char_indices() {
        used += font.advance(font.glyph(c)) * size / 1000.0;
        if used > width {
            break;
        }
        fits = i + c.len_utf8();
        if c == '/' || c == '-' {
            preferred = Some(fits);
        }
    }
    let cut = preferred.unwrap_or(fits);
    if cut == 0 || cut >= word.len() {
        word.chars().next().map_or(word.len(), char::len_utf8)
    } else {
        cut
    }
}

/// One font as embedded: its subset and how characters map to the subset's glyphs.
struct Embedded {
    remapper: GlyphRemapper,
    /// Subset glyph → the character it was set for, for the ToUnicode map.
    unicode: BTreeMap<u16, char>,
}

impl Embedded {
    fn new() -> Embedded {
        Embedded {
            remapper: GlyphRemapper::new(),
            unicode: BTreeMap::new(),
        }
    }

    /// The text as Identity-H codes: two bytes per character, the subset glyph id.
    fn encode(&mut self, font: &FontMetrics, text: &str) -> Vec<u8> {
        let mut codes = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let glyph = font.glyph(c).0;
            let new = self.remapper.remap(glyph);
            if glyph != 0 {
                self.unicode.entry(new).or_insert(c);
            }
            codes.extend_from_slice(&new.to_be_bytes());
        }
        codes
    }
}

fn write_pdf(
    title: &str,
    pages: Vec<Vec<Run>>,
    fonts: &[FontMetrics; 2],
) -> Result<Vec<u8>, PlanError> {
    let mut embedded = [Embedded::new(), Embedded::new()];
    let font_names = [Name(b"F1"), Name(b"F2")];

    let mut next = Ref::new(1);
    let catalog_id = next.bump();
    let tree_id = next.bump();
    let info_id = next.bump();
    let font_ids: Vec<[Ref; 5]> = (0..2)
        .map(|_| {
            [
                next.bump(),
                next.bump(),
                next.bump(),
                next.bump(),
                next.bump(),
            ]
        })
        .collect();
    let page_ids: Vec<(Ref, Ref)> = pages.iter().map(|_| (next.bump(), next.bump())).collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id)
        .pages(tree_id)
        .lang(TextStr("en-NZ"));
    pdf.document_info(info_id)
        .title(TextStr(title))
        .creator(TextStr("Tuwhera"))
        .producer(TextStr("Tuwhera (pdf-writer)"));
    pdf.pages(tree_id)
        .kids(page_ids.iter().map(|(page, _)| *page))
        .count(page_ids.len() as i32);

    for (runs, (page_id, content_id)) in pages.iter().zip(&page_ids) {
        let mut content = Content::new();
        for run in runs {
            let style = run.style as usize;
            let codes = embedded[style].encode(&fonts[style], &run.text);
            content
                .begin_text()
                .set_font(font_names[style], run.size)
                .next_line(run.x, run.y)
                .show(Str(&codes))
                .end_text();
        }
        let stream = deflate(&content.finish())?;
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
            .parent(tree_id)
            .contents(*content_id);
        let mut resources = page.resources();
        let mut font_dict = resources.fonts();
        for (name, ids) in font_names.iter().zip(&font_ids) {
            font_dict.pair(*name, ids[0]);
        }
        font_dict.finish();
        resources.finish();
        page.finish();
        pdf.stream(*content_id, &stream).filter(Filter::FlateDecode);
    }

    for ((font, used), ids) in fonts.iter().zip(&embedded).zip(&font_ids) {
        write_font(&mut pdf, font, used, *ids)?;
    }
    Ok(pdf.finish())
}

/// A Type 0 font over a CID-keyed TrueType subset, the only way to address more than 256
/// glyphs and the form the subsetter's output needs (it drops the font's own cmap).
fn write_font(
    pdf: &mut Pdf,
    font: &FontMetrics,
    used: &Embedded,
    [type0_id, cid_id, descriptor_id, file_id, cmap_id]: [Ref; 5],
) -> Result<(), PlanError> {
    let subset = subsetter::subset(font.data, 0, &used.remapper)
        .map_err(|e| PlanError::Pdf(format!("{}: subsetting failed: {e}", font.name)))?;
    // Six capitals and '+' mark a subset (PDF 32000-1 9.6.4); fixed, so output is reproducible.
    let tag = if font.name.ends_with("Bold") {
        "TUWHRB"
    } else {
        "TUWHRA"
    };
    let base_name = format!("{tag}+{}", font.name);
    let base = Name(base_name.as_bytes());
    let system = pdf_writer::types::SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };

    pdf.type0_font(type0_id)
        .base_font(base)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_id)
        .to_unicode(cmap_id);

    let widths: Vec<f32> = used
        .remapper
        .remapped_gids()
        .map(|old| font.advance(GlyphId(old)))
        .collect();
    let mut cid = pdf.cid_font(cid_id);
    cid.subtype(CidFontType::Type2)
        .base_font(base)
        .system_info(system)
        .font_descriptor(descriptor_id)
        .cid_to_gid_map_predefined(Name(b"Identity"));
    cid.widths().consecutive(0, widths);
    cid.finish();

    let face = &font.face;
    let scale = |v: i16| f32::from(v) * font.per_mille;
    let bbox = face.global_bounding_box();
    let bold = font.name.ends_with("Bold");
    pdf.font_descriptor(descriptor_id)
        .name(base)
        .flags(FontFlags::NON_SYMBOLIC)
        .bbox(Rect::new(
            scale(bbox.x_min),
            scale(bbox.y_min),
            scale(bbox.x_max),
            scale(bbox.y_max),
        ))
        .italic_angle(0.0)
        .ascent(scale(face.ascender()))
        .descent(scale(face.descender()))
        .cap_height(scale(face.capital_height().unwrap_or(face.ascender())))
        // Not in TrueType fonts; typical stem widths of a sans regular and bold.
        .stem_v(if bold { 140.0 } else { 80.0 })
        .font_file2(file_id);

    let compressed = deflate(&subset)?;
    pdf.stream(file_id, &compressed)
        .filter(Filter::FlateDecode)
        .pair(Name(b"Length1"), subset.len() as i32);

    let mut cmap = pdf_writer::types::UnicodeCmap::new(Name(b"Custom"), system);
    for (&glyph, &c) in &used.unicode {
        cmap.pair(glyph, c);
    }
    pdf.cmap(cmap_id, &cmap.finish());
    Ok(())
}

fn deflate(data: &[u8]) -> Result<Vec<u8>, PlanError> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(data)
        .and_then(|()| encoder.finish())
        .map_err(|e| PlanError::Pdf(format!("compressing a stream: {e}")))
}
