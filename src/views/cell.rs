//! One way to render any cell: badges, the text (a `<time>` for dates, with
//! the exact UTC instant on hover), and a quieter second line.

use crate::cells::Cell;
use leptos::prelude::*;

pub fn cell_content(cell: Cell) -> impl IntoView {
    let badges = cell
        .badges
        .into_iter()
        .map(|badge| view! { <span class=format!("badge {}", badge.class)>{badge.label}</span> })
        .collect_view();
    let text = match (cell.instant, cell.link) {
        (Some((datetime, exact)), _) => {
            view! { <time datetime=datetime title=exact>{cell.text}</time> }.into_any()
        }
        // A bulk check's customer, opened in a tab of its own.
        (None, Some(href)) => {
            view! { <a href=href target="_blank" rel="noopener" class:code=cell.code>{cell.text}</a> }.into_any()
        }
        (None, None) => view! { <span class:code=cell.code>{cell.text}</span> }.into_any(),
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
