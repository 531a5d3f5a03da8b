//! One way to render any cell: badges, the text (a `<time>` for dates, with
//! the exact UTC instant on hover), and a quieter second line. As a view
//! (`cell_content`), or written into an element (`write_cell`), the same
//! markup, for what is drawn without views (the long tables).

use crate::browser;
use crate::cells::Cell;
use leptos::prelude::*;
use wasm_bindgen::JsValue;

pub fn cell_content(cell: Cell) -> impl IntoView {
    let badges = cell
        .badges
        .into_iter()
        .map(|badge| view! { <span class=format!("badge {}", badge.class)>{badge.label}</span> })
        .collect_view();
    let text = match cell.instant {
        Some((datetime, exact)) => {
            view! { <time datetime=datetime title=exact>{cell.text}</time> }.into_any()
        }
        None => view! { <span class:code=cell.code>{cell.text}</span> }.into_any(),
    };
    view! {
        {badges}
        {text}
        {cell.detail.map(|detail| view! { <span class="relative">{detail}</span> })}
    }
}

/// Label and value pairs: an access level's details, a table row's detail.
pub fn details_list(fields: Vec<(&'static str, Cell)>) -> impl IntoView {
    let fields = fields
        .into_iter()
        .map(|(label, cell)| view! { <div><dt>{label}</dt><dd>{cell_content(cell)}</dd></div> })
        .collect_view();
    view! { <dl class="details">{fields}</dl> }
}

/// `cell_content` written at the end of `parent` (an element `browser`
/// gave), every value as text.
pub fn write_cell(parent: &JsValue, cell: &Cell) {
    for badge in &cell.badges {
        let class = ["badge ", badge.class].concat();
        browser::add(
            parent,
            "span",
            &[("class", &class), ("textContent", badge.label)],
        );
    }
    let text = ("textContent", cell.text.as_str());
    match &cell.instant {
        Some((datetime, exact)) => browser::add(
            parent,
            "time",
            &[("datetime", datetime), ("title", exact), text],
        ),
        None => browser::add(
            parent,
            "span",
            &[("class", if cell.code { "code" } else { "" }), text],
        ),
    };
    if let Some(detail) = &cell.detail {
        browser::add(
            parent,
            "span",
            &[("class", "relative"), ("textContent", detail)],
        );
    }
}

/// `details_list` written at the end of `parent`.
pub fn write_details(parent: &JsValue, fields: &[(&str, Cell)]) {
    let list = browser::add(parent, "dl", &[("class", "details")]);
    for (label, cell) in fields {
        let field = browser::add(&list, "div", &[]);
        browser::add(&field, "dt", &[("textContent", label)]);
        write_cell(&browser::add(&field, "dd", &[]), cell);
    }
}
