//! The PostgreSQL twins of the black-box tests are compiled as ignored unless a server is
//! configured (`TEST_POSTGRES_URL`) or required (`REQUIRE_POSTGRES=1`, where they then run
//! and fail without one): a skipped test must show as skipped, not as passed.

fn main() {
    println!("cargo:rustc-check-cfg=cfg(postgres)");
    println!("cargo:rerun-if-env-changed=TEST_POSTGRES_URL");
    println!("cargo:rerun-if-env-changed=REQUIRE_POSTGRES");
    let configured = std::env::var("TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty());
    let required = std::env::var("REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    if configured || required {
        println!("cargo:rustc-cfg=postgres");
    }
}
