#[cfg(target_arch = "wasm32")]
fn main() {
    leptos::mount::mount_to_body(adapty_lookup::views::Panel);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("The panel runs in a browser: `cargo xtask demo` builds and serves it.");
    std::process::exit(2);
}
