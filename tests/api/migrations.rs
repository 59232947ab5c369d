//! Every migration applies, reverts and applies again on a fresh database of each backend,
//! and both backends end up with the same tables and columns.

use std::collections::BTreeSet;

use api::db::{self, DatabaseUrl};
use diesel::{QueryableByName, RunQueryDsl};

use crate::helpers::{
    drop_postgres_database, fresh_postgres_database, mark_ran, temp_dir, Backend,
};

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    column_name: String,
}

fn columns(conn: &mut db::DbConnection) -> BTreeSet<(String, String)> {
    let query = match conn {
        db::DbConnection::Sqlite(_) => {
            "SELECT m.name AS table_name, p.name AS column_name FROM sqlite_master m \
             JOIN pragma_table_info(m.name) p WHERE m.type = 'table' \
             AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations'"
        }
        db::DbConnection::Pg(_) => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name \
             FROM information_schema.columns WHERE table_schema = 'public' \
             AND table_name <> '__diesel_schema_migrations'"
        }
    };
    diesel::sql_query(query)
        .load::<Column>(conn)
        .unwrap()
        .into_iter()
        .map(|c| (c.table_name, c.column_name))
        .collect()
}

fn up_down_up(url: &DatabaseUrl) -> BTreeSet<(String, String)> {
    let pool = db::connect_pool(url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let applied = db::run_migrations(&mut conn).unwrap();
    assert!(!applied.is_empty());
    let first = columns(&mut conn);
    db::revert_all_migrations(&mut conn).unwrap();
    assert!(columns(&mut conn).is_empty(), "down removes every table");
    db::run_migrations(&mut conn).unwrap();
    let again = columns(&mut conn);
    assert_eq!(first, again);
    again
}

fn folder_names(backend: &str) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../migrations")
        .join(backend);
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn migration_folders_match() {
    assert_eq!(folder_names("sqlite"), folder_names("postgres"));
}

fn sqlite_columns() -> BTreeSet<(String, String)> {
    let dir = temp_dir();
    let sqlite = up_down_up(&DatabaseUrl::Sqlite(dir.join("m.db")));
    let _ = std::fs::remove_dir_all(dir);
    sqlite
}

#[test]
fn sqlite_migrations_apply_revert_and_apply_again() {
    let sqlite = sqlite_columns();
    assert!(sqlite.contains(&("claims".to_owned(), "preferred_windows".to_owned())));
    mark_ran(Backend::Sqlite, "api::migrations::apply_revert_apply");
}

#[test]
#[cfg_attr(
    not(postgres),
    ignore = "PostgreSQL twin: set TEST_POSTGRES_URL when building the tests"
)]
fn postgres_migrations_apply_revert_and_match_sqlite() {
    let (url, admin, name) =
        fresh_postgres_database().expect("PostgreSQL is configured but could not be used");
    let postgres = up_down_up(&DatabaseUrl::Postgres(url));
    drop_postgres_database(&admin, &name);
    assert_eq!(
        sqlite_columns(),
        postgres,
        "both backends have the same tables and columns"
    );
    mark_ran(Backend::Postgres, "api::migrations::apply_revert_apply");
}
