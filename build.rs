//! Build script: embeds libtorch's folder in the rpath and rebuilds when migrations change.

#[allow(
    clippy::disallowed_methods,
    reason = "a build script reads the environment cargo gives it"
)]
fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-changed=migrations");
    if let Ok(libtorch) = std::env::var("LIBTORCH") {
        // Resolve the `.libtorch` link so the rpath survives a moved checkout only as long as
        // the cache does; `scripts/setup-libtorch.sh` recreates both when missing.
        let dir = std::fs::canonicalize(&libtorch).unwrap_or_else(|_| libtorch.clone().into());
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}/lib", dir.display());
    }
}
