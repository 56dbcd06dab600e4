//! Ownership diagrams: the SVG is well-formed and accessible, styles tell the
//! interests apart without colour, big networks collapse, and a small figure
//! is pinned byte for byte in `tests/diagram/small.svg` (regenerate with
//! `UPDATE_GOLDEN=1`).

use std::time::{Duration, Instant};

use tuwhera_bods::diagram::{
    collapse, layers, render, text_alternative, Diagram, Edge, Interest, Node, NodeKind,
};

fn node(id: &str, label: &str, kind: NodeKind) -> Node {
    Node {
        href: Some(format!("/bods/{id}")),
        ..Node::new(id, label, kind)
    }
}

fn focus(id: &str, label: &str) -> Node {
    Node {
        focus: true,
        ..node(id, label, NodeKind::Entity)
    }
}

fn edge(from: &str, to: &str, interest: Interest, direct: bool, label: Option<&str>) -> Edge {
    Edge {
        direct,
        label: label.map(str::to_string),
        ..Edge::new(from, to, interest)
    }
}

/// Five parties around one company: a person, a trust (indirect control), an
/// unknown owner and a subsidiary.
fn small() -> Diagram {
    Diagram {
        title: "Who owns Tuwhera Holdings Ltd".into(),
        description: "Owners and holdings of Tuwhera Holdings Ltd as declared.".into(),
        nodes: vec![
            Node {
                note: Some("New Zealand".into()),
                ..focus("ent-1", "Tuwhera Holdings Ltd")
            },
            node("per-1", "Aroha Ngata", NodeKind::Person),
            Node {
                note: Some("Cook Islands".into()),
                ..node("ent-2", "Kōwhai Trust & Co", NodeKind::Entity)
            },
            Node {
                note: Some("Unknown to the declaring entity".into()),
                href: None,
                ..node("unk-1", "Unknown owner", NodeKind::Unknown)
            },
            node(
                "ent-3",
                "Tuwhera Energy Limited Partnership",
                NodeKind::Entity,
            ),
        ],
        edges: vec![
            edge("per-1", "ent-1", Interest::Owns, true, Some("25–50 %")),
            edge(
                "ent-2",
                "ent-1",
                Interest::Controls,
                false,
                Some("voting 50–75 %"),
            ),
            edge("unk-1", "ent-1", Interest::Owns, true, None),
            edge(
                "ent-1",
                "ent-3",
                Interest::OwnsAndControls,
                true,
                Some("100 %"),
            ),
        ],
    }
}

fn parse(svg: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not XML: {e}\n{svg}"))
}

fn class_has(n: &roxmltree::Node, word: &str) -> bool {
    n.attribute("class")
        .is_some_and(|c| c.split_whitespace().any(|w| w == word))
}

fn all_text(n: roxmltree::Node) -> String {
    n.descendants()
        .filter(|d| d.is_text())
        .filter_map(|d| d.text())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The drawn edge groups (not the legend's samples).
fn edge_groups<'a>(doc: &'a roxmltree::Document<'a>) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| n.has_tag_name("g") && class_has(n, "edge"))
        .collect()
}

fn first_path<'a>(g: roxmltree::Node<'a, 'a>) -> roxmltree::Node<'a, 'a> {
    g.children()
        .find(|c| c.has_tag_name("path"))
        .expect("edge has a path")
}

