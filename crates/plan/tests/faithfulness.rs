//! The data says what the report says.
//!
//! The report's text (`tests/seed/`, a copy of the seed) is read section by section here,
//! independently of how the data file was made; the only changes allowed between the two are
//! the text-extraction artefacts that `data/plan/README.md` lists: page headers ("Commitment
//! One", "Commitment 2", …) between sections, lines broken inside a name, links written as
//! `[text](#)` or `<address>`, and escaped parentheses.

mod common;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use common::{plan, squash, SEED};
use regex::Regex;

/// A commitment as the seed gives it.
#[derive(Debug, Default)]
struct SeedCommitment {
    number: u32,
    title: String,
    lead: String,
    /// Section name (the data's field name) → its paragraphs.
    sections: BTreeMap<&'static str, Vec<String>>,
}

#[derive(Debug, Default)]
struct Seed {
    title: String,
    subtitle: String,
    commitments: Vec<SeedCommitment>,
    closing: Vec<String>,
}

fn number_word(word: &str) -> u32 {
    let words = [
        "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten",
    ];
    word.parse()
        .ok()
        .or_else(|| words.iter().position(|w| *w == word).map(|i| i as u32 + 1))
        .unwrap_or_else(|| panic!("not a commitment number: {word}"))
}

fn section_name(line: &str) -> Option<&'static str> {
    match line.trim().trim_end_matches(':').to_lowercase().as_str() {
        "commitment description" => Some("description"),
        "progress in 2024" => Some("progress"),
        "challenges" => Some("challenges"),
        "next steps" => Some("nextSteps"),
        "comment" => Some("comment"),
        _ => None,
    }
}

static LINK: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\[([^\]]*)\]\(#\)").unwrap());
static ADDRESS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"<(https?://[^>]+)>").unwrap());
static LIST_ITEM: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^(- |\d+\. )").unwrap());

/// The extraction artefacts inside a paragraph: links and escaped parentheses.
fn clean(paragraph: &str) -> String {
    let text = LINK.replace_all(paragraph, "$1");
    let text = ADDRESS.replace_all(&text, "$1");
    squash(&text.replace("\\(", "(").replace("\\)", ")"))
}

/// Paragraphs from lines: blank lines separate them, a list item starts a new one, and a
/// paragraph broken over lines is joined.
struct Paragraphs {
    done: Vec<String>,
    current: Vec<String>,
}

impl Paragraphs {
    fn new() -> Paragraphs {
        Paragraphs {
            done: Vec::new(),
            current: Vec::new(),
        }
    }
    fn line(&mut self, line: &str) {
        if line.trim().is_empty() {
            self.end();
        } else {
            if LIST_ITEM.is_match(line) {
                self.end();
            }
            self.current.push(line.trim().to_owned());
        }
    }
    fn end(&mut self) {
        if !self.current.is_empty() {
            self.done.push(clean(&self.current.join(" ")));
            self.current.clear();
        }
    }
    fn take(&mut self) -> Vec<String> {
        self.end();
        std::mem::take(&mut self.done)
    }
}

