//! Makes a new or changed migration folder rebuild the crate, which embeds them, and names the
//! feature combination the transfer needs (`cfg(transfer)`: both `sqlite` and `postgres`).
fn main() {
    println!("cargo:rerun-if-changed=migrations_sqlite");
    println!("cargo:rerun-if-changed=migrations_postgres");
    println!("cargo::rustc-check-cfg=cfg(transfer)");
    if std::env::var_os("CARGO_FEATURE_SQLITE").is_some()
        && std::env::var_os("CARGO_FEATURE_POSTGRES").is_some()
    {
        println!("cargo::rustc-cfg=transfer");
    }
}