#[test]
fn svg_is_xml_with_referenced_title_and_desc() {
    let d = small();
    let svg = render(&d);
    let doc = parse(&svg);
    let root = doc.root_element();
    assert!(root.has_tag_name(("http://www.w3.org/2000/svg", "svg")));
    // With links inside, a group (an image may not hold focusable controls); without, an image.
    let linked = d.nodes.iter().any(|n| n.href.is_some());
    assert_eq!(
        root.attribute("role"),
        Some(if linked { "group" } else { "img" })
    );
    let mut plain = d.clone();
    for n in &mut plain.nodes {
        n.href = None;
    }
    assert_eq!(
        parse(&render(&plain)).root_element().attribute("role"),
        Some("img")
    );
    assert_eq!(root.attribute("width"), Some("100%"));
    let view_box: Vec<f64> = root
        .attribute("viewBox")
        .expect("viewBox")
        .split(' ')
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(view_box.len(), 4);
    assert!(view_box[2] > 0.0 && view_box[3] > 0.0);

    let ids: Vec<&str> = root
        .attribute("aria-labelledby")
        .expect("aria-labelledby")
        .split_whitespace()
        .collect();
    assert_eq!(ids.len(), 2);
    let by_id = |id: &str| {
        doc.descendants()
            .find(|n| n.attribute("id") == Some(id))
            .unwrap_or_else(|| panic!("no element with id {id}"))
    };
    let title = by_id(ids[0]);
    let desc = by_id(ids[1]);
    assert!(title.has_tag_name("title") && desc.has_tag_name("desc"));
    assert_eq!(title.parent(), Some(root));
    assert_eq!(title.text(), Some("Who owns Tuwhera Holdings Ltd"));
    assert_eq!(desc.text(), Some(d.description.as_str()));
    // The ids carry the subject's id, so two figures on a page do not clash.
    assert!(ids[0].contains("ent-1"), "{}", ids[0]);
    let other = Diagram {
        nodes: vec![focus("ent 1", "Other")],
        ..Diagram::default()
    };
    let other_svg = render(&other);
    let other_doc = parse(&other_svg);
    let other_ids = other_doc
        .root_element()
        .attribute("aria-labelledby")
        .unwrap();
    assert!(!other_ids.split_whitespace().any(|i| ids.contains(&i)));

    // Every id is unique within the figure, and every url(#…) resolves.
    let all_ids: Vec<&str> = doc
        .descendants()
        .filter_map(|n| n.attribute("id"))
        .collect();
    let mut sorted = all_ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), all_ids.len());
    for n in doc.descendants() {
        if let Some(m) = n.attribute("marker-end") {
            let id = m.trim_start_matches("url(#").trim_end_matches(')');
            assert!(all_ids.contains(&id), "marker {m} not defined");
        }
    }
    assert!(!svg.contains("<script") && !svg.contains(" on"));
}

#[test]
fn every_label_is_shown_or_in_its_hover_title() {
    let d = small();
    let svg = render(&d);
    let doc = parse(&svg);
    let groups: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("g") && class_has(n, "node"))
        .collect();
    assert_eq!(groups.len(), d.nodes.len());
    for n in &d.nodes {
        let found = groups.iter().any(|g| {
            let title = g
                .children()
                .find(|c| c.has_tag_name("title"))
                .and_then(|t| t.text())
                .unwrap_or("");
            title.contains(&n.label) || all_text(*g).contains(&n.label)
        });
        assert!(found, "label {:?} not in the figure", n.label);
    }
    // The long name is wrapped or cut on the shape, whole in the title.
    let long = "Tuwhera Energy Limited Partnership";
    let drawn: Vec<String> = groups
        .iter()
        .flat_map(|g| g.children().filter(|c| c.has_tag_name("text")))
        .map(|t| t.text().unwrap_or("").to_string())
        .collect();
    assert!(drawn.iter().all(|t| t.chars().count() <= 25), "{drawn:?}");
    assert!(!drawn.iter().any(|t| t == long));

    // The subject is marked, and nodes with href are links.
    assert_eq!(groups.iter().filter(|g| class_has(g, "focus")).count(), 1);
    let mut links: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("a"))
        .filter_map(|n| n.attribute("href"))
        .collect();
    links.sort_unstable();
    assert_eq!(
        links,
        vec!["/bods/ent-1", "/bods/ent-2", "/bods/ent-3", "/bods/per-1"]
    );
    assert!(!links.iter().any(|l| l.contains("unk-1")));
}

