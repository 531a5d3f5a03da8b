//! The few browser facilities the panel uses: its URL, the tab's session
//! storage, the clipboard, downloads, focus, and the admin's clock and zone.
//! Thin on purpose: every decision lives in plain Rust elsewhere.

use crate::format::Clock;
use crate::lookup::{decode_recent, encode_recent, IdKind, Lookup};
use chrono::{DateTime, Utc};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::UrlSearchParams;

const RECENT_KEY: &str = "adapty-lookup.recent";

fn window() -> web_sys::Window {
    web_sys::window().expect("the panel runs in a browser window")
}

/// The lookup the page's URL names, if any.
pub fn lookup_in_url() -> Option<Lookup> {
    let search = window().location().search().ok()?;
    let params = UrlSearchParams::new_with_str(&search).ok()?;
    Lookup::from_url(
        params.get(protocol::param::APP),
        params.get(IdKind::CustomerUserId.param()),
        params.get(IdKind::ProfileId.param()),
    )
}

/// The page's address without its query: where the panel is served,
/// path prefix included, for links to it that leave the browser.
pub fn page_address() -> String {
    let location = window().location();
    location.origin().unwrap_or_default() + &location.pathname().unwrap_or_default()
}

/// Adds the lookup to the history, so it can be shared, reloaded and gone back to.
pub fn push_url(lookup: &Lookup) {
    let Ok(params) = UrlSearchParams::new() else {
        return;
    };
    if !lookup.app.is_empty() {
        params.append(protocol::param::APP, &lookup.app);
    }
    params.append(lookup.kind.param(), &lookup.id);
    let url = format!("?{}", String::from(params.to_string()));
    if window().location().search().ok().as_deref() != Some(url.as_str()) {
        let _ = window()
            .history()
            .and_then(|history| history.push_state_with_url(&JsValue::NULL, "", Some(&url)));
    }
}

pub fn clock(utc: bool) -> Clock {
    let now = DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default();
    Clock {
        now,
        offset_minutes: local_offset_minutes,
        utc,
        absolute: false,
    }
}

/// The browser knows the admin's zone and its daylight-saving rules.
fn local_offset_minutes(at: DateTime<Utc>) -> i32 {
    let date = js_sys::Date::new(&JsValue::from_f64(at.timestamp_millis() as f64));
    -(date.get_timezone_offset() as i32)
}

fn session_storage() -> Option<web_sys::Storage> {
    window().session_storage().ok().flatten()
}

pub fn recent_lookups() -> Vec<Lookup> {
    session_storage()
        .and_then(|storage| storage.get_item(RECENT_KEY).ok().flatten())
        .map(|stored| decode_recent(&stored))
        .unwrap_or_default()
}

pub fn store_recent_lookups(recent: &[Lookup]) {
    if let Some(storage) = session_storage() {
        let _ = storage.set_item(RECENT_KEY, &encode_recent(recent));
    }
}

/// The tab's title, so that several customers in several tabs can be told apart.
pub fn set_title(title: &str) {
    if let Some(document) = window().document() {
        document.set_title(title);
    }
}

/// Loads the page's URL again; behind an SSO proxy, through its sign-in.
pub fn reload() {
    let _ = window().location().reload();
}

pub fn copy_to_clipboard(text: &str) {
    let _ = window().navigator().clipboard().write_text(text);
}

