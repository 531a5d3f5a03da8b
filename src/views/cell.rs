//! One way to render any cell: badges, the text (a `<time>` for dates, with
//! the exact UTC instant on hover), and a quieter second line. Written into
//! an element with `browser`, every value as text (`write_cell`), for the
//! views too (`cell_content`): one small kind of view instead of Leptos's
//! generic code for each element of it.

use crate::browser;
use crate::cells::Cell;
use leptos::prelude::*;
use leptos::tachys::html::attribute::{any_attribute::AnyAttribute, Attribute};
use leptos::tachys::hydration::Cursor;
use leptos::tachys::view::{Position, PositionState};
use wasm_bindgen::{JsCast, JsValue};

pub fn cell_content(cell: Cell) -> impl IntoView {
    Written::Cell(cell)
}

/// Label and value pairs: an access level's details, a table row's detail.
pub fn details_list(fields: Vec<(&'static str, Cell)>) -> impl IntoView {
    Written::Details(fields)
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

/// A cell or a list of details as a view: written (`write_cell`,
/// `write_details`) into an element in no page, whose elements are then
/// put where the view goes.
enum Written {
    Cell(Cell),
    Details(Vec<(&'static str, Cell)>),
}

/// The elements written, in order.
struct WrittenState(Vec<web_sys::Element>);

impl Render for Written {
    type State = WrittenState;

    fn build(self) -> WrittenState {
        let holder = browser::add(&JsValue::UNDEFINED, "div", &[]);
        match self {
            Written::Cell(cell) => write_cell(&holder, &cell),
            Written::Details(fields) => write_details(&holder, &fields),
        }
        let written = browser::children(&holder);
        WrittenState(written.into_iter().map(JsCast::unchecked_into).collect())
    }

    /// Written again, in the place of what was.
    fn rebuild(self, state: &mut WrittenState) {
        let mut new = self.build();
        state.insert_before_this(&mut new);
        state.unmount();
        *state = new;
    }
}

impl Mountable for WrittenState {
    fn unmount(&mut self) {
        self.0.iter_mut().for_each(Mountable::unmount);
    }

    fn mount(&mut self, parent: &web_sys::Element, marker: Option<&web_sys::Node>) {
        for element in &mut self.0 {
            element.mount(parent, marker);
        }
    }

    fn insert_before_this(&self, child: &mut dyn Mountable) -> bool {
        self.0
            .first()
            .is_some_and(|first| first.insert_before_this(child))
    }

    fn elements(&self) -> Vec<web_sys::Element> {
        self.0.clone()
    }
}

/// Only rendered in the browser: nothing is written as HTML on a server.
impl RenderHtml for Written {
    type AsyncOutput = Self;
    type Owned = Self;

    const MIN_LENGTH: usize = 0;

    fn dry_resolve(&mut self) {}

    async fn resolve(self) -> Self {
        self
    }

    fn to_html_with_buf(
        self,
        _: &mut String,
        _: &mut Position,
        _: bool,
        _: bool,
        _: Vec<AnyAttribute>,
    ) {
    }

    fn hydrate<const FROM_SERVER: bool>(self, _: &Cursor, _: &PositionState) -> WrittenState {
        self.build()
    }

    fn into_owned(self) -> Self {
        self
    }
}

impl AddAnyAttr for Written {
    type Output<SomeNewAttr: Attribute> = Self;

    fn add_any_attr<NewAttr: Attribute>(self, _: NewAttr) -> Self {
        self
    }
}