#[test]
fn text_is_escaped() {
    let label = r#"A & B <Ltd> "x" 'y'"#;
    let d = Diagram {
        title: "Owners of <A & B>".into(),
        description: "It's \"quoted\"".into(),
        nodes: vec![
            Node {
                href: Some("/bods/x?a=1&b=\"2\"".into()),
                note: Some("<note>".into()),
                ..focus("x", label)
            },
            node("y", "Bell\u{7} & Co\u{0}", NodeKind::Person),
        ],
        edges: vec![edge("y", "x", Interest::Owns, true, Some("<25 & >10 %"))],
    };
    let svg = render(&d);
    assert!(svg.contains("A &amp; B &lt;Ltd&gt; &quot;x&quot; &apos;y&apos;"));
    assert!(svg.contains("href=\"/bods/x?a=1&amp;b=&quot;2&quot;\""));
    assert!(!svg.contains("<Ltd>") && !svg.contains("<note>") && !svg.contains("<A &"));
    let doc = parse(&svg);
    let titles: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("title"))
        .filter_map(|n| n.text())
        .collect();
    assert!(titles.iter().any(|t| t.contains(label)), "{titles:?}");
    assert_eq!(titles[0], "Owners of <A & B>");
    let texts = all_text(doc.root_element());
    assert!(texts.contains("<25 & >10 %"));
    assert!(texts.contains("Bell & Co"));
}

#[test]
fn scripts_cannot_come_in_through_links() {
    let d = Diagram {
        nodes: vec![
            Node {
                href: Some(" javascript:alert(1)".into()),
                ..focus("x", "X")
            },
            Node {
                href: Some("data:text/html,<script>".into()),
                ..node("y", "Y", NodeKind::Entity)
            },
        ],
        edges: vec![edge("y", "x", Interest::Owns, true, None)],
        ..Diagram::default()
    };
    let svg = render(&d);
    assert!(
        !svg.contains("javascript") && !svg.contains("data:"),
        "{svg}"
    );
    assert!(!svg.contains("<a "));
}

#[test]
fn owns_controls_and_indirect_are_told_apart_without_colour() {
    let svg = render(&small());
    let doc = parse(&svg);
    let groups = edge_groups(&doc);
    assert_eq!(groups.len(), 4);
    let style = |want: &[&str]| {
        let g = groups
            .iter()
            .find(|g| want.iter().all(|w| class_has(g, w)))
            .unwrap_or_else(|| panic!("no edge {want:?}"));
        let p = first_path(*g);
        (
            p.attribute("stroke-dasharray")
                .unwrap_or("none")
                .to_string(),
            p.attribute("stroke").unwrap_or("").to_string(),
            p.attribute("stroke-width").unwrap_or("").to_string(),
            g.children()
                .filter(|c| c.has_tag_name("path"))
                .filter_map(|c| c.attribute("marker-end"))
                .collect::<String>(),
        )
    };
    let owns = style(&["owns", "direct"]);
    let controls_indirect = style(&["controls", "indirect"]);
    let both = style(&["owns-and-controls", "direct"]);
    assert_ne!(
        owns.0, controls_indirect.0,
        "owns and controls share a dash"
    );
    assert_ne!(owns.3, both.3, "owns and owns-and-controls share a marker");
    assert_ne!(owns.2, both.2);

    // Each interest, direct and indirect: six distinct dash/width/marker sets.
    let mut d = small();
    d.edges.clear();
    d.nodes.truncate(2);
    for interest in [
        Interest::Owns,
        Interest::Controls,
        Interest::OwnsAndControls,
    ] {
        for direct in [true, false] {
            d.edges.push(edge("per-1", "ent-1", interest, direct, None));
        }
    }
    let svg = render(&d);
    let doc = parse(&svg);
    let mut seen = Vec::new();
    for g in edge_groups(&doc) {
        let p = first_path(g);
        let dash = p.attribute("stroke-dasharray").unwrap_or("none");
        let width = p.attribute("stroke-width").unwrap_or("");
        let colour = p.attribute("stroke").unwrap_or("");
        let key = (dash.to_string(), width.to_string());
        assert!(!seen.contains(&key), "two edge kinds look alike: {key:?}");
        seen.push(key);
        // Indirect is also lighter; direct owns a solid line.
        if class_has(&g, "indirect") {
            assert_ne!(dash, "none");
            assert_eq!(colour, "#737373");
        } else {
            assert_eq!(colour, "#333333");
        }
    }
    assert_eq!(seen.len(), 6);
    // The legend names each line style.
    let legend = doc
        .descendants()
        .find(|n| class_has(n, "legend"))
        .expect("legend");
    let text = all_text(legend);
    for word in ["Owns", "Controls", "Owns and controls", "Indirect"] {
        assert!(text.contains(word), "legend lacks {word}: {text}");
    }
    assert_eq!(
        legend
            .descendants()
            .filter(|n| n.has_tag_name("path"))
            .count(),
        5
    );
}