/// Saves `body` as a file of this media type through a temporary object URL.
pub fn download(file_name: &str, body: &str, media_type: &str) {
    let parts = js_sys::Array::of1(&JsValue::from_str(body));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(media_type);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Some(link) = window()
        .document()
        .and_then(|document| document.create_element("a").ok())
        .and_then(|element| element.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    {
        link.set_href(&url);
        link.set_download(file_name);
        link.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

pub fn focus(element_id: &str) {
    if let Some(element) = window()
        .document()
        .and_then(|document| document.get_element_by_id(element_id))
        .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = element.focus();
    }
}

/// The `value` of the form field with this ID (input, select or textarea);
/// empty when there is none.
pub fn field_value(element_id: &str) -> String {
    element(element_id)
        .and_then(|element| js_sys::Reflect::get(&element, &JsValue::from_str("value")).ok())
        .and_then(|value| value.as_string())
        .unwrap_or_default()
}

fn element(element_id: &str) -> Option<web_sys::Element> {
    window().document()?.get_element_by_id(element_id)
}

fn dialog(element_id: &str) -> Option<web_sys::HtmlDialogElement> {
    element(element_id)?.dyn_into().ok()
}

/// Replaces the element's content with `html`: only ever constant markup
/// (values go in with `set_text`).
pub fn set_html(element_id: &str, html: &str) {
    if let Some(element) = element(element_id) {
        element.set_inner_html(html);
    }
}

/// Writes `text` as the element's only content: as text, never markup.
pub fn set_text(element_id: &str, text: &str) {
    if let Some(element) = element(element_id) {
        element.set_text_content(Some(text));
    }
}

/// The element after this one among its parent's, read as a property:
/// a binding of its own would add to the panel's JavaScript.
fn next_element(element: &JsValue) -> JsValue {
    js_sys::Reflect::get(element, &"nextElementSibling".into()).unwrap_or_default()
}

/// Adds an element `tag` of class `class`, holding this constant markup,
/// at the end of the element, and sets its children's properties in
/// order: `properties[n]` the `n`th child's (a value as `textContent`, so
/// as text, never markup; `hidden` is true for any value but ""). The
/// element added, when it was.
pub fn append(
    element_id: &str,
    tag: &str,
    class: &str,
    html: &str,
    properties: &[&[(&str, &str)]],
) -> JsValue {
    let (Some(list), Some(document)) = (element(element_id), window().document()) else {
        return JsValue::UNDEFINED;
    };
    let Ok(item) = document.create_element(tag) else {
        return JsValue::UNDEFINED;
    };
    let _ = item.set_attribute("class", class);
    item.set_inner_html(html);
    let _ = list.append_child(&item);
    let first: JsValue = item.first_element_child().into();
    let mut child = first.clone();
    for set in properties {
        for &(name, value) in *set {
            let _ = js_sys::Reflect::set(&child, &name.into(), &value.into());
        }
        child = next_element(&child);
    }
    item.into()
}

/// Writes `pieces` at the end of the element's last child: plain text as
/// text, never markup, and each link (`true`) as an `a` that opens in a
/// new tab and tells the site nothing of the page it came from.
pub fn append_linked_text(element: &JsValue, pieces: &[(&str, bool)]) {
    let last = js_sys::Reflect::get(element, &"lastElementChild".into()).unwrap_or_default();
    let (Some(last), Some(document)) = (last.dyn_ref::<web_sys::Node>(), window().document())
    else {
        return;
    };
    for &(text, link) in pieces {
        let node: web_sys::Node = match link {
            false => document.create_text_node(text).into(),
            true => {
                let Ok(anchor) = document.create_element("a") else {
                    continue;
                };
                for (name, value) in [
                    ("href", text),
                    ("target", "_blank"),
                    ("rel", "noopener noreferrer"),
                    ("textContent", text),
                ] {
                    let _ = js_sys::Reflect::set(&anchor, &name.into(), &value.into());
                }
                anchor.into()
            }
        };
        let _ = last.append_child(&node);
    }
}

/// Replaces the element's content with `html`, markup made of constant
/// pieces only (`None`: the elements in it stay), then sets the properties
/// of the elements in it in document order: `properties` holds each one's
/// in turn, each ended by a name of "" (a value as `textContent`, so as
/// text, never markup; `hidden` is true for any value but ""). Whether
/// there is such an element.
pub fn redraw(element_id: &str, html: Option<&str>, properties: &[(&str, String)]) -> bool {
    let Some(element) = element(element_id) else {
        return false;
    };
    if let Some(html) = html {
        element.set_inner_html(html);
    }
    fill(&element, &mut properties.iter());
    true
}

/// Sets the properties of the element's descendants, each before its own.
fn fill(parent: &JsValue, properties: &mut std::slice::Iter<'_, (&str, String)>) {
    let mut child = js_sys::Reflect::get(parent, &"firstElementChild".into()).unwrap_or_default();
    while child.is_object() {
        for (name, value) in properties.by_ref().take_while(|(name, _)| !name.is_empty()) {
            let _ = js_sys::Reflect::set(&child, &(*name).into(), &value.into());
        }
        fill(&child, properties);
        child = next_element(&child);
    }
}

/// What a click landed on, removing nothing (unlike `clicked`): the
/// element's tag name, and its ID or, for a link (`A`), where in the page
/// it leads (`#purchases-1`; empty without `href`).
pub fn clicked_at(event: &web_sys::Event) -> (String, String) {
    let Some(target) = event
        .target()
        .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
    else {
        return Default::default();
    };
    let tag = target.tag_name();
    let at = match tag.as_str() {
        "A" => js_sys::Reflect::get(&target, &"hash".into())
            .ok()
            .and_then(|hash| hash.as_string())
            .unwrap_or_default(),
        _ => target.id(),
    };
    (tag, at)
}

/// Adds a row (a `div` of class `row` holding this constant markup) at the
/// end of the element, and writes `values` into its fields in order (a
/// correction's custom attribute); focuses its first field when `focus`.
pub fn append_row(element_id: &str, html: &str, [key, value]: [&str; 2], focus: bool) {
    let row = append(
        element_id,
        "div",
        "row",
        html,
        &[&[("value", key)], &[("value", value)]],
    );
    let first = row
        .dyn_ref::<web_sys::Element>()
        .and_then(web_sys::Element::first_element_child);
    if let (true, Some(first)) = (focus, first) {
        let _ = first.unchecked_into::<web_sys::HtmlElement>().focus();
    }
}

/// The element with this ID, or the first element in it that `selector`
/// (CSS) matches unless that is ""; `undefined` when there is none.
pub fn find(element_id: &str, selector: &str) -> JsValue {
    match element(element_id) {
        Some(element) if !selector.is_empty() => {
            element.query_selector(selector).ok().flatten().into()
        }
        found => found.into(),
    }
}

/// The element's child elements, in order.
pub fn children(element: &JsValue) -> Vec<JsValue> {
    let mut children = Vec::new();
    let mut child = js_sys::Reflect::get(element, &"firstElementChild".into()).unwrap_or_default();
    while child.is_object() {
        children.push(child.clone());
        child = next_element(&child);
    }
    children
}

/// Sets the element's `properties` in order: `textContent` as text, never
/// markup; any other name is an attribute, removed when its value is "",
/// and `hidden` and `disabled` are on when it is "true".
pub fn set(element: &JsValue, properties: &[(&str, &str)]) {
    let Some(element) = element.dyn_ref::<web_sys::Element>() else {
        return;
    };
    for &(name, value) in properties {
        let _ = match (name, value) {
            ("textContent", _) => {
                element.set_text_content(Some(value));
                Ok(())
            }
            ("hidden" | "disabled", _) => element
                .toggle_attribute_with_force(name, value == "true")
                .map(drop),
            (_, "") => element.remove_attribute(name),
            _ => element.set_attribute(name, value),
        };
    }
}

/// Adds an element `tag` at the end of `parent` (an element `find` or
/// `add` gave), with these `properties` (`set`). The element added; when
/// `parent` is no element, one in no page, to be put in one later.
pub fn add(parent: &JsValue, tag: &str, properties: &[(&str, &str)]) -> JsValue {
    insert(parent, false, tag, properties)
}

/// Adds an element `tag` right after `element`, with these `properties`
/// (`set`). The element added.
pub fn add_after(element: &JsValue, tag: &str, properties: &[(&str, &str)]) -> JsValue {
    insert(element, true, tag, properties)
}

fn insert(place: &JsValue, after: bool, tag: &str, properties: &[(&str, &str)]) -> JsValue {
    let Some(Ok(element)) = window()
        .document()
        .map(|document| document.create_element(tag))
    else {
        return JsValue::UNDEFINED;
    };
    let _ = match (place.dyn_ref::<web_sys::Element>(), after) {
        (Some(place), true) => place.after_with_node_1(&element),
        (Some(place), false) => place.append_child(&element).map(drop),
        (None, _) => Ok(()),
    };
    let element = JsValue::from(element);
    set(&element, properties);
    element
}

/// Takes the element (one `find` found) out of the page.
pub fn remove(element: &JsValue) {
    if let Some(element) = element.dyn_ref::<web_sys::Element>() {
        element.remove();
    }
}

/// Where a click happened, for an element that handles the clicks of all
/// it holds: the nearest element from the one clicked up that `selector`
/// (CSS) matches, as its ID (its text when it has none) and its place
/// among its parent's elements.
pub fn clicked_in(event: &web_sys::Event, selector: &str) -> Option<(String, usize)> {
    let target = event.target()?.dyn_into::<web_sys::Element>().ok()?;
    let found = target.closest(selector).ok()??;
    let mut name = found.id();
    if name.is_empty() {
        name = found.text_content().unwrap_or_default();
    }
    let mut place = 0;
    let mut before = found.previous_element_sibling();
    while let Some(element) = before {
        place += 1;
        before = element.previous_element_sibling();
    }
    Some((name, place))
}

/// The ID of the element `selector` (CSS) matches that has focus or holds
/// the element that has, and whether it has focus itself: to give focus
/// back (`focus_again`) once what holds it is drawn again.
pub fn focus_within(selector: &str) -> Option<(String, bool)> {
    let focused = window().document()?.active_element()?;
    let holder = focused.closest(selector).ok()??;
    Some((holder.id(), holder == focused))
}

/// Focuses what `find` finds without scrolling to it: focus given back
/// where it was, wherever the page is scrolled.
pub fn focus_again(element_id: &str, selector: &str) {
    let element = find(element_id, selector);
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"preventScroll".into(), &JsValue::TRUE);
    if let Ok(focus) = js_sys::Reflect::get(&element, &"focus".into())
        .and_then(|focus| focus.dyn_into::<js_sys::Function>())
    {
        let _ = focus.call1(&element, &options);
    }
}

/// The values of the first two fields of each of the element's rows.
pub fn row_values(element_id: &str) -> Vec<(String, String)> {
    let value = |field: &JsValue| {
        js_sys::Reflect::get(field, &"value".into())
            .ok()
            .and_then(|value| value.as_string())
            .unwrap_or_default()
    };
    let mut rows = Vec::new();
    let mut row: JsValue = element(element_id)
        .and_then(|list| list.first_element_child())
        .into();
    while row.is_object() {
        let key: JsValue = row
            .unchecked_ref::<web_sys::Element>()
            .first_element_child()
            .into();
        rows.push((value(&key), value(&next_element(&key))));
        row = next_element(&row);
    }
    rows
}

/// The ID of the element an event happened on (a click's button); a
/// button without one (a row's *Remove*) removes its row, and is `remove`.
pub fn clicked(event: &web_sys::Event) -> String {
    let Some(target) = event
        .target()
        .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
    else {
        return String::new();
    };
    let id = target.id();
    if id.is_empty() && target.tag_name() == "BUTTON" {
        if let Some(row) = target.parent_node() {
            row.unchecked_into::<web_sys::Element>().remove();
        }
        return "remove".into();
    }
    id
}

pub fn set_hidden(element_id: &str, hidden: bool) {
    set_flag(element_id, "hidden", hidden);
}

pub fn set_disabled(element_id: &str, disabled: bool) {
    set_flag(element_id, "disabled", disabled);
}

fn set_flag(element_id: &str, attribute: &str, on: bool) {
    if let Some(element) = element(element_id) {
        let _ = element.toggle_attribute_with_force(attribute, on);
    }
}

/// Adds an `<option>` of each value to the list (a `<datalist>`).
pub fn add_options(element_id: &str, values: &[&str]) {
    let (Some(list), Some(document)) = (element(element_id), window().document()) else {
        return;
    };
    for value in values {
        if let Ok(option) = document.create_element("option") {
            let _ = option.set_attribute("value", value);
            let _ = list.append_child(&option);
        }
    }
}

/// Adds an `<option>` of each app to the `<select>`, its name shown.
pub fn add_apps(element_id: &str, apps: &[protocol::session::SessionApp]) {
    let choices: Vec<(&str, &str)> = apps
        .iter()
        .map(|app| (app.id.as_str(), app.name.as_str()))
        .collect();
    add_choices(element_id, &choices);
}

/// Adds an `<option>` of each (value, text) to the `<select>`.
pub fn add_choices(element_id: &str, choices: &[(&str, &str)]) {
    let (Some(list), Some(document)) = (element(element_id), window().document()) else {
        return;
    };
    for (value, text) in choices {
        if let Ok(option) = document.create_element("option") {
            let _ = option.set_attribute("value", value);
            option.set_text_content(Some(text));
            let _ = list.append_child(&option);
        }
    }
}

/// Sets the `value` of the form field with this ID.
pub fn set_value(element_id: &str, value: &str) {
    set_property(element_id, "value", value);
}

/// Sets a property of the element with this ID (a `<progress>`'s `max`).
pub fn set_property(element_id: &str, name: &str, value: &str) {
    if let Some(element) = element(element_id) {
        let _ = js_sys::Reflect::set(
            &element,
            &JsValue::from_str(name),
            &JsValue::from_str(value),
        );
    }
}

/// The ID of the button that submitted a form (a `submit` event's `submitter`).
pub fn submitter_id(event: &web_sys::Event) -> String {
    js_sys::Reflect::get(event, &JsValue::from_str("submitter"))
        .ok()
        .and_then(|submitter| submitter.dyn_into::<web_sys::Element>().ok())
        .map(|element| element.id())
        .unwrap_or_default()
}

/// Opens the `<dialog>` with this ID as a modal one: the page behind is
/// inert, focus stays inside, Escape closes it.
pub fn show_modal(element_id: &str) {
    if let Some(dialog) = dialog(element_id) {
        let _ = dialog.show_modal();
    }
}

pub fn close_dialog(element_id: &str) {
    if let Some(dialog) = dialog(element_id) {
        dialog.close();
    }
}

/// The id of the element that has focus; empty when none has one.
pub fn focused_id() -> String {
    window()
        .document()
        .and_then(|document| document.active_element())
        .map(|element| element.id())
        .unwrap_or_default()
}

/// Whether typing goes into a field now, so a shortcut key must not fire.
pub fn typing_in_a_field() -> bool {
    window()
        .document()
        .and_then(|document| document.active_element())
        .is_some_and(|element| {
            matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
        })
}

/// A named instant on the page's performance timeline, which
/// `cargo xtask bench` reads: start-up, a response arriving, a page ready.
pub fn mark(name: &str) {
    if let Some(performance) = window().performance() {
        let _ = performance.mark(name);
    }
}

/// Whether this is the Bulk check page (`…/bulk`) rather than a lookup.
pub fn on_bulk_page() -> bool {
    window()
        .location()
        .pathname()
        .is_ok_and(|path| path.ends_with("/bulk"))
}

/// The app the page's URL names (`?app=`), empty when none.
pub fn app_in_url() -> String {
    window()
        .location()
        .search()
        .ok()
        .and_then(|search| UrlSearchParams::new_with_str(&search).ok())
        .and_then(|params| params.get(protocol::param::APP))
        .unwrap_or_default()
}

/// The lookup page's address, from the Bulk check page: its folder.
pub fn lookup_page_address() -> String {
    let address = page_address();
    address.strip_suffix("bulk").unwrap_or(&address).to_owned()
}

/// `target.method()`, for the few browser calls made without a binding
/// of their own (each would add to the panel's JavaScript).
pub fn call(target: &JsValue, method: &str) -> Option<JsValue> {
    let method: js_sys::Function = js_sys::Reflect::get(target, &method.into())
        .ok()?
        .dyn_into()
        .ok()?;
    method.call0(target).ok()
}

/// The value of a promise, or `None` when it failed.
pub async fn settled(promise: Option<JsValue>) -> Option<JsValue> {
    let promise: js_sys::Promise = promise?.dyn_into().ok()?;
    wasm_bindgen_futures::JsFuture::from(promise).await.ok()
}

/// The text of the first file of the file field this event came from
/// (chosen, or dropped on it: the browser takes the drop itself).
pub async fn file_text(event: &web_sys::Event) -> Option<String> {
    let field: JsValue = event.target()?.into();
    let files = js_sys::Reflect::get(&field, &"files".into()).ok()?;
    let file = js_sys::Reflect::get_u32(&files, 0).ok()?;
    settled(call(&file, "text")).await?.as_string()
}

/// The element with this ID, for `add_with_properties`; undefined when there is none.
pub fn by_id(element_id: &str) -> JsValue {
    element(element_id).into()
}

/// The element after the one with this ID among its parent's (a list
/// that has no ID of its own, under its heading).
pub fn after(element_id: &str) -> JsValue {
    next_element(&by_id(element_id))
}

/// A property of an element (`parentNode`, `firstElementChild`);
/// undefined when it has none.
pub fn get(element: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(element, &name.into()).unwrap_or_default()
}

/// Adds an element `tag` at the end of `parent` and sets its properties in
/// order: a value as `textContent`, so as text, never markup; `innerHTML`
/// only ever constant markup; a name with a dash (`aria-label`) as an
/// attribute. The element added, when it was.
pub fn add_with_properties(parent: &JsValue, tag: &str, properties: &[(&str, &str)]) -> JsValue {
    let (Some(parent), Some(document)) = (parent.dyn_ref::<web_sys::Node>(), window().document())
    else {
        return JsValue::UNDEFINED;
    };
    let Ok(element) = document.create_element(tag) else {
        return JsValue::UNDEFINED;
    };
    let element = JsValue::from(element);
    set_properties(&element, properties);
    let _ = parent.append_child(element.unchecked_ref());
    element
}

/// The button an event happened on, or inside (a span of a match's button),
/// without `clicked`'s removing of a row: undefined when none.
pub fn button_of(event: &web_sys::Event) -> JsValue {
    // The browser's own walk up the tree, as `clicked_in`'s.
    event
        .target()
        .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
        .and_then(|target| target.closest("button").ok().flatten())
        .map_or(JsValue::UNDEFINED, JsValue::from)
}

/// A property of an element read as text (`id`, `textContent`, an
/// attribute's reflection); empty when it has none.
pub fn property(element: &JsValue, name: &str) -> String {
    get(element, name).as_string().unwrap_or_default()
}

/// Sets properties of an element (or of a text node: its `data`) as
/// `add_with_properties` does.
pub fn set_properties(element: &JsValue, properties: &[(&str, &str)]) {
    for &(name, value) in properties {
        match element.dyn_ref::<web_sys::Element>() {
            Some(element) if name.contains('-') => {
                let _ = element.set_attribute(name, value);
            }
            _ => {
                let _ = js_sys::Reflect::set(element, &name.into(), &value.into());
            }
        }
    }
}