fn read_seed() -> Seed {
    let text = std::fs::read_to_string(SEED).unwrap();
    let heading =
        Regex::new(r"^Commitment (\d+|One|Two|Three|Four|Five|Six|Seven|Eight) [–-] (.+)$")
            .unwrap();
    let page_header =
        Regex::new(r"^Commitment (\d+|One|Two|Three|Four|Five|Six|Seven|Eight)$").unwrap();
    let lead = Regex::new(r"^Lead( Agency)?: (.*)$").unwrap();

    let mut seed = Seed::default();
    let mut lines = text.lines().peekable();
    // The cover: the title line, then the subtitle over two lines.
    for line in lines.by_ref() {
        if line.starts_with("Fourth National Action Plan Progress Report") {
            seed.title = line.trim().to_owned();
            break;
        }
    }
    let mut subtitle = Vec::new();
    while let Some(line) = lines.next_if(|l| !heading.is_match(l)) {
        if !line.trim().is_empty() {
            subtitle.push(line.trim());
        }
    }
    seed.subtitle = subtitle.join(" ");

    let mut section: Option<&'static str> = None;
    let mut paragraphs = Paragraphs::new();
    let mut in_closing = false;
    while let Some(line) = lines.next() {
        let flush = |seed: &mut Seed, section: Option<&'static str>, paras: &mut Paragraphs| {
            if let (Some(name), Some(c)) = (section, seed.commitments.last_mut()) {
                let previous = c.sections.insert(name, paras.take());
                assert!(previous.is_none(), "section {name} twice in {}", c.number);
            }
        };
        if let Some(m) = heading.captures(line) {
            flush(&mut seed, section, &mut paragraphs);
            section = None;
            seed.commitments.push(SeedCommitment {
                number: number_word(&m[1]),
                title: m[2].trim().to_owned(),
                ..Default::default()
            });
        } else if let Some(m) = lead.captures(line) {
            // The name may go on over the next lines, up to a blank one.
            let mut name = vec![m[2].trim().to_owned()];
            while let Some(more) = lines.next_if(|l| !l.trim().is_empty()) {
                name.push(more.trim().to_owned());
            }
            seed.commitments.last_mut().unwrap().lead = name.join(" ");
        } else if page_header.is_match(line.trim()) {
            // Repeated at the top of every page: not part of the text.
            paragraphs.line("");
        } else if let Some(name) = section_name(line) {
            flush(&mut seed, section, &mut paragraphs);
            section = Some(name);
        } else if line.starts_with("You are welcome to send") {
            flush(&mut seed, section, &mut paragraphs);
            section = None;
            in_closing = true;
            paragraphs.line(line);
        } else if section.is_some() || in_closing {
            paragraphs.line(line);
        } else {
            assert!(line.trim().is_empty(), "text outside any section: {line}");
        }
    }
    seed.closing = paragraphs.take();
    seed
}

/// The sentences of a section: each paragraph split after '.', '!' or '?' before a space.
fn sentences(paragraphs: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for paragraph in paragraphs {
        let mut start = 0;
        let chars: Vec<(usize, char)> = paragraph.char_indices().collect();
        for window in chars.windows(2) {
            let ((i, c), (_, next)) = (window[0], window[1]);
            if matches!(c, '.' | '!' | '?') && next == ' ' {
                out.push(paragraph[start..=i].trim().to_owned());
                start = i + 1;
            }
        }
        let rest = paragraph[start..].trim();
        if !rest.is_empty() {
            out.push(rest.to_owned());
        }
    }
    out
}

/// First, middle and last: a sample that moves with the text, not one written down here.
fn sample(sentences: &[String]) -> Vec<&String> {
    let mut picked: Vec<&String> = Vec::new();
    if sentences.is_empty() {
        return picked;
    }
    for i in [0, sentences.len() / 2, sentences.len() - 1] {
        if !picked.iter().any(|s| std::ptr::eq(*s, &sentences[i])) {
            picked.push(&sentences[i]);
        }
    }
    picked
}

fn field<'a>(report: &'a tuwhera_plan::ProgressReport, name: &str) -> &'a [String] {
    match name {
        "progress" => &report.progress,
        "challenges" => &report.challenges,
        "nextSteps" => &report.next_steps,
        "comment" => &report.comment,
        other => panic!("no field {other}"),
    }
}

#[test]
fn the_seed_is_read_as_eight_commitments() {
    let seed = read_seed();
    let numbers: Vec<u32> = seed.commitments.iter().map(|c| c.number).collect();
    assert_eq!(numbers, (1..=8).collect::<Vec<_>>());
    for c in &seed.commitments {
        for name in ["description", "progress", "challenges", "nextSteps"] {
            assert!(
                c.sections.get(name).is_some_and(|p| !p.is_empty()),
                "commitment {} has no {name} in the seed",
                c.number
            );
        }
    }
}