#[test]
fn shares_sit_on_white_boxes_at_the_edge_middle() {
    let svg = render(&small());
    let doc = parse(&svg);
    let shares: Vec<_> = doc
        .descendants()
        .filter(|n| class_has(n, "share"))
        .collect();
    assert_eq!(shares.len(), 3);
    for s in shares {
        let rect = s.children().find(|c| c.has_tag_name("rect")).unwrap();
        assert_eq!(rect.attribute("fill"), Some("#ffffff"));
    }
    assert!(svg.contains(">25–50 %<"));
}

#[test]
fn text_alternative_has_one_sentence_per_edge() {
    let d = small();
    let sentences = text_alternative(&d);
    assert_eq!(
        sentences,
        vec![
            "Aroha Ngata owns 25–50 % of Tuwhera Holdings Ltd.",
            "Kōwhai Trust & Co controls Tuwhera Holdings Ltd (voting 50–75 %, indirect).",
            "Unknown owner owns part of Tuwhera Holdings Ltd.",
            "Tuwhera Holdings Ltd owns and controls 100 % of Tuwhera Energy Limited Partnership.",
        ]
    );
    let indirect = Diagram {
        nodes: vec![focus("b", "B Ltd"), node("a", "A Ltd", NodeKind::Entity)],
        edges: vec![edge("a", "b", Interest::Owns, false, Some("25–50 %"))],
        ..Diagram::default()
    };
    assert_eq!(
        text_alternative(&indirect),
        vec!["A Ltd owns 25–50 % of B Ltd (indirect)."]
    );
}

#[test]
fn protected_persons_are_never_named() {
    let d = Diagram {
        nodes: vec![
            focus("e", "Haven Ltd"),
            Node {
                note: Some("Born 1980, Wellington".into()),
                ..node("p", "Secret Person Name", NodeKind::Protected)
            },
        ],
        edges: vec![edge("p", "e", Interest::Owns, true, Some("75–100 %"))],
        ..Diagram::default()
    };
    let svg = render(&d);
    parse(&svg);
    assert!(!svg.contains("Secret") && !svg.contains("Wellington"));
    assert!(svg.contains(">Protected<"));
    let text = text_alternative(&d).join(" ");
    assert!(!text.contains("Secret"), "{text}");
    assert_eq!(
        text,
        "A protected person (identity withheld) owns 75–100 % of Haven Ltd."
    );
}

/// 500 owners of one company, with shares 0.1 … 50.0.
fn crowd(n: usize) -> Diagram {
    let mut d = Diagram {
        title: "Crowd".into(),
        nodes: vec![focus("target", "Target Ltd")],
        ..Diagram::default()
    };
    for i in 0..n {
        let id = format!("o{i}");
        d.nodes
            .push(node(&id, &format!("Owner {i}"), NodeKind::Person));
        d.edges.push(Edge {
            share: Some((i % 500) as f64 / 10.0),
            ..edge(&id, "target", Interest::Owns, true, Some("some"))
        });
    }
    d
}

