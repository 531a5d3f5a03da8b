//! One way to render any cell: badges, the text (a `<time>` for dates, with
//! the exact UTC instant on hover), and a quieter second line. Written into
//! an element with `browser`, every value as text: the tables' rows and
//! details, the access level cards, the profile's data time.

use crate::browser;
use crate::cells::Cell;
use wasm_bindgen::JsValue;

/// A cell written at the end of `parent` (an element `browser` gave).
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
    let class = ("class", if cell.code { "code" } else { "" });
    match (&cell.instant, &cell.link) {
        (Some((datetime, exact)), _) => browser::add(
            parent,
            "time",
            &[("datetime", datetime), ("title", exact), text],
        ),
        // A bulk check's customer (an address the panel made), opened in
        // a tab of its own.
        (None, Some(href)) => browser::add(
            parent,
            "a",
            &[
                ("href", href),
                ("target", "_blank"),
                ("rel", "noopener"),
                class,
                text,
            ],
        ),
        (None, None) => browser::add(parent, "span", &[class, text]),
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