#[test]
fn titles_and_lead_agencies_are_the_reports() {
    let seed = read_seed();
    let plan = plan();
    assert_eq!(plan.commitments.len(), seed.commitments.len());
    for (data, seed) in plan.commitments.iter().zip(&seed.commitments) {
        assert_eq!(data.number, seed.number);
        assert_eq!(data.title, seed.title, "commitment {}", seed.number);
        assert_eq!(data.lead_agency, seed.lead, "commitment {}", seed.number);
    }
}

#[test]
fn sampled_sentences_of_every_section_appear_verbatim() {
    let seed = read_seed();
    let plan = plan();
    let mut checked = 0;
    for (data, seed) in plan.commitments.iter().zip(&seed.commitments) {
        let report = data.progress_for("2024").unwrap();
        for name in ["progress", "challenges", "nextSteps", "comment"] {
            let seed_text = seed.sections.get(name).cloned().unwrap_or_default();
            let data_text = squash(&field(report, name).join(" "));
            let all = sentences(&seed_text);
            let picked = sample(&all);
            assert_eq!(picked.len(), all.len().min(3));
            for sentence in picked {
                assert!(
                    data_text.contains(&squash(sentence)),
                    "commitment {} {name}: the report's sentence\n  {sentence}\nis not in the data:\n  {data_text}",
                    seed.number
                );
                checked += 1;
            }
        }
    }
    // 8 commitments × 3 sections, some of them a single sentence; plus commitment 3's comment.
    assert!(checked >= 40, "only {checked} sentences checked");
}

#[test]
fn every_section_is_the_reports_paragraph_for_paragraph() {
    let seed = read_seed();
    let plan = plan();
    for (data, seed) in plan.commitments.iter().zip(&seed.commitments) {
        let report = data.progress_for("2024").unwrap();
        let squashed = |p: &[String]| p.iter().map(|s| squash(s)).collect::<Vec<_>>();
        let seed_section = |name| seed.sections.get(name).cloned().unwrap_or_default();
        assert_eq!(
            squashed(&data.description),
            seed_section("description"),
            "commitment {} description",
            seed.number
        );
        for name in ["progress", "challenges", "nextSteps", "comment"] {
            assert_eq!(
                squashed(field(report, name)),
                seed_section(name),
                "commitment {} {name}",
                seed.number
            );
        }
    }
}

#[test]
fn the_report_title_and_closing_are_the_reports() {
    let seed = read_seed();
    let plan = plan();
    let report = plan.report("2024").unwrap();
    assert_eq!(report.title, seed.title);
    assert_eq!(report.subtitle.as_deref(), Some(seed.subtitle.as_str()));
    assert_eq!(report.closing, seed.closing);
}

#[test]
fn status_quotes_and_milestones_are_the_reports_words() {
    let seed = read_seed();
    let plan = plan();
    for (data, seed) in plan.commitments.iter().zip(&seed.commitments) {
        let whole = seed
            .sections
            .values()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(quote) = &data.progress[0].status_quote {
            assert!(whole.contains(quote.as_str()), "{}: {quote}", seed.number);
        }
        for m in &data.milestones {
            let words = format!("{} ({})", m.description, m.due.as_deref().unwrap_or(""));
            assert!(whole.contains(&words), "{}: {words}", seed.number);
        }
    }
}

#[test]
fn the_sampler_and_splitter_behave() {
    let s = sentences(&["- One. Two! Three? data.govt.nz is four".to_owned()]);
    assert_eq!(s, ["- One.", "Two!", "Three?", "data.govt.nz is four"]);
    let five: Vec<String> = (1..=5).map(|i| i.to_string()).collect();
    assert_eq!(sample(&five), ["1", "3", "5"]);
    assert_eq!(sample(&five[..1]), ["1"]);
    assert_eq!(sample(&five[..2]), ["1", "2"]);
    assert_eq!(
        clean("See: <https://a.nz/x/> and [We invite \\(w.nz\\)](#)"),
        "See: https://a.nz/x/ and We invite (w.nz)"
    );
}
