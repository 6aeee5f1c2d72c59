//! The tables a migrations folder defines, to keep the SQLite and PostgreSQL folders in step.

use std::collections::BTreeMap;

/// Table → column names, read from a migrations folder's `CREATE TABLE`, `ALTER TABLE ... ADD
/// COLUMN`, `ALTER TABLE ... RENAME TO` and `DROP TABLE` statements, file by file in order.
pub fn tables(folder: &str) -> BTreeMap<String, Vec<String>> {
    let mut tables: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
        .collect();
    files.sort();
    for file in files {
        let sql = std::fs::read_to_string(file).unwrap();
        let sql: String = sql
            .lines()
            .map(|l| l.split("--").next().unwrap())
            .collect::<Vec<_>>()
            .join("\n");
        for stmt in sql.split(';') {
            let words: Vec<&str> = stmt.split_whitespace().collect();
            if let ["ALTER", "TABLE", table, "ADD", "COLUMN", column, ..] = words[..] {
                tables
                    .get_mut(table)
                    .unwrap_or_else(|| panic!("ALTER TABLE of unknown {table}"))
                    .push(column.to_string());
                continue;
            }
            if let ["ALTER", "TABLE", table, "RENAME", "TO", new_name] = words[..] {
                let columns = tables.remove(table).expect("RENAME of an unknown table");
                tables.insert(new_name.to_string(), columns);
                continue;
            }
            if let ["DROP", "TABLE", table] = words[..] {
                tables.remove(table);
                continue;
            }
            let Some(rest) = stmt.trim().strip_prefix("CREATE TABLE ") else {
                continue;
            };
            let (name, body) = rest.split_once('(').unwrap();
            // A line that starts with a quote continues a CHECK's list of values: no column.
            let columns = body
                .split(",\n")
                .filter_map(|line| line.split_whitespace().next())
                .filter(|word| !word.starts_with('\''))
                .map(str::to_string)
                .collect();
            tables.insert(name.trim().to_string(), columns);
        }
    }
    tables
}

/// Asserts that two migrations folders (SQLite's and PostgreSQL's, relative to the test's
/// package) define the same tables and columns, and that every file of the first has a twin of
/// the same name in the second; returns the tables. Two empty folders pass.
pub fn same_tables(sqlite: &str, postgres: &str) -> BTreeMap<String, Vec<String>> {
    let tables = tables(sqlite);
    assert_eq!(
        tables,
        self::tables(postgres),
        "{sqlite} and {postgres} differ"
    );
    for entry in std::fs::read_dir(sqlite).unwrap() {
        let name = entry.unwrap().file_name();
        assert!(
            std::path::Path::new(postgres).join(&name).exists(),
            "{sqlite}/{name:?} has no PostgreSQL twin in {postgres}"
        );
    }
    tables
}