#[test]
fn collapse_keeps_the_largest_and_links_to_the_rest() {
    let d = collapse(crowd(500), 12, |parent| {
        format!("/bods/{parent}/owners?all=1")
    });
    let layer = layers(&d);
    let above: Vec<&Node> = d
        .nodes
        .iter()
        .zip(&layer)
        .filter(|(_, &l)| l == -1)
        .map(|(n, _)| n)
        .collect();
    assert!(above.len() <= 13, "{} nodes in layer -1", above.len());
    let more: Vec<&&Node> = above
        .iter()
        .filter(|n| matches!(n.kind, NodeKind::Collapsed { .. }))
        .collect();
    assert_eq!(more.len(), 1);
    assert_eq!(more[0].label, "+488 more");
    assert_eq!(more[0].kind, NodeKind::Collapsed { hidden: 488 });
    assert_eq!(more[0].href.as_deref(), Some("/bods/target/owners?all=1"));
    // The twelve largest shares (owners 488…499) stay.
    let mut kept: Vec<&str> = above
        .iter()
        .filter(|n| !matches!(n.kind, NodeKind::Collapsed { .. }))
        .map(|n| n.id.as_str())
        .collect();
    kept.sort_unstable();
    let mut want: Vec<String> = (488..500).map(|i| format!("o{i}")).collect();
    want.sort_unstable();
    assert_eq!(kept, want);
    // Hidden owners' edges become one edge, without a share label.
    let to_focus: Vec<&Edge> = d.edges.iter().filter(|e| e.to == "target").collect();
    assert_eq!(to_focus.len(), 13);
    let merged = to_focus
        .iter()
        .find(|e| e.from == more[0].id)
        .expect("edge from +488 more");
    assert_eq!(merged.label, None);
    assert_eq!(merged.interest, Interest::Owns);

    let svg = render(&d);
    parse(&svg);
    assert!(svg.contains(">+488 more<"));
    assert!(svg.contains("href=\"/bods/target/owners?all=1\""));
    // The "+n more" node is a grey pill at the end of its row.
    assert!(text_alternative(&d)
        .iter()
        .any(|s| s == "488 others (not shown) own part of Target Ltd."));
}

#[test]
fn collapse_is_a_no_op_on_small_networks() {
    let d = small();
    assert_eq!(collapse(d.clone(), 12, |_| unreachable!()), d);
}

#[test]
fn thousands_of_nodes_draw_small_and_fast() {
    // Owners, their owners, and holdings: 6,001 nodes, 7,000 edges.
    let mut d = crowd(3000);
    for i in 0..2000 {
        let id = format!("g{i}");
        d.nodes
            .push(node(&id, &format!("Grand {i}"), NodeKind::Entity));
        d.edges.push(edge(
            &id,
            &format!("o{}", i % 3000),
            Interest::Controls,
            false,
            None,
        ));
        d.edges.push(edge(
            &id,
            &format!("o{}", (i * 7) % 3000),
            Interest::Owns,
            true,
            None,
        ));
    }
    for i in 0..1000 {
        let id = format!("s{i}");
        d.nodes
            .push(node(&id, &format!("Sub {i}"), NodeKind::Entity));
        d.edges
            .push(edge("target", &id, Interest::Owns, true, None));
    }
    let start = Instant::now();
    let small = collapse(d, 10, |p| format!("/expand/{p}"));
    let svg = render(&small);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(2), "took {took:?}");
    let layer = layers(&small);
    for l in [-2, -1, 1] {
        assert!(layer.iter().filter(|&&x| x == l).count() <= 11, "layer {l}");
    }
    assert!(small.nodes.len() <= 34, "{} nodes", small.nodes.len());
    assert!(svg.len() < 100_000, "{} bytes", svg.len());
    parse(&svg);
    // No edge is drawn twice between the same ends after merging.
    let mut pairs: Vec<(&str, &str)> = small
        .edges
        .iter()
        .filter(|e| e.from.starts_with("more") || e.to.starts_with("more"))
        .map(|e| (e.from.as_str(), e.to.as_str()))
        .collect();
    let n = pairs.len();
    pairs.sort_unstable();
    pairs.dedup();
    assert_eq!(pairs.len(), n);
}

#[test]
fn rendering_is_deterministic() {
    let d = small();
    assert_eq!(render(&d), render(&d.clone()));
    let big = || collapse(crowd(300), 8, |p| format!("/x/{p}"));
    assert_eq!(render(&big()), render(&big()));
}

#[test]
fn a_cycle_renders() {
    let d = Diagram {
        title: "Cycle".into(),
        nodes: vec![focus("a", "A Ltd"), node("b", "B Ltd", NodeKind::Entity)],
        edges: vec![
            edge("a", "b", Interest::Owns, true, Some("60 %")),
            edge("b", "a", Interest::Owns, true, Some("40 %")),
        ],
        ..Diagram::default()
    };
    assert_eq!(layers(&d), vec![0, -1]);
    let svg = render(&d);
    let doc = parse(&svg);
    assert_eq!(edge_groups(&doc).len(), 2);
    let collapsed = collapse(d.clone(), 1, |p| p.to_string());
    assert_eq!(collapsed, d);
}

