//! Makes a new or changed migration folder rebuild the crate, which embeds them.
fn main() {
    println!("cargo:rerun-if-changed=migrations_sqlite");
    println!("cargo:rerun-if-changed=migrations_postgres");
}
