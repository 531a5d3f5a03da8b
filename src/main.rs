#[cfg(target_arch = "wasm32")]
fn main() {
    // The Bulk check page is a page of its own: nothing of the lookup's.
    if adapty_lookup::browser::on_bulk_page() {
        leptos::mount::mount_to_body(adapty_lookup::views::BulkPage);
    } else {
        leptos::mount::mount_to_body(adapty_lookup::views::Panel);
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("The panel runs in a browser: `cargo xtask demo` builds and serves it.");
    std::process::exit(2);
}