#[test]
fn only_the_subject_renders() {
    let d = Diagram {
        title: "Lonely Ltd".into(),
        nodes: vec![focus("lonely", "Lonely Ltd")],
        ..Diagram::default()
    };
    let svg = render(&d);
    let doc = parse(&svg);
    assert!(edge_groups(&doc).is_empty());
    assert!(svg.contains(">Lonely Ltd<"));
    assert!(text_alternative(&d).is_empty());
    // Nothing at all still gives a well-formed figure.
    parse(&render(&Diagram::default()));
    assert_eq!(
        collapse(Diagram::default(), 3, |p| p.into()),
        Diagram::default()
    );
}

#[test]
fn dangling_edges_and_unconnected_nodes_do_not_break_the_drawing() {
    let d = Diagram {
        nodes: vec![
            focus("a", "A"),
            node("b", "B", NodeKind::Entity),
            node("z", "Z elsewhere", NodeKind::Entity),
        ],
        edges: vec![
            edge("b", "a", Interest::Owns, true, None),
            edge("ghost", "a", Interest::Owns, true, None),
            edge("b", "b", Interest::Controls, true, None),
        ],
        ..Diagram::default()
    };
    assert_eq!(layers(&d), vec![0, -1, 1]);
    let svg = render(&d);
    let doc = parse(&svg);
    assert_eq!(edge_groups(&doc).len(), 1);
    assert!(svg.contains(">Z elsewhere<"));
    assert_eq!(text_alternative(&d)[1], "ghost owns part of A.");
}

/// The x of the node whose hover title starts with `label`.
fn x_of(doc: &roxmltree::Document, label: &str) -> f64 {
    doc.descendants()
        .filter(|n| n.has_tag_name("g") && class_has(n, "node"))
        .find(|g| {
            g.children()
                .find(|c| c.has_tag_name("title"))
                .and_then(|t| t.text())
                .is_some_and(|t| t.starts_with(label))
        })
        .and_then(|g| g.children().find(|c| c.has_tag_name("rect")))
        .and_then(|r| r.attribute("x"))
        .and_then(|x| x.parse().ok())
        .unwrap_or_else(|| panic!("no node {label}"))
}

#[test]
fn row_order_avoids_crossings() {
    // Given in crossing order: G2 owns P2, G1 owns P1, but G2 comes first.
    let d = Diagram {
        nodes: vec![
            focus("f", "Focus"),
            node("p1", "P1", NodeKind::Entity),
            node("p2", "P2", NodeKind::Entity),
            node("g2", "G2", NodeKind::Person),
            node("g1", "G1", NodeKind::Person),
            node("s2", "S2", NodeKind::Entity),
            node("s1", "S1", NodeKind::Entity),
        ],
        edges: vec![
            edge("p1", "f", Interest::Owns, true, None),
            edge("p2", "f", Interest::Owns, true, None),
            edge("g1", "p1", Interest::Owns, true, None),
            edge("g2", "p2", Interest::Owns, true, None),
            edge("g1", "s1", Interest::Owns, true, None),
            edge("g2", "s2", Interest::Owns, true, None),
        ],
        ..Diagram::default()
    };
    let svg = render(&d);
    let doc = parse(&svg);
    let before = |a: &str, b: &str| x_of(&doc, a) < x_of(&doc, b);
    assert_eq!(before("P1", "P2"), before("G1", "G2"));
    assert_eq!(before("S1", "S2"), before("G1", "G2"));
}

#[test]
fn small_diagram_matches_golden_file() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/diagram/small.svg");
    let svg = render(&small());
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/diagram")).unwrap();
        std::fs::write(path, &svg).unwrap();
    }
    let golden = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e} (run with UPDATE_GOLDEN=1 to create it)"));
    assert!(
        svg == golden,
        "render(small()) differs from {path}; if the change is intended, \
         rerun with UPDATE_GOLDEN=1 and review the diff"
    );
}
